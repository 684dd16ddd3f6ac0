import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { UserInputError } from '../../errors.js';

/**
 * Finding HAProxy for `router: haproxy`: Debian's package puts it in /usr/sbin, which a normal user's PATH
 * lacks, so that is looked in too. CUTOVER_HAPROXY names another binary (a build of one's own), and then
 * only that one is used. 2.6 is the oldest release it is used with: before it, adding and
 * deleting servers at runtime (what every fleet change is) was experimental.
 */

export const minimumVersion: [number, number] = [2, 6];

export interface Haproxy {
  binary: string;
  version: string;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function findHaproxy(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.CUTOVER_HAPROXY) return executable(env.CUTOVER_HAPROXY) ? env.CUTOVER_HAPROXY : undefined;
  const dirs = [
    ...(env.PATH ?? '').split(delimiter).filter(Boolean),
    '/usr/sbin',
    '/usr/local/sbin',
    '/sbin',
  ];
  return dirs.map((dir) => join(dir, 'haproxy')).find(executable);
}

/** `2.6.12-1+deb12u4` from `HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/`. */
export function parseVersion(text: string): string | undefined {
  return /HA-?Proxy version (\S+)/i.exec(text)?.[1];
}

function atLeast(version: string, [major, minor]: [number, number]): boolean {
  const [a = 0, b = 0] = version.split(/[.-]/).map(Number);
  return a > major || (a === major && b >= minor);
}

let found: Haproxy | undefined;

/** HAProxy's path and version, or a UserInputError that says how to install it. Cached once found. */
export function requireHaproxy(environment: string): Haproxy {
  if (found) return found;
  const binary = findHaproxy();
  const asked = `environment \`${environment}\` has \`router: haproxy\``;
  if (!binary) {
    throw new UserInputError(
      'HAPROXY_MISSING',
      process.env.CUTOVER_HAPROXY
        ? `${asked}, but CUTOVER_HAPROXY names ${process.env.CUTOVER_HAPROXY}, which is not an executable`
        : `${asked}, but HAProxy is not installed (no haproxy in PATH or /usr/sbin)`,
      'install it with `apt-get install haproxy` (Debian, Ubuntu), or set `router: builtin`',
    );
  }
  let output: string;
  try {
    output = execFileSync(binary, ['-v'], { encoding: 'utf8', timeout: 5000 });
  } catch (error) {
    throw new UserInputError(
      'HAPROXY_MISSING',
      `${asked}, but \`${binary} -v\` failed: ${(error as Error).message}`,
      'reinstall it with `apt-get install --reinstall haproxy`, or set `router: builtin`',
    );
  }
  const version = parseVersion(output);
  if (!version || !atLeast(version, minimumVersion)) {
    throw new UserInputError(
      'HAPROXY_TOO_OLD',
      `${asked}, but ${binary} is HAProxy ${version ?? '(version unknown)'}; cutover needs ${minimumVersion.join('.')} or newer, which adds and deletes servers at runtime`,
      'install a newer HAProxy (Debian 12 ships 2.6), or set `router: builtin`',
    );
  }
  found = { binary, version };
  return found;
}
