import type { Events } from '../events.js';
import type { Result } from '../api/results.js';
import type { ServiceOptions } from '../controller/runtime.js';
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

/** A library-backed command's outcome: the CLI prints its JSON document (`--json`) and exits by it. */
export interface Report {
  result: Result;
  /** The artifact and environment it acted on: the document's `status` is read from there. */
  service?: ServiceOptions;
  /** The command printed its own documents (`status --watch --json`): no final one. */
  printed?: boolean;
  /** Instead of the result's own (a watch stopped on purpose exits 0 whatever it last saw). */
  exitCode?: number;
}

export interface Command {
  name: string;
  summary: string;
  spec: CommandSpec;
  help: string;
  /** Handles SIGTERM and SIGINT itself (a long-running process) rather than as an abort. */
  ownsSignals?: boolean;
  /** An exit code for commands that are not the library's (agent, down, unlock, notify-test). */
  run(args: ParsedArgs, io: CommandIO): Promise<Report | number>;
}
