import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatDuration } from '../../duration.js';
import { acceptsConnections } from '../local/processes.js';
import { UserInputError } from '../../errors.js';
import type { TargetDeps } from '../target-module.js';
import type { FleetInfo, Instance, Target, TargetPlan, Weights } from '../types.js';
import type { HostsEnvironmentConfig, SshHostConfig } from './config.js';
import { connections } from './connections.js';
import { FleetStore, goneFromHere, storeDir, type HostFleetRecord } from './fleet-store.js';
import { hostNotes } from './notes.js';
import { HaproxyApi } from './haproxy-api.js';
import { serverName } from './haproxy-servers.js';
import { hostsMetrics } from './traffic-metrics.js';
import type { ServerWeights } from './haproxy-weights.js';
import { upload, releaseOnHost } from './releases.js';
import { aliveScript, releaseDir, slotDir, stopScript } from './supervisor.js';
import { hostSupervisor, launchSlot, type HostSupervisor } from './slot-launch.js';
import type { HostSession } from './ssh.js';

type HaproxyServers = Awaited<ReturnType<HaproxyApi['servers']>>;

/**
 * The hosts target: a fleet is the version's process on every host in one port slot, supervised there;
 * traffic is the weights of HAProxy's servers, changed through its runtime API; fleets and the lock live
 * on the load balancer host. All of it over SSH.
 */
