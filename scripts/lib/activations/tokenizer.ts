/**
 * Pluggable tokenizers for form (b) teachers, plus the chat-template rule.
 * Owns: the Tokenizer interface, a greedy longest-match vocabulary tokenizer
 * (char-level when the vocab holds only single characters, which is what the
 * small testbed decoders use), and template expansion. Must not: run models
 * or do I/O beyond reading the vocab file.
 */
import { z } from "zod";
import { readJsonFile } from "../jsonl.js";

export interface Tokenizer {
  readonly name: string;
  readonly padId: number;
  /** When set, encode() starts with it and truncation keeps it. */
  readonly bosId?: number;
  encode(text: string): number[];
}

/**
 * Vocab JSON (docs/formats.md): {"pad": "<pad>", "unk"?: "<unk>", "bos"?: "<bos>",
 * "vocab": {"<pad>": 0, "a": 1, ...}}. Multi-character entries (e.g. chat
 * markers like "<|user|>") are matched greedily, longest first, before single
 * characters; unknown characters map to unk, or are an error without one.
 */
export const VocabFile = z
  .object({
    pad: z.string().min(1),
    unk: z.string().min(1).optional(),
    bos: z.string().min(1).optional(),
    vocab: z.record(z.string().min(1), z.number().int().min(0)),
  })
  .superRefine((v, ctx) => {
    for (const key of ["pad", "unk", "bos"] as const) {
      const tok = v[key];
      if (tok !== undefined && v.vocab[tok] === undefined) ctx.addIssue({ code: "custom", path: [key], message: `"${tok}" is not in vocab` });
    }
  });
export type VocabFile = z.infer<typeof VocabFile>;

export function vocabTokenizer(v: VocabFile, name = "vocab"): Tokenizer {
  const multi = Object.keys(v.vocab)
    .filter((k) => Array.from(k).length > 1)
    .sort((a, b) => b.length - a.length);
  const unk = v.unk === undefined ? undefined : v.vocab[v.unk];
  const bos = v.bos === undefined ? undefined : v.vocab[v.bos];
  return {
    name,
    padId: v.vocab[v.pad],
    bosId: bos,
    encode(text: string): number[] {
      const ids: number[] = bos === undefined ? [] : [bos];
      let i = 0;
      outer: while (i < text.length) {
        for (const m of multi) {
          if (text.startsWith(m, i)) {
            ids.push(v.vocab[m]);
            i += m.length;
            continue outer;
          }
        }
        const ch = String.fromCodePoint(text.codePointAt(i)!);
        const id = v.vocab[ch];
        if (id !== undefined) ids.push(id);
        else if (unk !== undefined) ids.push(unk);
        else throw new Error(`tokenizer ${name}: character ${JSON.stringify(ch)} is not in the vocab and there is no unk token`);
        i += ch.length;
      }
      return ids;
    },
  };
}

export async function loadVocabTokenizer(file: string): Promise<Tokenizer> {
  return vocabTokenizer(await readJsonFile(file, VocabFile), file);
}

/** A chat template is any string with exactly one "{prompt}" placeholder. */
export const ChatTemplate = z
  .string()
  .refine((t) => t.split("{prompt}").length === 2, { message: 'template must contain "{prompt}" exactly once' });

export function applyTemplate(template: string, prompt: string): string {
  // split/join rather than String.replace: prompts may contain "$&"-style patterns.
  const [before, after] = template.split("{prompt}");
  return before + prompt + after;
}
