#!/usr/bin/env python3
"""Testbed step 2: train one small decoder-only char LM on CPU and export it to ONNX.

Usage: /usr/bin/python3 scripts/testbed/train.py --model tb-add [--world .cache/testbed] [--steps N]

Reads scripts/testbed/models.json (architecture, mixture, steps, seed),
<world>/vocab.json and <world>/train/<model>.tsv (written by gen-data.ts).
Writes <world>/models/<model>.onnx, <model>.vocab.json and <model>.train.json
(loss curve, held-out greedy accuracy, parameter count, wall time).

Model: pre-LN GPT (learned positions, GELU MLP 4d), tied-free LM head. Loss on
answer tokens and the end marker only. Batches are drawn one operator at a
time (so short problems are not padded to word-problem length).

ONNX graph (opset 14): inputs input_ids int64 [B,T], attention_mask int64 [B,T]
(1 = token); outputs logits [B,T,V] and hidden_0 … hidden_L [B,T,d]
(hidden_0 = embeddings, hidden_l = residual stream after block l). Padding is
an additive -1e9 (never -inf) on the key side, plus the causal mask.
CPU only, 1 thread, deterministic from the member's seed. Needs an optimised
BLAS: Debian's python3-torch links the reference libblas (≈ 6 GFLOP/s here);
`apt-get install libopenblas0-pthread` switches it to OpenBLAS (≈ 70 GFLOP/s,
15× faster training). OPENBLAS_NUM_THREADS is pinned to 1 because two
trainings share the two cores.
"""
import argparse, json, math, os, random, time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
MAXLEN = 48
NEG = -1e9


class Block(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.h = h
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc = nn.Linear(d, 4 * d)
        self.out = nn.Linear(4 * d, d)

    def forward(self, x, bias):
        B, T, d = x.shape
        hd = d // self.h
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        q = q.view(B, T, self.h, hd).transpose(1, 2)
        k = k.view(B, T, self.h, hd).transpose(1, 2)
        v = v.view(B, T, self.h, hd).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd)) + bias
        att = torch.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, d)
        x = x + self.proj(y)
        return x + self.out(F.gelu(self.fc(self.ln2(x))))


class LM(nn.Module):
    def __init__(self, V, d, L, h):
        super().__init__()
        self.tok = nn.Embedding(V, d)
        self.pos = nn.Embedding(MAXLEN, d)
        self.blocks = nn.ModuleList([Block(d, h) for _ in range(L)])
        self.lnf = nn.LayerNorm(d)
        self.head = nn.Linear(d, V)
        causal = torch.triu(torch.full((MAXLEN, MAXLEN), NEG), diagonal=1)
        self.register_buffer("causal", causal, persistent=False)

    def forward(self, ids, mask):
        T = ids.shape[1]
        pos = self.pos.weight[:T].unsqueeze(0)
        x = self.tok(ids) + pos
        keybias = (1.0 - mask.to(torch.float32)) * NEG  # [B,T]
        bias = self.causal[:T, :T].unsqueeze(0).unsqueeze(0) + keybias[:, None, None, :]
        hs = [x]
        for b in self.blocks:
            x = b(x, bias)
            hs.append(x)
        return self.head(self.lnf(x)), hs


def load_examples(path, stoi):
    by_op = {}
    bos = stoi["<bos>"]
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            p, a = line.split("\t")
            ids = [bos] + [stoi[c] for c in p] + [stoi[c] for c in a] + [stoi[";"]]
            op = "word" if " " in p else ("eq" if "x" in p else ("mul" if "*" in p else ("sub" if "-" in p else "add")))
            by_op.setdefault(op, []).append((ids, 1 + len(p)))
    return by_op


def make_batch(exs, pad):
    T = max(len(e[0]) for e in exs)
    ids = torch.full((len(exs), T), pad, dtype=torch.long)
    tgt = torch.full((len(exs), T), -100, dtype=torch.long)
    mask = torch.zeros((len(exs), T), dtype=torch.long)
    for i, (e, plen) in enumerate(exs):
        ids[i, : len(e)] = torch.tensor(e)
        mask[i, : len(e)] = 1
        # predict answer tokens and the end marker: targets at positions plen-1 … len-2
        for t in range(plen - 1, len(e) - 1):
            tgt[i, t] = e[t + 1]
    return ids, mask, tgt


