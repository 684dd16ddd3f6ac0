import type { DeploymentNotes } from '../providers/types.js';

/**
 * What a person asks of a running deploy from another process or machine. The deploy reads its
 * deployment's intent once a check interval and answers it, so the asking command can say what happened.
 */
export type IntentKind = 'promote' | 'promote-full' | 'pause' | 'resume' | 'abort';

export interface Intent {
  /** Unique per request: the deploy answers each once. */
  id: string;
  kind: IntentKind;
  at: number;
  /** Who asked (the actor), for the deploy's log. */
  by: string;
}

/** The deploy's answer: `done` when it acted; otherwise why not (nothing to promote, not paused). */
export interface IntentReply {
  id: string;
  done: boolean;
  message: string;
}

/** Where intents and replies live so that every runner reaches them: a file (local), tags (aws). */
export interface IntentStore {
  /** Replaces the deployment's intent; an unanswered earlier one is overtaken. */
  send(deployment: string, intent: Intent): Promise<void>;
  read(deployment: string): Promise<{ intent?: Intent; reply?: IntentReply }>;
  reply(deployment: string, reply: IntentReply): Promise<void>;
}

const kinds: readonly IntentKind[] = ['promote', 'promote-full', 'pause', 'resume', 'abort'];

// Tag values hold 256 characters: the fields are short, and free text (who, the message) is cut to fit.
const limit = 256;

export function formatIntent(intent: Intent): string {
  return `${intent.kind} ${intent.at} ${intent.id} ${intent.by}`.slice(0, limit);
}

export function parseIntent(text: string | undefined): Intent | undefined {
  const [kind, at, id, ...by] = (text ?? '').split(' ');
  if (!kinds.includes(kind as IntentKind) || !id || !Number.isFinite(Number(at))) return undefined;
  return { kind: kind as IntentKind, at: Number(at), id, by: by.join(' ') };
}

export function formatReply(reply: IntentReply): string {
  return `${reply.id} ${reply.done ? 'done' : 'no'} ${reply.message}`.slice(0, limit);
}

export function parseReply(text: string | undefined): IntentReply | undefined {
  const [id, done, ...message] = (text ?? '').split(' ');
  if (!id || (done !== 'done' && done !== 'no')) return undefined;
  return { id, done: done === 'done', message: message.join(' ') };
}

/** Intents as notes on the deployment (aws: tags on its green group), which every runner reads. */
export function notesIntents(notes: DeploymentNotes): IntentStore {
  return {
    async send(deployment, intent) {
      if (!(await notes.write(deployment, { intent: formatIntent(intent) })))
        throw new Error(`deployment ${deployment} has no green group to carry the request`);
    },
    async read(deployment) {
      const all = (await notes.read(deployment)) ?? {};
      const intent = parseIntent(all.intent);
      const reply = parseReply(all['intent-reply']);
      return { ...(intent ? { intent } : {}), ...(reply ? { reply } : {}) };
    },
    async reply(deployment, reply) {
      await notes.write(deployment, { 'intent-reply': formatReply(reply) });
    },
  };
}
