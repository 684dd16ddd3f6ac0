import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Intent, IntentReply, IntentStore } from '../controller/intents.js';

/**
 * Intents on one machine (local target): small files beside the journal, each replaced whole by a
 * rename so that a reader never sees half of one. Commands write the intent and the deploy its reply,
 * each to its own file, so neither overwrites the other's. They hold the latest deployment's only.
 */
export class FileIntents implements IntentStore {
  private readonly dir: string;
  private readonly base: string;

  constructor(stateDir: string, environment: string, artifact: string) {
    this.dir = join(stateDir, 'journal');
    this.base = join(this.dir, `${environment}--${artifact}`);
  }

  send(deployment: string, intent: Intent): Promise<void> {
    this.save('intent', { deployment, intent });
    return Promise.resolve();
  }

  read(deployment: string): Promise<{ intent?: Intent; reply?: IntentReply }> {
    const sent = this.load<{ intent: Intent }>('intent', deployment);
    const replied = this.load<{ reply: IntentReply }>('intent-reply', deployment);
    return Promise.resolve({
      ...(sent ? { intent: sent.intent } : {}),
      ...(replied ? { reply: replied.reply } : {}),
    });
  }

  reply(deployment: string, reply: IntentReply): Promise<void> {
    this.save('intent-reply', { deployment, reply });
    return Promise.resolve();
  }

  private load<T>(kind: string, deployment: string): T | undefined {
    try {
      const stored = JSON.parse(readFileSync(`${this.base}.${kind}.json`, 'utf8')) as T & {
        deployment: string;
      };
      return stored.deployment === deployment ? stored : undefined;
    } catch {
      return undefined;
    }
  }

  private save(kind: string, stored: object): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const file = `${this.base}.${kind}.json`;
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(stored), { mode: 0o600 });
    renameSync(temporary, file);
  }
}
