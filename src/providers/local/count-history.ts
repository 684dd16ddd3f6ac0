import type { RequestCountsReply } from './protocol.js';

/**
 * What the agent keeps of one service's response counts: per fleet and epoch second, the last
 * `keepSeconds` only, so that memory stays bounded however long the agent runs, and nothing of a fleet
 * that is gone. It also knows from when on it can vouch for them: not before it started counting (a
 * restarted agent knows nothing of what its predecessor's routers served), nor before the last moment
 * counts were lost (a router worker that died holding responses it had not handed over yet).
 */

export interface CountHistoryOptions {
  /** How far back counts are kept; 15 minutes covers the longest window a check reads. */
  keepSeconds?: number;
  now?: () => number;
}

/** [requests, errors] */
type Bucket = [number, number];

export class CountHistory {
  private fleets = new Map<string, Map<number, Bucket>>();
  private since: number;
  private prunedFor = 0;
  private readonly keepSeconds: number;
  private readonly now: () => number;

  constructor(fleetIds: Iterable<string>, options: CountHistoryOptions = {}) {
    this.keepSeconds = options.keepSeconds ?? 15 * 60;
    this.now = options.now ?? Date.now;
    this.since = this.now();
    for (const id of fleetIds) this.know(id);
  }

  /** A fleet the router serves. Until it gets a request its count is zero, which is data, not a lack of it. */
  know(fleetId: string): void {
    if (!this.fleets.has(fleetId)) this.fleets.set(fleetId, new Map());
  }

  /** A fleet that is gone: its counts go with it, and what a router still hands over for it is dropped. */
  forget(fleetId: string): void {
    this.fleets.delete(fleetId);
  }

  add(fleetId: string, second: number, requests: number, errors: number): void {
    this.prune();
    const buckets = this.fleets.get(fleetId);
    if (!buckets || second < this.oldestSecond()) return;
    const bucket = buckets.get(second);
    if (bucket) {
      bucket[0] += requests;
      bucket[1] += errors;
    } else {
      buckets.set(second, [requests, errors]);
    }
  }

  /** Responses until `at` may be missing from the counts: no span that starts before it is vouched for. */
  lost(at: number): void {
    this.since = Math.max(this.since, at);
  }

  /**
   * The counts of the asked fleets this history knows, for every second from the one `from` falls in to
   * the one `to` falls in; seconds without a response are left out. `countedUntil` is the moment up to
   * which every router has handed over what it counted.
   */
  read(fleetIds: string[], from: number, to: number, countedUntil = this.now()): RequestCountsReply {
    this.prune();
    const first = Math.floor(from / 1000);
    const last = Math.floor(to / 1000);
    const fleets: RequestCountsReply['fleets'] = {};
    for (const id of fleetIds) {
      const buckets = this.fleets.get(id);
      if (!buckets) continue;
      fleets[id] = [...buckets]
        .filter(([second]) => second >= first && second <= last)
        .sort(([a], [b]) => a - b)
        .map(([second, [requests, errors]]) => [second, requests, errors]);
    }
    return {
      countedSince: Math.max(this.since, this.oldestSecond() * 1000),
      countedUntil,
      fleets,
    };
  }

  /** Buckets held now, across fleets: what stays bounded. */
  size(): number {
    let size = 0;
    for (const buckets of this.fleets.values()) size += buckets.size;
    return size;
  }

  private oldestSecond(): number {
    return Math.floor(this.now() / 1000) - this.keepSeconds + 1;
  }

  /** Drops seconds older than the window, at most once a second: an add is one comparison otherwise. */
  private prune(): void {
    const oldest = this.oldestSecond();
    if (oldest <= this.prunedFor) return;
    this.prunedFor = oldest;
    for (const buckets of this.fleets.values()) {
      for (const second of buckets.keys()) if (second < oldest) buckets.delete(second);
    }
  }
}
