import type { Timeline } from './timeline.js';

/**
 * One self-contained HTML page for a deployment: inline CSS and SVG, no script and nothing fetched from
 * the network, so it opens from a CI artifact anywhere. The numbers are also in `data-` attributes, for
 * tests and scripts to read.
 */
export function reportHtml(t: Timeline, about: { artifact: string; environment: string }): string {
  const span = Math.max(t.endedAt - t.startedAt, 1000);
  const width = 1000;
  // Room on the left for the checks' names, and above the chart for one legend line a series.
  const left = 110;
  const right = 20;
  const chartTop = 24 + 16 * new Set(t.weights.flatMap((w) => Object.keys(w.shares))).size;
  const chartHeight = 180;
  const x = (at: number) => left + ((at - t.startedAt) / span) * (width - left - right);
  const y = (weight: number) => chartTop + chartHeight - (weight / 100) * chartHeight;
  const seconds = (at: number) => `${((at - t.startedAt) / 1000).toFixed(1)}s`;

  const labels = [...new Set(t.weights.flatMap((w) => Object.keys(w.shares)))];
  const others = ['#6a1b9a', '#ef6c00', '#00838f'];
  // Green is drawn green and blue blue, whichever changed first; any other fleet gets its own colour.
  const colorOf = (label: string, i: number) =>
    label.startsWith('green')
      ? '#2e7d32'
      : label.startsWith('blue')
        ? '#1565c0'
        : (others[i % others.length] ?? '#000');
  const series = labels.map((label, i) => {
    // Each share holds until the next change: a step line, ending at the deployment's end.
    const points: [number, number][] = [];
    for (const [index, change] of t.weights.entries()) {
      const share = change.shares[label] ?? 0;
      const next = t.weights[index + 1]?.at ?? t.endedAt;
      points.push([change.at, share], [next, share]);
    }
    const path = points.map(([at, w]) => `${x(at).toFixed(1)},${y(w).toFixed(1)}`).join(' ');
    const data = t.weights.map((w) => `${w.at}:${w.shares[label] ?? 0}`).join(';');
    const color = colorOf(label, i);
    return `<polyline class="series" fill="none" stroke="${color}" stroke-width="3" points="${path}" data-series="${esc(label)}" data-points="${data}"><title>${esc(label)}</title></polyline>
      <text x="${width - right}" y="${16 + 16 * i}" text-anchor="end" fill="${color}" font-size="13">${esc(label)}</text>`;
  });

  const phaseLines = t.phases.map(
    (p) =>
      `<line x1="${x(p.at).toFixed(1)}" x2="${x(p.at).toFixed(1)}" y1="${chartTop}" y2="${chartTop + chartHeight}" class="phase ${p.phase === 'failed' || p.phase === 'rolling-back' ? 'bad' : ''}" data-phase="${esc(p.phase)}" data-at="${p.at}"><title>${esc(p.phase)} at ${seconds(p.at)}</title></line>`,
  );

  // Each moment a labelled flag above the chart's top edge, so it reads apart from the phases' lines.
  const momentMarks = t.moments.map((m) => {
    const at = x(m.at).toFixed(1);
    const words = momentWords(m);
    return `<g class="moment" data-moment="${esc(m.kind)}" data-at="${m.at}"${m.by ? ` data-by="${esc(m.by)}"` : ''}><line x1="${at}" x2="${at}" y1="${chartTop - 6}" y2="${chartTop + chartHeight}"/><path d="M${at},${chartTop - 6} l7,-5 l-7,-5 z"/><title>${esc(`${words} at ${seconds(m.at)}`)}</title></g>`;
  });

  const checkNames = [...new Set(t.checks.map((c) => c.check))];
  const rowsTop = chartTop + chartHeight + 40;
  const rowHeight = 56;
  // Each check its own strip: a reading with a number sits at its height against the dashed threshold
  // (the strip's scale reaches 1.25 times the larger of the two); one without, on the middle line.
  const checkRows = checkNames.map((name, row) => {
    const top = rowsTop + row * rowHeight;
    const readings = t.checks.filter((c) => c.check === name);
    const scaleTop = Math.max(...readings.flatMap((c) => [c.value ?? 0, c.threshold ?? 0]), 0) * 1.25 || 1;
    const at = (value: number | undefined) =>
      value === undefined
        ? top + rowHeight / 2 - 6
        : top + rowHeight - 12 - (value / scaleTop) * (rowHeight - 18);
    const threshold = readings.find((c) => c.threshold !== undefined)?.threshold;
    const limit =
      threshold === undefined
        ? ''
        : `<line class="threshold" x1="${left}" x2="${width - right}" y1="${at(threshold).toFixed(1)}" y2="${at(threshold).toFixed(1)}" data-check="${esc(name)}" data-threshold="${threshold}"><title>${esc(`${name} threshold ${threshold}`)}</title></line>`;
    const dots = readings.map(
      (c) =>
        `<circle cx="${x(c.at).toFixed(1)}" cy="${at(c.value).toFixed(1)}" r="5" class="reading ${esc(c.outcome)}" data-check="${esc(name)}" data-at="${c.at}" data-outcome="${esc(c.outcome)}"${c.value !== undefined ? ` data-value="${c.value}"` : ''}${c.threshold !== undefined ? ` data-threshold="${c.threshold}"` : ''} data-detail="${esc(c.detail)}"><title>${esc(`${name} ${c.outcome} at ${seconds(c.at)}: ${c.detail}`)}</title></circle>`,
    );
    return `<text x="${left - 8}" y="${top + rowHeight / 2 - 2}" text-anchor="end" font-size="12">${esc(name)}</text>${limit}${dots.join('')}`;
  });
  // Where a check counts requests (the probe, the error rate), a strip of its successes and failures:
  // one bar a reading, as tall as the requests it counted (scaled to the check's busiest reading), red
  // for the failed ones below green for the rest.
  const countedNames = checkNames.filter((name) => t.checks.some((c) => c.check === name && c.counted));
  const countTop = rowsTop + checkNames.length * rowHeight;
  const countRows = countedNames.map((name, row) => {
    const top = countTop + row * rowHeight;
    const readings = t.checks.filter((c) => c.check === name && c.counted);
    const most = Math.max(...readings.map((c) => c.counted?.requests ?? 0), 1);
    const base = top + rowHeight - 8;
    const tall = (n: number) => (n / most) * (rowHeight - 16);
    const bars = readings.map((c) => {
      const { requests, failed } = c.counted ?? { requests: 0, failed: 0 };
      const cx = x(c.at) - 3;
      const bad = tall(failed);
      const good = tall(requests - failed);
      return `<g class="counted" data-check="${esc(name)}" data-at="${c.at}" data-requests="${requests}" data-failed="${failed}"><rect class="ok" x="${cx.toFixed(1)}" y="${(base - bad - good).toFixed(1)}" width="6" height="${good.toFixed(1)}"/><rect class="failed" x="${cx.toFixed(1)}" y="${(base - bad).toFixed(1)}" width="6" height="${bad.toFixed(1)}"/><title>${esc(`${name} at ${seconds(c.at)}: ${requests - failed} succeeded, ${failed} failed`)}</title></g>`;
    });
    return `<text x="${left - 8}" y="${top + rowHeight / 2 - 2}" text-anchor="end" font-size="12">${esc(name)}</text><text x="${left - 8}" y="${top + rowHeight / 2 + 12}" text-anchor="end" font-size="11" fill="#555">requests</text><line class="axis" x1="${left}" x2="${width - right}" y1="${base}" y2="${base}"/>${bars.join('')}`;
  });
  const height = countTop + Math.max(countedNames.length, checkNames.length === 0 ? 1 : 0) * rowHeight + 10;

  const fromTarget =
    t.source === 'target'
      ? `<p class="note" data-source="target"${t.now ? ` data-role="${esc(t.now.role)}" data-share="${t.now.share}"` : ''}><strong>This runner has no journal of this deployment.</strong> What the target still holds is shown: who launched which version, and when${t.now ? `; its fleet is ${esc(t.now.role)} and takes ${t.now.share}% of traffic now` : '; its fleet is gone, so how it ended is unknown'}. Its traffic over time, its checks' readings and what failed were recorded by the runner that ran it: run the report there, or keep that runner's state folder.</p>`
      : '';
  const failure = t.reason
    ? `<p class="failure" data-reason="${esc(t.reason)}"><strong>${t.result === 'failed' ? 'Failed' : esc(t.result.charAt(0).toUpperCase() + t.result.slice(1))}${t.failedIn ? ` while ${esc(t.failedIn)}` : ''}:</strong> ${esc(t.reason)}</p>`
    : '';
  // Phases and moments in one list, in the order they happened.
  const happened = [
    ...t.phases.map((p) => ({
      at: p.at,
      html: `<li data-phase="${esc(p.phase)}" data-at="${p.at}"><b>${seconds(p.at)}</b> ${esc(p.phase)}</li>`,
    })),
    ...t.moments.map((m) => ({
      at: m.at,
      html: `<li class="moment" data-moment="${esc(m.kind)}" data-at="${m.at}"><b>${seconds(m.at)}</b> ${esc(momentWords(m))}</li>`,
    })),
  ];
  const phaseList = happened
    .sort((a, b) => a.at - b.at)
    .map((h) => h.html)
    .join('');

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cutover ${esc(t.kind)} ${esc(t.version ?? '')} (${esc(t.deployment)}): ${esc(t.result)}</title>
<style>
  body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1040px; padding: 16px; color: #1b1b1b; }
  h1 { font-size: 1.3em; margin: 0 0 4px; overflow-wrap: anywhere; }
  .meta { color: #555; margin: 0 0 12px; overflow-wrap: anywhere; }
  .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; background: #555; }
  .badge.succeeded { background: #2e7d32; } .badge.failed, .badge.interrupted, .badge.closed { background: #c62828; }
  .note { border-left: 4px solid #1565c0; background: #e3f2fd; padding: 8px 12px; }
  .failure { border-left: 4px solid #c62828; background: #fdecea; padding: 8px 12px; overflow-wrap: anywhere; }
  svg { width: 100%; height: auto; display: block; }
  .axis { stroke: #999; } .grid { stroke: #eee; }
  .phase { stroke: #90a4ae; stroke-dasharray: 4 3; } .phase.bad { stroke: #c62828; }
  .threshold { stroke: #c62828; stroke-dasharray: 6 4; opacity: 0.6; }
  .counted .ok { fill: #81c784; } .counted .failed { fill: #c62828; }
  .reading.pass { fill: #2e7d32; } .reading.fail { fill: #c62828; } .reading.inconclusive { fill: #9e9e9e; }
  .moment line { stroke: #ef6c00; stroke-width: 2; } .moment path { fill: #ef6c00; } li.moment { color: #b34700; }
  ol.phases { columns: 2 14em; padding-left: 1.2em; }
</style>
</head>
<body data-source="${t.source}" data-deployment="${esc(t.deployment)}" data-result="${esc(t.result)}" data-started="${t.startedAt}" data-ended="${t.endedAt}">
<h1>${esc(about.artifact)} in ${esc(about.environment)}: ${esc(t.kind)} ${esc(t.version ?? '')} <span class="badge ${esc(t.result)}">${esc(t.result)}</span></h1>
<p class="meta">${esc(t.deployment)} · started ${new Date(t.startedAt).toISOString()}${t.by ? ` by ${esc(t.by)}` : ''} · ${seconds(t.endedAt)}${t.strategy ? ` · ${esc(t.strategy)}` : ''}</p>
${fromTarget}${failure}
<svg viewBox="0 0 ${width} ${height}" role="img" aria-label="traffic share of each fleet over time, with the phases and the checks' readings">
  <line class="grid" x1="${left}" x2="${width - right}" y1="${y(50)}" y2="${y(50)}"/>
  <line class="axis" x1="${left}" x2="${left}" y1="${chartTop}" y2="${chartTop + chartHeight}"/>
  <line class="axis" x1="${left}" x2="${width - right}" y1="${y(0)}" y2="${y(0)}"/>
  <text x="${left - 8}" y="${y(100) + 4}" text-anchor="end" font-size="12">100%</text>
  <text x="${left - 8}" y="${y(50) + 4}" text-anchor="end" font-size="12">50%</text>
  <text x="${left - 8}" y="${y(0) + 4}" text-anchor="end" font-size="12">0%</text>
  <text x="${left}" y="${y(0) + 16}" font-size="12">0s</text>
  <text x="${width - right}" y="${y(0) + 16}" text-anchor="end" font-size="12">${seconds(t.startedAt + span)}</text>
  ${phaseLines.join('\n  ')}
  ${momentMarks.join('\n  ')}
  ${series.join('\n  ')}
  ${checkRows.join('\n  ')}
  ${countRows.join('\n  ')}
</svg>
<h2>What happened</h2>
<ol class="phases">${phaseList}</ol>
</body>
</html>
`;
}

const momentNames: Record<string, string> = {
  promote: 'promoted',
  'promote-full': 'promoted to 100%',
  pause: 'paused',
  resume: 'resumed',
  abort: 'aborted',
  'approval-timeout': 'approval gate timed out',
};

function momentWords(m: { kind: string; by: string | null }): string {
  return `${momentNames[m.kind] ?? m.kind}${m.by ? ` by ${m.by}` : ''}`;
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
