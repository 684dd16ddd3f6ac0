import type {
  Fleet,
  FleetInfo,
  LaunchSpec,
  Target,
  TrafficRouter,
  Weights,
} from '../../src/providers/types.js';

/**
 * An in-memory target for controller tests: it keeps fleets and weights as a real router would and
 * records every call, so tests can assert on what the controller did and in what order.
 */
export class MemoryTarget implements Target {
  readonly name = 'memory';
  fleets: FleetInfo[] = [];
  weights: Weights = {};
  calls: string[] = [];
  /** Versions whose launch fails. */
  failLaunch = new Set<string>();

  constructor(private readonly now: () => number) {}

  fleet: Fleet = {
    launch: async (spec: LaunchSpec) => {
      this.calls.push(`launch ${spec.version}`);
      if (this.failLaunch.has(spec.version)) throw new Error(`cannot launch ${spec.version}`);
      const fleet: FleetInfo = {
        id: spec.id,
        version: spec.version,
        deployment: spec.deployment,
        createdAt: this.now(),
        instances: Array.from({ length: 2 }, (_, i) => ({
          id: `${spec.id}-${i}`,
          url: `http://${spec.version}.invalid:${i}`,
        })),
      };
      this.fleets.push(fleet);
      return fleet;
    },
    waitReady: async (id: string) => this.get(id),
    list: async () => this.fleets.map((f) => ({ ...f })),
    keepAsStandby: async (id: string, until: number) => {
      this.calls.push(`standby ${this.get(id).version}`);
      this.get(id).standbyUntil = until;
    },
    health: async () => [],
    promote: async () => {},
    retire: async (id: string) => {
      const fleet = this.get(id);
      if ((this.weights[id] ?? 0) > 0) throw new Error(`retire of ${fleet.version} while it takes traffic`);
      this.calls.push(`retire ${fleet.version}`);
      this.fleets = this.fleets.filter((f) => f.id !== id);
    },
  };

  router: TrafficRouter = {
    ensure: async () => {},
    readWeights: async () => ({ ...this.weights }),
    setWeights: async (weights: Weights) => {
      const named = Object.entries(weights)
        .filter(([, w]) => w > 0)
        .map(([id, w]) => `${this.get(id).version}=${w}`);
      this.calls.push(`weights ${named.join(',') || 'none'}`);
      this.weights = Object.fromEntries(Object.entries(weights).filter(([, w]) => w > 0));
    },
  };

  describe = async () => ({ details: {} });
  preflight = async () => {};
  checkRouting = async () => {};
  plan = async (version: string) => [`launch ${version}`];

  /** The version that takes all traffic, or undefined. */
  liveVersion(): string | undefined {
    const id = Object.entries(this.weights).find(([, w]) => w === 100)?.[0];
    return this.fleets.find((f) => f.id === id)?.version;
  }

  private get(id: string): FleetInfo {
    const fleet = this.fleets.find((f) => f.id === id);
    if (!fleet) throw new Error(`no fleet ${id}`);
    return fleet;
  }
}
