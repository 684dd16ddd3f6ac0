import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { Socket } from 'node:net';
import type { Client, ClientChannel, SFTPWrapper } from 'ssh2';
import { UserInputError } from '../../errors.js';
import { formatDurationSetting } from '../../duration.js';
import { HostError } from './errors.js';
import { killGroupCommandLine, LeaderLine, leaderCommandLine } from './command.js';
import { shellQuote } from './quote.js';

export interface RunOptions {
  /** Written to the command's standard input, which is then closed. Without it the command reads EOF. */
  stdin?: string | Buffer;
  /** Kill the command (SIGKILL) and fail with HOST_COMMAND_TIMEOUT after this long. No limit if unset. */
  timeoutMs?: number;
  /** Kill the command (SIGKILL) and fail with `signal.reason`, as fetch does. */
  signal?: AbortSignal;
}

export interface RunResult {
  /** The exit status, or null when the command was ended by a signal. */
  code: number | null;
  /** The signal that ended the command, without `SIG` (`KILL`, `TERM`), or null when it exited. */
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** An open SSH connection to one host. Commands can run at once on it, up to sshd's MaxSessions (10). */
export interface HostSession {
  /** `address:port`, as error messages name the host. */
  readonly host: string;
  /** The fingerprint of the host key that was checked (`SHA256:…`), for logs. */
  readonly hostKeyFingerprint: string;
  /**
   * Runs `argv` on the host: `argv[0]` is a program on the SSH user's PATH (not a shell builtin), each
   * argument arrives as it is (quote.ts). Resolves with the exit status and output whatever the status:
   * a non-zero exit is a result, not an error. On a timeout or abort the command's whole process group
   * is killed on the host (command.ts). Rejects with HOST_COMMAND_TIMEOUT, HOST_CONNECTION_LOST,
   * HOST_SSH_FAILED, or the signal's reason; an empty argv is a UserInputError.
   */
  run(argv: readonly string[], options?: RunOptions): Promise<RunResult>;
  /**
   * Copies a local file to `remotePath` over SFTP, creating missing parent folders. The file appears
   * whole or not at all: it is written beside the target, then renamed over it. Rejects with
   * HOST_UPLOAD_FAILED naming both paths.
   */
  upload(localPath: string, remotePath: string, options?: { mode?: number }): Promise<void>;
  /**
   * A stream to a unix socket on the host (OpenSSH's streamlocal forwarding), such as HAProxy's runtime
   * API: nothing but sshd is needed there. Rejects with HOST_SSH_FAILED when sshd refuses it.
   */
  openSocket(path: string): Promise<ClientChannel>;
  /**
   * Kills the commands still running (their runs reject with HOST_CONNECTION_LOST), then ends the
   * connection. Safe to call twice.
   */
  close(): Promise<void>;
}

/** A command's channel, and its exit status once the host sent it. */
interface OpenedChannel {
  channel: ClientChannel;
  exit?: { code: number | null; signal: string | null };
}

/** How long `close` waits for the server to acknowledge before it drops the socket. */
const CLOSE_GRACE_MS = 2000;

function closeQuietly(channel: ClientChannel): void {
  try {
    channel.close();
  } catch {
    // gone already
  }
}

export class SshSession implements HostSession {
  private lost: HostError | undefined;
  /** The runs in progress, each with the way to kill it. */
  private readonly running = new Map<Promise<unknown>, (why: unknown) => void>();
  private closed = false;
  private closing: Promise<void> | undefined;
  private sftp: Promise<SFTPWrapper> | undefined;

  constructor(
    private readonly client: Client,
    private readonly socket: Socket | undefined,
    readonly host: string,
    readonly hostKeyFingerprint: string,
  ) {
    // An emitter's 'error' with no listener would crash the process; after `ready` every error means
    // the connection is gone, and the commands running on it fail with the 'close' that follows.
    client.on('error', (error: Error) => this.markLost(error));
    client.on('close', () => {
      this.markLost(undefined);
      this.closed = true;
    });
  }

  private markLost(error: Error | undefined): void {
    if (this.lost || this.closing) return;
    this.lost = new HostError(
      'HOST_CONNECTION_LOST',
      this.host,
      `the SSH connection to \`${this.host}\` was lost${error ? `: ${error.message}` : ''}`,
      'check that the host is up and reachable, then run the command again',
      { cause: error },
    );
  }

