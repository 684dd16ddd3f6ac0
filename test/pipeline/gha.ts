import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { tempDir } from '../helpers/tmp.js';

/**
 * Runs GitHub Actions YAML the way the runner does, as far as the project's own files need: the `run:`
 * steps of the composite action and of the example workflows, in bash with the runner's flags, with
 * their `env:` and `if:` evaluated, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files per step. Any expression
 * outside the small language below throws, so a file cannot use something this stand-in gets wrong.
 */

export type Value = string | number | boolean | null | undefined | { [key: string]: Value };
export type Contexts = Record<string, Value>;

interface Status {
  success: boolean;
  failure: boolean;
  cancelled: boolean;
}

// ---- expressions ---------------------------------------------------------------------------------------

type Token =
  | { kind: 'str'; value: string }
  | { kind: 'num'; value: number }
  | { kind: 'id'; value: string }
  | { kind: 'op'; value: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new Error(`unterminated string in \`${text}\``);
        if (text[i] === "'" && text[i + 1] === "'") {
          value += "'";
          i += 2;
        } else if (text[i] === "'") {
          i++;
          break;
        } else value += text[i++];
      }
      tokens.push({ kind: 'str', value });
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?/.exec(text.slice(i)) as RegExpExecArray;
      tokens.push({ kind: 'num', value: Number(m[0]) });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(text.slice(i)) as RegExpExecArray;
      tokens.push({ kind: 'id', value: m[0] });
      i += m[0].length;
    } else {
      const op = ['==', '!=', '&&', '||'].find((o) => text.startsWith(o, i)) ?? c;
      if (!['==', '!=', '&&', '||', '!', '(', ')', '.', '[', ']'].includes(op)) {
        throw new Error(`unsupported character \`${c}\` in \`${text}\``);
      }
      tokens.push({ kind: 'op', value: op });
      i += op.length;
    }
  }
  return tokens;
}

const truthy = (v: Value): boolean => v !== null && v !== undefined && v !== false && v !== '' && v !== 0;

