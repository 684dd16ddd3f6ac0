import type { DeploymentSummary, Notification } from './notification.js';

/**
 * What cutover tells GitHub about a deployment: the body that creates the GitHub Deployment, and the state
 * and body of each deployment status, built from a notification alone (no I/O, so every mapping is
 * tested on its own). Field names are those of GitHub's REST API, version 2022-11-28.
 */

/** Every state GitHub accepts for a deployment status. */
export type DeploymentState =
  'error' | 'failure' | 'inactive' | 'in_progress' | 'queued' | 'pending' | 'success';

/** GitHub refuses a status description longer than this (422). */
export const descriptionLimit = 140;

/** Failures after which traffic may not be where cutover says it is: someone must settle them. */
const unsettled = new Set(['ROLLBACK_INCOMPLETE', 'PROMOTE_INCOMPLETE']);

export interface CreateDeploymentBody {
  ref: string;
  environment: string;
  description: string;
  /** Merging the default branch into the ref would deploy a commit that was never built. */
  auto_merge: false;
  /** cutover is told to deploy after CI ran; GitHub must not refuse because of commit statuses. */
  required_contexts: [];
  payload: { deployment: string; kind: DeploymentSummary['kind']; artifact: string; version?: string };
}

export interface StatusBody {
  state: DeploymentState;
  description: string;
  environment_url?: string;
  log_url?: string;
}

/** One line of at most 140 characters, cut with `…`, never inside a surrogate pair. */
export function truncateDescription(text: string, limit = descriptionLimit): string {
  const line = text.replace(/\s+/g, ' ').trim();
  const chars = [...line];
  return chars.length <= limit ? line : `${chars.slice(0, limit - 1).join('')}…`;
}

export function createDeploymentBody(notification: Notification, sha: string): CreateDeploymentBody {
  const d = notification.deployment;
  const what = d.kind === 'rollback' ? 'rollback' : 'deploy';
  return {
    ref: sha,
    environment: d.environment,
    description: truncateDescription(`cutover ${what} of ${d.artifact}${d.version ? ` ${d.version}` : ''}`),
    auto_merge: false,
    required_contexts: [],
    payload: {
      deployment: d.id,
      kind: d.kind,
      artifact: d.artifact,
      ...(d.version ? { version: d.version } : {}),
    },
  };
}

/**
 * The state a notification puts the deployment in, or undefined when it changes nothing GitHub shows.
 *
 * A deploy detached at its approval gate is `queued`: nothing works on it any more (the command exited,
 * green takes no traffic) until someone runs `cutover promote`, and GitHub's `in_progress` would show it
 * as running for as long as the gate stays open, hours perhaps. `pending` is what a deployment with no
 * status at all shows, so it would say nothing. A promote puts it back `in_progress`.
 *
 * `error` (rather than `failure`) is kept for the two endings where traffic may not be where cutover
 * says it is (ROLLBACK_INCOMPLETE, PROMOTE_INCOMPLETE): the deploy did not simply fail, it needs someone.
 * An abort is a `failure`: the version never went live, and traffic is back where it was.
 */
export function stateFor(notification: Notification): DeploymentState | undefined {
  const failure = (): DeploymentState =>
    unsettled.has(notification.deployment.failure?.code ?? '') ? 'error' : 'failure';
  switch (notification.kind) {
    case 'started':
      return 'in_progress';
    case 'succeeded':
    case 'rolled-back':
      return 'success';
    case 'failed':
    case 'rollback-failed':
      return failure();
    case 'aborted':
      return 'failure';
    case 'step':
      if (notification.code === 'approval.detached') return 'queued';
      if (notification.code === 'approval.promoted') return 'in_progress';
      return undefined;
    case 'test':
      // `notify-test` must not leave a deployment in the repository's history.
      return undefined;
  }
}

export interface StatusLinks {
  /** Where users reach the environment (the local router; a URL given for aws). */
  environmentUrl?: string | undefined;
  /** The CI run's page. */
  logUrl?: string | undefined;
}

export function statusBody(
  notification: Notification,
  state: DeploymentState,
  links: StatusLinks,
): StatusBody {
  const body: StatusBody = { state, description: truncateDescription(descriptionOf(notification, state)) };
  if (links.environmentUrl !== undefined) body.environment_url = links.environmentUrl;
  if (links.logUrl !== undefined) body.log_url = links.logUrl;
  return body;
}

/**
 * The status of the deployment a rollback took traffic away from. Without an environment URL: GitHub
 * shows a deployment's URL as the way to the environment, and this one no longer serves it.
 */
export function inactiveBody(rollback: Notification, links: StatusLinks): StatusBody {
  const d = rollback.deployment;
  const body: StatusBody = {
    state: 'inactive',
    description: truncateDescription(
      `rolled back by ${d.id}${d.version ? `: ${d.version} takes the traffic again` : ''}`,
    ),
  };
  if (links.logUrl !== undefined) body.log_url = links.logUrl;
  return body;
}

function descriptionOf(notification: Notification, state: DeploymentState): string {
  const failure = notification.deployment.failure;
  if (notification.kind === 'aborted') {
    const reason = failure?.reason ?? notification.message;
    return /^aborted\b/i.test(reason) ? reason : `aborted: ${reason}`;
  }
  if ((state === 'failure' || state === 'error') && failure) return failure.reason;
  return notification.message;
}
