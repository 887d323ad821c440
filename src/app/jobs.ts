/**
 * Jobs for the queue, however they are asked for (`zfs-fleet queue add`, a group's schedule, the
 * **Queue** button of VS Code's plan confirmation): a sync of a pair, or a migration (one job per
 * dataset under a root, parents first). Each job carries what the claim order needs: its size from
 * fresh listings (the bytes the send will move) and its files from `df -i` on the source's mountpoint.
 * And what a worker refuses to run unattended, the same rule for the worker and for the Queue
 * button (which is only offered for a plan a worker would run).
 */
import type { HostListing } from '../core/fleet/listing.js';
import type { ReplicationPair, Route } from '../core/fleet/pairs.js';
import { DF_CHUNK, dfInodesArgv, mountpointsOf, parseDfInodes } from '../core/queue/files.js';
import { DEFAULT_PRIORITY, syncSizeBytes, type Job, type NewJob, type SyncJobSpec } from '../core/queue/job.js';
import { destroyLines, type Plan } from '../core/replication/plan.js';
import { pairState } from '../core/replication/state.js';
import { parentDataset, validateName } from '../core/zfs/names.js';
import type { Review } from './flow.js';
import type { App } from './services.js';
import type { Runner } from '../core/runner.js';

/** What adds jobs: the store's JobQueue (src/store/queue.ts). */
export interface JobAdder {
  add(j: NewJob): Promise<{ job: Job; added: boolean }>;
}

export interface JobOptions {
  priority?: number;
  /** Overrides the pair's route for the run. */
  route?: Route;
}

/** Why a worker (nobody there to confirm) does not run the plan; undefined: it would. */
export function unattendedRefusal(r: Pick<Review, 'plan' | 'losses'>): string | undefined {
  const p = r.plan;
  const destroyed = destroyLines(p.destroys);
  if (destroyed.length) return `the plan destroys ${destroyed.length} object(s) (${destroyed.slice(0, 3).join('; ')}${destroyed.length > 3 ? '; …' : ''})`;
  if (r.losses.length) return `the plan destroys the newest common snapshot of ${r.losses.map((l) => l.pair.id).join(', ')}`;
  if (forcedReceive(p)) return 'the plan receives with -F (it rolls the target back)';
  if (p.steps.some((s) => s.confirm && !s.estimate)) return 'a step of the plan must be confirmed';
  return undefined;
}

function forcedReceive(plan: Plan): boolean {
  return plan.steps.some((s) => (s.type === 'command' ? [s.argv] : [s.to.argv]).some((a) => a.includes('recv') && a.includes('-F')));
}

/** Listings of the hosts, each on its own: a host that cannot be listed is said and left out (its jobs' sizes unknown). */
async function listingsOf(app: App, hosts: Iterable<string>, warn: (line: string) => void): Promise<Map<string, HostListing>> {
  const names = [...new Set(hosts)];
  const settled = await Promise.allSettled(names.map(async (h) => (await app.freshListings([h]))[0]!));
  const out = new Map<string, HostListing>();
  settled.forEach((s, i) => {
    if (s.status === 'fulfilled') out.set(names[i]!, s.value);
    else warn(`${names[i]}: sizes unknown: ${((s.reason as Error)?.message ?? String(s.reason)).split('\n')[0]}`);
  });
  return out;
}

/** Files (inodes in use) of the datasets on one host that are mounted, by dataset; a `df` that cannot run leaves them unknown, said once. */
export async function filesOf(runner: Runner, listing: HostListing, datasets: Iterable<string>, warn: (line: string) => void): Promise<Map<string, number>> {
  const wanted = new Set(datasets);
  const mounts = mountpointsOf([...listing.datasets.values()].map((d) => d.object).filter((o) => wanted.has(o.name)));
  const out = new Map<string, number>();
  const entries = [...mounts];
  for (let i = 0; i < entries.length; i += DF_CHUNK) {
    const chunk = entries.slice(i, i + DF_CHUNK);
    try {
      const r = await runner.run(dfInodesArgv(chunk.map(([, mp]) => mp)), { timeoutMs: 60_000 });
      const used = parseDfInodes(
        r.stdout,
        chunk.map(([, mp]) => mp),
      );
      for (const [name, mp] of chunk) if (used.has(mp)) out.set(name, used.get(mp)!);
    } catch (e) {
      warn(`${runner.label}: file counts unknown (df -i): ${((e as Error).message ?? String(e)).split('\n')[0]}`);
      break;
    }
  }
  return out;
}

function specOf(pair: ReplicationPair, o: JobOptions): SyncJobSpec {
  return {
    kind: 'sync',
    source: `${pair.source.host}:${pair.source.name!.full}`,
    target: `${pair.target.host}:${pair.target.name!.full}`,
    ...(o.route ? { route: o.route } : {}),
    ...(pair.group ? { group: pair.group } : {}),
  };
}

