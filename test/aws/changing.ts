/** AWS operations that change something: what a plan must announce and a dry run must never make. */
export const changingOperations = new Set([
  'CreateLaunchTemplateVersion',
  'CreateAutoScalingGroup',
  'UpdateAutoScalingGroup',
  'DeleteAutoScalingGroup',
  'SetInstanceProtection',
  'CreateOrUpdateTags',
  'PutScalingPolicy',
  'ModifyListener',
  'ModifyRule',
]);

/** The changing operations a plan announces, in order (waits are the lines in parentheses). */
export function announced(lines: string[]): string[] {
  return lines.filter((l) => !l.startsWith('(')).map((l) => l.split(' ')[0] ?? '');
}
