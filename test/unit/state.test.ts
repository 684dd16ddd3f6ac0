import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LockHeld } from '../../src/errors.js';
import { processStartTime } from '../../src/providers/local/processes.js';
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

  it('GIVEN four processes taking and releasing the lock in a loop THEN no two ever hold it at once', async () => {
    const contender = join(import.meta.dirname, '../helpers/lock-contender.mjs');
    const runs = await Promise.all(
      [1, 2, 3, 4].map(
        () =>
          new Promise<{ tries: number; holds: number; doubles: number }>((resolve, reject) => {
            const child = spawn(process.execPath, [contender, dir.path, '3000']);
            let out = '';
            let err = '';
            child.stdout.on('data', (d: Buffer) => (out += d.toString()));
            child.stderr.on('data', (d: Buffer) => (err += d.toString()));
            child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(err))));
          }),
      ),
    );
    const total = (key: 'tries' | 'holds' | 'doubles') => runs.reduce((sum, run) => sum + run[key], 0);
    expect(total('holds')).toBeGreaterThan(1000);
    expect(total('doubles')).toBe(0);
  });

  it('GIVEN a stale lock and a break guard left by a process that died breaking it THEN both are cleared and the lock is granted', () => {
    const path = lockPath(dir.path, 'local', 'catalog');
    mkdirSync(join(dir.path, 'locks'), { recursive: true });
    const stale = { ...holder('d-dead'), pid: deadPid(), host: hostname() };
    writeFileSync(path, JSON.stringify(stale));
    writeFileSync(`${path}.break`, JSON.stringify({ ...holder('break'), pid: deadPid(), host: hostname() }));
    const lock = acquireLock(dir.path, 'local', 'catalog', holder('d-new'));
    expect(lock.broke).toEqual(stale);
    lock.release();
    expect(readdirSync(join(dir.path, 'locks'))).toEqual([]);
  });

  it('GIVEN a lock held from another host WHEN its pid is not here THEN it is not judged stale, and the error names the host and how to unlock', () => {
    const path = lockPath(dir.path, 'local', 'catalog');
    acquireLock(dir.path, 'local', 'catalog', holder('warm-up')).release();
    writeFileSync(path, JSON.stringify({ ...holder('d-remote'), pid: deadPid(), host: 'elsewhere' }));
    let error: LockHeld | undefined;
    try {
      acquireLock(dir.path, 'local', 'catalog', holder('d-new'));
    } catch (caught) {
      error = caught as LockHeld;
    }
    expect(error).toBeInstanceOf(LockHeld);
    expect(error?.message).toContain('locked from another host, `elsewhere`');
    expect(error?.hint).toContain('cutover unlock artifact=catalog environment=local deployment=d-remote');
  });

  it('GIVEN a lock whose pid is alive but belongs to a process started later THEN the pid was reused: the lock is stale and broken', () => {
    const path = lockPath(dir.path, 'local', 'catalog');
    const mine = processStartTime(process.pid);
    expect(mine).toBeTypeOf('number');
    mkdirSync(join(dir.path, 'locks'), { recursive: true });
    const reused = { ...holder('d-old'), pid: process.pid, processStart: (mine ?? 0) - 1, host: hostname() };
    writeFileSync(path, JSON.stringify(reused));
    const lock = acquireLock(dir.path, 'local', 'catalog', holder('d-new'));
    expect(lock.broke).toEqual(reused);
    lock.release();
  });

  it('GIVEN a lock recorded with its pid alone WHEN that pid is alive THEN it is held, as before start times were kept', () => {
    const path = lockPath(dir.path, 'local', 'catalog');
    mkdirSync(join(dir.path, 'locks'), { recursive: true });
    writeFileSync(path, JSON.stringify({ ...holder('d-old'), pid: process.pid, host: hostname() }));
    expect(() => acquireLock(dir.path, 'local', 'catalog', holder('d-new'))).toThrowError(LockHeld);
  });

  it('GIVEN a lock file that names no holder THEN it is not broken: the error names the file', () => {
    const path = lockPath(dir.path, 'local', 'catalog');
    mkdirSync(join(dir.path, 'locks'), { recursive: true });
    writeFileSync(path, '{"deployment":"d-1","pi');
    expect(() => acquireLock(dir.path, 'local', 'catalog', holder('d-new'))).toThrowError(
      `is locked by \`${path}\`, which does not name a holder`,
    );
    expect(existsSync(path)).toBe(true);
  });

  it('GIVEN a lock just taken THEN it records the start time of its holder process', () => {
    const lock = acquireLock(dir.path, 'local', 'catalog', holder('d-1'));
    expect(JSON.parse(readFileSync(lockPath(dir.path, 'local', 'catalog'), 'utf8'))).toMatchObject({
      pid: process.pid,
      processStart: processStartTime(process.pid),
    });
    lock.release();
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

describe('journal after a crash', () => {
  it('GIVEN a last line torn by a crash WHEN the next record is written THEN it starts on a new line and is read back', () => {
    const journal = new Journal(dir.path, 'local', 'catalog');
    journal.record({ deployment: 'd-1', kind: 'deploy', phase: 'started', at: 1, version: 'v1' });
    appendFileSync(join(dir.path, 'journal', 'local--catalog.jsonl'), '{"deployment":"d-1","pha');
    journal.record({ deployment: 'd-1', kind: 'deploy', phase: 'failed', at: 2, reason: 'recovered' });
    journal.record({ deployment: 'd-2', kind: 'rollback', phase: 'started', at: 3 });
    expect(journal.deployments()).toEqual([
      expect.objectContaining({ deployment: 'd-1', phase: 'failed', reason: 'recovered' }),
      expect.objectContaining({ deployment: 'd-2', phase: 'started' }),
    ]);
  });
});

describe('strategies', () => {
  it('all-at-once moves all traffic in one step', () => {
    expect(allAtOnce()).toEqual([{ kind: 'setWeight', weight: 100 }]);
    expect(planSteps({ name: 'all-at-once' })).toEqual(allAtOnce());
  });
});
