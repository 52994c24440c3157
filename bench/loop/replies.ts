/**
 * Reply bookkeeping shared by the route and feedback runs of the decision log
 * load check: the decision a route call returns, status counts, and the
 * process-wide tally of transport errors (status 0), which is reported once
 * for all phases. Sends nothing. Owned by bench/loop.
 */
import type { Reply } from "./http.js";

export interface Decision {
  id: string;
  model: string;
}

/** Transport error code → count, over every reply passed to noteError. */
export const transportErrors: Record<string, number> = {};

export function noteError(r: Reply): void {
  if (r.status === 0) transportErrors[r.error ?? "unknown"] = (transportErrors[r.error ?? "unknown"] ?? 0) + 1;
}

export function statusCounts(replies: { status: number }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of replies) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}

/** Replies counted under a status matching `pick` (status keys are strings; "0" = transport error). */
export function countWhere(counts: Record<string, number>, pick: (status: string) => boolean): number {
  return Object.entries(counts)
    .filter(([s]) => pick(s))
    .reduce((a, [, c]) => a + c, 0);
}

/** 5xx and transport errors: requests the worker failed or never answered. */
export const isFailure = (status: string) => Number(status) >= 500 || status === "0";
