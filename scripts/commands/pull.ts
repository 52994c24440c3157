/**
 * `pull --url <worker> --key-env <VAR> --since <ms> --out rows.jsonl [--texts texts.jsonl]`:
 * CLI shell over scripts/stages/pull.ts: page through GET /v1/export (or
 * read saved export files with --from), write outcome rows, print the counts,
 * the cursor to resume from, and what to do about rows without text. Holds
 * no stage logic.
 */
import { defineCommand } from "citty";
import { exportFile, exportPages, pullRows, textsByHmac } from "../stages/pull.js";
import { numberFlag } from "../lib/flags.js";

export default defineCommand({
  meta: { name: "pull", description: "Export the worker's decision log with feedback into outcome rows for `build` (docs/loop.md)" },
  args: {
    url: { type: "string", description: "worker base URL, e.g. https://preflight.example.workers.dev" },
    "key-env": { type: "string", default: "PREFLIGHT_EXPORT_KEY", description: "environment variable holding an API key with the export scope" },
    since: { type: "string", default: "0", description: "only decisions at or after this time (ms since the epoch)" },
    cursor: { type: "string", description: "continue after a previous pull: its printed resume_cursor (only newer decisions)" },
    from: { type: "string", description: "read saved GET /v1/export responses (NDJSON, comma-separated files) instead of --url" },
    out: { type: "string", required: true, description: "outcome rows (JSONL); rows without text go to <out>.no-text.jsonl" },
    texts: { type: "string", description: "your own texts (JSONL of {prompt} or {messages}), joined by HMAC with PROMPT_HMAC_KEY from the environment" },
  },
  async run({ args }) {
    if (!args.url === !args.from) throw new Error("give exactly one of --url or --from");
    let texts;
    if (args.texts) {
      const hmacKey = process.env.PROMPT_HMAC_KEY;
      if (!hmacKey) throw new Error("--texts needs PROMPT_HMAC_KEY in the environment: the worker's secret, to recompute each text's prompt_hmac");
      texts = await textsByHmac(args.texts, hmacKey);
    }
    let decisions;
    let resume: string | null = args.cursor ?? null;
    if (args.url) {
      const key = process.env[args["key-env"]];
      if (!key) throw new Error(`no API key in $${args["key-env"]} (a key with the export scope)`);
      decisions = exportPages(args.url, key, numberFlag("since", args.since, { integer: true, min: 0 }), fetch, 5000, { cursor: args.cursor, onEnd: (e) => (resume = e.resume_cursor ?? resume) });
    } else {
      const files = args.from!.split(",");
      decisions = (async function* () {
        for (const f of files) yield* exportFile(f);
      })();
    }
    const s = await pullRows(decisions, args.out, texts);
    console.log(JSON.stringify({ ...s, ...(args.url ? { resume_cursor: resume } : {}) }));
    if (s.no_text > 0) {
      console.error(
        `${s.no_text} of ${s.no_text + s.written} rows have an outcome but no prompt text (the key does not store prompts) and are in ${s.missingFile}, not in ${args.out}.` +
          ` To train on them, pass --texts with your own prompts (JSONL {"prompt": …} or {"messages": […]}) and PROMPT_HMAC_KEY set: they are joined by prompt_hmac (docs/loop.md).`,
      );
    }
  },
});
