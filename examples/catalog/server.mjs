// The demo artifact `catalog`: one instance of one version. cutover gives it PORT and VERSION.
// Version `broken` starts and listens, but its health endpoint answers 500.
import http from 'node:http';

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
const version = process.env.VERSION ?? 'dev';

const server = http.createServer((req, res) => {
  if (req.url === '/health') {
    const healthy = version !== 'broken';
    res.writeHead(healthy ? 200 : 500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ healthy, version }));
    return;
  }
  const body = JSON.stringify({ service: 'catalog', version, port, pid: process.pid, path: req.url });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.keepAliveTimeout = 70_000;
server.listen(port, host);

// Finish requests in flight, then exit: what a well-behaved instance does when its fleet is retired.
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 10_000).unref();
});