/** The job of a pair's sync, sized from its hosts' listings (either missing: size unknown). */
export function sizedJob(
  pair: ReplicationPair,
  o: JobOptions,
  src: HostListing | undefined,
  dst: HostListing | undefined,
  files: number | undefined,
  kind?: string,
): NewJob {
  const spec = specOf(pair, o);
  const bytes = src && dst ? syncSizeBytes(pairState(pair, src, dst), src.datasets.get(pair.source.name!.full)) : undefined;
  return {
    name: `${spec.source} -> ${spec.target}`,
    ...(kind ? { kind } : {}),
    spec,
    priority: o.priority ?? DEFAULT_PRIORITY,
    blocks: bytes === undefined ? null : Math.ceil(bytes / 1024),
    files: files ?? null,
    pairId: pair.id,
    sourceHost: pair.source.host,
    targetHost: pair.target.host,
    bytesTotal: bytes ?? null,
  };
}

/** A job per pair, sized from fresh listings of their hosts (one listing per host) and `df -i` on the sources. */
export async function syncJobs(app: App, pairs: readonly ReplicationPair[], o: JobOptions, warn: (line: string) => void): Promise<NewJob[]> {
  const listings = await listingsOf(
    app,
    pairs.flatMap((p) => [p.source.host, p.target.host]),
    warn,
  );
  return jobsFromListings(pairs, listings, (h) => app.fleet.host(h).runner, o, warn);
}

/** A job per pair from listings already read (the agent's sweep), its files from one `df -i` per source host. */
export async function jobsFromListings(
  pairs: readonly ReplicationPair[],
  listings: ReadonlyMap<string, HostListing>,
  runnerOf: (host: string) => Runner,
  o: JobOptions,
  warn: (line: string) => void,
): Promise<NewJob[]> {
  const files = new Map<string, Map<string, number>>();
  for (const host of new Set(pairs.map((p) => p.source.host))) {
    const l = listings.get(host);
    const datasets = pairs.filter((p) => p.source.host === host).map((p) => p.source.name!.full);
    if (l) files.set(host, await filesOf(runnerOf(host), l, datasets, warn));
  }
  return pairs.map((p) => {
    const src = listings.get(p.source.host);
    if (src && !src.datasets.has(p.source.name!.full)) warn(`${p.source.host}:${p.source.name!.full} does not exist (queued anyway: the worker will say so)`);
    return sizedJob(p, o, src, listings.get(p.target.host), files.get(p.source.host)?.get(p.source.name!.full));
  });
}

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

/** One job of a migration, with the job it waits for (its parent dataset's, by index in the list). */
export interface MigrationJob {
  job: NewJob;
  parent?: number;
}

/**
 * A migration (syncrestore's unit of work: one dataset at a time): a job for SRC_ROOT and every
 * filesystem and volume under it, to the same place under DST_ROOT, parents before children; each
 * child's job waits for its parent's, so a child is never received before its parent exists.
 * `pairOf` makes the pair (the fleet file's, when it has one).
 */
export async function migrationJobs(
  app: App,
  from: { host: string; dataset: string },
  to: { host: string; dataset: string },
  pairOf: (source: string, target: string) => ReplicationPair,
  o: JobOptions,
  warn: (line: string) => void,
): Promise<MigrationJob[]> {
  for (const e of [from, to]) {
    try {
      validateName(e.dataset, 'dataset');
    } catch (err) {
      throw new MigrationError(`${e.host}:${e.dataset}: ${(err as Error).message}`);
    }
  }
  if (from.host === to.host && (to.dataset === from.dataset || to.dataset.startsWith(from.dataset + '/')))
    throw new MigrationError(`${to.host}:${to.dataset} is inside what it migrates (${from.dataset})`);
  const [src] = await app.freshListings([from.host]);
  const under = [...src!.datasets.values()]
    .map((d) => d.object)
    .filter((o) => (o.type === 'filesystem' || o.type === 'volume') && (o.name === from.dataset || o.name.startsWith(from.dataset + '/')))
    .map((o) => o.name)
    .sort();
  if (!under.length) throw new MigrationError(`${from.host}:${from.dataset} does not exist`);
  const targetOf = (name: string) => to.dataset + name.slice(from.dataset.length);
  const pairs = under.map((name) => pairOf(`${from.host}:${name}`, `${to.host}:${targetOf(name)}`));
  const listings = await listingsOf(app, [to.host], warn);
  const files = await filesOf(app.fleet.host(from.host).runner, src!, under, warn);
  const index = new Map(under.map((name, i) => [name, i]));
  return pairs.map((p, i) => {
    const name = under[i]!;
    const parent = name === from.dataset ? undefined : index.get(parentDataset(name)!);
    return { job: sizedJob(p, o, src, listings.get(to.host), files.get(name), 'migrate'), ...(parent !== undefined ? { parent } : {}) };
  });
}

/** Adds a migration's jobs in order, each waiting for its parent's job (the one added now, or the one already queued for that pair). */
export async function addMigration(q: JobAdder, jobs: readonly MigrationJob[]): Promise<{ job: Job; added: boolean }[]> {
  const out: { job: Job; added: boolean }[] = [];
  for (const m of jobs) {
    const after = m.parent !== undefined ? out[m.parent]!.job.id : undefined;
    out.push(await q.add({ ...m.job, ...(after !== undefined ? { after } : {}) }));
  }
  return out;
}
