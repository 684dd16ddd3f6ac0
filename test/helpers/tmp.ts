import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDir(prefix = 'cutover-', base = tmpdir()): { path: string; remove: () => void } {
  const path = mkdtempSync(join(base, prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * A folder in memory (/dev/shm) where this machine has one, else as tempDir: for tests that write many
 * small files with fsync, such as a journal, hundreds of times in virtual time. fsync still runs; on a
 * disk shared with other work it cost most of such a test's time.
 */
export function memoryTempDir(prefix = 'cutover-'): { path: string; remove: () => void } {
  return tempDir(prefix, inMemory() ? '/dev/shm' : tmpdir());
}

let shm: boolean | undefined;
function inMemory(): boolean {
  if (shm === undefined) {
    try {
      accessSync('/dev/shm', constants.W_OK);
      shm = true;
    } catch {
      shm = false;
    }
  }
  return shm;
}
