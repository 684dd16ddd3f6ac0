import { DeploymentFailed, UserInputError } from '../errors.js';
import { Events } from '../events.js';
import { failureReported } from '../api/perform.js';
import { status } from '../api/status.js';
import { documentOf, type Done } from './document.js';
import { chooseFormat, createLogger, logListener } from '../log.js';
import { parseArgs, splitCommand } from './args.js';
import type { Command, Report } from './command.js';
import type { ServiceOptions } from '../controller/runtime.js';
import { abortCommand } from './commands/abort.js';
import { agentCommand } from './commands/agent.js';
import { deployCommand } from './commands/deploy.js';
import { downCommand } from './commands/down.js';
import { historyCommand } from './commands/history.js';
import { haproxyConfigCommand } from './commands/haproxy-config.js';
import { reportCommand } from './commands/report.js';
import { notifyTestCommand } from './commands/notify-test.js';
import { pauseCommand } from './commands/pause.js';
import { planCommand } from './commands/plan.js';
import { promoteCommand } from './commands/promote.js';
import { resumeCommand } from './commands/resume.js';
import { rollbackCommand } from './commands/rollback.js';
import { statusCommand } from './commands/status.js';
import { unlockCommand } from './commands/unlock.js';
import { ExitCode, exitCodeHelp } from '../api/exit-codes.js';
import { exitCodeOf, type Result } from '../api/results.js';

const commands: Command[] = [
  deployCommand,
  planCommand,
  rollbackCommand,
  statusCommand,
  historyCommand,
  reportCommand,
  promoteCommand,
  pauseCommand,
  resumeCommand,
  abortCommand,
  unlockCommand,
  downCommand,
  haproxyConfigCommand,
  notifyTestCommand,
  agentCommand,
];

const overview = `cutover: blue/green zero-downtime deploys

Usage: cutover <command> key=value… [--flags]

Commands:
${commands.map((c) => `  ${c.name.padEnd(11)} ${c.summary}`).join('\n')}

Every key=value word can also be written --key value.
Global flags: --config FILE (default cutover.config.yaml), --state-dir DIR, --json, --help.
With --json every command prints one JSON document on stdout when it ends (schemaVersion 1: result,
exitCode, deployment, versions, weights, duration, error, next, status; see docs/json.md), and logs
JSON lines on stderr.
\`cutover <command> --help\` explains a command.

${exitCodeHelp}`;

async function main(argv: string[]): Promise<number> {
  // `--json=1` is refused by the parser, in a document: whoever asked for JSON reads one.
  const json = argv.some((arg) => arg === '--json' || arg.startsWith('--json='));
  const logger = createLogger(chooseFormat(json));
  const events = new Events([logListener(logger)]);
  const out = (text: string) => process.stdout.write(`${text}\n`);
  const abort = new AbortController();
  const lastWork: (() => Promise<void>)[] = [];
  let exiting = false;
  let signalsWhileExiting = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    // The command is done and waits for its notifications: a second signal stops the wait, keeping the
    // command's exit code. The first only says so, since `cutover abort` sends one to a finished deploy.
    if (exiting) {
      signalsWhileExiting += 1;
      process.stderr.write(
        signalsWhileExiting === 1
          ? `cutover: ${signal}: the command has ended; sending its last notifications (again to stop waiting)\n`
          : `cutover: ${signal}: not waiting for notifications still being sent\n`,
      );
      if (signalsWhileExiting > 1) process.exit();
      return;
    }
    if (abort.signal.aborted) return;
    // The library tells it (abort.requested) and goes back to blue.
    abort.abort(new DeploymentFailed('ABORTED', `aborted by ${signal}`, 'run the command again when ready'));
  };

  const code = await runCommand(argv, { events, out, json, abort, onSignal, lastWork });
  exiting = true;
  process.exitCode = code;
  // Each is bounded (notifyFlushTimeout) and reports its own failures as warnings.
  await Promise.all(lastWork.map((work) => work().catch(() => undefined)));
  await new Promise<void>((resolve) => {
    logger.on('finish', resolve);
    logger.end();
  });
  return code;
}

interface Runtime {
  events: Events;
  out: (text: string) => void;
  json: boolean;
  abort: AbortController;
  onSignal: (signal: NodeJS.Signals) => void;
  lastWork: (() => Promise<void>)[];
}

/** Runs one command; every error that ends it becomes its exit code and a command.failed event. */
async function runCommand(argv: string[], runtime: Runtime): Promise<number> {
  const { events, out, json, abort, onSignal, lastWork } = runtime;
  const started = Date.now();
  let name: string | undefined;
  let outcome: Omit<Report, 'result'> & { result: Result | Done };
  try {
    const split = splitCommand(argv);
    name = split.command;
    const { rest } = split;
    if (!name) {
      if (rest.includes('--help') || rest.length === 0) {
        out(overview);
        return rest.length === 0 ? ExitCode.badInput : ExitCode.ok;
      }
      throw new UserInputError('COMMAND_MISSING', 'no command given', 'see `cutover --help`');
    }
    const command = commands.find((c) => c.name === name);
    if (!command) {
      throw new UserInputError(
        'COMMAND_UNKNOWN',
        `unknown command \`${name}\``,
        `commands: ${commands.map((c) => c.name).join(', ')}`,
      );
    }
    if (!command.ownsSignals) {
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    }
    const args = parseArgs(name, rest, command.spec);
    if (args.flags.has('help')) {
      out(`${command.help}\n\n${exitCodeHelp}`);
      return ExitCode.ok;
    }
    const ran = await command.run(args, {
      events,
      out,
      json,
      signal: abort.signal,
      beforeExit: (work) => lastWork.push(work),
    });
    outcome = typeof ran === 'number' ? { result: { type: 'done', exitCode: ran } } : ran;
  } catch (error) {
    outcome = { result: await failureReported(events, error) };
  }
  const { result, ...report } = outcome;
  if (json && !report.printed)
    out(JSON.stringify(await documentFor(name ?? null, result, started, report.service)));
  return report.exitCode ?? (result.type === 'done' ? result.exitCode : exitCodeOf(result));
}

/** The final JSON document, with the environment as it stands after the command when it can be read. */
async function documentFor(
  name: string | null,
  result: Result | Done,
  started: number,
  service: ServiceOptions | undefined,
) {
  let body = result.type === 'status' ? result.status : null;
  // Bad input may be the config itself: the read is rejected too, and the body stays null.
  if (!body && service) {
    const after = await status({ ...service, events: new Events() }).catch(() => undefined);
    if (after?.type === 'status') body = after.status;
  }
  return documentOf(name ?? '', result, started, body, service);
}

// A reader that went away (`| head`, a CI log collector that died) must not end a deploy halfway: the
// write fails with EPIPE, and an unheard stream error would kill the process mid-shift.
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});
process.exitCode = await main(process.argv.slice(2));
