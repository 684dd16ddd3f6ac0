import type { Journal } from '../state/journal.js';

/** The newest version that was live before `liveVersion`: what a user would redeploy to go back. */
export function previousVersion(journal: Journal, liveVersion: string | undefined): string | undefined {
  return journal
    .deployments()
    .filter((d) => d.phase === 'succeeded' && d.version !== undefined && d.version !== liveVersion)
    .at(-1)?.version;
}
