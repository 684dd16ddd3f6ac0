import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import http from 'node:http';
import { CutoverError } from '../../errors.js';
import { claimLockFile, isStale, readLock } from '../../state/lock.js';
import { compiledEntry } from './entry.js';
import { baseEnvironment } from './instance-env.js';
import { agentPaths } from './paths.js';
import { refuseSharedStateFolders } from './private-folders.js';
import { acceptsSocket } from './socket.js';

export class AgentRefused extends CutoverError {
  constructor(
    readonly status: number,
    message: string,
    /** The agent's own name for the refusal, when it gives one (`ROUTER_CHANGED`). */
    readonly reason?: string,
  ) {
    super('AGENT_REFUSED', message);
  }
}

/** The CLI's side of the control channel. Starts the agent on demand. */
export class AgentClient {
  readonly paths: ReturnType<typeof agentPaths>;

  constructor(readonly stateDir: string) {
    this.paths = agentPaths(stateDir);
  }

  /**
   * Whether an agent answers a request. A bare connect is not enough: seen here, a socket whose agent
   * had just been killed still accepted a connection, then reset the request.
   */
  async isRunning(): Promise<boolean> {
    if (!(await acceptsSocket(this.paths.socket))) return false;
    try {
      return (await this.send('GET', '/v1/agent', undefined)).statusCode === 200;
    } catch {
      return false;
    }
  }

  /** Connects to the agent, starting it first when none answers. */
  async connect(): Promise<void> {
    // Checked on every connect, not only before a start: a running agent's folder can be opened up later.
    refuseSharedStateFolders(this.stateDir);
    if (!(await this.isRunning())) await this.startAgent();
    else this.keepWatched();
  }

  /**
   * A running agent whose watchdog was killed is given a new one, which adopts it: otherwise nothing would
   * restart it when it dies. Not for an agent a service manager runs.
   */
  private keepWatched(): void {
    if (existsSync(this.paths.managed)) return;
    const watchdog = readLock(this.paths.watchdogLock);
    if (watchdog.state === 'held' && !isStale(watchdog.holder)) return;
    this.spawnWatchdog();
  }

