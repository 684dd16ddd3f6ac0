import { selectEnvironment } from '../../config/select.js';
import { UserInputError } from '../../errors.js';
import { moduleOf } from '../../providers/registry.js';
import { ExitCode } from '../../api/exit-codes.js';
import type { Command } from '../command.js';
import { loadFromArgs, stateDirOf } from '../options.js';

export const downCommand: Command = {
  name: 'down',
  summary: 'stop the router and every fleet of a local environment',
  spec: { words: ['environment'], required: ['environment'], flags: [], options: [] },
  help: `Usage: cutover down environment=NAME

Stops the local router and every fleet (live, standby, failed) of every artifact in a local environment.
The local agent exits when no environment is left. An agent its watchdog is restarting is waited for
(up to 10 s). When no agent runs or is coming back, the instances its
state file records for the environment are stopped directly (their process groups, SIGKILL after 5 s)
and forgotten, so no later agent restarts them. Refused (exit 3) while a deploy or rollback runs there.`,

  async run(args, io) {
    const loaded = loadFromArgs(args);
    const environment = args.words.environment ?? '';
    const env = selectEnvironment(loaded, environment);
    const target = moduleOf(env);
    if (!target.down) {
      throw new UserInputError(
        'DOWN_NOT_LOCAL',
        `\`down\` stops environments that run on this machine; \`${environment}\` is ${env.target}`,
        target.downElsewhere,
      );
    }
    await target.down({ loaded, environment, stateDir: stateDirOf(args, loaded), events: io.events });
    return ExitCode.ok;
  },
};
