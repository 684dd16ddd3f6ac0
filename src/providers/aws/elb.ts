import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ModifyListenerCommand,
  ModifyRuleCommand,
  type Action,
  type ElasticLoadBalancingV2Client,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { allPages } from './pages.js';
import { call, type RetryOptions } from './retry.js';

/** The ELBv2 calls cutover makes, and nothing else: the router never touches the SDK client. */

export interface ForwardState {
  /** The whole action list, to send back whole: ModifyListener and ModifyRule replace what they get. */
  actions: Action[];
  /** Target group ARN → weight (0–999) of the forward action. */
  weights: Map<string, number>;
  stickySeconds: number | undefined;
}

export interface TargetHealthRow {
  id: string;
  state: string;
  reason: string | undefined;
}

export class ElbPort {
  constructor(
    private readonly client: ElasticLoadBalancingV2Client,
    private readonly retry: RetryOptions,
  ) {}

  /** Reads the forward action of a listener's default rule, or of one listener rule. */
  async readForward(arn: string): Promise<ForwardState> {
    const actions = isRule(arn)
      ? (
          await call(
            'DescribeRules',
            () => this.client.send(new DescribeRulesCommand({ RuleArns: [arn] })),
            this.retry,
          )
        ).Rules?.[0]?.Actions
      : (
          await call(
            'DescribeListeners',
            () => this.client.send(new DescribeListenersCommand({ ListenerArns: [arn] })),
            this.retry,
          )
        ).Listeners?.[0]?.DefaultActions;
    const list = actions ?? [];
    const forward = list.find((a) => a.Type === 'forward');
    const weights = new Map<string, number>();
    for (const tuple of forward?.ForwardConfig?.TargetGroups ?? []) {
      if (tuple.TargetGroupArn) weights.set(tuple.TargetGroupArn, tuple.Weight ?? 1);
    }
    if (forward?.TargetGroupArn && weights.size === 0) weights.set(forward.TargetGroupArn, 1);
    const sticky = forward?.ForwardConfig?.TargetGroupStickinessConfig;
    return { actions: list, weights, stickySeconds: sticky?.Enabled ? sticky.DurationSeconds : undefined };
  }

  /** Replaces the forward action's weights in one ModifyListener or ModifyRule call, keeping every other action. */
  async writeForward(arn: string, state: ForwardState, weights: Map<string, number>): Promise<void> {
    const forwardAt = state.actions.findIndex((a) => a.Type === 'forward');
    const forward: Action = {
      ...(forwardAt >= 0 ? state.actions[forwardAt] : { Type: 'forward', Order: state.actions.length + 1 }),
      Type: 'forward',
      TargetGroupArn: undefined,
      ForwardConfig: {
        ...(forwardAt >= 0 ? state.actions[forwardAt]?.ForwardConfig : {}),
        TargetGroups: [...weights].map(([TargetGroupArn, Weight]) => ({ TargetGroupArn, Weight })),
      },
    };
    const actions =
      forwardAt >= 0
        ? state.actions.map((a, i) => (i === forwardAt ? forward : a))
        : [...state.actions, forward];
    if (isRule(arn)) {
      await call(
        'ModifyRule',
        () => this.client.send(new ModifyRuleCommand({ RuleArn: arn, Actions: actions })),
        this.retry,
      );
    } else {
      await call(
        'ModifyListener',
        () => this.client.send(new ModifyListenerCommand({ ListenerArn: arn, DefaultActions: actions })),
        this.retry,
      );
    }
  }

  /**
   * The URL a client reaches a listener at: its load balancer's DNS name, protocol and port (left out
   * when it is the protocol's default, as a browser would write it).
   */
  async listenerUrl(arn: string): Promise<string> {
    const listener = (
      await call(
        'DescribeListeners',
        () => this.client.send(new DescribeListenersCommand({ ListenerArns: [arn] })),
        this.retry,
      )
    ).Listeners?.[0];
    const balancer = (
      await call(
        'DescribeLoadBalancers',
        () =>
          this.client.send(
            new DescribeLoadBalancersCommand({ LoadBalancerArns: [listener?.LoadBalancerArn ?? ''] }),
          ),
        this.retry,
      )
    ).LoadBalancers?.[0];
    if (!listener?.Port || !balancer?.DNSName)
      throw new Error(`listener \`${arn}\` has no port or load balancer DNS name`);
    const scheme = (listener.Protocol ?? 'HTTP').toLowerCase();
    const port = listener.Port === defaultPorts[scheme] ? '' : `:${listener.Port}`;
    return `${scheme}://${balancer.DNSName}${port}`;
  }

  async targetHealth(targetGroupArn: string): Promise<TargetHealthRow[]> {
    const out = await call(
      'DescribeTargetHealth',
      () => this.client.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn })),
      this.retry,
    );
    return (out.TargetHealthDescriptions ?? []).map((d) => ({
      id: d.Target?.Id ?? '',
      state: d.TargetHealth?.State ?? 'unavailable',
      reason: d.TargetHealth?.Reason,
    }));
  }

  /** Every page of DescribeTargetGroups for these ARNs; a missing one fails with TargetGroupNotFound. */
  async targetGroups(arns: string[]): Promise<TargetGroup[]> {
    return allPages(async (marker) => {
      const page = await call(
        'DescribeTargetGroups',
        () =>
          this.client.send(
            new DescribeTargetGroupsCommand({ TargetGroupArns: arns, Marker: marker, PageSize: 20 }),
          ),
        this.retry,
      );
      return { items: page.TargetGroups, next: page.NextMarker };
    });
  }
}

const defaultPorts: Record<string, number> = { http: 80, https: 443 };

function isRule(arn: string): boolean {
  return arn.includes(':listener-rule/');
}
