import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ControllerContext } from '../../src/controller/context.js';
import { deploy } from '../../src/controller/deploy.js';
import { recoverIfInterrupted } from '../../src/controller/recover.js';
import { rollback } from '../../src/controller/rollback.js';
import { DeploymentFailed } from '../../src/errors.js';
import { Journal, terminalPhases } from '../../src/state/journal.js';
import { controllerHarness } from '../helpers/controller.js';
import type { Strategy } from '../../strategies/types.js';

/**
 * Model-based test: random sequences of what a team does in its first weeks (deploys good and bad,
 * rollbacks, aborts, --keep-failed, a controller killed at any call, rollback windows closing), run
 * against the real controller and a stateful target in virtual time. After every step the safety
 * invariants of the design must hold, and where the outcome is predictable, the live version must be the
 * one the model expects.
 */

class Killed extends Error {
  constructor() {
    super('controller killed');
  }
}

/** A journal that stops writing once the controller is "killed", as a dead process would. */
class KillableJournal extends Journal {
  dead = false;
  override record(...args: Parameters<Journal['record']>): void {
    if (this.dead) throw new Killed();
    super.record(...args);
  }
}

type Harness = ReturnType<typeof controllerHarness>;

interface Real {
  h: Harness;
  journal: KillableJournal;
  /** Set when a killed controller's journal has not been read by a later command yet. */
  interrupted: boolean;
  serial: number;
}

interface Model {
  live: string | undefined;
  standby: string | undefined;
  /** The standby's window, in virtual time. */
  standbyUntil: number | undefined;
  /** False after a kill: the next command's recovery decides, so the model resyncs from the target. */
  known: boolean;
  /** Once something served, traffic must never be left on nothing. */
  served: boolean;
}

const window = 3_600_000;

/** Versions say how they behave: `bad-*` fails its checks, `sour-*` fails during the bake. */
function behaviour(h: Harness): void {
  h.script((version, at) => {
    if (version.startsWith('bad')) return 'fail';
    if (version.startsWith('sour')) {
      const launched = h.target.fleets.find((f) => f.version === version)?.createdAt ?? at;
      return at - launched > 60_000 ? 'fail' : 'pass';
    }
    return 'pass';
  });
}

/** The context a fresh command gets: its own abort signal, the flags it was given. */
function contextFor(real: Real, extra: Partial<ControllerContext> = {}): ControllerContext {
  return { ...real.h.ctx, journal: real.journal, signal: new AbortController().signal, ...extra };
}

/** What the CLI does before every deploy or rollback: finish or undo an interrupted one. */
async function startCommand(real: Real, ctx: ControllerContext): Promise<void> {
  real.journal.dead = false;
  real.h.target.beforeCall = () => {};
  await recoverIfInterrupted(ctx);
  real.interrupted = false;
}

function resync(model: Model, real: Real): void {
  const { target } = real.h;
  const standby = target.fleets
    .filter((f) => f.role === 'standby' && !(target.weights[f.id] ?? 0))
    .sort((a, b) => b.createdAt - a.createdAt)[0];
  model.live = target.liveVersion();
  model.standby = standby?.version;
  model.standbyUntil = standby?.standbyUntil;
  model.known = !real.interrupted;
  if (model.live) model.served = true;
}

function checkInvariants(model: Model, real: Real): void {
  const { target } = real.h;
  const shares = Object.entries(target.weights).filter(([, w]) => w > 0);
  for (const [id] of shares) {
    const fleet = target.fleets.find((f) => f.id === id);
    expect(fleet, `traffic on fleet ${id}, which does not exist`).toBeDefined();
    expect(fleet?.role, `traffic on ${fleet?.version}, which is ${fleet?.role}`).not.toMatch(
      /failed|retiring/,
    );
    expect(fleet?.instances.some((i) => i.up !== false)).toBe(true);
  }
  if (shares.length > 0) expect(shares.reduce((s, [, w]) => s + w, 0)).toBe(100);
  if (model.served)
    expect(shares.length, 'traffic left on nothing after something served').toBeGreaterThan(0);
  for (const standby of target.fleets.filter((f) => f.role === 'standby')) {
    expect(standby.instances.length).toBeGreaterThan(0);
    expect(standby.standbyUntil, `standby ${standby.version} has no window`).toBeGreaterThan(0);
    expect(target.weights[standby.id] ?? 0).toBe(0);
  }
  const settled = !real.interrupted && terminalPhases.has(real.journal.latest()?.phase ?? 'succeeded');
  if (settled) {
    const serving = target.fleets.filter((f) => f.role !== 'failed');
    expect(
      serving.length,
      `fleets: ${serving.map((f) => `${f.version}/${f.role}`).join(', ')}`,
    ).toBeLessThanOrEqual(2);
  }
  if (model.known) {
    expect(target.liveVersion()).toBe(model.live);
    const standby = target.fleets
      .filter((f) => f.role === 'standby')
      .sort((a, b) => b.createdAt - a.createdAt)[0];
    expect(standby?.version).toBe(model.standby);
  }
}

class Deploy implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly kind: 'good' | 'bad' | 'sour',
    readonly keepFailed: boolean,
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const version = `${this.kind}-${++real.serial}`;
    const ctx = contextFor(real, { keepFailed: this.keepFailed });
    await startCommand(real, ctx);
    if (!model.known) resync(model, real);
    try {
      await deploy(ctx, { deployment: `d-${real.serial}`, version });
      expect(this.kind).toBe('good');
      // The fleet green replaced is the standby now; an older standby is gone.
      model.standby = model.live;
      model.standbyUntil = model.live ? real.h.clock.now() + window : undefined;
      model.live = version;
      model.served = true;
    } catch (error) {
      expect(error).toBeInstanceOf(DeploymentFailed);
      expect(this.kind).not.toBe('good');
      if (real.h.target.standbyGivesWay) model.standby = undefined;
    }
    checkInvariants(model, real);
  }
  toString = () => `deploy ${this.kind}${this.keepFailed ? ' --keep-failed' : ''}`;
}

