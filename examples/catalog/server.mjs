// The demo artifact `catalog`: one instance of one version. cutover gives it PORT and VERSION.
// Demo versions that misbehave on purpose, to try (and test) what cutover does about it:
// - `broken` starts and listens, but its health endpoint answers 500;
// - `warming` answers 503 for its first 1.5 s, as a service that loads caches before it serves;
// - `sour` passes its first 3 health checks, then answers 500: it fails while it takes traffic;
// - `flaky` stays healthy but answers 500 to every 5th other request (20%), counted per instance so that
//   tests know exactly how many failed: what only an error-rate check on the traffic can catch.
import http from 'node:http';

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
const version = process.env.VERSION ?? 'dev';
const startedAt = Date.now();
let healthChecks = 0;
let served = 0;

function healthStatus() {
  healthChecks++;
  if (version === 'broken') return 500;
  if (version === 'warming' && Date.now() - startedAt < 1500) return 503;
  if (version === 'sour' && healthChecks > 3) return 500;
  return 200;
}

const server = http.createServer((req, res) => {
  if (req.url === '/health') {
    const status = healthStatus();
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ healthy: status === 200, version }));
    return;
  }
  served++;
  if (version === 'flaky' && served % 5 === 0) {
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'flaky on purpose', version }));
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
