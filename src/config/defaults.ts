/** Every default in one place, so that a reader finds what an omitted key means. */
export const defaults = {
  configFile: 'cutover.config.yaml',
  stateDir: '.cutover',
  notifyFlushTimeout: '10s',
  capacity: 2,
  strategy: 'all-at-once',
  bake: '5s',
  rollbackWindow: '1h',
  healthCheck: {
    path: '/health',
    expectStatus: 200,
    timeout: '2s',
    interval: '1s',
    healthyThreshold: 2,
    unhealthyThreshold: 2,
    readyTimeout: '60s',
  },
  /** `checks:` watch green while it takes traffic; absent, only the HTTP health checks do. */
  checks: {
    /** How often errorRate, alarms and webhook read. */
    interval: '10s',
    /** A check inconclusive this many windows in a row fails: inconclusive is never a pass. */
    inconclusiveLimit: 3,
    errorRate: { max: '1%', window: '1m', minRequests: 50 },
    webhook: { timeout: '5s' },
    /** About 5 requests a second, as a user would send them; any failure in a step fails it. */
    probe: { path: '/', interval: '200ms', maxFailures: 0, timeout: '2s' },
  },
  aws: {
    /** Peers saw 5xx when the old fleet was touched right after a weight change; the ALB needs a moment. */
    settle: '30s',
    /** How often to poll Auto Scaling and target health at first; polls back off from here. */
    pollEvery: '5s',
    pollMax: '30s',
  },
  local: {
    listen: '127.0.0.1:8080',
    /** cutover's own router; `haproxy` runs Debian's HAProxy in its place. */
    router: 'builtin',
    /** Loopback only unless asked: the router has no authentication, and a public one serves everyone. */
    listenPublic: false,
    /** How long the local router lets requests in flight on a retiring fleet finish before stopping it. */
    drainTimeout: '10s',
  },
} as const;