  /**
   * Waits for an agent that something is bringing back (its watchdog, a service manager, or another
   * command starting it) to answer, up to `waitMs`; returns whether an agent answers. Starts nothing.
   * A command that meets the agent between its death and its restart waits for it instead of taking
   * "no agent" for "nothing deployed".
   */
  async awaitRestart(waitMs = 10_000): Promise<boolean> {
    if (await this.isRunning()) return true;
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline && this.startedElsewhere() !== undefined) {
      await new Promise((r) => setTimeout(r, 25));
      if (await this.isRunning()) return true;
    }
    return false;
  }

  async request<T>(method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    let response: { statusCode: number; text: string };
    try {
      response = await this.send(method, path, text);
    } catch (error) {
      // Sent again only if the agent is coming back and the request cannot have acted twice: it never
      // reached an agent, or it only reads or sets a value.
      const code = (error as NodeJS.ErrnoException).code ?? '';
      const notSent = code === 'ECONNREFUSED' || code === 'ENOENT';
      const idempotent = method === 'GET' || method === 'PUT';
      if (!(notSent || idempotent) || !(await this.awaitRestart())) throw unreachable(this.paths, error);
      try {
        response = await this.send(method, path, text);
      } catch (again) {
        throw unreachable(this.paths, again);
      }
    }
    const payload = JSON.parse(response.text) as T & { error?: string; code?: string };
    if (response.statusCode >= 400) {
      throw new AgentRefused(
        response.statusCode,
        payload.error ?? `agent answered ${response.statusCode}`,
        payload.code,
      );
    }
    return payload;
  }

  /** Kept for callers that scope a client's life; node:http keeps no connection between requests here. */
  async close(): Promise<void> {}

  // node:http rather than undici: the CLI starts about 60 ms sooner, which a one-second rollback notices.
  private send(
    method: string,
    path: string,
    body: string | undefined,
  ): Promise<{ statusCode: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          socketPath: this.paths.socket,
          method,
          path,
          headers: { 'content-type': 'application/json' },
          timeout: 120_000,
          // A fresh connection each time: a kept-alive one could outlive the agent it was opened to.
          agent: false,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, text }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('no answer within 120s')));
      req.on('error', reject);
      req.end(body);
    });
  }

  private async startAgent(): Promise<void> {
    mkdirSync(this.paths.dir, { recursive: true, mode: 0o700 });
    // One starter at a time; a second CLI waits for the first one's agent instead of racing it. The claim
    // names its process, so one left by a CLI killed mid-start is broken at once rather than waited out.
    const claim = claimLockFile(this.paths.starting, {
      deployment: 'start',
      command: 'start agent',
      startedAt: Date.now(),
    });
    try {
      const waitingFor =
        'taken' in claim
          ? this.startedElsewhere()
          : `another command starting it${claim.held.state === 'held' ? ` (pid ${claim.held.holder.pid})` : ''}`;
      if (!waitingFor) this.spawnWatchdog();
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        if (await this.isRunning()) return;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new CutoverError(
        'AGENT_START_FAILED',
        waitingFor
          ? `the local agent did not answer within 10s; waited for ${waitingFor}`
          : `the local agent did not start within 10s`,
        existsSync(this.paths.managed)
          ? `see its log (${this.paths.log}) and the service manager's; if no service manager runs \`cutover agent\` here any more, remove ${this.paths.managed} and the CLI starts its own`
          : `see its log: ${this.paths.log}`,
      );
    } finally {
      if ('taken' in claim) claim.taken.release();
    }
  }

  /** Starts a watchdog, which runs the agent (or, if one already runs, waits to restart it when it dies). */
  private spawnWatchdog(): void {
    const log = openSync(this.paths.log, 'a', 0o600);
    // The watchdog, and through it the agent, outlive this CLI and serve every later one: they get none
    // of this shell's secrets.
    const child = spawn(
      process.execPath,
      [compiledEntry(import.meta.url, 'watchdog-main.js'), '--state-dir', this.stateDir],
      {
        env: { ...baseEnvironment(process.env), ...agentSettings(process.env) },
        detached: true,
        stdio: ['ignore', log, log],
      },
    );
    child.unref();
    closeSync(log);
  }

  /**
   * What, if anything, is already bringing an agent up for this folder: a running agent that does not
   * answer yet, its watchdog between two runs, or a service manager. Starting another beside it would put
   * two agents on one state file.
   */
  startedElsewhere(): string | undefined {
    for (const [path, what] of [
      [this.paths.agentLock, 'the agent'],
      [this.paths.watchdogLock, 'its watchdog'],
    ] as const) {
      const lock = readLock(path);
      if (lock.state === 'held' && !isStale(lock.holder))
        return `${what} (pid ${lock.holder.pid}), already running`;
    }
    if (existsSync(this.paths.managed))
      return `the agent a service manager runs (\`cutover agent\`, see ${this.paths.managed})`;
    return undefined;
  }
}

function unreachable(paths: ReturnType<typeof agentPaths>, error: unknown): CutoverError {
  return new CutoverError(
    'AGENT_UNREACHABLE',
    `the local agent at \`${paths.socket}\` did not answer: ${(error as Error).message}`,
    `see its log: ${paths.log}`,
    { cause: error },
  );
}

/** The agent's own settings, the only variables besides the base ones that reach it from the CLI's shell. */
function agentSettings(from: NodeJS.ProcessEnv): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const name of ['CUTOVER_ROUTER_WORKERS', 'CUTOVER_HAPROXY']) {
    const value = from[name];
    if (value !== undefined) settings[name] = value;
  }
  return settings;
}
