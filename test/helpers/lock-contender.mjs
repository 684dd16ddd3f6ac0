// A separate process that takes and releases the deploy lock in a loop, so tests can race real processes
// for it. It uses the compiled lock (dist/), as the CLI does. While it believes it holds the lock it keeps
// a marker file created with O_EXCL: finding the marker already there means two processes hold the lock.
import { closeSync, openSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { acquireLock } from '../../dist/src/state/lock.js';

const [stateDir, durationMs] = process.argv.slice(2);
const marker = join(stateDir, 'holding');
const until = Date.now() + Number(durationMs);
let tries = 0;
let holds = 0;
let doubles = 0;
while (Date.now() < until) {
  tries++;
  let lock;
  try {
    lock = acquireLock(stateDir, 'local', 'catalog', {
      deployment: `d-${process.pid}-${tries}`,
      command: 'deploy',
      startedAt: Date.now(),
    });
  } catch (error) {
    if (error.name === 'LockHeld') continue;
    throw error;
  }
  holds++;
  let mine = false;
  try {
    closeSync(openSync(marker, 'wx'));
    mine = true;
  } catch (error) {
    if (error.code !== 'EEXIST') throw error;
    doubles++;
  }
  if (mine) unlinkSync(marker);
  lock.release();
}
process.stdout.write(JSON.stringify({ tries, holds, doubles }));
