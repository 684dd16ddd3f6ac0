import net from 'node:net';

/**
 * HAProxy's runtime API (the "stats socket", level admin), one connection per batch: the commands go
 * out `;`-separated on one line, HAProxy runs them in order, answers, and closes the connection. Most
 * commands end their answer with an empty line, but not all (2.6's `del server` does not), so the answer
 * comes back whole; a batch that must be read back ends with `show stat`, whose answer is found by its
 * header (parseStat in ../haproxy/stat.ts). A batch is not one atomic step: requests arriving meanwhile may see the state
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
