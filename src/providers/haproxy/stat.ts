/**
 * HAProxy's `show stat` (CSV), as both targets that drive HAProxy read it: the local target's
 * `router: haproxy` over its own socket, the hosts target over SSH. Only the text is handled here, so
 * that neither target imports the other's folder.
 */

export class StatParseError extends Error {}

/** One row of `show stat`: its columns by name, all as text. */
export type StatRow = Record<string, string>;

/** Where the last `show stat` answer in `answer` begins (its `# pxname,` header), or -1. */
function statHeader(answer: string): number {
  if (answer.startsWith('# pxname,')) return 0;
  const at = answer.lastIndexOf('\n# pxname,');
  return at < 0 ? -1 : at + 1;
}

/**
 * The rows of the last `show stat` in an answer (the CSV up to its closing empty line). A batch of
 * runtime commands that ends with `show stat` answers the others first: the header finds where it starts.
 */
export function parseStat(answer: string): StatRow[] {
  const at = statHeader(answer);
  if (at < 0) throw new StatParseError(`no show stat answer in ${JSON.stringify(answer.slice(0, 300))}`);
  const [header = '', ...lines] = answer.slice(at).split('\n');
  const end = lines.indexOf('');
  const columns = header.slice(2).split(',');
  return (end < 0 ? lines : lines.slice(0, end)).map((line) => {
    const values = line.split(',');
    return Object.fromEntries(columns.map((name, i) => [name, values[i] ?? '']));
  });
}

/** What a batch said before the `show stat` that ends it: HAProxy's messages, one a line. */
export function messagesBeforeStat(answer: string): string[] {
  const header = statHeader(answer);
  return (header < 0 ? answer : answer.slice(0, header)).split('\n').filter((line) => line.trim() !== '');
}

export const num = (row: StatRow, column: string): number => Number(row[column] || 0);

/** The rows of one backend's servers: neither its BACKEND nor a FRONTEND summary row. */
export function serverRows(rows: StatRow[], backend: string): StatRow[] {
  return rows.filter(
    (row) => row.pxname === backend && row.svname !== 'BACKEND' && row.svname !== 'FRONTEND',
  );
}

/** What one server answered for, cumulatively since it was created (or HAProxy started): see `counted`. */
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