function equal(a: Value, b: Value): boolean {
  // GitHub compares strings without regard to case, and null like an empty string only with itself.
  if (typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase();
  return a === b;
}

/** Evaluates one expression (the text inside `${{ }}`) against the contexts and the job's status. */
export function evaluate(text: string, contexts: Contexts, status: Status): Value {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = () => tokens[pos];
  const isOp = (value: string) => peek()?.kind === 'op' && peek()?.value === value;
  const expect = (value: string) => {
    if (!isOp(value)) throw new Error(`expected \`${value}\` in \`${text}\``);
    pos++;
  };

  const or = (): Value => {
    let left = and();
    while (isOp('||')) {
      pos++;
      const right = and();
      left = truthy(left) ? left : right;
    }
    return left;
  };
  const and = (): Value => {
    let left = not();
    while (isOp('&&')) {
      pos++;
      const right = not();
      left = truthy(left) ? right : left;
    }
    return left;
  };
  const not = (): Value => {
    if (isOp('!')) {
      pos++;
      return !truthy(not());
    }
    return comparison();
  };
  const comparison = (): Value => {
    const left = primary();
    if (isOp('==') || isOp('!=')) {
      const op = (tokens[pos++] as Token).value;
      const right = primary();
      return op === '==' ? equal(left, right) : !equal(left, right);
    }
    return left;
  };
  const primary = (): Value => {
    const token = tokens[pos++];
    if (!token) throw new Error(`unexpected end of \`${text}\``);
    if (token.kind === 'op' && token.value === '(') {
      const value = or();
      expect(')');
      return value;
    }
    if (token.kind === 'str' || token.kind === 'num') return token.value;
    if (token.kind !== 'id') throw new Error(`unexpected \`${token.value}\` in \`${text}\``);
    if (token.value === 'true' || token.value === 'false') return token.value === 'true';
    if (token.value === 'null') return null;
    if (isOp('(')) {
      pos++;
      expect(')');
      switch (token.value) {
        case 'always':
          return true;
        case 'success':
          return status.success;
        case 'failure':
          return status.failure;
        case 'cancelled':
          return status.cancelled;
        default:
          throw new Error(`unsupported function \`${token.value}()\` in \`${text}\``);
      }
    }
    if (!(token.value in contexts)) throw new Error(`unknown context \`${token.value}\` in \`${text}\``);
    let value: Value = contexts[token.value];
    let path = token.value;
    for (;;) {
      let key: string;
      if (isOp('.')) {
        pos++;
        const next = tokens[pos++];
        if (next?.kind !== 'id') throw new Error(`expected a name after \`${path}.\` in \`${text}\``);
        key = next.value;
      } else if (isOp('[')) {
        pos++;
        const next = tokens[pos++];
        if (next?.kind !== 'str') throw new Error(`expected a string index after \`${path}\` in \`${text}\``);
        key = next.value;
        expect(']');
      } else break;
      path += `.${key}`;
      if (value === null || typeof value !== 'object') {
        throw new Error(`\`${path}\`: \`${path.slice(0, -key.length - 1)}\` is not an object in \`${text}\``);
      }
      // `env` and a step's `outputs` read as empty when unset, as on GitHub; every other unknown key is an
      // error here, so a typo in a file cannot pass as an empty string.
      if (
        !(key in value) &&
        !/^(env|steps\.[^.]+\.outputs|needs\.[^.]+\.outputs)$/.test(path.slice(0, -key.length - 1))
      ) {
        throw new Error(`unknown \`${path}\` in \`${text}\``);
      }
      value = value[key];
    }
    return value;
  };

  const value = or();
  if (pos !== tokens.length) throw new Error(`unexpected \`${tokens[pos]?.value}\` in \`${text}\``);
  return value;
}

const stringOf = (value: Value): string =>
  value === null || value === undefined
    ? ''
    : typeof value === 'object'
      ? JSON.stringify(value)
      : String(value);

/** Replaces every `${{ … }}` in a string by its value. */
export function interpolate(text: string, contexts: Contexts, status: Status): string {
  return text.replace(/\$\{\{(.*?)\}\}/gs, (_, expr: string) => stringOf(evaluate(expr, contexts, status)));
}

/** An `if:` as the runner reads it: `${{ }}` optional, and `success() &&` implied with no status function. */
export function condition(text: string | boolean | undefined, contexts: Contexts, status: Status): boolean {
  if (text === undefined) return status.success;
  if (typeof text === 'boolean') return text;
  const bare = text.trim().replace(/^\$\{\{([\s\S]*)\}\}$/, '$1');
  const hasStatus = /\b(always|success|failure|cancelled)\s*\(/.test(bare);
  return truthy(evaluate(hasStatus ? bare : `success() && (${bare})`, contexts, status));
}

// ---- files the runner writes ---------------------------------------------------------------------------

/** Reads a GITHUB_OUTPUT file: `name=value` lines and `name<<DELIMITER` … `DELIMITER` blocks. */
export function readOutputFile(path: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  if (!existsSync(path)) return outputs;
  const lines = readFileSync(path, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line === '') continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delimiter] = heredoc as unknown as [string, string, string];
      const end = lines.indexOf(delimiter, i + 1);
      if (end === -1) throw new Error(`GITHUB_OUTPUT: no closing ${delimiter} for ${name}`);
      outputs[name] = lines.slice(i + 1, end).join('\n');
      i = end;
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0)
      throw new Error(`GITHUB_OUTPUT: a line that is neither name=value nor name<<DELIMITER: ${line}`);
    outputs[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return outputs;
}

// ---- steps ---------------------------------------------------------------------------------------------

export interface StepYaml {
  id?: string;
  name?: string;
  if?: string | boolean;
  uses?: string;
  with?: Record<string, string | number | boolean>;
  run?: string;
  shell?: string;
  env?: Record<string, string | number | boolean>;
  'working-directory'?: string;
  'continue-on-error'?: boolean;
}

export interface StepRecord {
  id: string;
  outcome: 'success' | 'failure' | 'skipped' | 'cancelled';
  code: number;
  outputs: Record<string, string>;
  stdout: string;
  stderr: string;
  /** The step's GITHUB_OUTPUT file as it wrote it. */
  rawOutput?: string;
}

/** What a run shares with its steps: a scratch folder, and the process now running (to cancel it). */
export class Runner {
  readonly scratch = tempDir('cutover-gha-');
  current: ChildProcess | undefined;
  cancelled = false;
  summary = '';
  log: string[] = [];
  private files = 0;

  file(name: string): string {
    return join(this.scratch.path, `${++this.files}-${name}`);
  }

  /** As the runner cancels a job: SIGINT to the step's process (it sends SIGTERM and kills it later). */
  cancel(): void {
    this.cancelled = true;
    this.current?.kill('SIGINT');
  }

  /** As the runner ends a step that outlived its grace time: the whole process tree, SIGKILL. */
  kill(): void {
    this.cancelled = true;
    if (this.current?.pid) process.kill(-this.current.pid, 'SIGKILL');
  }

  async bash(
    script: string,
    options: { env: Record<string, string>; cwd: string },
  ): Promise<{
    code: number;
    stdout: string;
    stderr: string;
    outputs: Record<string, string>;
    rawOutput: string;
  }> {
    const path = this.file('step.sh');
    writeFileSync(path, script);
    const outputFile = this.file('output');
    const summaryFile = this.file('summary');
    writeFileSync(outputFile, '');
    writeFileSync(summaryFile, '');
    const runnerTemp = join(this.scratch.path, 'runner-temp');
    mkdirSync(runnerTemp, { recursive: true });
    // The runner's own command line for `shell: bash`.
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', path], {
      cwd: options.cwd,
      // Its own process group, so that kill() reaches the tree as the runner's does.
      detached: true,
      env: {
        ...inherited(),
        CI: 'true',
        GITHUB_ACTIONS: 'true',
        RUNNER_TEMP: runnerTemp,
        ...options.env,
        GITHUB_OUTPUT: outputFile,
        GITHUB_STEP_SUMMARY: summaryFile,
      },
    });
    this.current = child;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number>((done) =>
      child.on('close', (c, signal) => done(c ?? (signal ? 128 : 1))),
    );
    this.current = undefined;
    this.summary += readFileSync(summaryFile, 'utf8');
    this.log.push(`$ ${script.trim().split('\n')[0]}\n${stdout}${stderr}`);
    return {
      code,
      stdout,
      stderr,
      outputs: readOutputFile(outputFile),
      rawOutput: readFileSync(outputFile, 'utf8'),
    };
  }
}

