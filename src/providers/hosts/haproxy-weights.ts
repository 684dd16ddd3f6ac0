/**
 * Weights on HAProxy's runtime API. A fleet's share of traffic is the weight of each of its servers
 * (every fleet has one server a host, so equal weights give exact shares; HAProxy takes 0–256). A change
 * is one batch, raising before lowering, so that no moment of it has every server at 0.
 */

/** Server name → weight. */
export type ServerWeights = Record<string, number>;

/** The commands that take the backend from `now` to `next`: raises first, then lowers, in one line. */
export function weightBatch(backend: string, now: ServerWeights, next: ServerWeights): string {
  // Only cutover's own servers (those in `next`): any other server in the backend is the user's.
  const names = Object.keys(next).sort();
  const change = (name: string) => (next[name] ?? 0) - (now[name] ?? 0);
  const raised = names.filter((n) => change(n) > 0);
  const lowered = names.filter((n) => change(n) < 0);
  return [...raised, ...lowered].map((n) => `set weight ${backend}/${n} ${next[n] ?? 0}`).join('; ');
}

/**
 * The weights of a backend's servers from `show servers state <backend>`: a version line, a `#` header
 * naming the columns, then one line a server. Columns are found by name, so added ones do not matter.
 */
export function parseServersState(text: string, backend: string): ServerWeights {
  return Object.fromEntries(
    Object.entries(parseServers(text, backend)).map(([name, server]) => [name, server.weight]),
  );
}

/**
 * Each server's weight and whether HAProxy's own checks hold it running (`srv_op_state` 2): HAProxy sends
 * nothing to a server it holds down, whatever its weight.
 */
export function parseServers(text: string, backend: string): Record<string, { weight: number; up: boolean }> {
  const lines = text.split('\n').map((l) => l.trim());
  const header = lines.find((l) => l.startsWith('#'));
  if (!header) throw new Error(`HAProxy's \`show servers state\` gave no header: ${text.slice(0, 200)}`);
  const columns = header.slice(1).trim().split(/\s+/);
  const at = (name: string) => {
    const index = columns.indexOf(name);
    if (index < 0) throw new Error(`HAProxy's \`show servers state\` has no ${name} column`);
    return index;
  };
  const [beName, srvName, weight, opState] = [
    at('be_name'),
    at('srv_name'),
    at('srv_uweight'),
    at('srv_op_state'),
  ];
  const servers: Record<string, { weight: number; up: boolean }> = {};
  for (const line of lines) {
    if (line === '' || line.startsWith('#') || /^\d+$/.test(line)) continue;
    const fields = line.split(/\s+/);
    if (fields[beName] !== backend) continue;
    const name = fields[srvName];
    const value = Number(fields[weight]);
    if (name !== undefined && Number.isInteger(value))
      servers[name] = { weight: value, up: fields[opState] === '2' };
  }
  return servers;
}
