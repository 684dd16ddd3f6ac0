import { hostname } from 'node:os';
import { LockHeld, UserInputError } from '../../errors.js';
import type { FleetRole, TargetRecord } from '../types.js';
import { isSameProcess, processStartTime, thisMachine } from '../local/processes.js';
import { unlockRefusal } from '../../state/unlock.js';
import type { HostSession } from './ssh.js';

/**
 * What every runner must see alike, kept on the load balancer host under its root: which version runs
 * in which slot and in what role (fleets.json), and the environment's lock (a folder, made atomically
 * by mkdir). A runner with the key sees the same picture as the one that deployed.
 */

export interface HostFleetRecord {
  id: string;
  version: string;
  deployment: string;
  slot: number;
  createdAt: number;
  role: FleetRole;
  standbyUntil?: number | undefined;
  previousVersion?: string | undefined;
  /** Launched by a deploy that has not gone live: running, or its controller died. */
  inProgress?: boolean | undefined;
  by?: string | undefined;
}

export interface LockHolderRecord {
  deployment: string;
  command: string;
  startedAt: number;
  host: string;
  pid: number;
  processStart?: number | undefined;
  /** The runner's machine (thisMachine): a pid is judged only there. */
  machine?: string | undefined;
}

/** Whether the holder's process runs on this machine now (a pid is judged only on its own machine). */
export function runsHere(holder: LockHolderRecord): boolean {
  return holder.machine === thisMachine() && isSameProcess(holder.pid, holder.processStart);
}

/**
 * Whether the holder ran on this machine and is gone: only such a lock is ours to take over. A holder of
 * the same hostname elsewhere (containers, cloned VMs) is not; `cutover unlock` clears it.
 */
export function goneFromHere(holder: LockHolderRecord): boolean {
  return holder.machine === thisMachine() && !isSameProcess(holder.pid, holder.processStart);
}

export function storeDir(root: string, artifact: string, environment: string): string {
  return `${root}/${artifact}/${environment}`;
}

/**
 * A read is kept this long: a deploy reads the records many times a second (each a round trip over SSH),
 * and under the lock only this runner writes them. Taking the lock forgets it.
 */
const keptMs = 1000;

export class FleetStore {
  private kept: { at: number; fleets: HostFleetRecord[] } | undefined;

  private readonly dir: string;

  constructor(
    private readonly lb: () => Promise<HostSession>,
    root: string,
    /** For the commands its messages suggest. */
    private readonly names: { artifact: string; environment: string },
    private readonly now: () => number = Date.now,
  ) {
    this.dir = storeDir(root, names.artifact, names.environment);
  }

  async read(): Promise<HostFleetRecord[]> {
    if (this.kept && this.now() - this.kept.at < keptMs) return structuredClone(this.kept.fleets);
    const fleets = await this.readFromHost();
    this.kept = { at: this.now(), fleets: structuredClone(fleets) };
    return fleets;
  }

  private async readFromHost(): Promise<HostFleetRecord[]> {
    const session = await this.lb();
    const result = await session.run([
      'sh',
      '-c',
      'cat "$1" 2>/dev/null || true',
      'sh',
      `${this.dir}/fleets.json`,
    ]);
    const text = result.stdout.trim();
    if (text === '') return [];
    try {
      return (JSON.parse(text) as { fleets: HostFleetRecord[] }).fleets;
    } catch {
      throw new Error(
        `${session.host}: ${this.dir}/fleets.json is not cutover's JSON; was it edited by hand?`,
      );
    }
  }

  /** Replaces the records whole: written beside, then renamed over, so a reader never sees half. */
  async write(fleets: HostFleetRecord[]): Promise<void> {
    const session = await this.lb();
    const result = await session.run(
      [
        'sh',
        '-c',
        'set -e; mkdir -p "$1"; umask 077; cat > "$1/fleets.json.tmp"; mv "$1/fleets.json.tmp" "$1/fleets.json"',
        'sh',
        this.dir,
      ],
      { stdin: `${JSON.stringify({ fleets }, null, 2)}\n` },
    );
    if (result.code !== 0) {
      this.kept = undefined;
      throw new Error(`${session.host}: could not write ${this.dir}/fleets.json: ${result.stderr.trim()}`);
    }
    this.kept = { at: this.now(), fleets: structuredClone(fleets) };
  }

  async update(change: (fleets: HostFleetRecord[]) => HostFleetRecord[]): Promise<void> {
    await this.write(change(await this.read()));
  }

  /**
   * Remembers a deploy every runner can list (`cutover history`, `report`), the newest 200: one JSON line
   * each, appended at launch. A failure to write it is the caller's to report, not a failed deploy.
   */
  async remember(record: TargetRecord): Promise<void> {
    const session = await this.lb();
    const result = await session.run(
      [
        'sh',
        '-c',
        'set -e; mkdir -p "$1"; umask 077; cat >> "$1/deployments.jsonl"; tail -n 200 "$1/deployments.jsonl" > "$1/deployments.jsonl.tmp"; mv "$1/deployments.jsonl.tmp" "$1/deployments.jsonl"',
        'sh',
        this.dir,
      ],
      { stdin: `${JSON.stringify(record)}\n` },
    );
    if (result.code !== 0)
      throw new Error(
        `${session.host}: could not write ${this.dir}/deployments.jsonl: ${result.stderr.trim()}`,
      );
  }

