import type { RequestCounts } from '../types.js';
import type { RequestCountsReply } from './protocol.js';

/**
 * The local target's TrafficMetrics.requestCounts, from what the agent's routers counted: the whole
 * seconds within [from, to] summed per fleet. A second is whole once it has ended and the agent has
 * collected what its routers counted after that end (`countedUntil`): a span reaching past now is
 * summed up to now, as CloudWatch answers for periods not over yet.
 *
 * A fleet maps to undefined when the routers cannot vouch for the whole span: no whole second of it is
 * over yet; its first second began before they started counting or before counts were last lost
 * (`countedSince`: an agent restarted, a router worker died); or the router does not serve the fleet
 * (never here, or retired and its counts dropped). A fleet that got no request is a count of zero.
 */
export function sumWholeSeconds(
  reply: RequestCountsReply,
  fleetIds: string[],
  from: number,
  to: number,
): Record<string, RequestCounts | undefined> {
  const first = Math.ceil(from / 1000);
  // Exclusive: the second that began at `end * 1000` is not over by `to`, or not collected yet.
  const end = Math.floor(Math.min(to, reply.countedUntil) / 1000);
  const vouched = end > first && first * 1000 >= reply.countedSince;
  const counts: Record<string, RequestCounts | undefined> = {};
  for (const id of fleetIds) {
    const seconds = reply.fleets[id];
    if (!vouched || !seconds) {
      counts[id] = undefined;
      continue;
    }
    const sum = { requests: 0, errors: 0 };
    for (const [second, requests, errors] of seconds) {
      if (second < first || second >= end) continue;
      sum.requests += requests;
      sum.errors += errors;
    }
    counts[id] = sum;
  }
  return counts;
}
