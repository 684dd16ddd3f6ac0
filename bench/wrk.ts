import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ensureInstalled } from './lib.js';

/**
 * wrk, driven from Node: wrk is a C load generator (one thread here by default), so it takes far less of
 * the machine's CPU than a Node one. Its results come from a Lua `done` hook that prints one JSON line,
 * not from its human-readable report.
 */

const marker = 'BENCH_JSON ';

// wrk's `done` hook: the summary and latency (microseconds), as one JSON line after wrk's own report.
const summaryLua = `
local threads = {}
function setup(thread) table.insert(threads, thread) end

function done(summary, latency, requests)
  local e = summary.errors
  local seen = {}
  for _, t in ipairs(threads) do
    local s = t:get("seen")
    if s then
      for i = 1, #s, 2 do table.insert(seen, string.format('["%s",%.0f]', s[i], s[i + 1])) end
    end
  end
  io.write(string.format(
    '\\n${marker}{"requests":%.0f,"durationUs":%.0f,"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,' ..
    '"timeout":%.0f,"p50Us":%.0f,"p99Us":%.0f,"maxUs":%.0f,"seen":[%s]}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, table.concat(seen, ",")))
end
`;

// Added for the switches: which version answered each 200, by wall-clock millisecond (LuaJIT's ffi,
// since wrk's Lua has no clock finer than a second).
const versionsLua = `
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_usec; } bench_timeval;
int gettimeofday(bench_timeval *tv, void *tz);
]]
local tv = ffi.new("bench_timeval")
-- Flat (version, ms, version, ms, ...): wrk's thread:get crashes copying nested tables.
seen = {}
local last = {}

function response(status, headers, body)
  if status ~= 200 then return end
  local version = body:match('"version":"([%w%._%-]+)"')
  if not version then return end
  ffi.C.gettimeofday(tv, nil)
  local ms = tonumber(tv.tv_sec) * 1000 + math.floor(tonumber(tv.tv_usec) / 1000)
  if last[version] ~= ms then
    last[version] = ms
    seen[#seen + 1] = version
    seen[#seen + 1] = ms
  end
end
`;

const reportSchema = z.object({
  requests: z.number(),
  durationUs: z.number(),
  connect: z.number(),
  read: z.number(),
  write: z.number(),
  status: z.number(),
  timeout: z.number(),
  p50Us: z.number(),
  p99Us: z.number(),
  maxUs: z.number(),
  seen: z.array(z.tuple([z.string(), z.number()])),
});

export interface WrkResult {
  /** Responses received (of any status). */
  requests: number;
  rps: number;
  /** wrk's "Non-2xx or 3xx responses" (it counts status ≥ 400). */
  non2xx: number;
  /** wrk's "Socket errors": connect, read, write, timeout. */
  socket: { connect: number; read: number; write: number; timeout: number };
  /** non-2xx plus every socket error: the requests that did not get a good answer. */
  failed: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** With `versions`: for each version, the wall-clock milliseconds (Date.now()) in which it answered a 200. */
  seen: Map<string, number[]>;
}

export interface WrkOptions {
  url: string;
  connections: number;
  /** Seconds; for a run ended by `stop()`, make it longer than the run can last. */
  seconds: number;
  threads?: number;
  timeoutSeconds?: number;
  /** Record which version answered (a JSON body with a "version" field); costs some throughput. */
  versions?: boolean;
}

export interface WrkRun {
  result: Promise<WrkResult>;
  /** Ends the run early (SIGINT: wrk stops, then reports what it measured so far). */
  stop(): void;
}

/** Starts one wrk run with keep-alive connections (wrk's only mode); `dir` holds its Lua scripts. */
export function wrk(dir: string, options: WrkOptions): WrkRun {
  const binary = ensureInstalled('wrk', 'wrk');
  const script = join(dir, options.versions ? 'wrk-versions.lua' : 'wrk-summary.lua');
  writeFileSync(script, options.versions ? versionsLua + summaryLua : summaryLua);
  const args = [
    `--threads=${options.threads ?? 1}`,
    `--connections=${options.connections}`,
    `--duration=${options.seconds}s`,
    `--timeout=${options.timeoutSeconds ?? 2}s`,
    `--script=${script}`,
    options.url,
  ];
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const result = new Promise<WrkResult>((done, fail) => {
    child.on('error', fail);
    child.on('close', (code, signal) => {
      const line = stdout.split('\n').find((l) => l.startsWith(marker));
      const parsed = line ? reportSchema.safeParse(JSON.parse(line.slice(marker.length))) : undefined;
      if (!parsed?.success) {
        fail(
          new Error(`wrk ${args.join(' ')} ended (${code ?? signal}) without a report:\n${stdout}${stderr}`),
        );
        return;
      }
      const r = parsed.data;
      const seen = new Map<string, number[]>();
      for (const [version, ms] of r.seen) {
        const times = seen.get(version) ?? [];
        times.push(ms);
        seen.set(version, times);
      }
      for (const times of seen.values()) times.sort((a, b) => a - b);
      done({
        requests: r.requests,
        rps: r.durationUs > 0 ? r.requests / (r.durationUs / 1e6) : 0,
        non2xx: r.status,
        socket: { connect: r.connect, read: r.read, write: r.write, timeout: r.timeout },
        failed: r.status + r.connect + r.read + r.write + r.timeout,
        latencyMs: { p50: r.p50Us / 1000, p99: r.p99Us / 1000, max: r.maxUs / 1000 },
        seen,
      });
    });
  });
  // Marked handled here so that a failure surfaces where the caller awaits it, not as an unhandled rejection.
  result.catch(() => {});
  return { result, stop: () => child.kill('SIGINT') };
}
