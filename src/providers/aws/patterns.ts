/**
 * The documented shapes of the identifiers an aws environment names, checked before any call is made.
 * Sources: the ELBv2, Auto Scaling and EC2 API references (ARN formats, resource id formats).
 */
const partition = 'arn:aws(?:-cn|-us-gov)?';
const region = '[a-z]{2}(?:-gov)?-[a-z]+-\\d';
const account = '\\d{12}';
const lbName = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?';
const hex16 = '[0-9a-f]{16}';

export const patterns = {
  region: new RegExp(`^${region}$`),
  listener: new RegExp(
    `^${partition}:elasticloadbalancing:${region}:${account}:listener/app/${lbName}/${hex16}/${hex16}$`,
  ),
  listenerRule: new RegExp(
    `^${partition}:elasticloadbalancing:${region}:${account}:listener-rule/app/${lbName}/${hex16}/${hex16}/${hex16}$`,
  ),
  targetGroup: new RegExp(
    `^${partition}:elasticloadbalancing:${region}:${account}:targetgroup/${lbName}/${hex16}$`,
  ),
  launchTemplateId: /^lt-[0-9a-f]{8}(?:[0-9a-f]{9})?$/,
  launchTemplateName: /^[A-Za-z0-9()./_-]{3,128}$/,
  autoScalingGroupName: /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/,
  ami: /^ami-(?:[0-9a-f]{8}|[0-9a-f]{17})$/,
} as const;

/** The region inside an ELB ARN, so that one environment cannot mix regions by mistake. */
export function regionOfArn(arn: string): string | undefined {
  return arn.split(':')[3];
}
