/** Identifiers of the fake account's example environment, shaped as AWS documents them. */
export const region = 'eu-west-1';
export const account = '123456789012';
export const lb = 'app/catalog-prod/50dc6c495c0c9188';
export const listenerArn = `arn:aws:elasticloadbalancing:${region}:${account}:listener/${lb}/f2f7dc8efc522ab2`;
export const testListenerArn = `arn:aws:elasticloadbalancing:${region}:${account}:listener/${lb}/0467ef3c8400ae65`;
export const tgA = `arn:aws:elasticloadbalancing:${region}:${account}:targetgroup/catalog-a/73e2d6bc24d8a067`;
export const tgB = `arn:aws:elasticloadbalancing:${region}:${account}:targetgroup/catalog-b/943f017f100becff`;
export const launchTemplateId = 'lt-0abcd1234ef567890';
export const baseGroup = 'catalog-prod';
export const goodAmi = 'ami-0abc1234def567890';
export const goodAmi2 = 'ami-0fedcba9876543210';
export const badAmi = 'ami-0bad0bad0bad0bad0';
export const launchFailAmi = 'ami-0fa110fa110fa1100';
/** Healthy at first; its targets turn unhealthy about two minutes into the bake. */
export const decayAmi = 'ami-0dec0dec0dec0dec0';
/** Passes the target group's shallow health check, fails the app's own HTTP check. */
export const shallowAmi = 'ami-05a11005a11005a11';
/** Healthy, but answers a fifth of its requests with a 500 (the fake's traffic model). */
export const flakyAmi = 'ami-0f1a4f1a4f1a4f1a4';

export function awsEnvironmentYaml(overrides: Record<string, string> = {}): string {
  const keys: Record<string, string> = {
    target: 'aws',
    region,
    listener: listenerArn,
    targetGroups: `[${tgA}, ${tgB}]`,
    launchTemplate: launchTemplateId,
    baseGroup,
    rollbackWindow: '1h',
    ...overrides,
  };
  return `artifacts:
  catalog: {}
environments:
  prod:
${Object.entries(keys)
  .filter(([, v]) => v !== '')
  .map(([k, v]) => `    ${k}: ${v}`)
  .join('\n')}
`;
}
