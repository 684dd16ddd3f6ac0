import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { AutoScalingPort } from './autoscaling.js';
import { CloudWatchPort } from './cloudwatch.js';
import { Ec2Port } from './ec2.js';
import { ElbPort } from './elb.js';
import type { RetryOptions } from './retry.js';

export interface AwsPorts {
  elb: ElbPort;
  autoscaling: AutoScalingPort;
  ec2: Ec2Port;
  cloudwatch: CloudWatchPort;
}

/**
 * SDK v3 clients with the standard credential chain (AWS_PROFILE, SSO, instance roles) and endpoint
 * overrides (AWS_ENDPOINT_URL*); the Region comes from the environment's config.
 */
export function createAwsPorts(region: string, retry: RetryOptions): AwsPorts {
  // The SDK's versions are pinned in package-lock.json; its raw stderr notice that later versions need
  // Node 22 would break JSON log lines. The README records it for whoever upgrades the SDK.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return {
    elb: new ElbPort(new ElasticLoadBalancingV2Client({ region }), retry),
    autoscaling: new AutoScalingPort(new AutoScalingClient({ region }), retry),
    ec2: new Ec2Port(new EC2Client({ region }), retry),
    cloudwatch: new CloudWatchPort(new CloudWatchClient({ region }), retry),
  };
}
