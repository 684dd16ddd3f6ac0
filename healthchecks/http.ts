import type { CheckTarget, Measurement, Probe } from './types.js';

export interface HttpCheckOptions {
  path: string;
  expectStatus: number;
  timeout: number;
}

/** An HTTP GET of the instance's health path; every outcome becomes a measurement, nothing throws. */
export function httpProbe(options: HttpCheckOptions, now: () => number = Date.now): Probe {
  return async (target: CheckTarget): Promise<Measurement> => {
    const url = new URL(options.path, target.url).toString();
    try {
      // Loaded by the first check, not by every command that builds the probe.
      const { default: got } = await import('got');
      const response = await got(url, {
        timeout: { request: options.timeout },
        retry: { limit: 0 },
        throwHttpErrors: false,
        followRedirect: false,
      });
      const passed = response.statusCode === options.expectStatus;
      return {
        instance: target.id,
        outcome: passed ? 'pass' : 'fail',
        ...(!passed && response.statusCode === 503 ? { notReady: true } : {}),
        detail: `GET ${options.path} answered ${response.statusCode}${passed ? '' : `, expected ${options.expectStatus}`}`,
        at: now(),
      };
    } catch (error) {
      const code = (error as { code?: string }).code;
      return {
        instance: target.id,
        outcome: 'error',
        ...(code === 'ECONNREFUSED' ? { notReady: true } : {}),
        detail: `GET ${options.path} failed: ${code ?? (error as Error).message}`,
        at: now(),
      };
    }
  };
}
