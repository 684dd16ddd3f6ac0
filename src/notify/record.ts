import { appendFileSync, closeSync, fsyncSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { MessageRef, MessageStore } from './notification.js';

/**
 * What was sent, and the Slack messages posted, for one artifact and environment: kept beside its
 * journal, so a second process (`cutover abort`, a recovery, a rerun) does not tell the same thing again
 * and updates the same message. Holds ids and message timestamps only, never a URL or a token.
 */
export interface SentRecord extends MessageStore {
  wasSent(id: string, notifier: string): Promise<boolean>;
  markSent(id: string, notifier: string): Promise<void>;
  /** The deployment now has a place for shared notes (its group launched): write what waited. */
  settle?(deployment: string): Promise<void>;
}

type Line =
  | { sent: string; notifier: string; at: number }
  | { message: string; notifier: string; channel: string; ts: string; at: number };

export class FileRecord implements SentRecord {
  private readonly dir: string;
  private readonly file: string;

  constructor(stateDir: string, environment: string, artifact: string) {
    this.dir = join(stateDir, 'journal');
    this.file = join(this.dir, `${environment}--${artifact}.notified.jsonl`);
  }

  async wasSent(id: string, notifier: string): Promise<boolean> {
    return this.lines().some((l) => 'sent' in l && l.sent === id && l.notifier === notifier);
  }

  async markSent(id: string, notifier: string): Promise<void> {
    this.append({ sent: id, notifier, at: Date.now() });
  }

  async message(deployment: string, notifier: string): Promise<MessageRef | undefined> {
    const found = this.lines()
      .filter((l) => 'message' in l && l.message === deployment && l.notifier === notifier)
      .at(-1);
    return found && 'message' in found ? { channel: found.channel, ts: found.ts } : undefined;
  }

  async saveMessage(deployment: string, notifier: string, ref: MessageRef): Promise<void> {
    this.append({ message: deployment, notifier, channel: ref.channel, ts: ref.ts, at: Date.now() });
  }

  /**
   * The file grows by one line a notification, across every deployment, and is asked once a
   * notification: only what was appended since the last read is read and parsed.
   */
  private lines(): Line[] {
    let size: number;
    try {
      size = statSync(this.file).size;
    } catch {
      return this.seen;
    }
    if (size < this.readUpTo) [this.seen, this.readUpTo] = [[], 0]; // Replaced: read it again.
    if (size === this.readUpTo) return this.seen;
    const fd = openSync(this.file, 'r');
    let text: string;
    try {
      const buffer = Buffer.alloc(size - this.readUpTo);
      readSync(fd, buffer, 0, buffer.length, this.readUpTo);
      text = buffer.toString('utf8');
    } finally {
      closeSync(fd);
    }
    // A line still being written is read next time, whole.
    const complete = text.lastIndexOf('\n') + 1;
    this.readUpTo += Buffer.byteLength(text.slice(0, complete));
    for (const line of text.slice(0, complete).split('\n')) {
      try {
        if (line.trim()) this.seen.push(JSON.parse(line) as Line);
      } catch {
        // Torn by a crash mid-write: at worst one message is told again.
      }
    }
    return this.seen;
  }

  private seen: Line[] = [];
  private readUpTo = 0;

  private append(line: Line): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const fd = openSync(this.file, 'a', 0o600);
    try {
      appendFileSync(fd, `\n${JSON.stringify(line)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

/** For `notify-test` and tests: remembers within the process only. */
export class MemoryRecord implements SentRecord {
  private readonly sent = new Set<string>();
  private readonly messages = new Map<string, MessageRef>();

  async wasSent(id: string, notifier: string): Promise<boolean> {
    return this.sent.has(`${notifier}\n${id}`);
  }

  async markSent(id: string, notifier: string): Promise<void> {
    this.sent.add(`${notifier}\n${id}`);
  }

  async message(deployment: string, notifier: string): Promise<MessageRef | undefined> {
    return this.messages.get(`${notifier}\n${deployment}`);
  }

  async saveMessage(deployment: string, notifier: string, ref: MessageRef): Promise<void> {
    this.messages.set(`${notifier}\n${deployment}`, ref);
  }
}
