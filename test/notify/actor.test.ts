import { describe, expect, it } from 'vitest';
import { actorFrom } from '../../src/notify/actor.js';

const alice = () => 'alice';
const noPasswdEntry = () => {
  throw Object.assign(new Error('ENOENT: no such file or directory, uv_os_get_passwd'), { code: 'ENOENT' });
};

const github = {
  GITHUB_ACTIONS: 'true',
  GITHUB_ACTOR: 'octocat',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_REPOSITORY: 'acme/shop',
  GITHUB_RUN_ID: '123456789',
  GITHUB_RUN_ATTEMPT: '1',
  GITHUB_SHA: 'ffac537e6cbbf934b08745a378932722df287a53',
};

const gitlab = {
  GITLAB_CI: 'true',
  GITLAB_USER_LOGIN: 'jdoe',
  GITLAB_USER_NAME: 'Jane Doe',
  CI_JOB_URL: 'https://gitlab.example.com/acme/shop/-/jobs/42',
  CI_PIPELINE_URL: 'https://gitlab.example.com/acme/shop/-/pipelines/7',
  CI_COMMIT_SHA: '1e2d3c4b',
};

const jenkins = {
  JENKINS_URL: 'https://ci.example.com/',
  BUILD_USER_ID: 'bob',
  BUILD_USER: 'Bob Builder',
  BUILD_URL: 'https://ci.example.com/job/shop/17/',
  GIT_COMMIT: '9a8b7c6d',
};

