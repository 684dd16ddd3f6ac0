import type { LaunchSpec } from '../types.js';

/**
 * What a launch template version's description says of the deploy that made it, so that a runner with
 * no journal can still list past deploys (`cutover history`): EC2 keeps versions after their groups are
 * gone. At most 255 characters; the deployment id carries the time.
 */
export function describeLaunch(spec: LaunchSpec, artifact: string): string {
  const by = spec.by ? ` by ${spec.by.replace(/\s+/g, ' ')}` : '';
  return `cutover ${spec.deployment}: ${artifact} ${spec.version}${by}`.slice(0, 255);
}

/** The deploy a description names, when cutover wrote it (older ones have no `by`). */
export function launchOf(
  description: string,
): { deployment: string; artifact: string; version: string; by: string | null } | undefined {
  const made = /^cutover (d-\S+): (\S+) (\S+)(?: by (.+))?$/.exec(description);
  if (!made) return undefined;
  const [, deployment = '', artifact = '', version = '', by] = made;
  return { deployment, artifact, version, by: by ?? null };
}
