/**
 * Example: ask Preflight which model to use, then call an OpenAI-compatible
 * endpoint with that model. Run against `npm start`:
 *   OPENAI_BASE_URL=https://your-gateway/v1 OPENAI_API_KEY=... npx tsx docs/client-example.ts
 * Model ids in the default bundle are LLMRouter's; map them to your provider's names.
 */
import { createClient } from "../src/client.js";

const preflight = createClient({ baseUrl: process.env.PREFLIGHT_URL ?? "http://127.0.0.1:8787", apiKey: process.env.PREFLIGHT_KEY });

const messages = [{ role: "user" as const, content: "What is the derivative of x^3 · sin(x)?" }];
const route = await preflight.route({ messages, policy: { type: "threshold", min_p: 0.6 } });

if (route.decision.type === "abstain") {
  console.log("no model is likely to succeed:", route.decision.reason);
} else {
  console.log(`routing to ${route.decision.model} (p=${route.candidates.find((c) => c.model === route.decision.model)?.p_success.toFixed(3)})`);
  const base = process.env.OPENAI_BASE_URL;
  if (base) {
    const res = await fetch(`${base}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${process.env.OPENAI_API_KEY}` },
      body: JSON.stringify({ model: route.decision.model, messages }),
    });
    console.log(await res.json());
  }
}
