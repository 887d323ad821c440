/**
 * What monitoring reads off the fleet, as plain data: per host (reachable, how long its listing
 * took), per pool (health, capacity), per dataset (snapshot count, newest snapshot and its age),
 * per pair (its state, lag, snapshots behind, base at risk, last runs). `zfs-fleet check` judges
 * these against thresholds (check.ts) and `zfs-fleet metrics` prints them for Prometheus
 * (metrics.ts): both read the same facts, so the two never disagree on what they saw.
 */
import type { HostListing } from '../fleet/listing.js';
import type { ReplicationPair } from '../fleet/pairs.js';
import { pairState, type PairState } from '../replication/state.js';
import type { PoolScan } from '../zfs/poolStatus.js';

/** One host's listing, or why there is none. */
export type HostResult = { host: string; listing: HostListing } | { host: string; error: string };

/** What monitoring needs of one history entry (app/history.ts's HistoryEntry has these fields). */
export interface RunRecord {
  pair?: string;
  outcome: string;
  finishedAt: string;
  error?: string;
}

export interface PoolFacts {
  host: string;
  pool: string;
  health: string;
  /** allocated / size, 0..1; undefined when the host did not say its sizes. */
  capacityRatio?: number;
  /** Bytes, as `zpool list -Hp` says them (the fleet store keeps them). */
  sizeBytes?: number;
  allocatedBytes?: number;
  freeBytes?: number;
  /** The last scrub or resilver `zpool status` reported; undefined: none ran, or not read (see poolStatus.ts). */
  scan?: PoolScan;
  /** The pool's data errors (`errors: N data errors`); undefined when not read. */
  dataErrors?: number;
}

export interface DatasetFacts {
  host: string;
  dataset: string;
  type: string;
  snapshots: number;
  newestSnapshot?: string;
  /** Creation of the newest snapshot, seconds since the epoch. */
  newestCreation?: number;
  newestAgeSeconds?: number;
  /** The dataset is a configured pair's source: having no snapshot at all is a problem then. */
  pairSource: boolean;
  /** A group's staleAfter for its primary (fleet file), else check's --stale-after applies. */
  staleAfterSeconds?: number;
  usedBytes?: number;
}

export interface PairFacts {
  pair: ReplicationPair;
  /** Why the state could not be read (a host unreachable); undefined when it was. */
  unreadable?: string;
  state?: PairState;
  /**
   * How long the oldest snapshot the target lacks has waited (now - its creation): 0 in sync, and
   * growing for as long as replication is stalled while the source keeps taking snapshots.
   * Undefined without a common base (nothing can be sent incrementally: see state.noCommon).
   */
  lagSeconds?: number;
  behind: number;
  /**
   * The common base is about to be pruned on the source (state.retentionWarning): the retention
   * forecast prunes it within a day, or, without a policy, it is the source's oldest snapshot (estimate).
   */
  baseAtRisk: boolean;
  /** When the retention forecast prunes the common base (seconds since the epoch); undefined without a policy, or when a bookmark or hold keeps it. */
  basePruneAt?: number;
  /** A group's replica (fleet file `groups`) that is not read-only, where the host says (zfs-fuse reports its readonly=on as off). */
  replicaWritable?: boolean;
  /** A group's replica whose zfs-fleet:role says primary: taken over while it was away (split brain). */
  splitBrain?: boolean;
  /** The newest history entry of this pair, and the newest that ended ok. */
  lastRun?: RunRecord;
  lastSuccess?: RunRecord;
}

export interface HostFacts {
  host: string;
  up: boolean;
  error?: string;
  listingSeconds?: number;
  /** When the listing was taken, ms since the epoch (a cached listing is older than `now`). */
  listedAt?: number;
  /** Objects the host listed with invalid names (left out of everything else). */
  rejected: number;
  /** What the host printed that identified its ZFS (`zfs-2.3.2-1`, `zfs-fuse 0.7.0`). */
  zfsVersion?: string;
}

export interface FleetFacts {
  /** "Now", ms since the epoch: every age is measured from here. */
  now: number;
  hosts: HostFacts[];
  pools: PoolFacts[];
  datasets: DatasetFacts[];
  pairs: PairFacts[];
}

/** A pool's facts from what `zpool list` said of it (live) or what the fleet store kept of that (from the store). */
export function poolFacts(
  host: string,
  pool: string,
  health: string,
  size?: number,
  allocated?: number,
  free?: number,
  status: { scan?: PoolScan; dataErrors?: number } = {},
): PoolFacts {
  const ratio = size && allocated !== undefined ? allocated / size : undefined;
  return {
    host,
    pool,
    health,
    ...(status.scan ? { scan: status.scan } : {}),
    ...(status.dataErrors !== undefined ? { dataErrors: status.dataErrors } : {}),
    ...(ratio !== undefined ? { capacityRatio: ratio } : {}),
    ...(size !== undefined ? { sizeBytes: size } : {}),
    ...(allocated !== undefined ? { allocatedBytes: allocated } : {}),
    ...(free !== undefined ? { freeBytes: free } : {}),
  };
}

