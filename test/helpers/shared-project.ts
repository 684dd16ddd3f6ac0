import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { project } from './cli.js';
import { stopAgent } from './local.js';

type Project = Awaited<ReturnType<typeof project>>;

const shared = new WeakSet<Project>();

/**
 * The tests of the calling describe block go on from one another in one project: made before the
 * first, its agent stopped and its folder removed after the last. `use` hands it to the file's tests.
 */
export function shareProject(use: (p: Project) => void): void {
  let mine: Project | undefined;
  beforeAll(async () => {
    mine = await project();
    shared.add(mine);
    use(mine);
  });
  afterAll(async () => {
    if (!mine) return;
    await stopAgent(join(mine.dir, '.cutover'));
    mine.remove();
  });
}

/** Whether `p` belongs to a describe block's shareProject, which removes it: a per-test cleanup skips it. */
export function isShared(p: Project | undefined): boolean {
  return p !== undefined && shared.has(p);
}
