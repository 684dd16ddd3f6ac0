/**
 * What one router counted and has not handed to the agent yet: per fleet and epoch second, the responses
 * it returned and how many of them were 5xx. Emptied at each hand-over, so it holds a fraction of a second.
 */

/** A router's hook, called once for each response it returned for a fleet. */
export type CountResponse = (fleetId: string, status: number) => void;

export interface CountEntry {
  fleetId: string;
  /** Epoch second the response ended in. */
  second: number;
  requests: number;
  errors: number;
}

export class ResponseTally {
  private second = 0;
  /** The current second's entries by fleet: one lookup per response, no key built for it. */
  private current = new Map<string, CountEntry>();
  private earlier: CountEntry[] = [];

  readonly count: CountResponse = (fleetId, status) => {
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.second) {
      this.earlier.push(...this.current.values());
      this.current = new Map();
      this.second = second;
    }
    let entry = this.current.get(fleetId);
    if (!entry) {
      entry = { fleetId, second, requests: 0, errors: 0 };
      this.current.set(fleetId, entry);
    }
    entry.requests++;
    if (status >= 500) entry.errors++;
  };

  /** Everything counted since the last take; the agent adds it to what it already has. */
  take(): CountEntry[] {
    const taken = [...this.earlier, ...this.current.values()];
    this.earlier = [];
    this.current = new Map();
    return taken;
  }
}