/** A pair's last run and last success in the history, newest first (History.read's order): the first entry of a pair is its last run. */
export function pairRuns(pairId: string, history: readonly RunRecord[]): { lastRun?: RunRecord; lastSuccess?: RunRecord } {
  const runs = history.filter((r) => r.pair === pairId);
  const lastRun = runs[0];
  const lastSuccess = runs.find((r) => r.outcome === 'ok');
  return { ...(lastRun ? { lastRun } : {}), ...(lastSuccess ? { lastSuccess } : {}) };
}

/** The datasets that are a pair's source (`host\0dataset`): a source without any snapshot is a problem. */
export function pairSources(pairs: readonly ReplicationPair[]): Set<string> {
  return new Set(pairs.map((p) => `${p.source.host}\0${p.source.name!.full}`));
}

/** A group's staleAfter (fleet file) by its primary (`host\0dataset`): it replaces check's --stale-after there. */
export function pairStaleAfter(pairs: readonly ReplicationPair[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const p of pairs) if (p.limits?.staleAfterSeconds !== undefined) m.set(`${p.source.host}\0${p.source.name!.full}`, p.limits.staleAfterSeconds);
  return m;
}

export function fleetFacts(input: {
  hosts: readonly HostResult[];
  pairs: readonly ReplicationPair[];
  history?: readonly RunRecord[];
  now: number;
}): FleetFacts {
  const { now } = input;
  const listings = new Map<string, HostListing>();
  const errors = new Map<string, string>();
  for (const h of input.hosts) {
    if ('listing' in h) listings.set(h.host, h.listing);
    else errors.set(h.host, h.error);
  }
  const sources = pairSources(input.pairs);
  const staleAfter = pairStaleAfter(input.pairs);
  const facts: FleetFacts = { now, hosts: [], pools: [], datasets: [], pairs: [] };

  for (const h of input.hosts) {
    if (!('listing' in h)) {
      facts.hosts.push({ host: h.host, up: false, error: h.error, rejected: 0 });
      continue;
    }
    const l = h.listing;
    facts.hosts.push({
      host: h.host,
      up: true,
      listingSeconds: l.durationMs / 1000,
      listedAt: l.takenAt.getTime(),
      rejected: l.rejected.length,
      ...(l.capabilities.versionText ? { zfsVersion: l.capabilities.versionText } : {}),
    });
    for (const p of l.pools) facts.pools.push(poolFacts(h.host, p.name, p.health, p.size, p.allocated, p.free, p));
    for (const [name, e] of l.datasets) {
      const newest = e.snapshots[0];
      const creation = newest?.creation;
      facts.datasets.push({
        host: h.host,
        dataset: name,
        type: e.object.type,
        snapshots: e.snapshots.length,
        ...(newest ? { newestSnapshot: newest.name } : {}),
        ...(creation !== undefined ? { newestCreation: creation, newestAgeSeconds: Math.max(0, now / 1000 - creation) } : {}),
        pairSource: sources.has(`${h.host}\0${name}`),
        ...(staleAfter.has(`${h.host}\0${name}`) ? { staleAfterSeconds: staleAfter.get(`${h.host}\0${name}`)! } : {}),
        ...(e.object.used !== undefined ? { usedBytes: e.object.used } : {}),
      });
    }
  }

  const history = input.history ?? [];
  for (const pair of input.pairs) {
    const base = { pair, behind: 0, baseAtRisk: false, ...pairRuns(pair.id, history) };
    const src = listings.get(pair.source.host);
    const dst = listings.get(pair.target.host);
    if (!src || !dst) {
      const down = [pair.source.host, pair.target.host].filter((x, i, a) => a.indexOf(x) === i && !listings.has(x));
      facts.pairs.push({ ...base, unreadable: down.map((x) => `${x} unreachable${errors.has(x) ? '' : ' (not listed)'}`).join(', ') });
      continue;
    }
    const state = pairState(pair, src, dst, { now });
    const unsent = state.comparison?.newerOnSource ?? [];
    const oldest = unsent[0]?.creation;
    const lagSeconds = !state.base ? undefined : unsent.length === 0 ? 0 : oldest !== undefined ? Math.max(0, now / 1000 - oldest) : undefined;
    const f = state.baseForecast;
    const target = pair.group !== undefined ? dst.datasets.get(pair.target.name!.full)?.object : undefined;
    facts.pairs.push({
      ...base,
      state,
      ...(target?.readonly === false && dst.capabilities.implementation !== 'zfs-fuse' ? { replicaWritable: true } : {}),
      ...(target?.role === 'primary' ? { splitBrain: true } : {}),
      ...(f?.pruneAt !== undefined && !f.keptBy ? { basePruneAt: f.pruneAt } : {}),
      ...(lagSeconds !== undefined ? { lagSeconds } : {}),
      behind: state.behind?.count ?? 0,
      baseAtRisk: state.retentionWarning !== undefined,
    });
  }
  return facts;
}