@torch.no_grad()
def greedy_acc(model, exs, stoi, itos, n=300):
    model.eval()
    ok = 0
    for ids, plen in exs[:n]:
        x = torch.tensor([ids[:plen]])
        want = ids[plen:]
        out = []
        for _ in range(len(want)):
            logits, _ = model(x, torch.ones_like(x))
            nxt = int(logits[0, -1].argmax())
            out.append(nxt)
            if nxt == stoi[";"]:
                break
            x = torch.cat([x, torch.tensor([[nxt]])], dim=1)
        ok += out == want
    model.train()
    return ok / min(n, len(exs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--world", default=".cache/testbed")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--batch", type=int, default=64)
    args = ap.parse_args()
    cfg = json.load(open("scripts/testbed/models.json"))
    spec = next(m for m in cfg["models"] if m["id"] == args.model)
    steps = args.steps or spec["steps"]
    random.seed(spec["seed"])
    torch.manual_seed(spec["seed"])
    voc = json.load(open(os.path.join(args.world, "vocab.json")))
    stoi = voc["vocab"]
    itos = {v: k for k, v in stoi.items()}
    by_op = load_examples(os.path.join(args.world, "train", f"{args.model}.tsv"), stoi)
    held = {op: exs[-300:] for op, exs in by_op.items()}
    train = {op: exs[:-300] for op, exs in by_op.items()}
    ops = sorted(train)
    weights = [len(train[o]) for o in ops]
    model = LM(len(stoi), spec["d"], spec["layers"], spec["heads"])
    nparams = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=spec.get("lr", 5e-3), weight_decay=0.01, betas=(0.9, 0.98))
    warm = 200
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))
    t0 = time.time()
    log = []
    ema = None
    for step in range(steps):
        op = random.choices(ops, weights)[0]
        exs = random.sample(train[op], args.batch)
        ids, mask, tgt = make_batch(exs, stoi["<pad>"])
        logits, _ = model(ids, mask)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        if (step + 1) % 100 == 0 or step == 0:
            log.append({"step": step + 1, "loss": round(ema, 4), "s": round(time.time() - t0, 1)})
            print(f"{args.model} step {step+1}/{steps} loss {ema:.3f} {time.time()-t0:.0f}s", flush=True)
    acc = {op: greedy_acc(model, held[op], stoi, itos, 100) for op in ops}
    wall = time.time() - t0
    print(f"{args.model}: params {nparams}, held-out greedy acc {acc}, {wall:.0f}s", flush=True)
    out = os.path.join(args.world, "models")
    os.makedirs(out, exist_ok=True)
    export(model, spec, os.path.join(out, f"{args.model}.onnx"))
    json.dump({"pad": "<pad>", "unk": "<unk>", "bos": "<bos>", "vocab": stoi}, open(os.path.join(out, f"{args.model}.vocab.json"), "w"))
    json.dump({"model": args.model, "params": nparams, "steps": steps, "batch": args.batch, "wall_s": round(wall, 1),
               "heldout_greedy_acc": acc, "log": log, "spec": spec, "torch": torch.__version__},
              open(os.path.join(out, f"{args.model}.train.json"), "w"), indent=1)


class Export(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask):
        logits, hs = self.m(input_ids, attention_mask)
        return (logits, *hs)


def export(model, spec, path):
    model.eval()
    L = spec["layers"]
    names = ["logits"] + [f"hidden_{i}" for i in range(L + 1)]
    ids = torch.ones((2, 7), dtype=torch.long)
    mask = torch.ones((2, 7), dtype=torch.long)
    dyn = {"input_ids": {0: "B", 1: "T"}, "attention_mask": {0: "B", 1: "T"}}
    for n in names:
        dyn[n] = {0: "B", 1: "T"}
    torch.onnx.export(Export(model), (ids, mask), path, input_names=["input_ids", "attention_mask"], output_names=names,
                      dynamic_axes=dyn, opset_version=14, do_constant_folding=True)


if __name__ == "__main__":
    main()
