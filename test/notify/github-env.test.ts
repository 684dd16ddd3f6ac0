import { describe, expect, it } from 'vitest';
import {
  deploymentsUrl,
  environmentUrlFor,
  githubSetupFrom,
  runUrlOf,
  statusesUrl,
} from '../../src/notify/github-env.js';
import type { EnvironmentConfig } from '../../src/config/schema.js';

const actions = {
  GITHUB_TOKEN: 'ghs_SECRET0123456789',
  GITHUB_REPOSITORY: 'acme/catalog',
  GITHUB_SHA: '9f3c2d1a7b',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_RUN_ID: '42',
};

describe('githubSetupFrom', () => {
  it('GIVEN a token and a repository THEN on, against api.github.com, with the run as log link', () => {
    expect(githubSetupFrom(actions)).toEqual({
      on: true,
      settings: {
        token: actions.GITHUB_TOKEN,
        owner: 'acme',
        repo: 'catalog',
        apiUrl: 'https://api.github.com',
        sha: '9f3c2d1a7b',
        logUrl: 'https://github.com/acme/catalog/actions/runs/42',
      },
    });
  });

  it('GIVEN no token, or no repository, or empty values THEN off without a word', () => {
    expect(githubSetupFrom({ ...actions, GITHUB_TOKEN: undefined })).toBeUndefined();
    expect(githubSetupFrom({ ...actions, GITHUB_REPOSITORY: undefined })).toBeUndefined();
    expect(githubSetupFrom({ ...actions, GITHUB_TOKEN: '  ' })).toBeUndefined();
  });

  it('GIVEN CUTOVER_GITHUB_DEPLOYMENTS=false (or 0, off, no) THEN off', () => {
    for (const off of ['false', '0', 'off', 'No']) {
      expect(githubSetupFrom({ ...actions, CUTOVER_GITHUB_DEPLOYMENTS: off })).toBeUndefined();
    }
    expect(githubSetupFrom({ ...actions, CUTOVER_GITHUB_DEPLOYMENTS: 'true' })?.on).toBe(true);
  });

  it('GIVEN GITHUB_API_URL THEN its base, without a trailing slash', () => {
    const setup = githubSetupFrom({ ...actions, GITHUB_API_URL: 'https://ghe.example.com/api/v3/' });
    expect(setup?.on && setup.settings.apiUrl).toBe('https://ghe.example.com/api/v3');
  });

  it('GIVEN unusable values THEN a reason naming the variable, never a value', () => {
    const reasons = [
      githubSetupFrom({ ...actions, GITHUB_REPOSITORY: 'acme' }),
      githubSetupFrom({ ...actions, GITHUB_REPOSITORY: 'acme/catalog/extra' }),
      githubSetupFrom({ ...actions, GITHUB_SHA: undefined }),
      githubSetupFrom({ ...actions, GITHUB_API_URL: 'ftp://x' }),
    ];
    expect(reasons.map((r) => r?.on === false && r.reason.split(' ')[0])).toEqual([
      'GITHUB_REPOSITORY',
      'GITHUB_REPOSITORY',
      'GITHUB_SHA',
      'GITHUB_API_URL',
    ]);
    for (const r of reasons) expect(JSON.stringify(r)).not.toContain(actions.GITHUB_TOKEN);
  });
});

describe('runUrlOf', () => {
  it('GIVEN a re-run THEN the attempt’s own logs', () => {
    expect(runUrlOf({ ...actions, GITHUB_RUN_ATTEMPT: '1' })).toBe(
      'https://github.com/acme/catalog/actions/runs/42',
    );
    expect(runUrlOf({ ...actions, GITHUB_RUN_ATTEMPT: '3' })).toBe(
      'https://github.com/acme/catalog/actions/runs/42/attempts/3',
    );
  });

  it('GIVEN a variable missing, or a server that is not http(s) THEN no link', () => {
    expect(runUrlOf({ ...actions, GITHUB_RUN_ID: undefined })).toBeUndefined();
    expect(runUrlOf({ ...actions, GITHUB_SERVER_URL: undefined })).toBeUndefined();
    expect(runUrlOf({ ...actions, GITHUB_SERVER_URL: 'javascript:alert(1)' })).toBeUndefined();
  });
});

describe('REST URLs', () => {
  it('builds the deployments and statuses paths, escaping each name as one path segment', () => {
    const settings = { apiUrl: 'https://api.github.com', owner: 'acme', repo: 'catalog.web' };
    expect(deploymentsUrl(settings)).toBe('https://api.github.com/repos/acme/catalog.web/deployments');
    expect(statusesUrl(settings, 17)).toBe(
      'https://api.github.com/repos/acme/catalog.web/deployments/17/statuses',
    );
    expect(deploymentsUrl({ ...settings, owner: 'a b' })).toBe(
      'https://api.github.com/repos/a%20b/catalog.web/deployments',
    );
  });
});

describe('environmentUrlFor', () => {
  const local = { target: 'local', listen: '127.0.0.1:8080' } as EnvironmentConfig;
  const aws = { target: 'aws' } as EnvironmentConfig;

  it('GIVEN a local environment THEN its router, as status shows it', () => {
    expect(environmentUrlFor(local, {})).toBe('http://127.0.0.1:8080/');
  });

  it('GIVEN aws THEN none unless CUTOVER_ENVIRONMENT_URL says where users go; an unusable one is dropped', () => {
    expect(environmentUrlFor(aws, {})).toBeUndefined();
    expect(environmentUrlFor(aws, { CUTOVER_ENVIRONMENT_URL: 'https://catalog.example.com' })).toBe(
      'https://catalog.example.com',
    );
    expect(environmentUrlFor(local, { CUTOVER_ENVIRONMENT_URL: 'javascript:alert(1)' })).toBeUndefined();
  });
});
