/**
 * FleetFacts (core/monitor/facts.ts, what `check` and `metrics` judge) <-> the fleet store's
 * observations, both ways: the agent writes the facts of a sweep as rows, and `check --from-store`
 * rebuilds the facts from the newest rows and judges them with the same code as a live check, so
 * the two never disagree. Pure data (no database): the store's bundle and the CLI both use it.
 *
 * What a row cannot keep is said here: a pair's state keeps what check and metrics read of it
 * (statuses, summary, base, why there is none, target modified, resume token, retention warning),
 * not the snapshot lists it was computed from (`comparison`, `behind.snapshots` and `nameClashes`
 * come back empty). Pool fragmentation is not in the listing the agent makes (`zpool list` of name,
 * health, size, allocated, free, and `zpool status`): it stays null. Of the scans, a row keeps the
 * last finished scrub (when, its errors) and the data errors; a scrub running or paused, or a
 * resilver, is not kept (check judges finished scans only).
 */
import type { ReplicationPair } from '../core/fleet/pairs.js';
import type { Finding } from '../core/monitor/check.js';
import { formatDuration } from '../core/monitor/duration.js';
import {
  pairRuns,
  pairSources,
  pairStaleAfter,
  poolFacts,
  type DatasetFacts,
  type FleetFacts,
  type HostFacts,
  type PairFacts,
  type RunRecord,
} from '../core/monitor/facts.js';
import type { PairState } from '../core/replication/state.js';
import type { DatasetObservation, HostObservation, LatestObservations, PairStateObservation, PoolObservation } from './store.js';

/** The `status` of a pair whose hosts could not both be listed (the rest of the statuses are core's PairStatus). */
export const UNREADABLE = 'unreadable';

/** pair_states.detail: what check and metrics need of a pair's state besides the columns. */
export interface StoredPairDetail {
  unreadable?: string;
  baseAtRisk?: boolean;
  replicaWritable?: boolean;
  splitBrain?: boolean;
  state?: Omit<PairState, 'comparison' | 'nameClashes'>;
}

/** The row's last scrub: the last scan when it is a finished scrub. */
function lastScrub(p: FleetFacts['pools'][number]): { lastScrubAt: string | null; scrubErrors: number | null } {
  const s = p.scan;
  if (s?.kind !== 'scrub' || s.state !== 'finished' || s.at === undefined) return { lastScrubAt: null, scrubErrors: null };
  return { lastScrubAt: new Date(s.at * 1000).toISOString(), scrubErrors: s.errors ?? 0 };
}

const isoOfSeconds = (s: number | undefined): string | null => (s === undefined ? null : new Date(s * 1000).toISOString());

/** The observations of one sweep, from the facts `check` would judge (observedAt: the facts' "now"). */
export function observationsOfFacts(
  facts: FleetFacts,
  observedAt: string = new Date(facts.now).toISOString(),
): { hosts: HostObservation[]; pools: PoolObservation[]; datasets: DatasetObservation[]; pairs: PairStateObservation[] } {
  return {
    hosts: facts.hosts.map((h) => ({
      host: h.host,
      observedAt,
      reachable: h.up,
      error: h.error ?? null,
      latencyMs: h.listingSeconds !== undefined ? h.listingSeconds * 1000 : null,
      zfsVersion: h.zfsVersion ?? null,
      rejected: h.rejected,
    })),
    pools: facts.pools.map((p) => ({
      host: p.host,
      pool: p.pool,
      observedAt,
      health: p.health,
      sizeBytes: p.sizeBytes ?? null,
      allocatedBytes: p.allocatedBytes ?? null,
      freeBytes: p.freeBytes ?? null,
      fragmentationPct: null,
      ...lastScrub(p),
      dataErrors: p.dataErrors ?? null,
    })),
    datasets: facts.datasets.map((d) => ({
      host: d.host,
      dataset: d.dataset,
      observedAt,
      newestSnapshot: d.newestSnapshot ?? null,
      newestSnapshotAt: isoOfSeconds(d.newestCreation),
      snapshotCount: d.snapshots,
      usedBytes: d.usedBytes ?? null,
      type: d.type,
    })),
    pairs: facts.pairs.map((p) => pairObservation(p, observedAt)),
  };
}

