import { AgentExit } from './agent-exit.js';
import { runAgent } from './agent-process.js';
import { stateDirArgument } from './entry.js';

/** Entry point of the agent process the watchdog starts (and restarts). */
const stateDir = stateDirArgument(process.argv);
runAgent({ stateDir, managed: false, restart: process.argv.includes('--restart') }).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(
      `${new Date().toISOString()} agent ${process.pid} failed: ${error instanceof Error ? error.stack : String(error)}`,
    );
    process.exit(AgentExit.failed);
  },
);
