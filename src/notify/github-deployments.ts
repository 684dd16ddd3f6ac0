import { deploymentsUrl, statusesUrl, type GitHubSettings } from './github-env.js';
import {
  createDeploymentBody,
  inactiveBody,
  stateFor,
  statusBody,
  type DeploymentState,
  type StatusLinks,
} from './github-status.js';
import { postJson, SendError, type HttpAnswer, type PostOptions } from './http.js';
import type { Notification, Notifier, SendContext } from './notification.js';

/**
 * Records each cutover deployment as a GitHub Deployment of the repository, with a status for where it
 * is (in progress, awaiting approval, success, failure) and, after a rollback, `inactive` on the
 * deployment that was rolled away from. GitHub's deployment id is kept in the deployment's MessageStore,
 * like a Slack message's ts: the runner that ends a deployment (`cutover promote` of a detached deploy,
 * `cutover abort`, a recovery, a later rollback) is often not the one that created it.
 */

export const githubApiVersion = '2022-11-28';

/** Backoff and Retry-After bounds passed to postJson; tests shorten them. */
type RetryTuning = Pick<PostOptions, 'minBackoffMs' | 'maxBackoffMs' | 'retryAfterCapMs'>;

export interface GitHubDeploymentsConfig extends GitHubSettings {
  /** Where users reach the environment, shown by GitHub as the deployment's link. */
  environmentUrl?: string | undefined;
}

/** What each refusal most likely means, for the warning; GitHub's own message is not quoted (see quotable). */
const refusals: Record<number, string> = {
  401: 'the token was refused (401): GITHUB_TOKEN is invalid or expired',
  403: 'forbidden (403): the token needs `deployments: write` (the job’s `permissions:`), or a rate limit was hit',
  404: 'not found (404): the repository GITHUB_REPOSITORY is not visible to this token',
  422: 'GitHub refused the request as invalid (422); for a new deployment, GITHUB_SHA must be a commit of the repository',
};

/** A refusal that the same token and repository will get again: later sends of this process stop trying. */
const hopeless = new Set([401, 404]);

export class GitHubDeploymentsNotifier implements Notifier {
  readonly name: string;
  // Private so that logging or inspecting the notifier cannot show the token.
  readonly #token: string;
  readonly #settings: Omit<GitHubDeploymentsConfig, 'token'>;
  readonly #retry: RetryTuning;
  /** GitHub deployment ids this process knows, by cutover deployment id. */
  readonly #ids = new Map<string, number>();
  /** The last state this process gave each deployment, so a promote in the same run is not told twice. */
  readonly #states = new Map<string, DeploymentState>();
  /** Why GitHub will refuse whatever this process sends (a bad token, an unknown repository). */
  #refused: string | undefined;

  constructor(config: GitHubDeploymentsConfig, retry: RetryTuning = {}) {
    const { token, ...settings } = config;
    this.#token = token;
    this.#settings = settings;
    this.#retry = retry;
    this.name = `github deployments ${config.owner}/${config.repo}`;
  }

