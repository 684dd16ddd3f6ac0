import type { RequestCounts } from '../types.js';
import type { ServerCounts } from './stat.js';

/**
 * Request counts over time from HAProxy's cumulative per-server counters, read now and then (a sampler
 * on the runner, where nothing runs beside HAProxy to count each response as the local router does).
 * Two readings by the same process subtract to what each server answered between them; the counts of a
 * span are those of the whole intervals between readings that lie within it, never part of one.
 *
 * A reading that cannot be subtracted from the one before (HAProxy reloaded: another process, or a
 * counter lower than before; a server gone) starts a new run: what was served between the two is
 * unknown, so no span that starts before it is vouched for. A count is never negative, and never made
 * of counters that restarted from zero.
 */

export interface CounterReading {
  /** Epoch ms when the reading was asked for: every response before it is in the counters. */
  at: number;
  /** Which process answered (info.ts); undefined when it could not say, then counters alone tell. */
  process: string | undefined;
  /** Each server's cumulative counters. */
  servers: ReadonlyMap<string, ServerCounts>;
}

export interface CounterSamplesOptions {
  /** How far back readings are kept; 15 minutes covers the longest window a check reads. */
  keepMs?: number;
}

export class CounterSamples {
  private readings: CounterReading[] = [];
  /** When the current run of comparable readings began: no span before it is vouched for. */
  private since = Number.POSITIVE_INFINITY;
  private readonly keepMs: number;

  constructor(options: CounterSamplesOptions = {}) {
    this.keepMs = options.keepMs ?? 15 * 60_000;
  }

  add(reading: CounterReading): void {
    const last = this.readings.at(-1);
    if (last && reading.at <= last.at) return;
    if (!last || !comparable(last, reading)) {
      // A new run: earlier readings cannot be subtracted from the ones that follow.
      this.readings = [];
      this.since = reading.at;
    }
    this.readings.push(reading);
    const oldest = reading.at - this.keepMs;
    let drop = 0;
    while (drop < this.readings.length - 1 && (this.readings[drop]?.at ?? 0) < oldest) drop++;
    if (drop > 0) {
      this.readings.splice(0, drop);
      this.since = Math.max(this.since, this.readings[0]?.at ?? this.since);
    }
  }

  /**
   * What `servers` answered between `from` and `to` (epoch ms), over the whole intervals between
   * readings within them; undefined when the readings cannot vouch for the span: it starts before the
   * current run (no reading yet, or HAProxy reloaded since), no whole interval lies within it, or a
   * server is missing from the readings.
   */
  read(servers: readonly string[], from: number, to: number): RequestCounts | undefined {
    if (from < this.since) return undefined;
    const first = this.readings.find((r) => r.at >= from);
    const last = [...this.readings].reverse().find((r) => r.at <= to);
    if (!first || !last || last.at <= first.at) return undefined;
    const sum = { requests: 0, errors: 0 };
    for (const name of servers) {
      const before = first.servers.get(name);
      const after = last.servers.get(name);
      if (!before || !after) return undefined;
      sum.requests += after.requests - before.requests;
      sum.errors += after.errors - before.errors;
    }
    return sum;
  }

  /** Readings held now: what stays bounded. */
  size(): number {
    return this.readings.length;
  }
}

/** The same process's counters, none lower than before and no server gone: subtractable. */
function comparable(before: CounterReading, after: CounterReading): boolean {
  if (before.process !== undefined && after.process !== undefined && before.process !== after.process)
    return false;
  for (const [name, was] of before.servers) {
    const now = after.servers.get(name);
    if (!now || now.requests < was.requests || now.errors < was.errors) return false;
  }
  return true;
}
