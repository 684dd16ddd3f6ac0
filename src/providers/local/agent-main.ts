import { resolve } from 'node:path';
import { AgentExit, runAgent } from './agent-process.js';

/** Entry point of the agent process the watchdog starts (and restarts). */
const flag = process.argv.indexOf('--state-dir');
const stateDir = resolve(flag > 0 ? (process.argv[flag + 1] ?? '.cutover') : '.cutover');
runAgent({ stateDir, managed: false, restart: process.argv.includes('--restart') }).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(
      `${new Date().toISOString()} agent ${process.pid} failed: ${error instanceof Error ? error.stack : String(error)}`,
    );
    process.exit(AgentExit.failed);
  },
);
