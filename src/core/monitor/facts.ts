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
  /** The newest history entry of this pair, and the newest that ended ok. */
  lastRun?: RunRecord;
  lastSuccess?: RunRecord;
}

export interface HostFacts {
  host: string;
  up: boolean;
  error?: string;
  listingSeconds?: number;
  /** Objects the host listed with invalid names (left out of everything else). */
  rejected: number;
}

export interface FleetFacts {
  /** "Now", ms since the epoch: every age is measured from here. */
  now: number;
  hosts: HostFacts[];
  pools: PoolFacts[];
  datasets: DatasetFacts[];
  pairs: PairFacts[];
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
  const sources = new Set(input.pairs.map((p) => `${p.source.host}\0${p.source.name!.full}`));
  const staleAfter = new Map<string, number>();
  for (const p of input.pairs)
    if (p.limits?.staleAfterSeconds !== undefined) staleAfter.set(`${p.source.host}\0${p.source.name!.full}`, p.limits.staleAfterSeconds);
  const facts: FleetFacts = { now, hosts: [], pools: [], datasets: [], pairs: [] };

  for (const h of input.hosts) {
    if (!('listing' in h)) {
      facts.hosts.push({ host: h.host, up: false, error: h.error, rejected: 0 });
      continue;
    }
    const l = h.listing;
    facts.hosts.push({ host: h.host, up: true, listingSeconds: l.durationMs / 1000, rejected: l.rejected.length });
    for (const p of l.pools) {
      const ratio = p.size && p.allocated !== undefined ? p.allocated / p.size : undefined;
      facts.pools.push({ host: h.host, pool: p.name, health: p.health, ...(ratio !== undefined ? { capacityRatio: ratio } : {}) });
    }
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
      });
    }
  }

  // The history, newest first (History.read's order): the first entry of a pair is its last run.
  const history = input.history ?? [];
  for (const pair of input.pairs) {
    const runs = history.filter((r) => r.pair === pair.id);
    const lastRun = runs[0];
    const lastSuccess = runs.find((r) => r.outcome === 'ok');
    const base = { pair, behind: 0, baseAtRisk: false, ...(lastRun ? { lastRun } : {}), ...(lastSuccess ? { lastSuccess } : {}) };
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
    facts.pairs.push({
      ...base,
      state,
      ...(f?.pruneAt !== undefined && !f.keptBy ? { basePruneAt: f.pruneAt } : {}),
      ...(lagSeconds !== undefined ? { lagSeconds } : {}),
      behind: state.behind?.count ?? 0,
      baseAtRisk: state.retentionWarning !== undefined,
    });
  }
  return facts;
}
