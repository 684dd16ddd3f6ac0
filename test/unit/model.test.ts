import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ControllerContext } from '../../src/controller/context.js';
import { continueDeploy, deploy } from '../../src/controller/deploy.js';
import type { IntentKind } from '../../src/controller/intents.js';
import { findParked, isExpired, settleParked, undoParked } from '../../src/controller/parked.js';
import { FileIntents } from '../../src/state/intent-file.js';
import { recoverIfInterrupted } from '../../src/controller/recover.js';
import { rollback } from '../../src/controller/rollback.js';
import { DeploymentFailed } from '../../src/errors.js';
import { Journal, terminalPhases } from '../../src/state/journal.js';
import { controllerHarness } from '../helpers/controller.js';
import type { Strategy } from '../../strategies/types.js';

/**
 * Model-based test: random sequences of what a team does in its first weeks (deploys good and bad,
 * rollbacks, aborts, --keep-failed, a controller killed at any call, rollback windows closing, deploys
 * detached at an approval gate then promoted or left to expire, promote/pause/abort sent mid-deploy), run
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
  /** A deploy detached at its pre-traffic gate, and when that gate closes. */
  parked: { version: string; until: number } | undefined;
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
  return {
    ...real.h.ctx,
    journal: real.journal,
    intents: new FileIntents(real.h.stateDir, 'test', 'catalog'),
    signal: new AbortController().signal,
    ...extra,
  };
}

/**
 * What the CLI does before every deploy or rollback: finish or undo an interrupted one, and stop (exit
 * 3) at a deploy parked at its approval gate, or undo it once its gate has closed. False when it stopped.
 */
async function startCommand(real: Real, ctx: ControllerContext, model: Model): Promise<boolean> {
  real.journal.dead = false;
  real.h.target.beforeCall = () => {};
  await recoverIfInterrupted(ctx);
  real.interrupted = false;
  if (!model.known) resync(model, real);
  try {
    await settleParked(ctx);
  } catch (error) {
    expect(error).toMatchObject({ code: 'DEPLOY_AWAITING_APPROVAL' });
    expect(model.parked && model.parked.until > real.h.clock.now()).toBeTruthy();
    return false;
  }
  // A parked deploy whose gate is open holds the environment; only a closed gate is undone here.
  if (model.known && model.parked)
    expect(model.parked.until, 'an open gate was undone, not refused').toBeLessThanOrEqual(
      real.h.clock.now(),
    );
  model.parked = undefined;
  return true;
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
  const parked = target.fleets.find((f) => f.role === 'green');
  const record = parked && real.journal.deployments().find((d) => d.deployment === parked.deployment);
  model.parked =
    parked && record?.phase === 'awaiting-approval' && record.gateUntil !== undefined
      ? { version: parked.version, until: record.gateUntil }
      : undefined;
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
    if (!(await startCommand(real, ctx, model))) return checkInvariants(model, real);
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
    if (!(await startCommand(real, ctx, model))) return checkInvariants(model, real);
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
    if (!(await startCommand(real, ctx, model))) return checkInvariants(model, real);
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
    if (!(await startCommand(real, ctx, model))) return checkInvariants(model, real);
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

const preTrafficGate: Strategy = {
  name: 'canary',
  steps: [10, 100],
  stepBake: 60_000,
  approval: { atWeight: 0, timeout: 2 * 3_600_000, onTimeout: 'abort' },
};

/** `deploy --detach` at a pre-traffic gate: green checked, no traffic, left for promote or abort. */
class DetachedDeploy implements fc.AsyncCommand<Model, Real> {
  constructor(readonly kind: 'good' | 'bad' | 'sour') {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const ctx = contextFor(real, { strategy: preTrafficGate });
    if (!(await startCommand(real, ctx, model))) return checkInvariants(model, real);
    const version = `${this.kind}-${++real.serial}`;
    try {
      const result = await deploy(ctx, { deployment: `d-${real.serial}`, version, detach: true });
      expect(this.kind).not.toBe('bad');
      if (result.type === 'awaiting-approval') model.parked = { version, until: result.until };
    } catch (error) {
      expect(error).toBeInstanceOf(DeploymentFailed);
      expect(this.kind).toBe('bad');
    }
    if (real.h.target.standbyGivesWay) model.standby = undefined;
    checkInvariants(model, real);
  }
  toString = () => `deploy ${this.kind} --detach`;
}

/** `cutover promote` of a parked deploy: this process goes on with it (or undoes it if its gate closed). */
class PromoteParked implements fc.AsyncCommand<Model, Real> {
  constructor(readonly full: boolean) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const ctx = contextFor(real);
    real.journal.dead = false;
    await recoverIfInterrupted(ctx);
    real.interrupted = false;
    if (!model.known) resync(model, real);
    const parked = await findParked(ctx);
    if (model.known) expect(parked?.version).toBe(model.parked?.version);
    if (!parked) return checkInvariants(model, real);
    model.parked = undefined;
    if (isExpired(ctx, parked)) {
      await undoParked(ctx, parked, 'gate closed');
      return checkInvariants(model, real);
    }
    try {
      await continueDeploy(ctx, parked, this.full);
      expect(parked.version).toMatch(/^good/);
      model.standby = model.live;
      model.standbyUntil = model.live ? real.h.clock.now() + window : undefined;
      model.live = parked.version;
      model.served = true;
    } catch (error) {
      expect(error).toBeInstanceOf(DeploymentFailed);
      expect(parked.version).toMatch(/^sour/);
    }
    checkInvariants(model, real);
  }
  toString = () => `promote${this.full ? ' --full' : ''} the parked deploy`;
}

/** A request from another process reaches a running deploy of a good version as traffic first moves. */
class DeployWithRequest implements fc.AsyncCommand<Model, Real> {
  constructor(readonly request: 'promote-full' | 'pause-resume' | 'abort') {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const ctx = contextFor(real);
    if (!(await startCommand(real, ctx, model))) return checkInvariants(model, real);
    const deployment = `d-${++real.serial}`;
    const version = `good-${real.serial}`;
    const send = (kind: IntentKind) =>
      void ctx.intents?.send(deployment, {
        id: `${kind}-${real.serial}`,
        kind,
        at: real.h.clock.now(),
        by: 'model',
      });
    const listener = (e: { code: string }) => {
      if (e.code === 'traffic.shifted' && !sent) {
        sent = true;
        send(this.request === 'pause-resume' ? 'pause' : this.request);
      }
      if (e.code === 'shift.paused') send('resume');
    };
    let sent = false;
    real.h.ctx.events.subscribe(listener);
    try {
      await deploy(ctx, { deployment, version });
      expect(this.request).not.toBe('abort');
      model.standby = model.live;
      model.standbyUntil = model.live ? real.h.clock.now() + window : undefined;
      model.live = version;
      model.served = true;
    } catch (error) {
      expect(error).toMatchObject({ code: 'ABORTED' });
      expect(this.request).toBe('abort');
      if (real.h.target.standbyGivesWay) model.standby = undefined;
    }
    checkInvariants(model, real);
  }
  toString = () => `deploy good, with ${this.request} from another process`;
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
  fc
    .constantFrom<'good' | 'bad' | 'sour'>('good', 'good', 'bad', 'sour')
    .map((kind) => new DetachedDeploy(kind)),
  fc.boolean().map((full) => new PromoteParked(full)),
  fc
    .constantFrom<'promote-full' | 'pause-resume' | 'abort'>('promote-full', 'pause-resume', 'abort')
    .map((request) => new DeployWithRequest(request)),
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
          parked: undefined,
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
