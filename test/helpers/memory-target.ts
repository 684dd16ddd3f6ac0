import type {
  TargetPlan,
  Fleet,
  FleetInfo,
  LaunchSpec,
  RoleChange,
  Target,
  TrafficRouter,
  Weights,
  TrafficMetrics,
} from '../../src/providers/types.js';

/**
 * An in-memory target for controller tests: it keeps fleets, roles and weights as the local agent does
 * (refusing traffic to a failed or retiring fleet, retiring only a standby whose window closed) and records
 * every call, so tests can assert on what the controller did and in what order. `beforeCall` lets a test
 * inject a fault (a killed controller, a lost call) at any call.
 */
export class MemoryTarget implements Target {
  readonly name = 'memory';
  standbyGivesWay = false;
  /** Responses per fleet, when a test scripts them (the error-rate check). */
  metrics: TrafficMetrics | undefined;
  fleets: FleetInfo[] = [];
  weights: Weights = {};
  calls: string[] = [];
  /** Versions whose launch fails. */
  failLaunch = new Set<string>();
  /** Called before every call that changes something, with its name: throw to inject a fault. */
  beforeCall: (call: string) => void = () => {};

  constructor(private readonly now: () => number) {}

  fleet: Fleet = {
    launch: async (spec: LaunchSpec) => {
      this.change(`launch ${spec.version}`);
      if (this.failLaunch.has(spec.version)) throw new Error(`cannot launch ${spec.version}`);
      const fleet: FleetInfo = {
        id: spec.id,
        version: spec.version,
        deployment: spec.deployment,
        createdAt: this.now(),
        role: 'green',
        instances: Array.from({ length: 2 }, (_, i) => ({
          id: `${spec.id}-${i}`,
          url: `http://${spec.version}.invalid:${i}`,
          up: true,
        })),
      };
      this.fleets.push(fleet);
      return structuredClone(fleet);
    },
    waitReady: async (id: string) => structuredClone(this.get(id)),
    list: async () => structuredClone(this.fleets),
    setRole: async (id: string, change: RoleChange) => {
      const fleet = this.get(id);
      this.change(`${change.role} ${fleet.version}`);
      fleet.role = change.role;
      if (change.role === 'standby') fleet.standbyUntil = change.until;
      else delete fleet.standbyUntil;
    },
    health: async () => [],
    retire: async (id: string) => {
      const fleet = this.get(id);
      if ((this.weights[id] ?? 0) > 0) throw new Error(`retire of ${fleet.version} while it takes traffic`);
      this.change(`retire ${fleet.version}`);
      this.fleets = this.fleets.filter((f) => f.id !== id);
    },
  };

  router: TrafficRouter = {
    ensure: async () => {},
    readWeights: async () => ({ ...this.weights }),
    setWeights: async (weights: Weights) => {
      const named = Object.entries(weights)
        .filter(([, w]) => w > 0)
        .map(([id, w]) => {
          const fleet = this.get(id);
          if (fleet.role === 'failed' || fleet.role === 'retiring')
            throw new Error(`${fleet.version} is ${fleet.role}`);
          return `${fleet.version}=${w}`;
        });
      this.change(`weights ${named.join(',') || 'none'}`);
      this.weights = Object.fromEntries(Object.entries(weights).filter(([, w]) => w > 0));
    },
  };

  describe = async () => ({ details: {} });
  preflight = async () => {};
  checkRouting = async () => {};
  plan = async (version: string): Promise<TargetPlan> => ({
    live: this.liveVersion() !== undefined,
    launch: [`launch ${version}`],
    setWeight: (percent: number) => `set ${version} ${percent}%`,
    promote: [`promote ${version}`],
  });

  /** What the local agent does in the background: a standby whose window closed is retired. */
  retireExpiredStandbys(): void {
    this.fleets = this.fleets.filter(
      (f) =>
        !(f.role === 'standby' && (f.standbyUntil ?? Infinity) <= this.now() && !(this.weights[f.id] ?? 0)),
    );
  }

  /** The version that takes all traffic, or undefined. */
  liveVersion(): string | undefined {
    const id = Object.entries(this.weights).find(([, w]) => w === 100)?.[0];
    return this.fleets.find((f) => f.id === id)?.version;
  }

  private change(call: string): void {
    this.beforeCall(call);
    this.calls.push(call);
  }

  private get(id: string): FleetInfo {
    const fleet = this.fleets.find((f) => f.id === id);
    if (!fleet) throw new Error(`no fleet ${id}`);
    return fleet;
  }
}
