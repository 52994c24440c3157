/**
 * Chat-message formatting: turns OpenAI-style messages into the single text the
 * featurizer reads. Pure. The rule is documented in docs/api.md:
 *   each turn becomes "<role>: <content>" joined by blank lines; array content
 *   keeps only its text parts. Truncation happens later, on feature ids.
 *
 * Strictness (docs/api.md, "Unknown fields"): a message may carry only the
 * fields OpenAI's chat format defines; the ones we do not read (tool calls,
 * refusals, audio) are accepted and ignored so a transcript can be passed
 * through unchanged, and anything else is a 422 naming the key. Text parts
 * are strict; other part types (image_url, input_audio, file, ...) are
 * accepted whole and ignored, because new part types keep appearing and none
 * of them changes the text we score.
 */
import { z } from "zod";

/** Most characters of prompt text, or of all message contents together, in one request. */
export const MAX_TEXT_CHARS = 262_144;

const TextPart = z.strictObject({ type: z.literal("text"), text: z.string() });

// A union would report an unknown key on a text part as "invalid input" of the whole part;
// checking text parts here names the key (messages.0.content.1.cache_control).
const ContentPart = z.looseObject({ type: z.string() }).superRefine((part, ctx) => {
  if (part.type !== "text") return;
  const r = TextPart.safeParse(part);
  if (r.success) return;
  for (const i of r.error.issues) {
    if (i.code === "unrecognized_keys") for (const k of i.keys) ctx.addIssue({ code: "custom", path: [k], message: "unknown key" });
    else ctx.addIssue({ code: "custom", path: i.path as (string | number)[], message: i.message });
  }
});

const Ignored = z.unknown().optional().meta({ description: "Accepted for pass-through of OpenAI transcripts; not scored." });

export const ChatMessage = z.strictObject({
  role: z.enum(["system", "user", "assistant", "tool", "developer"]),
  content: z.union([z.string(), z.array(ContentPart)]).nullable(),
  name: z.string().optional(),
  tool_calls: Ignored,
  tool_call_id: Ignored,
  function_call: Ignored,
  refusal: Ignored,
  audio: Ignored,
});
export type ChatMessage = z.infer<typeof ChatMessage>;

function textOfPart(p: { type: string }): string {
  const text = (p as { text?: unknown }).text;
  return p.type === "text" && typeof text === "string" ? text : "";
}

function contentText(content: ChatMessage["content"]): string {
  if (content === null) return "";
  if (typeof content === "string") return content;
  return content
    .map(textOfPart)
    .filter((t) => t.length > 0)
    .join("\n");
}

/** Characters of content the featurizer would read (text parts only). */
export function contentChars(content: ChatMessage["content"]): number {
  if (content === null) return 0;
  if (typeof content === "string") return content.length;
  return content.reduce((s, p) => s + textOfPart(p).length, 0);
}

/** 1–1000 messages whose contents total at most MAX_TEXT_CHARS characters (422 on `messages` otherwise). */
export const MessageList = z
  .array(ChatMessage)
  .min(1)
  .max(1000)
  .superRefine((messages, ctx) => {
    const total = messages.reduce((s, m) => s + contentChars(m.content), 0);
    if (total > MAX_TEXT_CHARS) ctx.addIssue({ code: "custom", message: `message contents total ${total} characters; at most ${MAX_TEXT_CHARS}` });
  });

export function formatMessages(messages: ChatMessage[]): string {
  return messages.map((m) => `${m.role}: ${contentText(m.content)}`).join("\n\n");
}
