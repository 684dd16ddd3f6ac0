import { createHash } from 'node:crypto';
import type { DeploymentNotes } from '../providers/types.js';
import type { MessageRef } from './notification.js';
import type { SentRecord } from './record.js';

/**
 * The record on this runner (beside its journal) and, where the target keeps notes that every runner
 * sees (aws: tags on the deployment's group), there too: a second runner running `cutover abort` does
 * not tell a deployment's end again, and updates the deployment's Slack message rather than posting one.
 *
 * Only a deployment's start and end, and its Slack message, go to the target: steps happen in one
 * process. Before the deployment has a place for notes (aws: before its group exists) what it would
 * write waits in memory and is written with the next write, or by `settle` once the group is there.
 */
export class SharedRecord implements SentRecord {
  private readonly pending = new Map<string, Record<string, string>>();
  private readonly known = new Map<string, Record<string, string>>();

  constructor(
    private readonly local: SentRecord,
    private readonly notes: DeploymentNotes,
  ) {}

  async wasSent(id: string, notifier: string): Promise<boolean> {
    if (await this.local.wasSent(id, notifier)) return true;
    const fact = lifecycle(id);
    if (!fact) return false;
    const told = (await this.read(fact.deployment))?.[`told-${tag(notifier)}`] ?? '';
    return told.split(' ').includes(fact.what);
  }

  async markSent(id: string, notifier: string): Promise<void> {
    await this.local.markSent(id, notifier);
    const fact = lifecycle(id);
    if (!fact) return;
    const key = `told-${tag(notifier)}`;
    const told = ((await this.read(fact.deployment))?.[key] ?? '').split(' ').filter(Boolean);
    if (!told.includes(fact.what)) told.push(fact.what);
    await this.write(fact.deployment, { [key]: told.join(' ') });
  }

  async message(deployment: string, notifier: string): Promise<MessageRef | undefined> {
    const here = await this.local.message(deployment, notifier);
    if (here) return here;
    const [channel, ts] = ((await this.read(deployment))?.[`slack-${tag(notifier)}`] ?? '').split(' ');
    return channel && ts ? { channel, ts } : undefined;
  }

  async saveMessage(deployment: string, notifier: string, ref: MessageRef): Promise<void> {
    await this.local.saveMessage(deployment, notifier, ref);
    await this.write(deployment, { [`slack-${tag(notifier)}`]: `${ref.channel} ${ref.ts}` });
  }

  /** Writes what waits for a deployment whose place now exists (its group launched). */
  async settle(deployment: string): Promise<void> {
    if (this.pending.has(deployment)) await this.write(deployment, {});
  }

  private async read(deployment: string): Promise<Record<string, string> | undefined> {
    const cached = this.known.get(deployment);
    if (cached) return cached;
    try {
      const read = await this.notes.read(deployment);
      if (read) this.known.set(deployment, read);
      return read;
    } catch {
      return undefined; // The local record still answers; at worst a message is told twice.
    }
  }

  private async write(deployment: string, values: Record<string, string>): Promise<void> {
    const all = { ...this.pending.get(deployment), ...values };
    this.known.set(deployment, { ...this.known.get(deployment), ...values });
    let written = false;
    try {
      written = await this.notes.write(deployment, all);
    } catch {
      written = false;
    }
    if (written) this.pending.delete(deployment);
    else this.pending.set(deployment, all);
  }
}

/** `<deployment>:started` and `<deployment>:end` are told once per deployment; steps are not shared. */
function lifecycle(id: string): { deployment: string; what: 'started' | 'end' } | undefined {
  const match = /^(.+):(started|end)$/.exec(id);
  return match ? { deployment: match[1] as string, what: match[2] as 'started' | 'end' } : undefined;
}

/** A short stable key for a notifier's name, which may hold characters tags do not allow (`#`). */
function tag(notifier: string): string {
  return createHash('sha256').update(notifier).digest('hex').slice(0, 8);
}