function pairObservation(p: PairFacts, observedAt: string): PairStateObservation {
  if (!p.state) {
    const detail: StoredPairDetail = { unreadable: p.unreadable ?? 'no listing' };
    return { pairId: p.pair.id, observedAt, status: UNREADABLE, behind: null, base: null, lagSeconds: null, detail };
  }
  const { comparison: _c, nameClashes: _n, ...state } = p.state;
  if (state.behind) state.behind = { ...state.behind, snapshots: [] };
  const detail: StoredPairDetail = {
    baseAtRisk: p.baseAtRisk,
    ...(p.replicaWritable ? { replicaWritable: true } : {}),
    ...(p.splitBrain ? { splitBrain: true } : {}),
    state,
  };
  return {
    pairId: p.pair.id,
    observedAt,
    status: p.state.status,
    behind: p.behind,
    base: p.state.base?.source ?? null,
    lagSeconds: p.lagSeconds ?? null,
    detail,
  };
}

export interface FromStoreInput {
  /** The hosts in scope, in the order check lists them (monitor's scope()). */
  hosts: readonly string[];
  pairs: readonly ReplicationPair[];
  latest: LatestObservations;
  history?: readonly RunRecord[];
  now: number;
  /** Observations older than this are not judged: the agent is said not to be reporting. */
  maxAgeSeconds: number;
}

/**
 * The facts of the newest observations, as if listed now: ages are measured from `now` (a dataset's
 * newest snapshot from its creation; a pair's lag grows by the time since it was observed, since it
 * was behind then and nothing says it caught up). A host (or a pair) observed longer than
 * `maxAgeSeconds` ago, or never, is left out of the facts and said as a WARNING finding instead:
 * judging old facts would report a stale OK.
 */
export function factsFromObservations(input: FromStoreInput): { facts: FleetFacts; problems: Finding[] } {
  const { now, maxAgeSeconds } = input;
  const facts: FleetFacts = { now, hosts: [], pools: [], datasets: [], pairs: [] };
  const problems: Finding[] = [];
  const ageOf = (at: string) => Math.max(0, now / 1000 - Date.parse(at) / 1000);
  const since = (at: string) => `since ${at} (${formatDuration(ageOf(at))} ago, over --max-age ${formatDuration(maxAgeSeconds)})`;
  const byHost = new Map(input.latest.hosts.map((h) => [h.host, h]));
  /** Hosts whose observations are fresh: up or down, as the agent saw them. */
  const fresh = new Map<string, HostObservation>();
  /** Why a host is not judged (stale, never observed). */
  const missing = new Map<string, string>();

  for (const host of input.hosts) {
    const h = byHost.get(host);
    if (!h) {
      missing.set(host, 'never observed by the agent');
      problems.push({
        severity: 'warning',
        kind: 'agent-stale',
        subject: host,
        short: `${host} not observed`,
        message: `${host}: never observed by the agent (is zfs-fleet agent running with this host?)`,
      });
      continue;
    }
    if (ageOf(h.observedAt) > maxAgeSeconds) {
      missing.set(host, `agent not reporting on ${host} ${since(h.observedAt)}`);
      problems.push({
        severity: 'warning',
        kind: 'agent-stale',
        subject: host,
        short: `${host} agent not reporting`,
        message: `${host}: agent not reporting ${since(h.observedAt)}`,
      });
      continue;
    }
    fresh.set(host, h);
    facts.hosts.push(hostFacts(h));
  }

  for (const p of input.latest.pools)
    if (fresh.get(p.host)?.reachable)
      facts.pools.push(
        poolFacts(p.host, p.pool, p.health ?? 'UNKNOWN', p.sizeBytes ?? undefined, p.allocatedBytes ?? undefined, p.freeBytes ?? undefined, {
          ...(p.lastScrubAt ? { scan: { kind: 'scrub', state: 'finished', at: Date.parse(p.lastScrubAt) / 1000, errors: p.scrubErrors ?? 0 } } : {}),
          ...(p.dataErrors !== null && p.dataErrors !== undefined ? { dataErrors: p.dataErrors } : {}),
        }),
      );

  const sources = pairSources(input.pairs);
  const staleAfter = pairStaleAfter(input.pairs);
  for (const d of input.latest.datasets)
    if (fresh.get(d.host)?.reachable) {
      const f = datasetFacts(d, now, sources);
      const limit = staleAfter.get(`${d.host}\0${d.dataset}`);
      facts.datasets.push(limit !== undefined ? { ...f, staleAfterSeconds: limit } : f);
    }

  const states = new Map(input.latest.pairs.map((p) => [p.pairId, p]));
  for (const pair of input.pairs) {
    const base = { pair, behind: 0, baseAtRisk: false, ...pairRuns(pair.id, input.history ?? []) };
    const notJudged = [pair.source.host, pair.target.host].filter((x, i, a) => a.indexOf(x) === i && missing.has(x)).map((x) => missing.get(x)!);
    if (notJudged.length) {
      facts.pairs.push({ ...base, unreadable: notJudged.join(', ') });
      continue;
    }
    const row = states.get(pair.id);
    if (!row || ageOf(row.observedAt) > maxAgeSeconds) {
      const why = row ? `no state recorded by the agent ${since(row.observedAt)}` : 'no state recorded by the agent';
      facts.pairs.push({ ...base, unreadable: `${why} (is the pair in the agent's pairs file?)` });
      continue;
    }
    facts.pairs.push({ ...base, ...pairFacts(row, now) });
  }
  return { facts, problems };
}

