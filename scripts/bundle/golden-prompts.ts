/**
 * Prompts every bundle's golden.jsonl pins: plain, maths, code, unicode,
 * whitespace-only, empty and one far over max_features (truncation).
 * Must stay stable: changing it changes every golden file.
 */
export function goldenPrompts(extra: string[] = []): string[] {
  const long = Array.from({ length: 1500 }, (_, i) => `step ${i}: add ${i * 7} to the total and carry the remainder`).join("\n");
  return [
    "What is 17 * 23?",
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?",
    "Write a Python function that returns the n-th Fibonacci number using memoisation.",
    "Let f(x) = 3x^2 - 5x + 2. Find all real x such that f(f(x)) = 0.",
    "Which of the following is a noble gas? (A) Oxygen (B) Neon (C) Nitrogen (D) Hydrogen",
    "Übersetze bitte: «Le cœur a ses raisons que la raison ne connaît point.» — 日本語でも説明して 🙂",
    "user: You are a helpful assistant.\n\nuser: Prove that the square root of 2 is irrational.",
    "   \n\t  ",
    "",
    long,
    ...extra,
  ];
}