  private usable(): void {
    if (this.closing) {
      throw new HostError('HOST_CONNECTION_LOST', this.host, `the SSH session to \`${this.host}\` is closed`);
    }
    if (this.lost) throw this.lost;
  }

  async run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const tag = `cutover-${randomBytes(6).toString('hex')}`;
    const command = leaderCommandLine(argv, tag);
    const { signal, timeoutMs } = options;
    if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
      throw new UserInputError(
        'OPTION_INVALID',
        `\`timeoutMs\` must be a number above 0, not \`${timeoutMs}\``,
      );
    }
    signal?.throwIfAborted();
    this.usable();
    const opened = await this.open(command);
    const { channel } = opened;
    const program = argv[0] as string;
    let killer: (why: unknown) => void = () => undefined;
    const result = new Promise<RunResult>((resolve, reject) => {
      const leader = new LeaderLine(tag);
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let failure: unknown;
      let settled = false;
      let killing = false;
      let grace: NodeJS.Timeout | undefined;

      const settle = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(grace);
        signal?.removeEventListener('abort', onAbort);
        stdout.push(leader.end());
        if (failure !== undefined) {
          closeQuietly(channel);
          reject(failure);
        } else if (opened.exit) {
          resolve({
            ...opened.exit,
            stdout: Buffer.concat(stdout).toString('utf8'),
            stderr: Buffer.concat(stderr).toString('utf8'),
          });
        } else {
          reject(
            this.lost ??
              new HostError(
                'HOST_CONNECTION_LOST',
                this.host,
                `\`${program}\` on \`${this.host}\` ended without an exit status: the connection was cut`,
                'check that the host is up and reachable, then run the command again',
              ),
          );
        }
      };
      // Kills the command's process group once it is known (see command.ts), then closes the channel.
      const killGroup = () => {
        if (killing || leader.group === undefined) return;
        killing = true;
        this.client.exec(killGroupCommandLine(leader.group), (error, killer) => {
          if (error) return closeQuietly(channel);
          killer.on('close', () => closeQuietly(channel));
          killer.resume();
          killer.stderr.resume();
          killer.end();
        });
      };
      const kill = (why: unknown) => {
        if (failure !== undefined || settled) return;
        failure = why;
        killGroup();
        // A host that stopped answering never confirms; settle anyway.
        grace = setTimeout(settle, CLOSE_GRACE_MS);
      };
      killer = kill;
      const onAbort = () => kill(signal?.reason);
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(
              () =>
                kill(
                  new HostError(
                    'HOST_COMMAND_TIMEOUT',
                    this.host,
                    `\`${program}\` on \`${this.host}\` ran past its ${formatDurationSetting(timeoutMs)} timeout and was killed`,
                    'look at what it waits for on the host, or allow it more time',
                  ),
                ),
              timeoutMs,
            );
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted) onAbort(); // while the channel opened