  async send(notification: Notification, context: SendContext): Promise<void> {
    const state = stateFor(notification);
    if (state === undefined) return;
    const cutoverId = notification.deployment.id;
    if (notification.kind === 'step' && this.#states.get(cutoverId) === state) return;
    if (this.#refused !== undefined) {
      throw new SendError(
        `${this.name}: not sent, as an earlier request was refused: ${this.#refused}`,
        true,
      );
    }
    const links: StatusLinks = {
      environmentUrl: this.#settings.environmentUrl,
      logUrl: this.#settings.logUrl,
    };
    const id = await this.#deploymentOf(notification, context);
    if (id === undefined) return;
    await this.#status(id, statusBody(notification, state, links), context);
    this.#states.set(cutoverId, state);
    // GitHub's auto_inactive covers only earlier deployments that succeeded in a non-production
    // environment; the deployment a rollback undid is marked whatever its environment.
    const undid = notification.deployment.undid;
    if (notification.kind === 'rolled-back' && undid !== undefined) {
      const undone = await this.#known(undid, context);
      if (undone !== undefined) await this.#status(undone, inactiveBody(notification, links), context);
    }
  }

  /**
   * The GitHub deployment of this cutover deployment, created when none is known yet: when the start
   * could not be told (GitHub was down), the outcome still makes one, so the history is whole.
   */
  async #deploymentOf(notification: Notification, context: SendContext): Promise<number | undefined> {
    const d = notification.deployment;
    const known = await this.#known(d.id, context);
    if (known !== undefined) return known;
    // A command that failed before it had a version to deploy (a rollback with no standby) moved
    // nothing: a GitHub deployment of no version would only clutter the history.
    if (notification.kind !== 'started' && d.version === undefined) return undefined;
    const body = createDeploymentBody(notification, this.#settings.sha);
    const answer = await this.#post(
      deploymentsUrl(this.#settings),
      body,
      'create deployment',
      context,
      readId,
    );
    const id = readId(answer);
    this.#ids.set(d.id, id);
    await context.messages.saveMessage(d.id, this.name, { channel: this.#repository(), ts: String(id) });
    return id;
  }

  /** Kept in a MessageRef (channel: the repository, ts: GitHub's deployment id) so every runner finds it. */
  async #known(deployment: string, context: SendContext): Promise<number | undefined> {
    const cached = this.#ids.get(deployment);
    if (cached !== undefined) return cached;
    const ref = await context.messages.message(deployment, this.name);
    if (!ref || ref.channel !== this.#repository() || !/^\d+$/.test(ref.ts)) return undefined;
    const id = Number(ref.ts);
    this.#ids.set(deployment, id);
    return id;
  }

  async #status(id: number, body: object & { state: string }, context: SendContext): Promise<void> {
    await this.#post(statusesUrl(this.#settings, id), body, `status ${body.state}`, context);
  }

  async #post(
    url: string,
    body: object,
    action: string,
    context: SendContext,
    check?: (answer: HttpAnswer) => void,
  ): Promise<HttpAnswer> {
    const what = `${this.name} ${action}`;
    try {
      return await postJson(url, JSON.stringify(body), {
        ...this.#retry,
        what,
        headers: {
          accept: 'application/vnd.github+json',
          'x-github-api-version': githubApiVersion,
          authorization: `Bearer ${this.#token}`,
          // GitHub refuses requests without one.
          'user-agent': 'cutover',
        },
        deadline: context.deadline,
        signal: context.signal,
        ...(check ? { check } : {}),
      });
    } catch (error) {
      throw this.#explained(what, error);
    }
  }

  /** A warning a person can act on, free of the token whatever the error carried. */
  #explained(what: string, error: unknown): SendError {
    const message = error instanceof Error ? error.message : String(error);
    const permanent = error instanceof SendError && error.permanent;
    const status = Number(
      new RegExp(`^${escaped(what)} refused the message: (\\d{3})\\b`).exec(message)?.[1],
    );
    const hint = refusals[status];
    if (hint !== undefined && hopeless.has(status)) this.#refused = hint;
    const text =
      hint !== undefined ? `${what}: ${hint}` : message.startsWith(what) ? message : `${what}: ${message}`;
    return new SendError(text.split(this.#token).join('[redacted]'), permanent);
  }

  #repository(): string {
    return `${this.#settings.owner}/${this.#settings.repo}`;
  }
}

/**
 * GitHub answers 201 with the deployment; a 202 (a merge instead of a deployment, which auto_merge: false
 * rules out) or anything without a numeric id cannot be given statuses.
 */
function readId(answer: HttpAnswer): number {
  let id: unknown;
  try {
    id = (JSON.parse(answer.body) as { id?: unknown }).id;
  } catch {
    id = undefined;
  }
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) {
    throw new SendError(`GitHub answered ${answer.status} without a deployment id`, true);
  }
  return id;
}

function escaped(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
