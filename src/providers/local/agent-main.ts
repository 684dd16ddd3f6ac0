import { resolve } from 'node:path';
import { Agent } from './agent.js';
import { createControlServer, listenOwnerOnly } from './control.js';
import { CutoverError } from '../../errors.js';
import { agentPaths } from './paths.js';
import { refuseSharedStateFolders } from './private-folders.js';
import { acceptsSocket } from './socket.js';

/**
 * Entry point of the local agent process, started detached by the CLI. It exits when the last
 * environment is brought down; on SIGTERM it closes its routers and leaves fleets running for the next
 * agent to re-adopt.
 */
async function main(): Promise<void> {
  const flag = process.argv.indexOf('--state-dir');
  const stateDir = resolve(flag > 0 ? (process.argv[flag + 1] ?? '.cutover') : '.cutover');
  const paths = agentPaths(stateDir);
  try {
    refuseSharedStateFolders(stateDir);
  } catch (error) {
    if (!(error instanceof CutoverError)) throw error;
    console.error(
      `${new Date().toISOString()} agent refused to start: ${error.message}; ${error.hint ?? ''}`,
    );
    process.exit(2);
  }
  if (await acceptsSocket(paths.socket)) {
    console.error(`another agent already answers on ${paths.socket}`);
    return;
  }
  let shuttingDown = false;
  const agent = new Agent(paths.state, paths.logs);
  const shutdown = async (why: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    console.error(`${new Date().toISOString()} agent ${process.pid} stopping: ${why}`);
    server.close();
    await agent.stop();
    process.exit(0);
  };
  const server = createControlServer(agent, () => {
    if (agent.serviceCount() === 0) setImmediate(() => void shutdown('no environment left'));
  });
  await agent.start();
  if (agent.stateProblem) console.error(`${new Date().toISOString()} agent state: ${agent.stateProblem}`);
  await listenOwnerOnly(server, paths.dir, paths.socket);
  console.error(`${new Date().toISOString()} agent ${process.pid} listening on ${paths.socket}`);
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGHUP', () => {});
}

main().catch((error: unknown) => {
  console.error(
    `${new Date().toISOString()} agent failed: ${error instanceof Error ? error.stack : String(error)}`,
  );
  process.exit(1);
});
