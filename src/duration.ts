const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `500ms`, `30s`, `10m`, `1h`, `1d`; a bare number is milliseconds. Returns undefined when malformed. */
export function parseDuration(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? text : undefined;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) return undefined;
  const [, amount, unit] = match;
  return Math.round(Number(amount) * (units[unit as string] ?? 1));
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
  return `${Math.floor(ms / 3_600_000)}h${Math.round((ms % 3_600_000) / 60_000)}m`;
}

/** As a config would say it: `1m`, `10s`, `1.5s`, `200ms`; the largest unit that needs at most one decimal. */
export function formatDurationSetting(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const amount = ms / (units[unit] as number);
    if (amount >= 1 && Math.abs(amount * 10 - Math.round(amount * 10)) < 1e-9)
      return `${Math.round(amount * 10) / 10}${unit}`;
  }
  return `${Math.round(ms)}ms`;
}