/**
 * This process's environment less the runner's own variables: run inside a GitHub Actions job, a token
 * and GITHUB_REPOSITORY from it would make every cutover here record GitHub Deployments of that
 * repository. The stand-in sets the ones a step needs.
 */
function inherited(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(GITHUB|RUNNER)_/.test(key)));
}

// ---- the composite action --------------------------------------------------------------------------------

interface ActionYaml {
  inputs?: Record<string, { required?: boolean; default?: string }>;
  outputs?: Record<string, { value: string }>;
  runs: { using: string; steps: StepYaml[] };
}

export interface ActionRun {
  code: number;
  outputs: Record<string, string>;
  steps: Record<string, StepRecord>;
}

export const repoRoot = resolve('.');

/**
 * Runs the composite action at `actionPath` with `with:` values, as a step of a job: its steps in order,
 * GITHUB_ACTION_PATH set, the action's outputs evaluated at the end.
 */
export async function runAction(
  runner: Runner,
  withInputs: Record<string, string>,
  options: { cwd: string; github: Contexts; env?: Record<string, string>; actionPath?: string },
): Promise<ActionRun> {
  const actionPath = options.actionPath ?? repoRoot;
  const action = parse(readFileSync(join(actionPath, 'action.yml'), 'utf8')) as ActionYaml;
  if (action.runs.using !== 'composite') throw new Error('not a composite action');
  const declared = action.inputs ?? {};
  for (const name of Object.keys(withInputs)) {
    if (!(name in declared)) throw new Error(`input \`${name}\` is not declared by action.yml`);
  }
  const status: Status = { success: true, failure: false, cancelled: false };
  const steps: Record<string, { outputs: Record<string, string>; outcome: string; conclusion: string }> = {};
  const contexts = (): Contexts => ({
    github: options.github,
    inputs,
    steps,
    env: options.env ?? {},
    runner: {},
  });
  const inputs: Record<string, string> = {};
  for (const [name, spec] of Object.entries(declared)) {
    const given = withInputs[name];
    if (given === undefined && spec.required) throw new Error(`input \`${name}\` is required`);
    inputs[name] = given ?? interpolate(String(spec.default ?? ''), { github: options.github }, status);
  }
  const records: Record<string, StepRecord> = {};
  let failedCode = 0;
  for (const [index, step] of action.runs.steps.entries()) {
    const id = step.id ?? `__${index}`;
    const jobStatus: Status = {
      ...status,
      cancelled: runner.cancelled,
      success: status.success && !runner.cancelled,
    };
    if (step.uses)
      throw new Error(`action.yml: step ${id} uses \`${step.uses}\`: only run steps are supported`);
    if (step.shell !== 'bash') throw new Error(`action.yml: step ${id} needs \`shell: bash\``);
    if (!condition(step.if, contexts(), jobStatus)) {
      records[id] = { id, outcome: 'skipped', code: 0, outputs: {}, stdout: '', stderr: '' };
      steps[id] = { outputs: {}, outcome: 'skipped', conclusion: 'skipped' };
      continue;
    }
    const env: Record<string, string> = { ...(options.env ?? {}), GITHUB_ACTION_PATH: actionPath };
    for (const [key, value] of Object.entries(step.env ?? {}))
      env[key] = interpolate(String(value), contexts(), jobStatus);
    const cwd = resolve(options.cwd, interpolate(step['working-directory'] ?? '.', contexts(), jobStatus));
    const result = await runner.bash(step.run ?? '', { env, cwd });
    const outcome = result.code === 0 ? 'success' : 'failure';
    records[id] = { id, outcome, ...result };
    steps[id] = { outputs: result.outputs, outcome, conclusion: outcome };
    if (result.code !== 0) {
      status.success = false;
      status.failure = true;
      failedCode ||= result.code;
    }
  }
  const outputs: Record<string, string> = {};
  for (const [name, spec] of Object.entries(action.outputs ?? {})) {
    outputs[name] = interpolate(spec.value, contexts(), status);
  }
  return { code: failedCode, outputs, steps: records };
}

