import os from 'node:os';
import type { Actor } from './notification.js';

/**
 * Who ran cutover, for a notification to say. An explicit CUTOVER_ACTOR wins (a CI job run by a bot on a
 * person's behalf), but the run link and commit still come from the CI, as they say where to look.
 */

interface CiRun {
  source: 'github' | 'gitlab' | 'jenkins';
  /** Absent when the CI does not say (a scheduled GitHub run with neither actor variable). */
  name?: string;
  runUrl?: string;
  commit?: string;
}

export function actorFrom(
  env: NodeJS.ProcessEnv,
  localUser: () => string = () => os.userInfo().username,
): Actor {
  const ci = ciRun(env);
  const explicit = value(env, 'CUTOVER_ACTOR');
  const [name, source]: [string, Actor['source']] =
    explicit !== undefined
      ? [explicit, 'CUTOVER_ACTOR']
      : ci?.name !== undefined
        ? [ci.name, ci.source]
        : [local(env, localUser), 'local'];
  const actor: Actor = { name, source };
  if (ci?.runUrl !== undefined) actor.runUrl = ci.runUrl;
  if (ci?.commit !== undefined) actor.commit = ci.commit;
  return actor;
}

function ciRun(env: NodeJS.ProcessEnv): CiRun | undefined {
  if (value(env, 'GITHUB_ACTIONS') === 'true') {
    return {
      source: 'github',
      name: value(env, 'GITHUB_TRIGGERING_ACTOR') ?? value(env, 'GITHUB_ACTOR'),
      runUrl: httpUrl(githubRunUrl(env)),
      commit: value(env, 'GITHUB_SHA'),
    };
  }
  if (value(env, 'GITLAB_CI') === 'true') {
    return {
      source: 'gitlab',
      name: value(env, 'GITLAB_USER_LOGIN') ?? value(env, 'GITLAB_USER_NAME'),
      // The job is the closer link; the pipeline is what is left when the job's is missing.
      runUrl: httpUrl(value(env, 'CI_JOB_URL')) ?? httpUrl(value(env, 'CI_PIPELINE_URL')),
      commit: value(env, 'CI_COMMIT_SHA'),
    };
  }
  if (value(env, 'JENKINS_URL') !== undefined) {
    return {
      source: 'jenkins',
      // BUILD_USER* exist only with the build-user-vars plugin; a timer or SCM trigger has no user at all.
      name: value(env, 'BUILD_USER_ID') ?? value(env, 'BUILD_USER') ?? 'jenkins',
      runUrl: httpUrl(value(env, 'BUILD_URL')),
      commit: value(env, 'GIT_COMMIT'),
    };
  }
  return undefined;
}

function githubRunUrl(env: NodeJS.ProcessEnv): string | undefined {
  const server = value(env, 'GITHUB_SERVER_URL');
  const repository = value(env, 'GITHUB_REPOSITORY');
  const run = value(env, 'GITHUB_RUN_ID');
  if (server === undefined || repository === undefined || run === undefined) return undefined;
  const url = `${server.replace(/\/+$/, '')}/${repository}/actions/runs/${run}`;
  // A re-run keeps the run id; only the attempt tells its logs from the first one's.
  const attempt = Number(value(env, 'GITHUB_RUN_ATTEMPT'));
  return Number.isInteger(attempt) && attempt > 1 ? `${url}/attempts/${attempt}` : url;
}

/** A link in a chat message must be one a person can open; anything else (`javascript:`, a path) is dropped. */
function httpUrl(candidate: string | undefined): string | undefined {
  if (candidate === undefined) return undefined;
  try {
    const { protocol } = new URL(candidate);
    return protocol === 'http:' || protocol === 'https:' ? candidate : undefined;
  } catch {
    return undefined;
  }
}

function local(env: NodeJS.ProcessEnv, localUser: () => string): string {
  try {
    const name = localUser().trim();
    if (name !== '') return name;
  } catch {
    // os.userInfo() throws for a uid without a passwd entry, as in many containers.
  }
  return value(env, 'USER') ?? value(env, 'LOGNAME') ?? 'unknown';
}

/** CI systems set variables to '' rather than leave them out: an empty value says nothing. */
function value(env: NodeJS.ProcessEnv, key: string): string | undefined {
  const found = env[key]?.trim();
  return found === undefined || found === '' ? undefined : found;
}