class AbortInBake implements fc.AsyncCommand<Model, Real> {
  constructor(readonly keepFailed: boolean) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const abort = new AbortController();
    const ctx = contextFor(real, { keepFailed: this.keepFailed, signal: abort.signal });
    await startCommand(real, ctx);
    if (!model.known) resync(model, real);
    const stop = (e: { code: string }) => {
      if (e.code === 'bake.started') abort.abort(new DeploymentFailed('ABORTED', 'aborted'));
    };
    real.h.ctx.events.subscribe(stop);
    await expect(
      deploy(ctx, { deployment: `d-${++real.serial}`, version: `good-${real.serial}` }),
    ).rejects.toMatchObject({ code: 'ABORTED' });
    if (real.h.target.standbyGivesWay) model.standby = undefined;
    checkInvariants(model, real);
  }
  toString = () => `deploy, aborted in its bake${this.keepFailed ? ' --keep-failed' : ''}`;
}

class Rollback implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const ctx = contextFor(real);
    await startCommand(real, ctx);
    if (!model.known) resync(model, real);
    try {
      await rollback(ctx, `r-${++real.serial}`, () => 'deploy again');
      expect(model.standby).toBeDefined();
      const wasLive = model.live;
      model.live = model.standby;
      model.standby = wasLive;
      model.standbyUntil = wasLive ? real.h.clock.now() + window : undefined;
    } catch (error) {
      expect(error).toMatchObject({ code: 'NO_STANDBY' });
      expect(model.standby).toBeUndefined();
    }
    checkInvariants(model, real);
  }
  toString = () => 'rollback';
}

/** A controller killed (SIGKILL) just before its nth change to the target: nothing after it happens. */
class KilledDeploy implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly at: number,
    readonly kind: 'good' | 'sour',
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const ctx = contextFor(real);
    await startCommand(real, ctx);
    if (!model.known) resync(model, real);
    let calls = 0;
    real.h.target.beforeCall = () => {
      if (++calls < this.at) return;
      real.journal.dead = true;
      throw new Killed();
    };
    try {
      await deploy(ctx, { deployment: `d-${++real.serial}`, version: `${this.kind}-${real.serial}` });
      real.h.target.beforeCall = () => {};
      if (this.kind === 'good') resync(model, real);
    } catch {
      real.interrupted = real.journal.dead;
      model.known = false;
      // The kill itself must leave traffic where the invariants allow, even before any recovery.
    }
    real.h.target.beforeCall = () => {};
    checkInvariants(model, real);
  }
  toString = () => `deploy ${this.kind}, killed before change ${this.at}`;
}

/** Time passes; the target retires a standby whose window closed, as the local agent does. */
class Wait implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    real.h.clock.advance(this.ms);
    real.h.target.retireExpiredStandbys();
    if (model.known && model.standbyUntil !== undefined && model.standbyUntil <= real.h.clock.now()) {
      model.standby = undefined;
      model.standbyUntil = undefined;
    }
    checkInvariants(model, real);
  }
  toString = () => `wait ${Math.round(this.ms / 60_000)} min`;
}

const commands = [
  fc
    .constantFrom<'good' | 'bad' | 'sour'>('good', 'good', 'bad', 'sour')
    .chain((kind) => fc.boolean().map((keep) => new Deploy(kind, keep))),
  fc.boolean().map((keep) => new AbortInBake(keep)),
  fc.constant(new Rollback()),
  fc
    .tuple(fc.integer({ min: 1, max: 8 }), fc.constantFrom<'good' | 'sour'>('good', 'sour'))
    .map(([at, kind]) => new KilledDeploy(at, kind)),
  fc.integer({ min: 60_000, max: 2 * window }).map((ms) => new Wait(ms)),
];

/** Progressive strategies too: a kill or a failure mid-step leaves traffic split between blue and green. */
const strategies = fc.constantFrom<Strategy>(
  { name: 'all-at-once' },
  { name: 'canary', steps: [10, 50, 100], stepBake: 60_000 },
  { name: 'linear', step: 25, interval: 30_000 },
);

describe.each([
  ['the standby stays until green is live (local)', false],
  ['green takes the standby place (aws)', true],
])('any sequence of commands and faults: %s', (_label, standbyGivesWay) => {
  it('keeps traffic on existing, healthy, non-failed fleets, never on nothing once served, the standby guarded', async () => {
    await fc.assert(
      fc.asyncProperty(strategies, fc.commands(commands, { maxCommands: 25 }), async (strategy, cmds) => {
        const h = controllerHarness({ rollbackWindow: window, strategy });
        h.target.standbyGivesWay = standbyGivesWay;
        behaviour(h);
        // The target acts in the background whenever time passes, as the agent does mid-deploy.
        const sleep = h.clock.sleep.bind(h.clock);
        h.clock.sleep = async (ms, signal) => {
          await sleep(ms, signal);
          h.target.retireExpiredStandbys();
        };
        const real: Real = {
          h,
          journal: new KillableJournal(h.stateDir, 'test', 'catalog'),
          interrupted: false,
          serial: 0,
        };
        const model: Model = {
          live: undefined,
          standby: undefined,
          standbyUntil: undefined,
          known: true,
          served: false,
        };
        try {
          await fc.asyncModelRun(() => ({ model, real }), cmds);
        } finally {
          h.cleanup();
        }
      }),
      { numRuns: 100 },
    );
  }, 120_000);
});
