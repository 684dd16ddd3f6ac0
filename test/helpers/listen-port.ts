import net from 'node:net';

/**
 * A free port for a router the test configures before anything binds it. Taken below Linux's ephemeral
 * range (32768–60999), because a port the kernel handed out and released is soon reused as the local
 * port of some outgoing connection (load and health checks of tests running alongside make thousands),
 * and the router's later bind then fails with EADDRINUSE.
 */
export async function freeListenPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await bindable(port)) return port;
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
