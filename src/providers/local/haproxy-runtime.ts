import net from 'node:net';

/**
 * HAProxy's runtime API (the "stats socket", level admin), one connection per batch: the commands go
 * out `;`-separated on one line, HAProxy runs them in order, answers, and closes the connection. Most
 * commands end their answer with an empty line, but not all (2.6's `del server` does not), so the answer
 * comes back whole; a batch that must be read back ends with `show stat`, whose answer is found by its
 * header (parseStat). A batch is not one atomic step: requests arriving meanwhile may see the state
 * between two of its commands (haproxy-batch.ts orders them for that).
 */

export class RuntimeApiError extends Error {}

export async function runtimeCommands(socket: string, commands: string[], timeoutMs = 5000): Promise<string> {
  for (const command of commands) {
    // A `;` or a line break would split a command in two; names and addresses never hold one.
    if (/[;\r\n]/.test(command)) {
      throw new RuntimeApiError(`not one runtime command: ${JSON.stringify(command)}`);
    }
  }
  return new Promise<string>((resolve, reject) => {
    const connection = net.connect(socket);
    let out = '';
    connection.setEncoding('utf8');
    connection.setTimeout(timeoutMs, () =>
      connection.destroy(new RuntimeApiError(`HAProxy's runtime API did not answer within ${timeoutMs} ms`)),
    );
    connection.on('data', (chunk: string) => (out += chunk));
    connection.once('error', reject);
    connection.once('end', () => resolve(out));
    connection.once('connect', () => connection.end(`${commands.join('; ')}\n`));
  });
}

/** What a batch said before the `show stat` that ends it: HAProxy's messages, one a line. */
export function messagesBeforeStat(answer: string): string[] {
  const header = statHeader(answer);
  return (header < 0 ? answer : answer.slice(0, header)).split('\n').filter((line) => line.trim() !== '');
}

function statHeader(answer: string): number {
  if (answer.startsWith('# pxname,')) return 0;
  const at = answer.lastIndexOf('\n# pxname,');
  return at < 0 ? -1 : at + 1;
}

/** One row of `show stat` (CSV): its columns by name, all as text. */
export type StatRow = Record<string, string>;

/** The rows of the last `show stat` in an answer (the CSV up to its closing empty line). */
export function parseStat(answer: string): StatRow[] {
  const at = statHeader(answer);
  if (at < 0) throw new RuntimeApiError(`no show stat answer in ${JSON.stringify(answer.slice(0, 300))}`);
  const [header = '', ...lines] = answer.slice(at).split('\n');
  const end = lines.indexOf('');
  const columns = header.slice(2).split(',');
  return (end < 0 ? lines : lines.slice(0, end)).map((line) => {
    const values = line.split(',');
    return Object.fromEntries(columns.map((name, i) => [name, values[i] ?? '']));
  });
}

export const num = (row: StatRow, column: string): number => Number(row[column] || 0);

/** What one server answered for, cumulatively since it was created: see `counted`. */
export interface ServerCounts {
  requests: number;
  errors: number;
}

/**
 * The requests a server's instance answered or failed, and the failures among them, from its counters,
 * as the built-in router counts them. Responses the instance sent count by class (hrsp_*). A request
 * that ended in an error HAProxy wrote itself, after a refused connection (econ) or a lost or broken
 * response (eresp), is a request and an error, as the built-in router's own 502 is. An answer the
 * instance cut off after its status went out is in both its class and eresp (and srv_abrt): one request,
 * an error. Attempts that HAProxy retried on another server count there, on the one that answered.
 */
export function counted(row: StatRow): ServerCounts {
  const failed = num(row, 'econ') + num(row, 'eresp');
  const answered = ['hrsp_1xx', 'hrsp_2xx', 'hrsp_3xx', 'hrsp_4xx', 'hrsp_5xx', 'hrsp_other'].reduce(
    (sum, column) => sum + num(row, column),
    0,
  );
  const requests = answered + failed - num(row, 'srv_abrt');
  return { requests, errors: Math.min(requests, num(row, 'hrsp_5xx') + failed) };
}
