import { history } from '../../api/history.js';
import type { HistoryEntry } from '../../controller/history.js';
import { UserInputError } from '../../errors.js';
import type { Command } from '../command.js';
import { hostOf, serviceOptionsOf } from '../options.js';

export const historyCommand: Command = {
  name: 'history',
  summary: 'list past deployments and rollbacks, newest first, with who, when, result and what failed',
  spec: {
    words: ['artifact', 'environment'],
    required: ['artifact', 'environment'],
    flags: [],
    options: ['limit'],
  },
  help: `Usage: cutover history artifact=NAME environment=NAME [--limit N] [--json]

Lists this runner's deployments and rollbacks of the artifact in the environment, newest first (at
most N, default 20): when each started, who started it, the version, the strategy, the result, how long
it took, and for a failure what failed and in which phase. Reads the journal only; changes nothing.
On aws it also lists the deploys any runner made, from the launch template versions cutover creates:
their description names the deployment, the AMI and who ran it. How such a deploy ended is known while
its group exists (its role), else \`unknown\`; rollbacks, strategies, durations and failure reasons come
only from a journal. On hosts the same comes from a log of launches on the load balancer host (the
newest 200).`,

  async run(args, io) {
    const service = serviceOptionsOf(args);
    const given = args.options.limit;
    const limit = given === undefined ? undefined : Number(given);
    if (given !== undefined && !/^\d+$/.test(given)) {
      throw new UserInputError('LIMIT_INVALID', `--limit takes a whole number, not \`${given}\``);
    }
    const result = await history({ ...service, ...hostOf(io), limit });
    if (result.type === 'history' && !io.json) {
      io.out(
        result.entries.length
          ? result.entries.map(line).join('\n')
          : `no deployment of ${service.artifact} in ${service.environment} is recorded on this runner`,
      );
    }
    return { result, service };
  },
};

/** One entry for people: when, what, by whom, how it ended. */
function line(entry: HistoryEntry): string {
  const took = entry.durationMs === null ? '' : ` in ${(entry.durationMs / 1000).toFixed(1)}s`;
  const what = `${entry.kind} ${entry.version ?? '?'}${entry.strategy ? ` (${entry.strategy})` : ''}`;
  const why = entry.reason ? `: ${entry.failedIn ? `in ${entry.failedIn}, ` : ''}${entry.reason}` : '';
  // Who and why come from the environment and from other programs: no control character of theirs may
  // start a line of its own or move the terminal's cursor.
  return printable(
    `${entry.startedAt}  ${entry.deployment}  ${what}  ${entry.result}${took}${entry.by ? `  by ${entry.by}` : ''}${why}`,
  );
}

function printable(text: string): string {
  return text.replace(
    // eslint-disable-next-line no-control-regex -- control characters are what this removes
    /[\u0000-\u001f\u007f-\u009f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}
