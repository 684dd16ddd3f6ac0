import { statSync } from 'node:fs';
import { UserInputError } from '../../errors.js';
import { agentPaths } from './paths.js';

/**
 * Refuses a state folder that other users can write. Whoever can write there can swap the control
 * socket, the state file (commands the agent runs, secrets it passes on) or an instance's log, so the
 * owner-only modes of the files inside would mean nothing.
 */
export function refuseSharedStateFolders(stateDir: string): void {
  const paths = agentPaths(stateDir);
  for (const dir of [stateDir, paths.dir, paths.logs]) {
    let mode: number;
    try {
      mode = statSync(dir).mode;
    } catch (error) {
      // Not there yet: cutover creates it owner-only.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    if (mode & 0o002) {
      throw new UserInputError(
        'STATE_DIR_SHARED',
        `state folder \`${dir}\` can be written by other users (mode ${(mode & 0o777).toString(8)}), so the local agent will not use it`,
        `run \`chmod o-w ${shellQuote(dir)}\`, or pass --state-dir with a folder only you can write`,
      );
    }
  }
}

function shellQuote(path: string): string {
  return /^[A-Za-z0-9_./-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}
