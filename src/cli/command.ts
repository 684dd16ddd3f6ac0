import type { Events } from '../events.js';
import type { CommandSpec, ParsedArgs } from './args.js';

export interface CommandIO {
  events: Events;
  /** A command's result goes to stdout; logs go to stderr. */
  out: (text: string) => void;
  json: boolean;
  /** Aborted by SIGINT or SIGTERM (which `cutover abort` sends). */
  signal: AbortSignal;
  /** Work the CLI waits for after the command's result and before it exits (sending notifications). */
  beforeExit: (work: () => Promise<void>) => void;
}

export interface Command {
  name: string;
  summary: string;
  spec: CommandSpec;
  help: string;
  /** Handles SIGTERM and SIGINT itself (a long-running process) rather than as an abort. */
  ownsSignals?: boolean;
  run(args: ParsedArgs, io: CommandIO): Promise<number>;
}
