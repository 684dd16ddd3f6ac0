import type { DeploymentNotes } from '../types.js';
import type { HostSession } from './ssh.js';

/**
 * A deployment's notes on the load balancer host, where every runner reads them: one file a key under
 * `<dir>/notes/<deployment>/`, each written beside and renamed over, so two runners writing different
 * keys at once (a request, and the deploy's answer) never lose one another's.
 */
export function hostNotes(
  lb: () => Promise<HostSession>,
  dir: string,
  exists: (deployment: string) => Promise<boolean>,
): DeploymentNotes {
  const folder = (deployment: string) => `${dir}/notes/${deployment}`;
  return {
    async read(deployment) {
      if (!safe(deployment)) return undefined;
      const session = await lb();
      // NUL-separated name and content pairs: neither can hold a NUL.
      const result = await session.run([
        'sh',
        '-c',
        '[ -d "$1" ] || exit 3; for f in "$1"/*; do [ -f "$f" ] || continue; printf "%s\\0" "${f##*/}"; cat "$f"; printf "\\0"; done',
        'sh',
        folder(deployment),
      ]);
      if (result.code === 3) return (await exists(deployment)) ? {} : undefined;
      const parts = result.stdout.split('\0');
      const notes: Record<string, string> = {};
      for (let i = 0; i + 1 < parts.length; i += 2) notes[parts[i] as string] = parts[i + 1] as string;
      return notes;
    },
    async write(deployment, notes) {
      if (!safe(deployment) || !(await exists(deployment))) return false;
      const session = await lb();
      for (const [key, value] of Object.entries(notes)) {
        if (!/^[A-Za-z0-9_.-]{1,128}$/.test(key)) throw new Error(`note key \`${key}\` is not plain`);
        const result = await session.run(
          [
            'sh',
            '-c',
            'set -e; mkdir -p "$1"; cat > "$1/.$2.tmp"; mv "$1/.$2.tmp" "$1/$2"',
            'sh',
            folder(deployment),
            key,
          ],
          { stdin: value },
        );
        if (result.code !== 0)
          throw new Error(`${session.host}: could not write note ${key}: ${result.stderr.trim()}`);
      }
      return true;
    },
  };
}

/** Deployment ids are cutover's own (`d-…`); anything else never names a folder. */
function safe(deployment: string): boolean {
  return /^[A-Za-z0-9_.-]{1,128}$/.test(deployment) && !deployment.startsWith('.');
}