function hostFacts(h: HostObservation): HostFacts {
  if (!h.reachable) return { host: h.host, up: false, error: h.error ?? '', rejected: 0 };
  return {
    host: h.host,
    up: true,
    ...(h.latencyMs != null ? { listingSeconds: h.latencyMs / 1000 } : {}),
    rejected: h.rejected ?? 0,
    ...(h.zfsVersion ? { zfsVersion: h.zfsVersion } : {}),
  };
}

function datasetFacts(d: DatasetObservation, now: number, sources: Set<string>): DatasetFacts {
  const creation = d.newestSnapshotAt ? Date.parse(d.newestSnapshotAt) / 1000 : undefined;
  return {
    host: d.host,
    dataset: d.dataset,
    type: d.type ?? 'filesystem',
    snapshots: d.snapshotCount,
    ...(d.newestSnapshot ? { newestSnapshot: d.newestSnapshot } : {}),
    ...(creation !== undefined ? { newestCreation: creation, newestAgeSeconds: Math.max(0, now / 1000 - creation) } : {}),
    pairSource: sources.has(`${d.host}\0${d.dataset}`),
    ...(d.usedBytes != null ? { usedBytes: d.usedBytes } : {}),
  };
}

/** What a stored pair state says, as PairFacts without the pair and its runs. */
function pairFacts(row: PairStateObservation, now: number): Omit<PairFacts, 'pair'> {
  const detail = (row.detail ?? {}) as StoredPairDetail;
  if (row.status === UNREADABLE || !detail.state) return { behind: 0, baseAtRisk: false, unreadable: detail.unreadable ?? 'no listing' };
  const state: PairState = { ...detail.state, nameClashes: [] };
  const behind = row.behind ?? 0;
  // The lag was the age of the oldest unsent snapshot when observed; it has grown since, as long as the pair is behind.
  const lag = row.lagSeconds == null ? undefined : behind > 0 ? row.lagSeconds + Math.max(0, (now - Date.parse(row.observedAt)) / 1000) : row.lagSeconds;
  return {
    state,
    behind,
    baseAtRisk: detail.baseAtRisk ?? false,
    ...(detail.replicaWritable ? { replicaWritable: true } : {}),
    ...(detail.splitBrain ? { splitBrain: true } : {}),
    ...(lag !== undefined ? { lagSeconds: lag } : {}),
  };
}