export async function createHostsTarget(deps: TargetDeps<HostsEnvironmentConfig>): Promise<Target> {
  const { service, loaded, clock } = deps;
  const { env, artifact, environment, artifactConfig } = service;
  const ssh = connections(env);
  const lb = () => ssh.to(env.haproxy.host);
  const store = new FleetStore(lb, env.haproxy.host.root, { artifact, environment });
  const haproxy = new HaproxyApi(lb, env.haproxy.socket, env.haproxy.backend);
  const held = <T>(work: () => Promise<T>) => ssh.using(work);
  const packageOf = (version: string) =>
    resolve(loaded.baseDir, (artifactConfig.package ?? '').replaceAll('${version}', version));

  /** `servers`: HAProxy's view of them, where it was read; a server it holds down is not up. */
  const instancesOf = (slot: number, servers?: HaproxyServers): Instance[] =>
    env.hosts.map((h) => {
      const server = servers?.[serverName(h.address, slot)];
      return {
        id: `${h.address}:${slot}`,
        url: `http://${h.address.includes(':') ? `[${h.address}]` : h.address}:${slot}`,
        ...(server && !server.up ? { up: false } : {}),
      };
    });
  const infoOf = (r: HostFleetRecord, servers?: HaproxyServers): FleetInfo => ({
    id: r.id,
    version: r.version,
    deployment: r.deployment,
    createdAt: r.createdAt,
    role: r.role,
    // A fleet that has served is judged by HAProxy's own checks; a green is not up there until it has
    // passed ours and HAProxy's rise, so HAProxy says nothing of it yet.
    instances: instancesOf(r.slot, r.role === 'live' || r.role === 'standby' ? servers : undefined),
    ...(r.standbyUntil !== undefined ? { standbyUntil: r.standbyUntil } : {}),
    ...(r.previousVersion !== undefined ? { previousVersion: r.previousVersion } : {}),
    ...(r.inProgress ? { inProgress: true } : {}),
  });
  const recordOf = async (id: string): Promise<HostFleetRecord> => {
    const found = (await store.read()).find((r) => r.id === id);
    if (!found) throw new Error(`fleet ${id} is not recorded on ${env.haproxy.host.address}`);
    return found;
  };
  const onEveryHost = async (work: (host: SshHostConfig, session: HostSession) => Promise<void>) => {
    const all = await ssh.all();
    await Promise.all(all.map(({ host, session }) => work(host, session)));
  };
  const check = async (what: string, session: HostSession, argv: string[], stdin?: string) => {
    const result = await session.run(argv, stdin === undefined ? {} : { stdin });
    if (result.code !== 0)
      throw new Error(
        `${session.host}: ${what} failed (exit ${result.code}): ${result.stderr.trim().slice(-400)}`,
      );
    return result;
  };
  const serverWeightsFor = (fleets: HostFleetRecord[], weights: Weights): ServerWeights => {
    const next: ServerWeights = {};
    for (const slot of env.slots) {
      const fleet = fleets.find((f) => f.slot === slot);
      for (const h of env.hosts) next[serverName(h.address, slot)] = fleet ? (weights[fleet.id] ?? 0) : 0;
    }
    return next;
  };

  const stopSlot = async (slot: number) =>
    onEveryHost(async (host, session) => {
      const tenths = String(Math.max(1, Math.ceil(env.drainTimeout / 100)));
      await check('stopping the slot', session, [
        'sh',
        '-c',
        stopScript,
        'sh',
        slotDir(host.root, artifact, environment, slot),
        tenths,
      ]);
    });

  /** The release on every host (uploaded where missing), and the fleet's process started in its slot. */
  const startOnEveryHost = ({ slot, version }: HostFleetRecord, tarball: string) =>
    onEveryHost(async (host, session) => {
      const release = releaseDir(host.root, artifact, version);
      await releaseOnHost(session, release, () => upload(session, tarball, `${release}.upload.tgz`));
      const vars = { ...(env.env ?? {}), PORT: String(slot), VERSION: version, HOST: '0.0.0.0' };
      await launchSlot(session, await supervisorOn(host, session), {
        artifact,
        environment,
        slot,
        version,
        dir: slotDir(host.root, artifact, environment, slot),
        release,
        command: artifactConfig.command ?? [],
        vars,
        drainTimeoutMs: env.drainTimeout,
      });
    });
  // Whether systemd supervises there is the host's to say, once per command.
  const supervisors = new Map<string, Promise<HostSupervisor>>();
  const supervisorOn = (host: SshHostConfig, session: HostSession) => {
    const key = `${host.address}:${host.port}`;
    let found = supervisors.get(key);
    if (!found) {
      found = hostSupervisor(session, env.supervisor);
      found.catch(() => supervisors.delete(key));
      supervisors.set(key, found);
    }
    return found;
  };

  // The error-rate check's counts: HAProxy's counters of each fleet's servers, sampled while it asks.
  const slotOf = new Map<string, number>();
  const metrics = hostsMetrics({
    read: () => held(() => haproxy.counters()),
    serversOf: async (ids) => {
      if (ids.some((id) => !slotOf.has(id)))
        for (const f of await held(() => store.read())) slotOf.set(f.id, f.slot);
      return Object.fromEntries(
        ids.map((id) => {
          const slot = slotOf.get(id);
          return [id, slot === undefined ? undefined : env.hosts.map((h) => serverName(h.address, slot))];
        }),
      );
    },
    clock,
    note: deps.note,
  });

  const fleet: Target['fleet'] = {
    launch: (spec) =>
      held(async () => {
        // Every host first: one that cannot be reached fails the deploy here, before anything starts.
        await ssh.all();
        const fleets = await store.read();
        const slot = env.slots.find((s) => !fleets.some((f) => f.slot === s));
        if (slot === undefined) {
          throw new Error(
            `both slots are taken (${fleets.map((f) => `${f.version} ${f.role} on ${f.slot}`).join(', ')}): the standby should have given way`,
          );
        }
        const record: HostFleetRecord = {
          id: spec.id,
          version: spec.version,
          deployment: spec.deployment,
          slot,
          createdAt: clock.now(),
          role: 'green',
          inProgress: true,
          ...(spec.by ? { by: spec.by } : {}),
        };
        // Recorded before anything starts: a runner killed mid-launch leaves a fleet the next one undoes.
        await store.write([...fleets, record]);
        await store
          .remember({
            deployment: spec.deployment,
            version: spec.version,
            by: spec.by ?? null,
            startedAt: record.createdAt,
          })
          .catch((error: unknown) =>
            deps.note?.(`history of other runners will miss ${spec.deployment}: ${(error as Error).message}`),
          );
        const tarball = packageOf(spec.version);
        try {
          await startOnEveryHost(record, tarball);
        } catch (error) {
          // The controller treats a failed launch as having started nothing: make it so, on every host
          // that answers, so that no half-started green holds the environment.
          await stopSlot(slot).catch(() => undefined);
          await store.update((all) => all.filter((f) => f.id !== record.id)).catch(() => undefined);
          throw error;
        }
        return infoOf(record);
      }),
    waitReady: (id, deadline, progress, signal) =>
      held(async () => {
        const record = await recordOf(id);
        for (;;) {
          signal?.throwIfAborted();
          const waiting: string[] = [];
          await onEveryHost(async (host, session) => {
            const dir = slotDir(host.root, artifact, environment, record.slot);
            const alive = await session.run(['sh', '-c', aliveScript, 'sh', dir]);
            // Listening as the health checks and HAProxy reach it: from outside the host.
            const listening = await acceptsConnections(record.slot, host.address, 500);
            if (alive.stdout.trim() !== 'up')
              waiting.push(
                `${host.address}:${record.slot} (supervisor: ${alive.stdout.trim() || alive.stderr.trim()})`,
              );
            else if (!listening) waiting.push(`${host.address}:${record.slot} (not accepting connections)`);
          });
          if (waiting.length === 0) return infoOf(record);
          if (clock.now() >= deadline) {
            const host = env.hosts.find((h) => waiting[0]?.startsWith(`${h.address}:`)) ?? env.hosts[0];
            let tail = '';
            if (host) {
              const session = await ssh.to(host);
              tail = (
                await session.run([
                  'tail',
                  '-n',
                  '5',
                  `${slotDir(host.root, artifact, environment, record.slot)}/log`,
                ])
              ).stdout.trim();
            }
            throw new Error(
              `${record.version} is not listening on ${waiting.join(', ')} after ${formatDuration(env.healthCheck.readyTimeout)}${tail ? `; its log ends: ${tail}` : ''}`,
            );
          }
          progress(`not listening yet: ${waiting.join(', ')}`);
          await clock.sleep(250, signal);
        }
      }),
    list: () =>
      held(async () => {
        const [fleets, servers] = await Promise.all([
          store.read(),
          // Without HAProxy's answer the instances are listed as the target cannot say; a traffic
          // change fails on its own when HAProxy does not answer.
          haproxy.servers().catch(() => undefined),
        ]);
        return fleets.map((f) => infoOf(f, servers));
      }),
    setRole: (id, change) => {
      // A fleet's role changes once its deploy's shift is over: nothing asks for counts any more.
      metrics.stop();
      return held(() =>
        store.update((fleets) =>
          fleets.map((f) => {
            if (f.id !== id) return f;
            if (change.role === 'live')
              return {
                ...f,
                role: 'live',
                inProgress: false,
                standbyUntil: undefined,
                previousVersion: change.previousVersion ?? f.previousVersion,
              };
            if (change.role === 'standby')
              return { ...f, role: 'standby', inProgress: false, standbyUntil: change.until };
            return { ...f, role: 'failed', inProgress: false };
          }),
        ),
      );
    },
    health: async () => [],
    retire: (id) =>
      held(async () => {
        metrics.stop();
        const record = await recordOf(id);
        await store.update((fleets) =>
          fleets.map((f) => (f.id === id ? { ...f, role: 'retiring', inProgress: false } : f)),
        );
        // Its servers take no new requests (weight 0); those in flight finish, up to the drain timeout.
        const servers = env.hosts.map((h) => serverName(h.address, record.slot));
        const until = clock.now() + env.drainTimeout;
        for (;;) {
          const busy = await haproxy.inFlight();
          if (servers.every((s) => (busy[s] ?? 0) === 0) || clock.now() >= until) break;
          await clock.sleep(100);
        }
        await stopSlot(record.slot);
        await store.update((fleets) => fleets.filter((f) => f.id !== id));
      }),
  };

  const router: Target['router'] = {
    ensure: async () => {},
    readWeights: () =>
      held(async () => {
        const [fleets, servers] = await Promise.all([store.read(), haproxy.weights()]);
        const weights: Weights = {};
        for (const f of fleets) {
          const w = Math.max(0, ...env.hosts.map((h) => servers[serverName(h.address, f.slot)] ?? 0));
          if (w > 0) weights[f.id] = w;
        }
        return weights;
      }),
    setWeights: (weights) =>
      held(async () => {
        const next = serverWeightsFor(await store.read(), weights);
        const now = await haproxy.weights();
        // The servers each fleet is raised on (one slot's, on every host).
        const raised = env.slots
          .map((slot) =>
            env.hosts
              .map((h) => serverName(h.address, slot))
              .filter((n) => (next[n] ?? 0) > 0 && (now[n] ?? 0) === 0),
          )
          .filter((group) => group.length > 0);
        // HAProxy marks a server up after `rise` (2) of its own checks, one an interval apart.
        const settleBy = clock.now() + 3 * Math.max(100, env.healthCheck.interval);
        await haproxy.waitUp(
          raised,
          { settleBy, until: clock.now() + env.healthCheck.readyTimeout },
          () => clock.now(),
          (ms) => clock.sleep(ms),
        );
        await haproxy.setWeights(next);
        await saveServerState();
      }),
  };

  // So weights survive a reload of HAProxy (`load-server-state-from-file`); a failure is said, not fatal.
  const saveServerState = async () => {
    try {
      const state = await haproxy.serversState();
      const session = await lb();
      await check(
        'saving the server state',
        session,
        ['sh', '-c', 'cat > "$1.tmp" && mv "$1.tmp" "$1"', 'sh', env.haproxy.stateFile],
        state,
      );
    } catch (error) {
      deps.note?.(
        `could not save HAProxy's server state to ${env.haproxy.stateFile}: ${(error as Error).message}`,
      );
    }
  };

  // The slots are the environment's, not the artifact's: another artifact's fleets there would be stopped
  // and their servers zeroed. The config cannot see that (any artifact may go to any environment).
  const checkNoOtherArtifact = () =>
    held(async () => {
      const session = await lb();
      const found = await session.run([
        'sh',
        '-c',
        'grep -l \'"slot"\' "$1"/*/"$2"/fleets.json 2>/dev/null || true',
        'sh',
        env.haproxy.host.root,
        environment,
      ]);
      const others = found.stdout
        .split('\n')
        .map((path) => path.slice(env.haproxy.host.root.length + 1).split('/')[0] ?? '')
        .filter((name) => name !== '' && name !== artifact);
      if (others.length > 0) {
        throw new UserInputError(
          'ENVIRONMENT_TAKEN',
          `environment \`${environment}\` runs artifact \`${others.join('`, `')}\` on ports ${env.slots.join(' and ')} of its hosts; \`${artifact}\` would stop it`,
          `give \`${artifact}\` an environment of its own (other slots and backend), or take the other down first`,
        );
      }
    });

  const checkBackend = () =>
    held(async () => {
      const servers = await haproxy.weights();
      const missing = env.slots
        .flatMap((slot) => env.hosts.map((h) => serverName(h.address, slot)))
        .filter((s) => !(s in servers));
      if (missing.length > 0) {
        throw new UserInputError(
          'HAPROXY_BACKEND_INCOMPLETE',
          `HAProxy backend \`${env.haproxy.backend}\` on ${env.haproxy.host.address} has no server ${missing.join(', ')}`,
          `include what \`cutover haproxy-config environment=${environment}\` prints in haproxy.cfg and reload HAProxy`,
        );
      }
    });

  const plan = async (version: string): Promise<TargetPlan> => {
    const fleets = await held(() => store.read());
    const weights = await router.readWeights();
    const live =
      fleets.find((f) => (weights[f.id] ?? 0) > 0 && f.role === 'live') ??
      fleets.find((f) => f.role === 'live');
    const standby = fleets.find((f) => f.role === 'standby');
    const slot = env.slots.find((s) => !fleets.some((f) => f.slot === s && f !== standby)) ?? env.slots[0];
    const lines: string[] = [];
    for (const old of fleets.filter((f) => f !== live))
      lines.push(
        `retire fleet ${old.id} (${old.version}, ${old.role}) on port ${old.slot}${old === standby ? ': the new green takes its slot, so rollback reaches only the live version afterwards' : ''}`,
      );
    lines.push(
      `upload ${packageOf(version)} to each host without ${version}, unpack it under <root>/${artifact}/releases/${version}`,
    );
    lines.push(
      `start ${(artifactConfig.command ?? []).join(' ')} with PORT=${slot} on ${env.hosts.map((h) => h.address).join(', ')}`,
    );
    lines.push(
      `(health checks: GET ${env.healthCheck.path} on each host's port ${slot}, up to ${formatDuration(env.healthCheck.readyTimeout)})`,
    );
    return {
      live: live !== undefined,
      launch: lines,
      setWeight: (percent) =>
        `set HAProxy weights in backend ${env.haproxy.backend}: port ${slot} ${percent}${live && percent < 100 ? `, port ${live.slot} ${100 - percent}` : ''} (raise before lower, one batch)`,
      promote: live
        ? [`keep ${live.version} on port ${live.slot} as standby for ${formatDuration(env.rollbackWindow)}`]
        : [],
    };
  };

  // Requests to a running deploy (promote, pause, abort) and what notifications keep, for every runner.
  const notes = hostNotes(lb, storeDir(env.haproxy.host.root, artifact, environment), async (deployment) =>
    held(async () => (await store.read()).some((f) => f.deployment === deployment)),
  );

  return {
    name: 'hosts',
    notes: {
      read: (deployment) => held(() => notes.read(deployment)),
      write: (deployment, values) => held(() => notes.write(deployment, values)),
    },
    standbyGivesWay: true,
    fleet,
    router,
    metrics,
    publicUrl: async () => env.haproxy.publicUrl,
    lock: (holder) => held(() => store.lock(holder)),
    close: async () => {
      metrics.stop();
      await ssh.close();
    },
    deployments: () => held(() => store.remembered()),
    lockHolder: () =>
      held(async () => {
        const found = await store.holder();
        if (!found) return undefined;
        const { holder, where } = found;
        return {
          where,
          ...(holder
            ? {
                holder: {
                  deployment: holder.deployment,
                  command: holder.command,
                  startedAt: holder.startedAt,
                  host: holder.host,
                  pid: holder.pid,
                },
              }
            : {}),
          stale: holder !== undefined && goneFromHere(holder),
        };
      }),
    unlock: (deployment) => held(() => store.unlock(deployment)),
    async preflight(version) {
      const tarball = packageOf(version);
      if (!existsSync(tarball)) {
        throw new UserInputError(
          'PACKAGE_MISSING',
          `the package of \`${version}\` is not at ${tarball}`,
          `build it first; \`artifacts.${artifact}.package\` says where each version's tarball is`,
        );
      }
      await held(async () => {
        const all = await ssh.all();
        await lb();
        // `supervisor: systemd` on a host where it cannot be used is bad input, found before anything changes.
        await Promise.all(all.map(({ host, session }) => supervisorOn(host, session)));
      });
      await checkBackend();
      await checkNoOtherArtifact();
    },
    checkRouting: checkBackend,
    async describe() {
      const [fleets, servers] = await held(() => Promise.all([store.read(), haproxy.servers()]));
      const down = fleets
        .filter((f) => f.role === 'live' || f.role === 'standby')
        .flatMap((f) =>
          env.hosts
            .filter((h) => servers[serverName(h.address, f.slot)]?.up === false)
            .map((h) => `${h.address}:${f.slot} (${f.version} ${f.role})`),
        );
      return {
        ...(down.length > 0
          ? {
              warning: `HAProxy's own checks hold ${down.join(', ')} down: it sends them nothing; see whether the host is up, and the slot's log, <root>/${artifact}/${environment}/slot-<port>/log`,
            }
          : {}),
        details: {
          hosts: env.hosts.map((h) => `${h.address}:${h.port}`),
          slots: env.slots,
          haproxy: `${env.haproxy.host.address} ${env.haproxy.socket} backend ${env.haproxy.backend}`,
        },
      };
    },
    plan,
  };
}