  /** The deploys `remember` kept, newest first; lines that are not cutover's are skipped. */
  async remembered(): Promise<TargetRecord[]> {
    const session = await this.lb();
    const result = await session.run([
      'sh',
      '-c',
      'cat "$1/deployments.jsonl" 2>/dev/null || true',
      'sh',
      this.dir,
    ]);
    const records: TargetRecord[] = [];
    for (const line of result.stdout.split('\n')) {
      try {
        const r = JSON.parse(line) as Partial<TargetRecord>;
        if (
          typeof r.deployment === 'string' &&
          typeof r.version === 'string' &&
          typeof r.startedAt === 'number'
        )
          records.push({
            deployment: r.deployment,
            version: r.version,
            by: typeof r.by === 'string' ? r.by : null,
            startedAt: r.startedAt,
          });
      } catch {
        // hand-edited or cut short
      }
    }
    return records.reverse();
  }

  private get lockDir(): string {
    return `${this.dir}/lock`;
  }

  /** The lock's holder as recorded, `unreadable` when the folder names none, undefined when free. */
  async holder(): Promise<{ holder?: LockHolderRecord; text: string; where: string } | undefined> {
    const session = await this.lb();
    const result = await session.run([
      'sh',
      '-c',
      '[ -d "$1" ] || exit 3; cat "$1/holder.json" 2>/dev/null || true',
      'sh',
      this.lockDir,
    ]);
    if (result.code === 3) return undefined;
    const where = `${session.host}:${this.lockDir}`;
    try {
      return { holder: JSON.parse(result.stdout) as LockHolderRecord, text: result.stdout, where };
    } catch {
      return { text: result.stdout, where };
    }
  }

  /**
   * `cutover unlock`: removes the lock when `deployment` holds it (or it names no holder) and that
   * holder does not run on this machine; only if it is unchanged when removed. False when it was free.
   */
  async unlock(deployment: string): Promise<boolean> {
    const hint = this.names;
    const found = await this.holder();
    if (!found) return false;
    const { holder, text, where } = found;
    const refusal =
      holder &&
      unlockRefusal({
        holder,
        runsHere: runsHere(holder),
        deployment,
        lock: `the lock ${where}`,
        names: hint,
      });
    if (refusal) throw refusal;
    const session = await this.lb();
    // Removed only if it still says what was read: a lock taken since by another runner stays.
    const removed = await session.run(
      [
        'sh',
        '-c',
        '[ "$(cat "$1/holder.json" 2>/dev/null; echo .)" = "$(cat; echo .)" ] && rm -rf -- "$1"',
        'sh',
        this.lockDir,
      ],
      { stdin: text },
    );
    if (removed.code !== 0) {
      if ((await this.holder()) === undefined) return false;
      throw new UserInputError(
        'UNLOCK_CHANGED',
        `the lock ${where} changed while it was read; nothing was removed`,
        `see its holder with \`cutover status artifact=${hint.artifact} environment=${hint.environment}\``,
      );
    }
    return true;
  }

  /**
   * Takes the environment's lock on the load balancer host, for every runner. A lock left by a process
   * of this machine that is gone (a killed CLI) is taken over; one held from elsewhere is LockHeld.
   */
  async lock(holder: {
    deployment: string;
    command: string;
    startedAt: number;
  }): Promise<() => Promise<void>> {
    this.kept = undefined;
    const session = await this.lb();
    const lockDir = `${this.dir}/lock`;
    const mine: LockHolderRecord = {
      ...holder,
      host: hostname(),
      pid: process.pid,
      processStart: processStartTime(process.pid),
      machine: thisMachine(),
    };
    const take = () =>
      session.run(
        [
          'sh',
          '-c',
          'mkdir -p "$1" && mkdir "$2" 2>/dev/null && cat > "$2/holder.json"',
          'sh',
          this.dir,
          lockDir,
        ],
        { stdin: JSON.stringify(mine) },
      );
    for (let attempt = 0; attempt < 2; attempt++) {
      if ((await take()).code === 0) {
        return async () => {
          await (await this.lb()).run(['rm', '-rf', '--', lockDir]);
        };
      }
      const held = await session.run(['sh', '-c', 'cat "$1/holder.json" 2>/dev/null || true', 'sh', lockDir]);
      let other: LockHolderRecord | undefined;
      try {
        other = JSON.parse(held.stdout) as LockHolderRecord;
      } catch {
        other = undefined;
      }
      if (attempt === 0 && other !== undefined && goneFromHere(other)) {
        await session.run(['rm', '-rf', '--', lockDir]);
        continue;
      }
      throw new LockHeld(
        'LOCKED',
        other
          ? `${other.command} ${other.deployment} holds this environment's lock on ${session.host} (runner ${other.host}, pid ${other.pid}, since ${new Date(other.startedAt).toISOString()})`
          : `this environment's lock on ${session.host} (${lockDir}) is held, and says by whom no more`,
        `wait for it to finish; if that run is gone, \`cutover unlock artifact=${this.names.artifact} environment=${this.names.environment} deployment=${other?.deployment ?? 'ANY'}\` removes its lock on ${session.host}, then \`cutover abort\` undoes what it left`,
      );
    }
    throw new Error('unreachable: the lock loop ends by returning or throwing');
  }
}