// ---- workflow jobs ---------------------------------------------------------------------------------------

export interface WorkflowYaml {
  env?: Record<string, string>;
  jobs: Record<
    string,
    {
      env?: Record<string, string>;
      steps: StepYaml[];
      needs?: string | string[];
      if?: string;
      outputs?: Record<string, string>;
    }
  >;
}

export interface JobRun {
  result: 'success' | 'failure' | 'cancelled';
  steps: Record<string, StepRecord & { action?: ActionRun }>;
  outputs: Record<string, string>;
}

/** `uses:` that a job on this machine does without: the test runs in the checked-out project already. */
const standIns = [/^actions\/checkout@/, /^actions\/setup-node@/];
const ourAction = /^[\w.-]+\/cutover@v\d+$/;

/**
 * Runs one job of a workflow: its `run:` steps in bash, the cutover action's steps through `runAction`
 * (for `uses: <owner>/cutover@v…`), checkout and setup-node as no-ops (the project folder is the
 * workspace, and this node runs cutover). Any other `uses:` throws.
 */
export async function runJob(
  runner: Runner,
  workflow: WorkflowYaml,
  name: string,
  options: {
    cwd: string;
    github: Contexts;
    inputs?: Record<string, string>;
    needs?: Record<string, JobRun>;
    /** The machine's environment, under the workflow's. */
    env?: Record<string, string>;
  },
): Promise<JobRun> {
  const job = workflow.jobs[name];
  if (!job) throw new Error(`no job ${name}`);
  const needs: Record<string, Value> = {};
  for (const [need, run] of Object.entries(options.needs ?? {}))
    needs[need] = { result: run.result, outputs: run.outputs };
  const status: Status = { success: true, failure: false, cancelled: false };
  const steps: Record<string, { outputs: Record<string, string>; outcome: string; conclusion: string }> = {};
  const base: Contexts = { github: options.github, inputs: options.inputs ?? {}, needs, vars: {} };
  const env: Record<string, string> = {};
  const machineEnv = options.env ?? {};
  for (const [key, value] of Object.entries(workflow.env ?? {}))
    env[key] = interpolate(String(value), { ...base, env }, status);
  for (const [key, value] of Object.entries(job.env ?? {}))
    env[key] = interpolate(String(value), { ...base, env }, status);
  const contexts = (): Contexts => ({ ...base, env, steps });
  const records: JobRun['steps'] = {};
  for (const [index, step] of job.steps.entries()) {
    const id = step.id ?? `__${index}`;
    const jobStatus: Status = {
      ...status,
      cancelled: runner.cancelled,
      success: status.success && !runner.cancelled,
    };
    if (!condition(step.if, contexts(), jobStatus)) {
      records[id] = { id, outcome: 'skipped', code: 0, outputs: {}, stdout: '', stderr: '' };
      steps[id] = { outputs: {}, outcome: 'skipped', conclusion: 'skipped' };
      continue;
    }
    const stepEnv: Record<string, string> = { ...machineEnv, ...env };
    for (const [key, value] of Object.entries(step.env ?? {}))
      stepEnv[key] = interpolate(String(value), contexts(), jobStatus);
    let record: StepRecord & { action?: ActionRun };
    if (step.uses && standIns.some((re) => re.test(step.uses as string))) {
      record = { id, outcome: 'success', code: 0, outputs: {}, stdout: '', stderr: '' };
    } else if (step.uses && ourAction.test(step.uses)) {
      const withInputs: Record<string, string> = {};
      for (const [key, value] of Object.entries(step.with ?? {}))
        withInputs[key] = interpolate(String(value), contexts(), jobStatus);
      const action = await runAction(runner, withInputs, {
        cwd: options.cwd,
        github: options.github,
        env: stepEnv,
      });
      const outcome = action.code === 0 ? 'success' : 'failure';
      record = { id, outcome, code: action.code, outputs: action.outputs, stdout: '', stderr: '', action };
    } else if (step.uses) {
      throw new Error(`job ${name}: step ${id} uses \`${step.uses}\`, which this runner cannot stand in for`);
    } else {
      const cwd = resolve(options.cwd, interpolate(step['working-directory'] ?? '.', contexts(), jobStatus));
      const result = await runner.bash(step.run ?? '', { env: stepEnv, cwd });
      record = { id, outcome: result.code === 0 ? 'success' : 'failure', ...result };
    }
    records[id] = record;
    steps[id] = { outputs: record.outputs, outcome: record.outcome, conclusion: record.outcome };
    if (record.outcome === 'failure' && !step['continue-on-error']) {
      status.success = false;
      status.failure = true;
    }
  }
  const outputs: Record<string, string> = {};
  for (const [key, value] of Object.entries(job.outputs ?? {}))
    outputs[key] = interpolate(value, contexts(), status);
  return {
    result: runner.cancelled ? 'cancelled' : status.success ? 'success' : 'failure',
    steps: records,
    outputs,
  };
}

/** Whether a job would run, from its `if:` and the results of the jobs it needs. */
export function jobRuns(
  workflow: WorkflowYaml,
  name: string,
  needs: Record<string, JobRun>,
  cancelled = false,
): boolean {
  const job = workflow.jobs[name];
  if (!job) throw new Error(`no job ${name}`);
  const allSucceeded = Object.values(needs).every((n) => n.result === 'success');
  const status: Status = {
    success: allSucceeded && !cancelled,
    failure: Object.values(needs).some((n) => n.result === 'failure'),
    cancelled,
  };
  const contexts: Contexts = {
    needs: Object.fromEntries(
      Object.entries(needs).map(([k, v]) => [k, { result: v.result, outputs: v.outputs }]),
    ),
    github: {},
    vars: {},
    inputs: {},
  };
  return condition(job.if, contexts, status);
}
