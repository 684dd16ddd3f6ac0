import { moduleOf } from '../providers/registry.js';
import type { EnvironmentConfig } from '../config/schema.js';

/**
 * Whether, and where, cutover records its deployments as GitHub Deployments: read from the variables a
 * GitHub Actions runner sets, with the token passed in as GITHUB_TOKEN. No config file key: a workflow
 * that gives cutover a token wants its deploys on the repository's Environments page.
 */

export interface GitHubSettings {
  /** Secret: never logged, never part of an error or of the notifier's name. */
  token: string;
  owner: string;
  repo: string;
  /** `https://api.github.com` unless GITHUB_API_URL says otherwise (GitHub Enterprise, a test). */
  apiUrl: string;
  /** The commit the workflow runs on: every deployment is recorded against it. */
  sha: string;
  /** The run's page, where a deployment status's log link points. */
  logUrl?: string;
}

export type GitHubSetup =
  | { on: true; settings: GitHubSettings }
  /** Asked for (a token and a repository) but unusable; `reason` names variables, never their values. */
  | { on: false; reason: string }
  | undefined;

export const defaultApiUrl = 'https://api.github.com';

/** Values that turn the notifier off through CUTOVER_GITHUB_DEPLOYMENTS. */
const offValues = new Set(['false', '0', 'off', 'no']);

export function githubSetupFrom(env: NodeJS.ProcessEnv): GitHubSetup {
  const token = value(env, 'GITHUB_TOKEN');
  const repository = value(env, 'GITHUB_REPOSITORY');
  if (token === undefined || repository === undefined) return undefined;
  const switchValue = value(env, 'CUTOVER_GITHUB_DEPLOYMENTS');
  if (switchValue !== undefined && offValues.has(switchValue.toLowerCase())) return undefined;
  const parts = repository.split('/');
  const [owner, repo] = parts;
  if (parts.length !== 2 || !owner || !repo || !/^[\w.-]+$/.test(owner) || !/^[\w.-]+$/.test(repo)) {
    return { on: false, reason: 'GITHUB_REPOSITORY is not of the form owner/repo' };
  }
  const sha = value(env, 'GITHUB_SHA');
  if (sha === undefined) return { on: false, reason: 'GITHUB_SHA (the commit to record) is not set' };
  const apiUrl = httpUrl(value(env, 'GITHUB_API_URL') ?? defaultApiUrl);
  if (apiUrl === undefined) return { on: false, reason: 'GITHUB_API_URL is not an http(s) URL' };
  const settings: GitHubSettings = { token, owner, repo, apiUrl: apiUrl.replace(/\/+$/, ''), sha };
  const logUrl = runUrlOf(env);
  if (logUrl !== undefined) settings.logUrl = logUrl;
  return { on: true, settings };
}

/**
 * `${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}`, as the run's own page; a
 * re-run keeps the run id, so its attempt is added (as the Slack message's run link does) to show the
 * logs of the attempt that made the change rather than the first one's.
 */
export function runUrlOf(env: NodeJS.ProcessEnv): string | undefined {
  const server = value(env, 'GITHUB_SERVER_URL');
  const repository = value(env, 'GITHUB_REPOSITORY');
  const run = value(env, 'GITHUB_RUN_ID');
  if (server === undefined || repository === undefined || run === undefined) return undefined;
  const base = httpUrl(server);
  if (base === undefined) return undefined;
  const url = `${base.replace(/\/+$/, '')}/${repository}/actions/runs/${encodeURIComponent(run)}`;
  const attempt = Number(value(env, 'GITHUB_RUN_ATTEMPT'));
  return Number.isInteger(attempt) && attempt > 1 ? `${url}/attempts/${attempt}` : url;
}

/**
 * Where users reach the environment, for GitHub to link to: CUTOVER_ENVIRONMENT_URL when set (the name
 * users know, such as a CNAME in front of an ALB), else the local router's address as `status` shows it.
 * An aws environment has none of its own here: its listener's DNS name takes an AWS call, and is seldom
 * the address users are given.
 */
export function environmentUrlFor(env: EnvironmentConfig, vars: NodeJS.ProcessEnv): string | undefined {
  const given = value(vars, 'CUTOVER_ENVIRONMENT_URL');
  if (given !== undefined) return httpUrl(given);
  return moduleOf(env).publicUrl?.(env);
}

/** The REST path of a repository's deployments, with each name escaped as a path segment. */
export function deploymentsUrl(settings: Pick<GitHubSettings, 'apiUrl' | 'owner' | 'repo'>): string {
  return `${settings.apiUrl}/repos/${encodeURIComponent(settings.owner)}/${encodeURIComponent(settings.repo)}/deployments`;
}

export function statusesUrl(
  settings: Pick<GitHubSettings, 'apiUrl' | 'owner' | 'repo'>,
  deploymentId: number,
): string {
  return `${deploymentsUrl(settings)}/${deploymentId}/statuses`;
}

function httpUrl(candidate: string): string | undefined {
  try {
    const { protocol } = new URL(candidate);
    return protocol === 'http:' || protocol === 'https:' ? candidate : undefined;
  } catch {
    return undefined;
  }
}

/** Runners set variables to '' rather than leave them out: an empty value says nothing. */
function value(env: NodeJS.ProcessEnv, key: string): string | undefined {
  const found = env[key]?.trim();
  return found === undefined || found === '' ? undefined : found;
}
