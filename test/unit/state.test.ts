import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LockHeld } from '../../src/errors.js';
import { Journal } from '../../src/state/journal.js';
import { acquireLock, lockPath } from '../../src/state/lock.js';
import { allAtOnce } from '../../strategies/all-at-once.js';
import { planSteps } from '../../strategies/index.js';
import { tempDir } from '../helpers/tmp.js';

let dir: ReturnType<typeof tempDir>;
beforeEach(() => (dir = tempDir()));
afterEach(() => dir.remove());

const holder = (deployment: string) => ({ deployment, command: 'deploy', startedAt: Date.UTC(2026, 10, 26) });

/** The pid of a process that has exited, so a lock naming it is stale. */
function deadPid(): number {
  return Number(
    spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString(),
  );
}

describe('lock', () => {
  it('GIVEN a held lock WHEN a second deploy asks THEN it is refused, naming the holder', () => {
    const first = acquireLock(dir.path, 'local', 'catalog', holder('d-1'));
    let error: unknown;
    try {
      acquireLock(dir.path, 'local', 'catalog', holder('d-2'));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(LockHeld);
    expect((error as Error).message).toMatch(
      new RegExp(`d-1 \\(pid ${process.pid} on .*, started 2026-11-26T00:00:00.000Z\\)`),
    );
    first.release();
  });

  it('GIVEN a released lock WHEN asked again THEN it is granted', () => {
    acquireLock(dir.path, 'local', 'catalog', holder('d-1')).release();
    const second = acquireLock(dir.path, 'local', 'catalog', holder('d-2'));
    expect(second.holder.deployment).toBe('d-2');
    second.release();
  });

  it('GIVEN another artifact or environment WHEN locked THEN they do not block each other', () => {
    const a = acquireLock(dir.path, 'local', 'catalog', holder('d-1'));
    const b = acquireLock(dir.path, 'local', 'search', holder('d-2'));
    const c = acquireLock(dir.path, 'ci', 'catalog', holder('d-3'));
    [a, b, c].forEach((l) => l.release());
  });

  it('GIVEN a lock left by a killed process WHEN asked THEN it is broken and its holder reported for recovery', () => {
    const pid = deadPid();
    const stale = { ...holder('d-dead'), pid, host: hostname() };
    const path = lockPath(dir.path, 'local', 'catalog');
    acquireLock(dir.path, 'local', 'catalog', holder('warm-up')).release();
    writeFileSync(path, JSON.stringify(stale));
    const lock = acquireLock(dir.path, 'local', 'catalog', holder('d-new'));
    expect(lock.broke).toEqual(stale);
    expect(lock.holder.deployment).toBe('d-new');
    lock.release();
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(join(dir.path, 'locks'))).toEqual([]);
  });

  it('GIVEN a lock held from another host WHEN its pid is not here THEN it is not judged stale', () => {
    const path = lockPath(dir.path, 'local', 'catalog');
    acquireLock(dir.path, 'local', 'catalog', holder('warm-up')).release();
    writeFileSync(path, JSON.stringify({ ...holder('d-remote'), pid: deadPid(), host: 'elsewhere' }));
    expect(() => acquireLock(dir.path, 'local', 'catalog', holder('d-new'))).toThrowError(LockHeld);
  });
});

describe('journal', () => {
  it('folds entries per deployment, newest fields winning, oldest deployment first', () => {
    const journal = new Journal(dir.path, 'local', 'catalog');
    journal.record({ deployment: 'd-1', kind: 'deploy', phase: 'started', at: 1, version: 'v1' });
    journal.record({ deployment: 'd-1', kind: 'deploy', phase: 'succeeded', at: 2 });
    journal.record({
      deployment: 'd-2',
      kind: 'deploy',
      phase: 'started',
      at: 3,
      version: 'v2',
      blue: 'd-1',
    });
    const [first, second] = journal.deployments();
    expect(first).toMatchObject({ deployment: 'd-1', phase: 'succeeded', version: 'v1', startedAt: 1 });
    expect(second).toMatchObject({ deployment: 'd-2', phase: 'started', blue: 'd-1' });
    expect(journal.latest()?.deployment).toBe('d-2');
  });

  it('skips a line torn by a crash mid-write', () => {
    const journal = new Journal(dir.path, 'local', 'catalog');
    journal.record({ deployment: 'd-1', kind: 'deploy', phase: 'started', at: 1, version: 'v1' });
    appendFileSync(join(dir.path, 'journal', 'local--catalog.jsonl'), '{"deployment":"d-1","pha');
    expect(journal.latest()).toMatchObject({ deployment: 'd-1', phase: 'started' });
  });
});

describe('strategies', () => {
  it('all-at-once moves all traffic in one step', () => {
    expect(allAtOnce()).toEqual([{ kind: 'setWeight', weight: 100 }]);
    expect(planSteps('all-at-once')).toEqual(allAtOnce());
  });
});