describe('actorFrom', () => {
  it('GIVEN GitHub Actions WHEN the actor is read THEN it is the triggering actor, else the actor, with the run link and commit', () => {
    expect(actorFrom(github, alice)).toEqual({
      name: 'octocat',
      source: 'github',
      runUrl: 'https://github.com/acme/shop/actions/runs/123456789',
      commit: 'ffac537e6cbbf934b08745a378932722df287a53',
    });
    expect(actorFrom({ ...github, GITHUB_TRIGGERING_ACTOR: 'hubot' }, alice).name).toBe('hubot');
  });

  it('GIVEN a re-run GitHub workflow on GitHub Enterprise WHEN the actor is read THEN the link names the attempt on that server', () => {
    const env = { ...github, GITHUB_SERVER_URL: 'https://ghe.example.com/', GITHUB_RUN_ATTEMPT: '3' };
    expect(actorFrom(env, alice).runUrl).toBe(
      'https://ghe.example.com/acme/shop/actions/runs/123456789/attempts/3',
    );
  });

  it('GIVEN GitHub Actions missing a part of the run link WHEN the actor is read THEN there is no link rather than a broken one', () => {
    expect(actorFrom({ ...github, GITHUB_RUN_ID: '' }, alice).runUrl).toBeUndefined();
    expect(actorFrom({ ...github, GITHUB_REPOSITORY: undefined }, alice).runUrl).toBeUndefined();
  });

  it('GIVEN GitLab CI WHEN the actor is read THEN it is the login, else the user name, with the job link, else the pipeline link', () => {
    expect(actorFrom(gitlab, alice)).toEqual({
      name: 'jdoe',
      source: 'gitlab',
      runUrl: 'https://gitlab.example.com/acme/shop/-/jobs/42',
      commit: '1e2d3c4b',
    });
    const fallback = actorFrom({ ...gitlab, GITLAB_USER_LOGIN: '', CI_JOB_URL: '' }, alice);
    expect(fallback.name).toBe('Jane Doe');
    expect(fallback.runUrl).toBe('https://gitlab.example.com/acme/shop/-/pipelines/7');
  });

  it('GIVEN Jenkins WHEN the actor is read THEN it is the build user id, else the build user, else jenkins, with the build link and commit', () => {
    expect(actorFrom(jenkins, alice)).toEqual({
      name: 'bob',
      source: 'jenkins',
      runUrl: 'https://ci.example.com/job/shop/17/',
      commit: '9a8b7c6d',
    });
    expect(actorFrom({ ...jenkins, BUILD_USER_ID: '' }, alice).name).toBe('Bob Builder');
    expect(actorFrom({ JENKINS_URL: 'https://ci.example.com/' }, alice)).toEqual({
      name: 'jenkins',
      source: 'jenkins',
    });
  });

  it('GIVEN CUTOVER_ACTOR in a CI WHEN the actor is read THEN it names the actor, and the CI still gives the run link and commit', () => {
    expect(actorFrom({ ...github, CUTOVER_ACTOR: 'release-bot for ana' }, alice)).toEqual({
      name: 'release-bot for ana',
      source: 'CUTOVER_ACTOR',
      runUrl: 'https://github.com/acme/shop/actions/runs/123456789',
      commit: 'ffac537e6cbbf934b08745a378932722df287a53',
    });
    expect(actorFrom({ ...gitlab, CUTOVER_ACTOR: 'ana' }, alice)).toMatchObject({
      source: 'CUTOVER_ACTOR',
      runUrl: gitlab.CI_JOB_URL,
      commit: gitlab.CI_COMMIT_SHA,
    });
    expect(actorFrom({ CUTOVER_ACTOR: 'ana' }, alice)).toEqual({ name: 'ana', source: 'CUTOVER_ACTOR' });
  });

  it('GIVEN the variables of more than one CI WHEN the actor is read THEN GitHub goes before GitLab before Jenkins', () => {
    expect(actorFrom({ ...jenkins, ...gitlab, ...github }, alice).source).toBe('github');
    expect(actorFrom({ ...jenkins, ...gitlab }, alice).source).toBe('gitlab');
    expect(actorFrom({ ...jenkins, ...gitlab, GITLAB_CI: 'false' }, alice).source).toBe('jenkins');
  });

  it('GIVEN empty or blank values WHEN the actor is read THEN they are ignored as if unset', () => {
    expect(
      actorFrom({ ...github, CUTOVER_ACTOR: '', GITHUB_TRIGGERING_ACTOR: '  ', GITHUB_SHA: '' }, alice),
    ).toEqual({
      name: 'octocat',
      source: 'github',
      runUrl: 'https://github.com/acme/shop/actions/runs/123456789',
    });
    expect(actorFrom({ ...jenkins, JENKINS_URL: '' }, alice)).toEqual({ name: 'alice', source: 'local' });
  });

  it('GIVEN a CI that names no user WHEN the actor is read THEN the local user is named, with the run link kept', () => {
    const env = { ...github, GITHUB_ACTOR: '' };
    expect(actorFrom(env, alice)).toEqual({
      name: 'alice',
      source: 'local',
      runUrl: 'https://github.com/acme/shop/actions/runs/123456789',
      commit: github.GITHUB_SHA,
    });
  });

  it('GIVEN a run link that is not http(s) WHEN the actor is read THEN it is dropped', () => {
    expect(actorFrom({ ...jenkins, BUILD_URL: 'javascript:alert(1)' }, alice).runUrl).toBeUndefined();
    expect(actorFrom({ ...jenkins, BUILD_URL: 'job/shop/17/' }, alice).runUrl).toBeUndefined();
    expect(actorFrom({ ...gitlab, CI_JOB_URL: 'file:///etc/passwd' }, alice).runUrl).toBe(
      gitlab.CI_PIPELINE_URL,
    );
    expect(actorFrom({ ...github, GITHUB_SERVER_URL: 'ftp://github.com' }, alice).runUrl).toBeUndefined();
    expect(actorFrom({ ...jenkins, BUILD_URL: 'http://ci.internal/job/1/' }, alice).runUrl).toBe(
      'http://ci.internal/job/1/',
    );
  });

  it('GIVEN no CI WHEN the actor is read THEN it is the local user', () => {
    expect(actorFrom({ USER: 'root' }, alice)).toEqual({ name: 'alice', source: 'local' });
  });

  it('GIVEN os.userInfo throws, as for a uid without a passwd entry WHEN the actor is read THEN USER, else LOGNAME, else unknown', () => {
    expect(actorFrom({ USER: 'carol', LOGNAME: 'dave' }, noPasswdEntry)).toEqual({
      name: 'carol',
      source: 'local',
    });
    expect(actorFrom({ USER: '', LOGNAME: 'dave' }, noPasswdEntry)).toEqual({
      name: 'dave',
      source: 'local',
    });
    expect(actorFrom({}, noPasswdEntry)).toEqual({ name: 'unknown', source: 'local' });
    expect(actorFrom({ USER: 'carol' }, () => '')).toEqual({ name: 'carol', source: 'local' });
  });

  it('GIVEN no local user function WHEN the actor is read THEN the real os.userInfo is used without throwing', () => {
    const actor = actorFrom({ USER: 'fallback' });
    expect(actor.source).toBe('local');
    expect(actor.name).not.toBe('');
  });
});
