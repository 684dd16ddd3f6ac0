import type { Clock } from '../../clock.js';
import { CounterSamples, type CounterReading } from '../haproxy/counter-samples.js';
import type { RequestCounts, TrafficMetrics } from '../types.js';

/**
 * The hosts target's TrafficMetrics: HAProxy's per-server counters, read by the runner about once a
 * second while a deploy's error-rate check asks for counts. A fleet is its slot's server on every host,
 * so its counts are theirs summed. Nothing else on the load balancer host counts, and HAProxy keeps only
 * totals, so sampling starts with the first question: the first windows are inconclusive (never a pass)
 * until the samples reach back over them. It stops when the deploy no longer asks (`stop`, or no
 * question for a while), so that a finished command's process can end.
 */

export interface HostsMetricsOptions {
  /** One reading of HAProxy's counters (`show info; show stat`), asked for now. */
  read: () => Promise<Omit<CounterReading, 'at'>>;
  /** Each fleet's servers (its slot on every host); undefined for a fleet that is not recorded. */
  serversOf: (fleetIds: string[]) => Promise<Record<string, string[] | undefined>>;
  clock: Clock;
  /** Told when readings start failing (once a run of failures), and when they work again. */
  note?: ((message: string) => void) | undefined;
  everyMs?: number;
  keepMs?: number;
}

export interface SampledMetrics extends TrafficMetrics {
  /** Stops sampling; the next question starts it again, from nothing. */
  stop(): void;
  /** Whether it samples now. */
  sampling(): boolean;
  /** Readings held: bounded by `keepMs`. */
  held(): number;
}

export function hostsMetrics(options: HostsMetricsOptions): SampledMetrics {
  const { clock } = options;
  const everyMs = options.everyMs ?? 1000;
  let samples = new CounterSamples({ keepMs: options.keepMs });
  let running: AbortController | undefined;
  let lastAsked = 0;
  /** The longest time between two questions: the check's interval, however it is configured. */
  let longestGap = 0;
  const idleMs = () => Math.max(5 * everyMs, 3 * longestGap);

  const loop = async (signal: AbortSignal) => {
    let failing = false;
    while (!signal.aborted) {
      const started = clock.now();
      if (started - lastAsked > idleMs()) break;
      try {
        const reading = await options.read();
        if (signal.aborted) break;
        samples.add({ at: started, ...reading });
        if (failing) options.note?.("reading HAProxy's counters works again");
        failing = false;
      } catch (error) {
        // A gap: the next reading subtracts from the last good one, so nothing between is lost.
        if (!failing)
          options.note?.(
            `could not read HAProxy's counters for the error-rate check: ${(error as Error).message}`,
          );
        failing = true;
      }
      try {
        await clock.sleep(Math.max(0, started + everyMs - clock.now()), signal);
      } catch {
        break;
      }
    }
    if (running?.signal === signal) running = undefined;
  };

  const start = () => {
    if (running) return;
    running = new AbortController();
    samples = new CounterSamples({ keepMs: options.keepMs });
    void loop(running.signal);
  };

  return {
    async requestCounts(fleetIds, from, to) {
      const now = clock.now();
      if (lastAsked > 0 && running) longestGap = Math.max(longestGap, now - lastAsked);
      lastAsked = now;
      start();
      const servers = await options.serversOf(fleetIds);
      const counts: Record<string, RequestCounts | undefined> = {};
      for (const id of fleetIds) {
        const names = servers[id];
        counts[id] = names ? samples.read(names, from, to) : undefined;
      }
      return counts;
    },
    stop() {
      running?.abort();
      running = undefined;
    },
    sampling: () => running !== undefined,
    held: () => samples.size(),
  };
}
