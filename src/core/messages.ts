/**
 * Chat-message formatting: turns OpenAI-style messages into the single text the
 * featurizer reads. Pure. The rule is documented in docs/api.md:
 *   each turn becomes "<role>: <content>" joined by blank lines; array content
 *   keeps only its text parts. Truncation happens later, on feature ids.
 */
import { z } from "zod";

const TextPart = z.object({ type: z.literal("text"), text: z.string() });
const OtherPart = z.object({ type: z.string() }).passthrough();

export const ChatMessage = z.object({
  role: z.enum(["system", "user", "assistant", "tool", "developer"]),
  content: z.union([z.string(), z.array(z.union([TextPart, OtherPart]))]).nullable(),
  name: z.string().optional(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

function contentText(content: ChatMessage["content"]): string {
  if (content === null) return "";
  if (typeof content === "string") return content;
  return content
    .map((p) => (p.type === "text" && typeof (p as { text?: unknown }).text === "string" ? (p as { text: string }).text : ""))
    .filter((t) => t.length > 0)
    .join("\n");
}

export function formatMessages(messages: ChatMessage[]): string {
  return messages.map((m) => `${m.role}: ${contentText(m.content)}`).join("\n\n");
}
