import { readFileSync } from 'node:fs';
import { register } from 'node:module';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { condition, evaluate, interpolate, readOutputFile, type StepYaml } from './gha.js';
import { tempDir } from '../helpers/tmp.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The pipeline files are valid for GitHub (its own parser, @actions/workflow-parser) and GitLab (the
 * schema gitlab-ci-local validates against, in gitlab.test.ts), and no `run:` script pastes an
 * expression into its source.
 */

// The parser imports its JSON schemas without import attributes, which Node 20 refuses; a resolve hook
// adds them, so the published package loads as it is.
register('./json-import-hook.mjs', import.meta.url);
const { parseWorkflow, NoOperationTraceWriter, convertWorkflowTemplate } =
  await import('@actions/workflow-parser');
const { parseAction, convertActionTemplate } = await import('@actions/workflow-parser/actions/index');

const workflows = [
  'examples/github/deploy.yml',
  'examples/github/rollback.yml',
  'examples/github/approval.yml',
];

async function workflowErrors(name: string, content: string): Promise<string[]> {
  const parsed = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors().map((e) => e.message);
  if (parsed.value) {
    const template = await convertWorkflowTemplate(parsed.context, parsed.value);
    errors.push(...(template.errors ?? []).map((e) => e.Message));
  }
  return [...new Set(errors)];
}

function actionErrors(name: string, content: string): string[] {
  const parsed = parseAction({ name, content }, new NoOperationTraceWriter());
  if (parsed.value) convertActionTemplate(parsed.context, parsed.value);
  return parsed.context.errors.getErrors().map((e) => e.message);
}

function runScripts(file: string): string[] {
  const doc = parse(readFileSync(file, 'utf8')) as {
    runs?: { steps: StepYaml[] };
    jobs?: Record<string, { steps?: StepYaml[] }>;
  };
  const steps = [...(doc.runs?.steps ?? []), ...Object.values(doc.jobs ?? {}).flatMap((j) => j.steps ?? [])];
  return steps.flatMap((s) => (s.run === undefined ? [] : [s.run]));
}

describe('the GitHub files parse with GitHub’s workflow parser', () => {
  it.each(workflows)('%s has no errors', async (file) => {
    expect(await workflowErrors(file, readFileSync(file, 'utf8'))).toEqual([]);
  });

  it('action.yml has no errors as an action, and declares a composite action with the documented outputs', () => {
    const content = readFileSync('action.yml', 'utf8');
    expect(actionErrors('action.yml', content)).toEqual([]);
    const action = parse(content) as {
      runs: { using: string };
      outputs: Record<string, unknown>;
      inputs: Record<string, { default?: string }>;
    };
    expect(action.runs.using).toBe('composite');
    expect(Object.keys(action.outputs)).toEqual(
      expect.arrayContaining(['deployment-id', 'result', 'live-version', 'exit-code', 'json']),
    );
    expect(action.inputs['github-token']?.default).toBe('${{ github.token }}');
  });

  it('the parser would catch a broken file (so the checks above can fail)', async () => {
    expect(
      await workflowErrors(
        'w.yml',
        'on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: a/b@v1\n        bogus: 1\n',
      ),
    ).not.toEqual([]);
    expect(
      await workflowErrors(
        'w.yml',
        'on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo ${{ nope.x }}\n',
      ),
    ).not.toEqual([]);
    const action = readFileSync('action.yml', 'utf8');
    expect(actionErrors('action.yml', action.replace('using: composite', 'using: compost'))).not.toEqual([]);
    expect(
      actionErrors('action.yml', action.replace('    shell: bash\n', '    shell: bash\n      colour: red\n')),
    ).not.toEqual([]);
  });

  it.each(['action.yml', ...workflows])(
    '%s: no run: script contains ${{ }} (inputs reach scripts through env only)',
    (file) => {
      const scripts = runScripts(file);
      if (file === 'action.yml') expect(scripts.length).toBe(3);
      for (const script of scripts) expect(script).not.toContain('${{');
    },
  );
});

describe('the stand-in runner’s expressions (gha.ts)', () => {
  const status = { success: true, failure: false, cancelled: false };
  const contexts = {
    inputs: { command: 'deploy', 'ok-exit-codes': '0 2' },
    github: { token: 't0k' },
    steps: { run: { outputs: { 'exit-code': '1' }, outcome: 'success' } },
    env: { A: 'x' },
  };

  it('evaluates the forms the files use', () => {
    expect(interpolate('${{ inputs.command }} ${{ github.token }}', contexts, status)).toBe('deploy t0k');
    expect(interpolate("${{ inputs['ok-exit-codes'] }}", contexts, status)).toBe('0 2');
    expect(interpolate('${{ steps.run.outputs.exit-code }}', contexts, status)).toBe('1');
    expect(interpolate('${{ steps.run.outputs.missing }}|${{ env.NONE }}', contexts, status)).toBe('|');
    expect(
      condition("always() && steps.run.outcome == 'success'", contexts, {
        ...status,
        cancelled: true,
        success: false,
      }),
    ).toBe(true);
    expect(
      condition("steps.run.outcome == 'success'", contexts, { ...status, cancelled: true, success: false }),
    ).toBe(false);
    expect(condition('cancelled()', contexts, status)).toBe(false);
    expect(condition("${{ !cancelled() && env.A != 'y' }}", contexts, status)).toBe(true);
  });

  it('refuses what it cannot evaluate instead of reading it as empty', () => {
    expect(() => interpolate('${{ secrets.TOKEN }}', contexts, status)).toThrow(/unknown context/);
    expect(() => interpolate('${{ inputs.comand }}', contexts, status)).toThrow(/unknown `inputs.comand`/);
    expect(() => interpolate('${{ steps.nope.outputs.x }}', contexts, status)).toThrow(
      /unknown `steps.nope`/,
    );
    expect(() => interpolate("${{ format('{0}', inputs.command) }}", contexts, status)).toThrow();
    expect(() => evaluate('hashFiles()', contexts, status)).toThrow(/unsupported function/);
  });

  it('reads GITHUB_OUTPUT lines and heredoc blocks', () => {
    const dir = tempDir();
    const file = join(dir.path, 'out');
    writeFileSync(file, 'a=1\njson<<EOF_x\n{\n  "b": 2\n}\nEOF_x\nc=\n');
    expect(readOutputFile(file)).toEqual({ a: '1', json: '{\n  "b": 2\n}', c: '' });
    dir.remove();
  });
});
