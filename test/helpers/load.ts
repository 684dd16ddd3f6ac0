import { Agent as HttpAgent, request } from 'undici';

export interface LoadResult {
  ok: number;
  failed: number;
  /** The first few failures, for the assertion message. */
  samples: string[];
  /** When each failure happened (ms since the load started): an outage shows as a run of them. */
  failedAt: number[];
}

/** Keep-alive GETs from `concurrency` loops until stopped, counting every answer that is not a 2xx. */
export function steadyLoad(url: string, concurrency = 10): { stop: () => Promise<LoadResult> } {
  const dispatcher = new HttpAgent({ connections: concurrency });
  const result: LoadResult = { ok: 0, failed: 0, samples: [], failedAt: [] };
  const started = Date.now();
  let running = true;
  const fail = (what: string) => {
    result.failed++;
    result.failedAt.push(Date.now() - started);
    if (result.samples.length < 5) result.samples.push(what);
  };
  const loop = async () => {
    while (running) {
      try {
        const response = await request(url, { dispatcher });
        await response.body.dump();
        if (response.statusCode >= 200 && response.statusCode < 300) result.ok++;
        else fail(`status ${response.statusCode}`);
      } catch (error) {
        fail((error as Error).message);
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  };
  const loops = Array.from({ length: concurrency }, loop);
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      await dispatcher.close();
      return result;
    },
  };
}

/**
 * Steady requests through the router until stopped from eight keep-alive loops; records the version of
 * every 200 and every other answer or error, in the order they came.
 */
export function versionedLoad(endpoint: string) {
  const dispatcher = new HttpAgent({ connections: 8 });
  const seen: string[] = [];
  const failures: string[] = [];
  let running = true;
  const loops = Array.from({ length: 8 }, async () => {
    while (running) {
      try {
        const response = await request(endpoint, { dispatcher });
        const text = await response.body.text();
        if (response.statusCode !== 200) failures.push(`${response.statusCode} ${text}`);
        else seen.push((JSON.parse(text) as { version: string }).version);
      } catch (error) {
        failures.push(String(error));
      }
    }
  });
  return {
    seen,
    failures,
    async stop() {
      running = false;
      await Promise.all(loops);
      await dispatcher.close();
    },
  };
}
