// The action's last step: reads the JSON document cutover printed, writes the step's outputs and a job
// summary, and exits with cutover's exit code. Plain JavaScript run by node, so the action needs no build
// and no jq (which not every runner has).
import { randomUUID } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';

const env = process.env;
const command = env.CUTOVER_COMMAND ?? '';
const exitCode = Number.parseInt(env.CUTOVER_EXIT_CODE ?? '', 10);
// Exit codes are whole numbers: anything else (`0x2`, `2x`) is said and ignored, not read as a number.
const okTokens = (env.CUTOVER_OK_EXIT_CODES ?? '0').split(/[\s,]+/).filter(Boolean);
for (const token of okTokens.filter((t) => !/^\d+$/.test(t))) {
  process.stdout.write(
    `::warning::ok-exit-codes: ${token.replace(/[\r\n%:]/g, ' ')} is not an exit code; ignored\n`,
  );
}
const okCodes = okTokens.filter((t) => /^\d+$/.test(t)).map(Number);

/** The one JSON document on stdout; a cutover without it (an older one, or a crash) printed none. */
function readDocument(file) {
  let text = '';
  try {
    text = file ? readFileSync(file, 'utf8') : '';
  } catch {
    return null;
  }
  const whole = parseObject(text.trim());
  if (whole) return whole;
  // Tolerates a line of text printed before the document: the last line that is an object is it.
  const lines = text.split('\n').filter((line) => line.trim().startsWith('{'));
  return lines.length ? parseObject(lines[lines.length - 1].trim()) : null;
}

function parseObject(text) {
  try {
    const value = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

const doc = readDocument(env.CUTOVER_STDOUT_FILE);
const str = (value) => (typeof value === 'string' ? value : '');
const result = str(doc?.result) || (Number.isNaN(exitCode) || exitCode !== 0 ? 'failed' : '');
const error = doc?.error && typeof doc.error === 'object' ? doc.error : null;

const outputs = {
  'deployment-id': str(doc?.deployment),
  result,
  'live-version': str(doc?.liveVersion),
  'exit-code': Number.isNaN(exitCode) ? '' : String(exitCode),
  'error-code': str(error?.code),
  json: doc ? JSON.stringify(doc, null, 2) : '',
};

// The delimiter form takes any value, several lines too; a random delimiter cannot occur in the value.
function outputLines(name, value) {
  if (!value.includes('\n') && !value.includes('\r')) return `${name}=${value}\n`;
  let delimiter = `ghadelimiter_${randomUUID()}`;
  while (value.includes(delimiter)) delimiter = `ghadelimiter_${randomUUID()}`;
  return `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
}

if (env.GITHUB_OUTPUT) {
  appendFileSync(
    env.GITHUB_OUTPUT,
    Object.entries(outputs)
      .map(([name, value]) => outputLines(name, value))
      .join(''),
  );
}

// Text from cutover or from the inputs, shown in Markdown: nothing in it may open a tag, a table cell or
// a code span.
const md = (value) =>
  String(value)
    .replace(/[\\`*_[\]<>|#&]/g, (c) => `\\${c}`)
    .replace(/\r\n|\r|\n/g, ' ');
// In a table a `|` ends the cell even inside a code span, unless escaped; GitHub shows `\|` as `|` there.
const code = (value) =>
  value
    ? `\`${String(value)
        .replace(/[`\r\n]/g, ' ')
        .replace(/\|/g, '\\|')}\``
    : '—';

function weights(value) {
  if (!value || typeof value !== 'object') return '—';
  const entries = Object.entries(value);
  return entries.length
    ? entries.map(([version, weight]) => `${code(version)} ${md(weight)}%`).join(', ')
    : '—';
}

function duration(ms) {
  if (typeof ms !== 'number') return '—';
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

const ok = exitCode === 0 || (!Number.isNaN(exitCode) && okCodes.includes(exitCode));
const succeeded = exitCode === 0;
const icon = succeeded ? '✅' : ok ? 'ℹ️' : '❌';
const lines = [
  `### ${icon} cutover ${md(command)}: ${md(result || 'no result')}`,
  '',
  '| | |',
  '| --- | --- |',
  `| artifact | ${code(doc?.artifact ?? env.CUTOVER_ARTIFACT)} |`,
  `| environment | ${code(doc?.environment ?? env.CUTOVER_ENVIRONMENT)} |`,
  `| deployment | ${code(outputs['deployment-id'])} |`,
  // A failed deploy's document may have no version: the one asked for is the one that failed.
  `| version | ${code(str(doc?.version) || env.CUTOVER_VERSION)} |`,
  `| live version | ${code(outputs['live-version'])} |`,
  `| weights | ${weights(doc?.weights)} |`,
  `| duration | ${duration(doc?.durationMs)} |`,
  `| exit code | ${md(outputs['exit-code'] || '—')} |`,
  '',
];
if (error) {
  // Only a failure moved anything: bad input and a held lock changed nothing, and say so in their words.
  const heading = { rejected: 'Rejected', locked: 'Locked' }[result] ?? 'Failed';
  lines.push(
    `**${heading}:** ${code(error.code)}${error.phase ? ` in ${code(error.phase)}` : ''}: ${md(str(error.reason))}`,
  );
  lines.push('');
  if (result === 'failed' && 'trafficOn' in error) {
    lines.push(error.trafficOn ? `Traffic is on ${code(error.trafficOn)}.` : 'No fleet takes traffic.');
    lines.push('');
  }
  if (error.hint) lines.push(`**Hint:** ${md(error.hint)}`, '');
}
// A failure's next step is often its hint, said once.
if (doc?.next && doc.next !== error?.hint) lines.push(`**Next:** ${md(doc.next)}`, '');
if (!doc) {
  lines.push(
    `cutover printed no JSON document (exit code ${md(outputs['exit-code'] || 'unknown')}): see the step's log.`,
    '',
  );
}

if (env.GITHUB_STEP_SUMMARY) appendFileSync(env.GITHUB_STEP_SUMMARY, `${lines.join('\n')}\n`);

// Workflow commands end at a newline, and `%` starts an escape: both are escaped, as @actions/core does.
const escapeData = (value) => String(value).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (value) => escapeData(value).replace(/:/g, '%3A').replace(/,/g, '%2C');
if (!ok) {
  const message = error
    ? `${str(error.code)}: ${str(error.reason)}${doc?.next ? `\nNext: ${str(doc.next)}` : ''}`
    : `exit code ${outputs['exit-code'] || 'unknown'}`;
  console.log(`::error title=${escapeProperty(`cutover ${command} ${result}`)}::${escapeData(message)}`);
}

process.exitCode = ok ? 0 : Number.isNaN(exitCode) || exitCode === 0 ? 1 : exitCode;
