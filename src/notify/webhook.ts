import { createHmac, timingSafeEqual } from 'node:crypto';
import { postJson, SendError } from './http.js';
import type { Notification, Notifier, SendContext } from './notification.js';

/**
 * The generic webhook: the Notification document itself, as JSON, to any URL (docs/notifications.md is
 * its contract with receivers). The URL, the extra header values and the secret are all treated as
 * secrets: errors name the destination by host only.
 */

export interface WebhookOptions {
  name: string;
  url: string;
  /** Sent with every request, e.g. an Authorization the receiver wants. */
  headers?: Record<string, string>;
  /** Signs each body, so a receiver can tell cutover's requests from anyone's. */
  secret?: string;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  retryAfterCapMs?: number;
}

export const signatureHeader = 'X-Cutover-Signature';
export const eventHeader = 'X-Cutover-Event';
export const deliveryHeader = 'X-Cutover-Delivery';

/** Headers cutover sets itself: a configured one of these would garble the request or forge a signature. */
const reservedHeaders = new Set(
  ['content-type', 'content-length', signatureHeader, eventHeader, deliveryHeader].map((h) =>
    h.toLowerCase(),
  ),
);

/** `sha256=<hex>`, as GitHub's X-Hub-Signature-256, over the exact bytes sent (a string as UTF-8). */
export function signBody(body: string | Buffer, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * For receivers and tests. Compares in constant time, so a forger learns nothing from how long a
 * wrong guess took; the length check first is only because timingSafeEqual throws on unequal lengths,
 * and the length of a valid signature is public anyway.
 */
export function verifySignature(
  body: string | Buffer,
  header: string | string[] | undefined,
  secret: string,
): boolean {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return false;
  const expected = Buffer.from(signBody(body, secret), 'utf8');
  const given = Buffer.from(value.trim(), 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export class WebhookNotifier implements Notifier {
  readonly name: string;
  private readonly url: string;
  private readonly what: string;
  private readonly headers: Record<string, string>;
  private readonly secret: string | undefined;
  private readonly secrets: string[];

  constructor(private readonly options: WebhookOptions) {
    this.name = options.name;
    let parsed: URL;
    try {
      parsed = new URL(options.url);
    } catch {
      // Node's own error carries the input, which may be the secret.
      throw new Error(`${options.name}: the webhook url is not a valid URL`);
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      throw new Error(`${options.name}: the webhook url must be http(s), not ${parsed.protocol}`);
    }
    for (const [header, value] of Object.entries(options.headers ?? {})) {
      if (reservedHeaders.has(header.toLowerCase())) {
        throw new Error(`${options.name}: header ${header} is set by cutover and cannot be configured`);
      }
      // Node would refuse it on every attempt as a network error, retried until the deadline.
      if (/[\r\n\0]/.test(value)) {
        throw new Error(`${options.name}: header ${header} has a line break or NUL in its value`);
      }
    }
    this.url = options.url;
    this.what = `webhook ${parsed.host}`;
    this.headers = { ...options.headers };
    this.secret = options.secret === '' ? undefined : options.secret;
    this.secrets = secretsOf(parsed, options.url, Object.values(this.headers), this.secret);
  }

  async send(notification: Notification, context: SendContext): Promise<void> {
    const body = JSON.stringify(notification);
    const headers: Record<string, string> = {
      ...this.headers,
      [eventHeader]: notification.code,
      [deliveryHeader]: notification.id,
    };
    if (this.secret !== undefined) headers[signatureHeader] = signBody(body, this.secret);
    try {
      await postJson(this.url, body, {
        what: this.what,
        headers,
        deadline: context.deadline,
        signal: context.signal,
        minBackoffMs: this.options.minBackoffMs,
        maxBackoffMs: this.options.maxBackoffMs,
        retryAfterCapMs: this.options.retryAfterCapMs,
      });
    } catch (error) {
      // postJson quotes the receiver's answer, and a receiver may echo the request it was sent.
      if (error instanceof SendError) throw new SendError(this.redact(error.message), error.permanent);
      throw new SendError(`${this.what}: ${this.redact(String(error))}`, false);
    }
  }

  /** Keeps the leading `webhook <host>` whole: a path segment may well be a word of the host name. */
  private redact(message: string): string {
    if (!message.startsWith(this.what)) return redact(message, this.secrets);
    return `${this.what}${redact(message.slice(this.what.length), this.secrets)}`;
  }
}

/**
 * What must not appear in an error, longest first so a value is never left half-replaced. Parts of
 * header values count too (the token of `Bearer <token>`); parts shorter than 4 characters would
 * mangle ordinary words and hide nothing worth hiding.
 */
function secretsOf(url: URL, raw: string, headerValues: string[], secret: string | undefined): string[] {
  const candidates = [raw, url.href, `${url.pathname}${url.search}`, url.pathname, url.search, url.hash];
  candidates.push(...url.pathname.split('/'), url.username, url.password);
  candidates.push(decode(url.username), decode(url.password));
  for (const value of headerValues) candidates.push(value, ...value.split(/\s+/));
  if (secret !== undefined) candidates.push(secret);
  const kept = candidates.map((c) => c.trim()).filter((c) => c.length >= 4 && c !== '/');
  return [...new Set(kept)].sort((a, b) => b.length - a.length);
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

function redact(message: string, secrets: string[]): string {
  const whole = secrets.reduce((text, secret) => text.split(secret).join('[redacted]'), message);
  // postJson cuts a long answer at 200 characters with `…`, possibly in the middle of a secret.
  if (!whole.endsWith('…')) return whole;
  const head = whole.slice(0, -1);
  for (const secret of secrets) {
    for (let length = secret.length - 1; length >= 4; length--) {
      if (head.endsWith(secret.slice(0, length))) return `${head.slice(0, -length)}[redacted]…`;
    }
  }
  return whole;
}
