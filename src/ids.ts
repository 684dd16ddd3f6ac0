import { randomBytes } from 'node:crypto';

/** A deployment id that sorts by time and is safe in file names: `d-20261126T113002-3f9a`. */
export function newDeploymentId(now: number): string {
  const stamp = new Date(now)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, '');
  return `d-${stamp}-${randomBytes(2).toString('hex')}`;
}
