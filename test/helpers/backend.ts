import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A real HTTP backend that answers with its name; `/slow` waits, POST echoes the body. */
export async function backend(name: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = () =>
        res
          .writeHead(200, { 'content-type': 'text/plain', 'x-backend': name })
          .end(`${name}${chunks.length ? ` ${Buffer.concat(chunks).toString()}` : ''}`);
      if (req.url === '/slow') setTimeout(reply, 300);
      else reply();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
