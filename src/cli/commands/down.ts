import { selectEnvironment } from '../../config/select.js';
import { UserInputError } from '../../errors.js';
import { AgentClient } from '../../providers/local/agent-client.js';
import { refuseSharedStateFolders } from '../../providers/local/private-folders.js';
import { recordsEnvironment, stopRecordedEnvironment } from '../../providers/local/stop-recorded.js';
import { acquireLock, type Lock } from '../../state/lock.js';
import { ExitCode } from '../exit-codes.js';
import type { Command } from '../command.js';
import { loadFromArgs, stateDirOf } from '../runtime.js';

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
    if (env.target !== 'local') {
      throw new UserInputError(
        'DOWN_NOT_LOCAL',
        `\`down\` stops local environments; \`${environment}\` is ${env.target}`,
      );
    }
    const stateDir = stateDirOf(args, loaded);
    const client = new AgentClient(stateDir);
    // An agent its watchdog is bringing back is waited for: stopping its instances from the state file
    // meanwhile would race the restarted agent, which reads the file and serves them again.
    const agentRunning = await client.awaitRestart();
    if (!agentRunning && !recordsEnvironment(client.paths.state, environment)) {
      io.events.info('environment.down', `nothing runs in ${environment}`, { environment, stopped: [] });
      return ExitCode.ok;
    }
    // The pids to signal come from the state file: whoever could write it could aim them.
    refuseSharedStateFolders(stateDir);
    const locks: Lock[] = [];
    try {
      for (const artifact of Object.keys(loaded.config.artifacts)) {
        locks.push(
          acquireLock(stateDir, environment, artifact, {
            deployment: 'down',
            command: 'down',
            startedAt: Date.now(),
          }),
        );
      }
      // A dead agent's instances keep running: they are stopped from its record, without starting one.
      const stopped = agentRunning
        ? (
            await client.request<{ stopped: string[] }>(
              'DELETE',
              `/v1/environments/${encodeURIComponent(environment)}`,
            )
          ).stopped
        : await stopRecordedEnvironment(client.paths.state, environment);
      const how = agentRunning ? '' : ' (the local agent was not running: stopped from its state file)';
      io.events.info(
        'environment.down',
        stopped.length ? `stopped ${stopped.join(', ')}${how}` : `nothing ran in ${environment}`,
        { environment, stopped },
      );
      return ExitCode.ok;
    } finally {
      for (const lock of locks) lock.release();
      await client.close();
    }
  },
};
