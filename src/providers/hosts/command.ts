import { commandLine } from './quote.js';

/**
 * The command line `run` sends, and how it can kill what it started.
 *
 * sshd has no reliable way to stop a command: closing the channel leaves a command without a terminal
 * running, and sshd refuses signal requests for root logins (no privilege separation after login).
 * But sshd starts each command's login shell as a session leader, so the shell's pid is also the
 * process group of everything the command starts (pipelines, background jobs). The command line makes
 * the shell print that pid on a line of its own, tagged so that it is told apart from the command's
 * output, then `exec`s the command, which keeps that pid and reports its own exit status or signal. To
 * kill the command, a second channel runs `kill -s KILL -- -<pid>`. Processes that leave the group on
 * purpose (setsid, daemons) are not killed, nor those a command started as another user (sudo).
 */
export function leaderCommandLine(argv: readonly string[], tag: string): string {
  return `printf '%s\\n' ${tag}:$$; exec ${commandLine(argv)}`;
}

/** The command line that kills a process group; the group is a number read from the leader line. */
export function killGroupCommandLine(group: number): string {
  if (!Number.isSafeInteger(group) || group <= 1) throw new Error(`not a process group: ${group}`);
  return `kill -s KILL -- -${group}`;
}

/** How much output is searched for the leader line before giving up on it. */
const SEARCH_LIMIT = 64 * 1024;

/**
 * Takes the leader line out of the command's stdout. It is the first line the command line prints,
 * but a login shell's startup files may print before it: that output is kept, as the command's.
 */
export class LeaderLine {
  /** The command's process group, once the line has been seen. */
  group: number | undefined;
  private head: Buffer | undefined = Buffer.alloc(0);

  constructor(private readonly tag: string) {}

  /** Takes a chunk of stdout; returns what of it is the command's own output. */
  push(chunk: Buffer): Buffer {
    if (this.head === undefined) return chunk;
    const head = Buffer.concat([this.head, chunk]);
    const match = new RegExp(`(?:^|\\n)(${this.tag}:(\\d+)\\n)`).exec(head.toString('latin1'));
    if (match?.[1] !== undefined) {
      this.group = Number(match[2]);
      this.head = undefined;
      const start = match.index + match[0].length - match[1].length;
      return Buffer.concat([head.subarray(0, start), head.subarray(start + match[1].length)]);
    }
    if (head.length > SEARCH_LIMIT) {
      this.head = undefined;
      return head;
    }
    this.head = head;
    return Buffer.alloc(0);
  }

  /** What is still held back when stdout ends. */
  end(): Buffer {
    const rest = this.head ?? Buffer.alloc(0);
    this.head = undefined;
    return rest;
  }
}
