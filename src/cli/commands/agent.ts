import { resolve } from 'node:path';
import { AgentExit } from '../../providers/local/agent-exit.js';
import { ExitCode } from '../../api/exit-codes.js';
import type { Command } from '../command.js';
import { loadFromArgs, stateDirOf } from '../options.js';

export const agentCommand: Command = {
  name: 'agent',
  summary: 'run the local agent in the foreground, for a service manager (systemd)',
  spec: { words: [], required: [], flags: [], options: [] },
  help: `Usage: cutover agent [--state-dir DIR | --config FILE]

Runs the local target's agent (its routers, its router workers and the supervisor of its fleets) in
the foreground, logging to stderr, until SIGTERM or until \`cutover down\` leaves no environment. Meant
for a service manager that restarts it (the README gives a systemd unit). Without it, the CLI starts the
agent itself, under a small watchdog that restarts it.

It marks the state folder as run by a service manager, so the CLI waits for this agent instead of
starting its own. The state folder is --state-dir, else the config's stateDir.

Exit codes: 0 stopped on purpose; 1 failed; 2 the state folder is not private; 3 another agent already
runs for this state folder (a service manager should not retry: RestartPreventExitStatus=2 3).`,

  ownsSignals: true,

  async run(args) {
    const given = args.options['state-dir'];
    const stateDir = given !== undefined ? resolve(given) : stateDirOf(args, loadFromArgs(args));
    // Loaded here, not at the top: every other command would otherwise load the router (undici) too.
    const { runAgent } = await import('../../providers/local/agent-process.js');
    const code = await runAgent({ stateDir, managed: true });
    if (code === AgentExit.anotherRuns) return ExitCode.locked;
    if (code === AgentExit.refused) return ExitCode.badInput;
    return code === AgentExit.stopped ? ExitCode.ok : ExitCode.failed;
  },
};
