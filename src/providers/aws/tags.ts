import type { AutoScalingGroup } from '@aws-sdk/client-auto-scaling';

/** The tags that make cutover's groups discoverable from any machine: state lives in AWS, not on a runner. */
export const tagKeys = {
  artifact: 'cutover:artifact',
  environment: 'cutover:environment',
  version: 'cutover:version',
  deployment: 'cutover:deployment',
  role: 'cutover:role',
  generation: 'cutover:generation',
  standbyUntil: 'cutover:standby-until',
  previousVersion: 'cutover:previous-version',
} as const;

export function tagOf(group: AutoScalingGroup, key: string): string | undefined {
  return group.Tags?.find((t) => t.Key === key)?.Value;
}

/** Green groups are named by generation, `catalog-prod-g42`, so that creating one is an atomic claim. */
export function generationOf(group: AutoScalingGroup): number {
  const tagged = Number(tagOf(group, tagKeys.generation));
  if (Number.isInteger(tagged)) return tagged;
  const named = /-g(\d+)$/.exec(group.AutoScalingGroupName ?? '');
  return named ? Number(named[1]) : 0;
}
