import { UserInputError } from '../../errors.js';
import { processIdentity } from '../haproxy/info.js';
import { counted, num, parseStat, serverRows, type ServerCounts } from '../haproxy/stat.js';
import { HostError } from './errors.js';
import type { HostSession } from './ssh.js';
import { parseServers, parseServersState, weightBatch, type ServerWeights } from './haproxy-weights.js';

/**
 * HAProxy's runtime API on the load balancer host, reached through the SSH connection itself (OpenSSH's
 * streamlocal forwarding to the socket), so nothing but sshd is needed there. One connection a batch:
 * HAProxy runs the `;`-separated commands in order and closes after answering.
 */
export class HaproxyApi {
  constructor(
    private readonly lb: () => Promise<HostSession>,
    private readonly socket: string,
    private readonly backend: string,
    private readonly timeoutMs = 10_000,
  ) {}

  async send(commands: string): Promise<string> {
    const session = await this.lb();
    const stream = await session.openSocket(this.socket).catch(async (error: unknown) => {
      throw await this.unreachable(session, error);
    });
    return new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => {
        stream.destroy();
        reject(
          new Error(
            `HAProxy's runtime API on ${session.host} (${this.socket}) did not answer within ${this.timeoutMs} ms`,
          ),
        );
      }, this.timeoutMs);
      stream.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
      stream.on('error', (error: Error) => {
        clearTimeout(timer);
        reject(error);
      });
      // HAProxy answers a line and closes its side: that end is the whole answer.
      const done = () => {
        clearTimeout(timer);
        resolve(out);
      };
      stream.on('end', done);
      stream.on('close', done);
      stream.end(`${commands}\n`);
    });
  }

  /** Why the runtime API socket did not open, as far as the host can tell: gone, or not forwarded. */
  private async unreachable(session: HostSession, error: unknown): Promise<Error> {
    const there = await session.run(['test', '-S', this.socket]).catch(() => undefined);
    if (there?.code === 0) return error instanceof Error ? error : new Error(String(error));
    return new HostError(
      'HAPROXY_UNREACHABLE',
      session.host,
      `HAProxy's runtime API socket ${this.socket} does not exist on ${session.host}: HAProxy is not running there, or \`haproxy.socket\` is not its \`stats socket\``,
      `start HAProxy on ${session.host}, or set haproxy.socket to the path of the \`stats socket … level admin\` line in haproxy.cfg (\`cutover haproxy-config\` prints it)`,
      { cause: error },
    );
  }

  async weights(): Promise<ServerWeights> {
    return parseServersState(await this.serversText(), this.backend);
  }

  async servers(): Promise<Record<string, { weight: number; up: boolean }>> {
    return parseServers(await this.serversText(), this.backend);
  }

  private async serversText(): Promise<string> {
    const text = await this.send(`show servers state ${this.backend}`);
    if (/can't find backend/i.test(text)) {
      throw new UserInputError(
        'HAPROXY_BACKEND_UNKNOWN',
        `HAProxy has no backend \`${this.backend}\``,
        'haproxy.backend names the backend `cutover haproxy-config` prints; include it in haproxy.cfg and reload HAProxy',
      );
    }
    return text;
  }

  /**
   * Waits until HAProxy's own checks hold the servers about to take traffic up: weight on a server it
   * holds down would send that share nowhere (a 503 once it is all). Each group is one fleet's servers.
   * All of them are waited for until `settleBy`; after that, a group with at least one up is enough (a
   * host that died must not stop traffic from going back), and HAProxy sends nothing to the rest. A group
   * with none up by `until` fails: no traffic moves to a fleet without a healthy member.
   */
  async waitUp(
    groups: string[][],
    times: { settleBy: number; until: number },
    now: () => number,
    sleep: (ms: number) => Promise<void>,
  ): Promise<void> {
    for (;;) {
      const servers = await this.servers();
      const down = groups.flat().filter((n) => !servers[n]?.up);
      if (down.length === 0) return;
      const someUp = groups.every((group) => group.some((n) => servers[n]?.up));
      if (someUp && now() >= times.settleBy) return;
      if (now() >= times.until) {
        throw new Error(
          `HAProxy still holds ${down.join(', ')} down by its own health checks, so no traffic was moved to them; check \`option httpchk\` in backend ${this.backend} against the health check path`,
        );
      }
      await sleep(200);
    }
  }

  /**
   * Moves the backend's servers to `next` in one batch (raising before lowering), then reads the weights
   * back: a batch is not one atomic step, so what HAProxy holds afterwards is what counts.
   */
  async setWeights(next: ServerWeights): Promise<void> {
    const now = await this.weights();
    const missing = Object.keys(next).filter((name) => !(name in now));
    if (missing.length > 0) {
      throw new Error(
        `HAProxy backend \`${this.backend}\` has no server ${missing.join(', ')}: include what \`cutover haproxy-config\` prints and reload HAProxy`,
      );
    }
    const batch = weightBatch(this.backend, now, next);
    if (batch !== '') {
      const answer = (await this.send(batch)).trim();
      if (answer !== '') throw new Error(`HAProxy refused the weight change: ${answer.slice(0, 300)}`);
    }
    const after = await this.weights();
    const wrong = Object.entries(next).filter(([name, weight]) => after[name] !== weight);
    if (wrong.length > 0) {
      throw new Error(
        `HAProxy holds ${wrong.map(([n]) => `${n}=${after[n]}`).join(', ')} after setting ${wrong.map(([n, w]) => `${n}=${w}`).join(', ')}`,
      );
    }
  }

  /** Requests being served by each server now (`scur` in `show stat`). */
  async inFlight(): Promise<Record<string, number>> {
    const answer = await this.send('show stat');
    // An answer without the table waits for nothing, as before: stopping still gives the process TERM
    // and the drain timeout to finish what it serves.
    if (!answer.includes('# pxname,')) return {};
    const rows = serverRows(parseStat(answer), this.backend);
    return Object.fromEntries(rows.map((row) => [row.svname ?? '', num(row, 'scur')]));
  }

  /**
   * Each of the backend's servers' cumulative request counts, and which HAProxy process holds them,
   * in one round trip: counters of different processes (a reload between readings) never subtract.
   */
  async counters(): Promise<{ process: string | undefined; servers: Map<string, ServerCounts> }> {
    const answer = await this.send(`show info; show stat ${this.backend} 4 -1`);
    const rows = serverRows(parseStat(answer), this.backend);
    return {
      process: processIdentity(answer),
      servers: new Map(rows.map((row) => [row.svname ?? '', counted(row)])),
    };
  }

  /** The whole `show servers state`, as `server-state-file` wants it to survive a reload. */
  serversState(): Promise<string> {
    return this.send('show servers state');
  }
}
