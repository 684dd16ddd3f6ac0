import { CutoverError } from '../../errors.js';

/**
 * What went wrong with one host. Every code names a cause the user can act on:
 * - HOST_UNREACHABLE: no SSH server answered (refused, no route, no answer within the connect timeout).
 * - HOST_AUTH_REFUSED: the server answered but took none of the keys offered.
 * - HOST_KEY_UNKNOWN: known_hosts has no key for this host; nothing was sent to it.
 * - HOST_KEY_MISMATCH: the host's key is not the one known_hosts holds (or is marked @revoked); nothing
 *   was sent to it.
 * - HOST_SSH_FAILED: any other SSH failure before the session was ready (handshake, protocol).
 * - HOST_CONNECTION_LOST: the connection dropped while the session was open.
 * - HOST_COMMAND_TIMEOUT: a command ran past its timeout and was killed.
 * - HOST_UPLOAD_FAILED: an SFTP upload failed.
 * - HAPROXY_UNREACHABLE: HAProxy's runtime API socket is not on the load balancer host (HAProxy not
 *   running, or `haproxy.socket` not its `stats socket`).
 */
export type HostErrorCode =
  | 'HOST_UNREACHABLE'
  | 'HOST_AUTH_REFUSED'
  | 'HOST_KEY_UNKNOWN'
  | 'HOST_KEY_MISMATCH'
  | 'HOST_SSH_FAILED'
  | 'HOST_CONNECTION_LOST'
  | 'HOST_COMMAND_TIMEOUT'
  | 'HOST_UPLOAD_FAILED'
  | 'HAPROXY_UNREACHABLE';

/**
 * A failure on one host, reached over SSH. The message starts with the host as `address:port` and says
 * why; `hint` says what to do. Neither ever holds a key or a passphrase.
 */
export class HostError extends CutoverError {
  declare readonly code: HostErrorCode;

  constructor(
    code: HostErrorCode,
    /** `address:port`, as the message names it. */
    readonly host: string,
    message: string,
    hint?: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, hint, options);
  }
}

/** How messages name a host: `address:port`, IPv6 addresses in brackets. */
export function hostLabel(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
