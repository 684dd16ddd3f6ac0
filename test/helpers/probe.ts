import http from 'node:http';
import net from 'node:net';
import { freePort } from '../../src/providers/local/processes.js';

export interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  bytes: number;
}

export interface Probe {
  url: string;
  /** What reached this backend, in order of arrival. */
  seen: Seen[];
  /** Requests received and not yet answered. */
  pending: () => number;
  /** Dies the way a crashed process does: stops listening and drops every connection, answered or not. */
  kill: () => void;
  close: () => Promise<void>;
}

/**
 * A real HTTP backend that records what reaches it and answers `{ name, headers, bytes }` as JSON, after
 * `delayMs` if given, with hop-by-hop headers of its own that a proxy must not pass on. `/early-hints`
 * sends a 103 first. An `Upgrade` request gets a 101 and then every byte echoed back.
 */
export async function probe(name: string, options: { delayMs?: number } = {}): Promise<Probe> {
  const seen: Seen[] = [];
  const sockets = new Set<net.Socket>();
  let pending = 0;
  const server = http.createServer((req, res) => {
    pending++;
    let bytes = 0;
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, bytes });
      const reply = () => {
        pending--;
        if (req.url === '/early-hints') res.writeEarlyHints({ link: '</app.css>; rel=preload; as=style' });
        res
          .writeHead(200, {
            'content-type': 'application/json',
            'x-backend': name,
            connection: 'keep-alive, X-Backend-Hop',
            'x-backend-hop': 'dropped by the router',
            'keep-alive': 'timeout=5',
          })
          .end(JSON.stringify({ name, headers: req.headers, bytes }));
      };
      if (options.delayMs) setTimeout(reply, options.delayMs);
      else reply();
    });
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, bytes: 0 });
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
    if (head.length) socket.write(head);
    socket.pipe(socket);
  });
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const url = await listen(server);
  const kill = () => {
    server.close();
    for (const socket of sockets) socket.destroy();
  };
  return {
    url,
    seen,
    pending: () => pending,
    kill,
    close: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** A server that accepts connections and drops each one as soon as a request starts to arrive on it. */
export async function dropping(): Promise<{
  url: string;
  connections: () => number;
  close: () => Promise<void>;
}> {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.once('data', () => socket.destroy());
  });
  const url = await listen(server);
  return {
    url,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

async function listen(server: net.Server): Promise<string> {
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return `http://127.0.0.1:${port}`;
}
