import { status, watchStatus } from '../../api/status.js';
import { ExitCode } from '../../api/exit-codes.js';
import type { Command, CommandIO, Report } from '../command.js';
import type { ServiceOptions } from '../../controller/runtime.js';
import { hostOf, serviceOptionsOf } from '../options.js';
import { documentOf } from '../document.js';

export const statusCommand: Command = {
  name: 'status',
  summary: 'show which version takes traffic, the standby, and the last deployment (reads only)',
  spec: {
    words: ['artifact', 'environment'],
    required: ['artifact', 'environment'],
    flags: ['watch'],
    options: [],
  },
  help: `Usage: cutover status artifact=NAME environment=NAME [--watch] [--json]

Shows the live version and its weight, the standby and when its rollback window closes, every fleet
with its instances, the last deployment and its result, and who holds the lock. It changes nothing and
starts nothing. With --json it prints one JSON document on stdout, whose \`status\` is this report.

With --watch it keeps reading, once a second, and prints the status again whenever it changes: a
deploy's step, the weights, and the latest reading of every check, live (with --json, one JSON document a
line per change). Ctrl-C stops it (exit 0).

Exits 0 when the environment is served: a fleet takes traffic and at least one of its instances runs.
Exits 1, saying why (\`status.serving: false\` and \`status.notServing\` in --json), when nothing serves it: nothing
deployed, no fleet with traffic, no running instance in the live fleet, or the local agent not running.`,

  async run(args, io) {
    const service = serviceOptionsOf(args);
    if (args.flags.has('watch')) return watch(service, io);
    const result = await status({ ...service, ...hostOf(io) });
    if (result.type === 'status' && !io.json) io.out(result.text);
    return { result, service };
  },
};

/** Prints the status whenever it changes, until Ctrl-C; a reader that went away ends it too. */
async function watch(service: ServiceOptions, io: CommandIO): Promise<Report | number> {
  // A reader that went away (`| head`) ends the watch at its next write: stdout's write errors are
  // otherwise ignored (a deploy must not die of them), so the watch listens for them itself.
  const stop = new AbortController();
  const gone = () => stop.abort();
  process.stdout.once('error', gone);
  process.stdout.once('close', gone);
  io.signal.addEventListener('abort', gone, { once: true });
  const started = Date.now();
  let last: Report | undefined;
  for await (const result of watchStatus({ ...service, ...hostOf(io), signal: stop.signal })) {
    if (result.type !== 'status') return { result, service };
    // Every change was its own document: none more at the end.
    last = { result, service, printed: true };
    const at = new Date().toISOString();
    io.out(
      io.json
        ? JSON.stringify({ at, ...documentOf('status', result, started, result.status) })
        : `${at}\n${result.text}\n`,
    );
  }
  // Stopped on purpose (Ctrl-C, a reader gone): exit 0 whatever the last status said.
  return last ? { ...last, exitCode: ExitCode.ok } : ExitCode.ok;
}