      channel.on('data', (chunk: Buffer) => {
        stdout.push(leader.push(chunk));
        if (failure !== undefined) killGroup();
      });
      channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      channel.on('close', settle);
      channel.on('error', (error: Error) => {
        if (failure === undefined) failure = this.failed(`\`${program}\` failed on \`${this.host}\``, error);
      });
      channel.end(options.stdin);
    });
    const settled = result.catch(() => undefined);
    this.running.set(settled, killer);
    void settled.then(() => this.running.delete(settled));
    return result;
  }

  openSocket(path: string): Promise<ClientChannel> {
    this.usable();
    return new Promise((resolve, reject) => {
      this.client.openssh_forwardOutStreamLocal(path, (error, channel) => {
        if (error)
          reject(
            this.lost ??
              this.failed(
                `\`${this.host}\` did not open its socket ${path}`,
                error,
                'check that something listens there, and that sshd allows forwarding to it (AllowStreamLocalForwarding, the default)',
              ),
          );
        else resolve(channel);
      });
    });
  }

  private open(command: string): Promise<OpenedChannel> {
    return new Promise((resolve, reject) => {
      this.client.exec(command, (error, channel) => {
        if (error) {
          reject(this.lost ?? this.failed(`\`${this.host}\` did not open a channel for a command`, error));
          return;
        }
        // Listen for the exit status now, not once the caller's await resumes: a command that ends at
        // once can have its status arrive in the same read as the channel's confirmation, and ssh2
        // emits 'exit' as it parses it, with no one listening yet (output and close are kept, it is not).
        const opened: OpenedChannel = { channel };
        channel.on('exit', (code: number | null, signalName?: string) => {
          opened.exit =
            typeof code === 'number' ? { code, signal: null } : { code: null, signal: signalName ?? null };
        });
        resolve(opened);
      });
    });
  }

  private failed(
    what: string,
    error: Error,
    // sshd's MaxSessions (10 by default) bounds the commands one connection runs at once.
    hint = 'run fewer commands at once on this host, or check its sshd log',
  ): HostError {
    return new HostError('HOST_SSH_FAILED', this.host, `${what}: ${error.message}`, hint, { cause: error });
  }

  async upload(localPath: string, remotePath: string, options: { mode?: number } = {}): Promise<void> {
    if (!posix.isAbsolute(remotePath)) {
      throw new UserInputError(
        'OPTION_INVALID',
        `the remote path \`${remotePath}\` must be absolute: a relative one depends on the login folder`,
      );
    }
    this.usable();
    const partial = `${remotePath}.cutover-${randomBytes(4).toString('hex')}.part`;
    const failed = (why: string, error?: unknown) =>
      new HostError(
        'HOST_UPLOAD_FAILED',
        this.host,
        `uploading \`${localPath}\` to \`${remotePath}\` on \`${this.host}\` failed: ${why}`,
        'check that the local file exists and that the SSH user may write the remote folder',
        { cause: error },
      );
    const parent = posix.dirname(remotePath);
    const mkdir = await this.run(['mkdir', '-p', '--', parent]);
    if (mkdir.code !== 0) throw failed(`\`mkdir -p ${shellQuote(parent)}\` said: ${mkdir.stderr.trim()}`);
    const sftp = await this.openSftp();
    try {
      await new Promise<void>((resolve, reject) => {
        sftp.fastPut(localPath, partial, options.mode === undefined ? {} : { mode: options.mode }, (error) =>
          error ? reject(error) : resolve(),
        );
      });
    } catch (error) {
      await this.run(['rm', '-f', '--', partial]).catch(() => undefined);
      throw this.lost ?? failed((error as Error).message, error);
    }
    const rename = await this.run(['mv', '-f', '--', partial, remotePath]);
    if (rename.code !== 0) {
      await this.run(['rm', '-f', '--', partial]).catch(() => undefined);
      throw failed(`renaming it into place said: ${rename.stderr.trim()}`);
    }
  }

  private openSftp(): Promise<SFTPWrapper> {
    this.sftp ??= new Promise<SFTPWrapper>((resolve, reject) => {
      this.client.sftp((error, sftp) => {
        if (error) {
          this.sftp = undefined;
          reject(this.lost ?? this.failed(`\`${this.host}\` did not start SFTP`, error));
        } else resolve(sftp);
      });
    });
    return this.sftp;
  }

  close(): Promise<void> {
    this.closing ??= this.killRunning().then(
      () =>
        new Promise<void>((resolve) => {
          const client = this.client;
          if (this.closed) return resolve();
          // An ended socket whose host has gone never confirms; drop it after a grace period.
          const drop = () => {
            client.destroy();
            this.socket?.destroy();
          };
          const timer = setTimeout(() => {
            drop();
            resolve();
          }, CLOSE_GRACE_MS);
          client.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          if (this.lost) drop();
          else client.end();
        }),
    );
    return this.closing;
  }

  private async killRunning(): Promise<void> {
    if (this.running.size === 0 || this.lost) return;
    for (const kill of this.running.values()) {
      kill(
        new HostError(
          'HOST_CONNECTION_LOST',
          this.host,
          `the SSH session to \`${this.host}\` was closed while the command ran: it was killed`,
        ),
      );
    }
    // Each run settles once its kill went through, or after the grace period.
    await Promise.all(this.running.keys());
  }
}
