/**
 * The fleet store: what the fleet looked like over time (hosts, pools, datasets, pairs) and what ran
 * (runs), in SQLite by default (one file, `$XDG_STATE_HOME/zfs-fleet/fleet.db`) or PostgreSQL for a
 * team (`postgres://...`). One schema (./schema.ts), versioned migrations, every write in a
 * transaction. Reads return plain objects with ISO-8601 times, whichever backend answered.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Kysely, PostgresDialect, sql, type Insertable, type Selectable, type Transaction } from 'kysely';
import type { ExecResult } from '../core/execute/executor.js';
import { MIGRATIONS, SCHEMA_VERSION, migrationStatements, type StoreKind, type StoreTables } from './schema.js';
import { SqliteWasmDialect } from './sqliteWasm.js';
import { patientPool } from './pgPool.js';
import type { PoolClient } from 'pg';
import { defaultStoreUrl, describeLocation, notWritableReason, parseStoreUrl, StoreOpenError } from './location.js';

export { SCHEMA_VERSION, type StoreKind } from './schema.js';

/** One poll of a host. */
export interface HostObservation {
  host: string;
  observedAt: string;
  reachable: boolean;
  error?: string | null;
  latencyMs?: number | null;
  zfsVersion?: string | null;
  /** Objects the host listed with invalid names (left out). */
  rejected?: number | null;
  /** The agent's sweep that made it (schema 2); null for observations recorded otherwise. */
  sweepId?: number | null;
}
export interface PoolObservation {
  host: string;
  pool: string;
  observedAt: string;
  health?: string | null;
  sizeBytes?: number | null;
  allocatedBytes?: number | null;
  freeBytes?: number | null;
  fragmentationPct?: number | null;
  lastScrubAt?: string | null;
  scrubErrors?: number | null;
  /** `zpool status`'s data errors (migration 5). */
  dataErrors?: number | null;
  sweepId?: number | null;
}
export interface DatasetObservation {
  host: string;
  dataset: string;
  observedAt: string;
  newestSnapshot?: string | null;
  /** The newest snapshot's creation time; its age is `observedAt - newestSnapshotAt`. */
  newestSnapshotAt?: string | null;
  snapshotCount: number;
  usedBytes?: number | null;
  /** filesystem or volume. */
  type?: string | null;
  sweepId?: number | null;
}
export interface PairStateObservation {
  pairId: string;
  observedAt: string;
  status: string;
  /** Snapshots of the source not yet on the target. */
  behind?: number | null;
  /** The newest common snapshot. */
  base?: string | null;
  lagSeconds?: number | null;
  /** What check needs of the state besides the columns (./observations.ts StoredPairDetail). */
  detail?: unknown;
  sweepId?: number | null;
}

/** One sweep of the agent: every host, pool, dataset and pair it observed, written in one transaction. */
export interface SweepRecord {
  startedAt: string;
  finishedAt: string;
  /** Who swept (`HOSTNAME pid N`). */
  agent?: string;
  hosts: HostObservation[];
  pools: PoolObservation[];
  datasets: DatasetObservation[];
  pairs: PairStateObservation[];
}

/** The newest observation of each host asked for, the pools and datasets of that same sweep, the newest state of each pair. */
export interface LatestObservations {
  hosts: HostObservation[];
  pools: PoolObservation[];
  datasets: DatasetObservation[];
  pairs: PairStateObservation[];
}
/** What ran: the fields of the history (src/app/history.ts HistoryEntry). */
export interface RunRecord extends ExecResult {
  pair?: string;
  commands?: Record<string, string[]>;
}

/** The database's schema is newer than this build: it is not touched. */
export class StoreSchemaTooNewError extends Error {
  constructor(
    readonly store: string,
    readonly found: number,
  ) {
    super(`fleet store ${store} has schema version ${found}, newer than this zfs-fleet knows (${SCHEMA_VERSION}): update zfs-fleet to use it`);
    this.name = 'StoreSchemaTooNewError';
  }
}

export { defaultStoreUrl, describeLocation, parseStoreUrl, StoreOpenError, type StoreLocation } from './location.js';
// The job queue lives in the same bundle (dist/fleet-store.js), loaded with the store.
export { JobError, JobQueue, type NewJob } from './queue.js';

export interface StoreInfo {
  kind: StoreKind;
  location: string;
  schemaVersion: number;
  counts: Record<'host_observations' | 'pool_observations' | 'dataset_observations' | 'pair_states' | 'runs' | 'sweeps' | 'jobs', number>;
}

type Db = Kysely<StoreTables>;
type Tx = Transaction<StoreTables>;

const iso = (v: string | Date | null | undefined): string | null => (v == null ? null : new Date(v).toISOString());
const isoRequired = (v: string | Date): string => new Date(v).toISOString();
const json = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : v);
const num = (v: unknown): number | null => (v == null ? null : Number(v));

/** Rows `pruneObservations` removed (or would remove), per table. */
export type PruneCounts = Record<'sweeps' | 'host_observations' | 'pool_observations' | 'dataset_observations' | 'pair_states', number>;

export class FleetStore {
  private constructor(
    readonly db: Db,
    readonly kind: StoreKind,
    readonly location: string,
  ) {}

  static async open(url: string = defaultStoreUrl(), options: { busyTimeoutMs?: number } = {}): Promise<FleetStore> {
    const loc = parseStoreUrl(url);
    const name = describeLocation(loc);
    let db: Db;
    if (loc.kind === 'sqlite') {
      try {
        await fs.mkdir(path.dirname(loc.file), { recursive: true, mode: 0o700 });
      } catch (e) {
        throw new StoreOpenError(name, (e as Error).message);
      }
      db = new Kysely<StoreTables>({ dialect: new SqliteWasmDialect(loc.file, options) });
    } else {
      const pg = await import('pg');
      const Pool = pg.default?.Pool ?? pg.Pool;
      const types = pg.default?.types ?? pg.types;
      // bigint (int8) columns and count(*) come back as numbers (sizes in bytes stay below 2^53).
      const getTypeParser = ((oid: number, format?: 'text' | 'binary') =>
        oid === 20 ? (v: string) => Number(v) : types.getTypeParser(oid, format)) as typeof types.getTypeParser;
      // A server restart ends the sessions: dropped and reconnected (./pgPool.ts), never a crash of the process.
      const pool = patientPool<PoolClient>(new Pool({ connectionString: loc.url, max: 4, types: { getTypeParser } }));
      db = new Kysely<StoreTables>({ dialect: new PostgresDialect({ pool }) });
    }
    const store = new FleetStore(db, loc.kind, name);
    try {
      await store.migrate();
    } catch (e) {
      await db.destroy().catch(() => {});
      if (e instanceof StoreSchemaTooNewError) throw e;
      const msg = (e as Error).message || String(e);
      if (msg.startsWith('fleet store')) throw e;
      const why = await notWritableReason(loc, msg);
      throw new StoreOpenError(name, `${msg.split('\n')[0]!}${why ? `: ${why}` : ''}`);
    }
    return store;
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  /** Applies the migrations this database lacks, in one transaction; refuses a newer schema. */
  private async migrate(): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      // Two processes opening a new PostgreSQL store at once: the second waits here, then finds the tables
      // (taken before CREATE TABLE IF NOT EXISTS, which races otherwise). SQLite: BEGIN IMMEDIATE did it.
      if (this.kind === 'postgres') await sql`SELECT pg_advisory_xact_lock(7422533)`.execute(tx);
      await sql`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`.execute(tx);
      const current = await this.versionIn(tx);
      if (current > SCHEMA_VERSION) throw new StoreSchemaTooNewError(this.location, current);
      for (const m of MIGRATIONS.filter((m) => m.version > current)) {
        for (const stmt of migrationStatements(this.kind, m)) await sql.raw(stmt).execute(tx);
        await tx.insertInto('schema_migrations').values({ version: m.version, name: m.name, applied_at: new Date().toISOString() }).execute();
      }
    });
  }

  private async versionIn(db: Db | Tx): Promise<number> {
    const row = await db
      .selectFrom('schema_migrations')
      .select((eb) => eb.fn.max('version').as('v'))
      .executeTakeFirst();
    return Number(row?.v ?? 0);
  }

  async schemaVersion(): Promise<number> {
    return this.versionIn(this.db);
  }

  async info(): Promise<StoreInfo> {
    const tables = ['host_observations', 'pool_observations', 'dataset_observations', 'pair_states', 'runs', 'sweeps', 'jobs'] as const;
    const counts = {} as StoreInfo['counts'];
    for (const t of tables) {
      const r = await this.db
        .selectFrom(t)
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirst();
      counts[t] = Number(r?.n ?? 0);
    }
    return { kind: this.kind, location: this.location, schemaVersion: await this.schemaVersion(), counts };
  }

  // ---- writes: each call is one transaction (a poll of the whole fleet is one call) ----

  async recordHosts(obs: HostObservation[]): Promise<void> {
    if (!obs.length) return;
    await this.db.transaction().execute((tx) => insertChunked(tx, 'host_observations', obs.map(hostRow)));
  }

  /** One sweep of the agent, in ONE transaction: the sweep row, then every observation keyed by its id. Returns the sweep id. */
  async recordSweep(sw: SweepRecord): Promise<number> {
    return this.db.transaction().execute(async (tx) => {
      const row = await tx
        .insertInto('sweeps')
        .values({
          started_at: isoRequired(sw.startedAt),
          finished_at: isoRequired(sw.finishedAt),
          hosts: sw.hosts.length,
          hosts_up: sw.hosts.filter((h) => h.reachable).length,
          pairs: sw.pairs.length,
          duration_ms: Date.parse(sw.finishedAt) - Date.parse(sw.startedAt),
          agent: sw.agent ?? null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const id = Number(row.id);
      const keyed = <T extends { sweepId?: number | null }>(xs: T[]) => xs.map((x) => ({ ...x, sweepId: id }));
      await insertChunked(tx, 'host_observations', keyed(sw.hosts).map(hostRow));
      await insertChunked(tx, 'pool_observations', keyed(sw.pools).map(poolRow));
      await insertChunked(tx, 'dataset_observations', keyed(sw.datasets).map(datasetRow));
      await insertChunked(tx, 'pair_states', keyed(sw.pairs).map(pairRow));
      return id;
    });
  }

  /**
   * Old observations out (the agent's `--retain`, `store prune`): every sweep that finished before
   * `before`, with its host, pool, dataset and pair rows, and rows written outside a sweep that are
   * older, in one transaction. The newest sweep is always kept, however old (`check --from-store`
   * still says what was last seen, and that it is stale). Runs and jobs are not observations: kept.
   * `dryRun`: only counted.
   */
  async pruneObservations(before: string | Date, o: { dryRun?: boolean } = {}): Promise<PruneCounts> {
    const cutoff = isoRequired(before);
    return this.db.transaction().execute(async (tx) => {
      const newest = await tx
        .selectFrom('sweeps')
        .select((eb) => eb.fn.max('id').as('id'))
        .executeTakeFirst();
      const keep = newest?.id == null ? -1 : Number(newest.id);
      const old = tx.selectFrom('sweeps').select('id').where('finished_at', '<', cutoff).where('id', '<>', keep);
      const counts = { sweeps: 0, host_observations: 0, pool_observations: 0, dataset_observations: 0, pair_states: 0 } as PruneCounts;
      for (const table of ['host_observations', 'pool_observations', 'dataset_observations', 'pair_states'] as const) {
        if (o.dryRun) {
          const r = await tx
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as('n'))
            .where((eb) => eb.or([eb('sweep_id', 'in', old), eb.and([eb('sweep_id', 'is', null), eb('observed_at', '<', cutoff)])]))
            .executeTakeFirst();
          counts[table] = Number(r?.n ?? 0);
        } else {
          const r = await tx
            .deleteFrom(table)
            .where((eb) => eb.or([eb('sweep_id', 'in', old), eb.and([eb('sweep_id', 'is', null), eb('observed_at', '<', cutoff)])]))
            .executeTakeFirst();
          counts[table] = Number(r.numDeletedRows);
        }
      }
      if (o.dryRun) {
        const r = await old
          .clearSelect()
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirst();
        counts.sweeps = Number(r?.n ?? 0);
      } else {
        const r = await tx.deleteFrom('sweeps').where('finished_at', '<', cutoff).where('id', '<>', keep).executeTakeFirst();
        counts.sweeps = Number(r.numDeletedRows);
      }
      return counts;
    });
  }

  /**
   * The newest observation of each of `hosts` (by id: the order they were written), the pools and
   * datasets of that same sweep and host (in the order they were written: the listing's), and the
   * newest state of each of `pairIds`. Index lookups only (host, id) / (sweep_id, host) / (pair_id, id):
   * as fast with a year of history as with one sweep.
   */
  async latestObservations(q: { hosts: readonly string[]; pairIds: readonly string[] }): Promise<LatestObservations> {
    // One transaction: one consistent view (a sweep committed meanwhile is not half seen), and on SQLite
    // one lock for all the reads instead of one per statement (the dotfile lock is a mkdir and an rmdir).
    return this.db.transaction().execute(async (tx) => {
      const out: LatestObservations = { hosts: [], pools: [], datasets: [], pairs: [] };
      for (const host of q.hosts) {
        const h = await tx.selectFrom('host_observations').selectAll().where('host', '=', host).orderBy('id', 'desc').limit(1).executeTakeFirst();
        if (!h) continue;
        out.hosts.push(hostObs(h));
        if (h.sweep_id == null || !h.reachable) continue;
        const pools = await tx.selectFrom('pool_observations').selectAll().where('sweep_id', '=', h.sweep_id).where('host', '=', host).orderBy('id').execute();
        out.pools.push(...pools.map(poolObs));
        const ds = await tx.selectFrom('dataset_observations').selectAll().where('sweep_id', '=', h.sweep_id).where('host', '=', host).orderBy('id').execute();
        for (const d of ds) out.datasets.push(datasetObs(d));
      }
      for (const pairId of q.pairIds) {
        const p = await tx.selectFrom('pair_states').selectAll().where('pair_id', '=', pairId).orderBy('id', 'desc').limit(1).executeTakeFirst();
        if (p) out.pairs.push(pairObs(p));
      }
      return out;
    });
  }

  async recordPools(obs: PoolObservation[]): Promise<void> {
    if (!obs.length) return;
    await this.db.transaction().execute((tx) => insertChunked(tx, 'pool_observations', obs.map(poolRow)));
  }

  async recordDatasets(obs: DatasetObservation[]): Promise<void> {
    if (!obs.length) return;
    await this.db.transaction().execute((tx) => insertChunked(tx, 'dataset_observations', obs.map(datasetRow)));
  }

  async recordPairStates(obs: PairStateObservation[]): Promise<void> {
    if (!obs.length) return;
    await this.db.transaction().execute((tx) => insertChunked(tx, 'pair_states', obs.map(pairRow)));
  }

  /** Records runs; a run already stored (same plan id and finishedAt) is skipped. Returns how many were new. */
  async recordRuns(runs: RunRecord[]): Promise<number> {
    if (!runs.length) return 0;
    return this.db.transaction().execute(async (tx) => {
      let added = 0;
      for (const r of runs) {
        const res = await tx
          .insertInto('runs')
          .values(runRow(r))
          .onConflict((oc) => oc.columns(['plan_id', 'finished_at']).doNothing())
          .executeTakeFirst();
        added += Number(res.numInsertedOrUpdatedRows ?? 0);
      }
      return added;
    });
  }

  async recordRun(run: RunRecord): Promise<boolean> {
    return (await this.recordRuns([run])) === 1;
  }

  /**
   * Imports a history.jsonl (src/app/history.ts) into `runs`, in one transaction. Idempotent: a run
   * already there (plan id + finishedAt) is skipped, so importing the same file twice adds nothing.
   */
  async importHistory(file: string): Promise<{ imported: number; skipped: number; unreadable: number }> {
    const text = await fs.readFile(file, 'utf8');
    const runs: RunRecord[] = [];
    let unreadable = 0;
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const e = JSON.parse(line) as RunRecord;
        if (typeof e.planId !== 'string' || typeof e.finishedAt !== 'string' || typeof e.startedAt !== 'string') throw new Error('not a run');
        runs.push(e);
      } catch {
        unreadable++;
      }
    }
    const imported = await this.recordRuns(runs);
    return { imported, skipped: runs.length - imported, unreadable };
  }

  // ---- reads: newest first ----

  async hostObservations(q: { host?: string; since?: string; limit?: number } = {}): Promise<HostObservation[]> {
    let query = this.db.selectFrom('host_observations').selectAll();
    if (q.host) query = query.where('host', '=', q.host);
    if (q.since) query = query.where('observed_at', '>=', isoRequired(q.since));
    const rows = await query
      .orderBy('observed_at', 'desc')
      .orderBy('id', 'desc')
      .limit(q.limit ?? 1000)
      .execute();
    return rows.map(hostObs);
  }

  /** The newest observation of each host. */
  async latestHosts(): Promise<HostObservation[]> {
    const rows = await this.db
      .selectFrom('host_observations as h')
      .selectAll('h')
      .where('h.id', '=', (eb) =>
        eb
          .selectFrom('host_observations as n')
          .select('n.id')
          .whereRef('n.host', '=', 'h.host')
          .orderBy('n.observed_at', 'desc')
          .orderBy('n.id', 'desc')
          .limit(1),
      )
      .orderBy('h.host')
      .execute();
    return rows.map(hostObs);
  }

  async poolObservations(q: { host?: string; pool?: string; since?: string; limit?: number } = {}): Promise<PoolObservation[]> {
    let query = this.db.selectFrom('pool_observations').selectAll();
    if (q.host) query = query.where('host', '=', q.host);
    if (q.pool) query = query.where('pool', '=', q.pool);
    if (q.since) query = query.where('observed_at', '>=', isoRequired(q.since));
    const rows = await query
      .orderBy('observed_at', 'desc')
      .orderBy('id', 'desc')
      .limit(q.limit ?? 1000)
      .execute();
    return rows.map(poolObs);
  }

  async datasetObservations(q: { host?: string; dataset?: string; since?: string; limit?: number } = {}): Promise<DatasetObservation[]> {
    let query = this.db.selectFrom('dataset_observations').selectAll();
    if (q.host) query = query.where('host', '=', q.host);
    if (q.dataset) query = query.where('dataset', '=', q.dataset);
    if (q.since) query = query.where('observed_at', '>=', isoRequired(q.since));
    const rows = await query
      .orderBy('observed_at', 'desc')
      .orderBy('id', 'desc')
      .limit(q.limit ?? 1000)
      .execute();
    return rows.map(datasetObs);
  }

  async pairStates(q: { pairId?: string; since?: string; limit?: number } = {}): Promise<PairStateObservation[]> {
    let query = this.db.selectFrom('pair_states').selectAll();
    if (q.pairId) query = query.where('pair_id', '=', q.pairId);
    if (q.since) query = query.where('observed_at', '>=', isoRequired(q.since));
    const rows = await query
      .orderBy('observed_at', 'desc')
      .orderBy('id', 'desc')
      .limit(q.limit ?? 1000)
      .execute();
    return rows.map(pairObs);
  }

  async runs(q: { pair?: string; kind?: string; outcome?: string; limit?: number } = {}): Promise<RunRecord[]> {
    let query = this.db.selectFrom('runs').selectAll();
    if (q.pair) query = query.where('pair', '=', q.pair);
    if (q.kind) query = query.where('kind', '=', q.kind);
    if (q.outcome) query = query.where('outcome', '=', q.outcome);
    const rows = await query
      .orderBy('finished_at', 'desc')
      .orderBy('id', 'desc')
      .limit(q.limit ?? 200)
      .execute();
    return rows.map((r) => {
      const detail = (json(r.detail) ?? {}) as Partial<RunRecord>;
      const run: RunRecord = {
        ...detail,
        planId: r.plan_id,
        title: r.title,
        kind: r.kind as RunRecord['kind'],
        outcome: r.outcome as RunRecord['outcome'],
        hosts: json(r.hosts) as string[],
        bytes: Number(r.bytes),
        durationMs: Number(r.duration_ms),
        startedAt: isoRequired(r.started_at),
        finishedAt: isoRequired(r.finished_at),
        steps: detail.steps ?? [],
      };
      if (r.error != null) run.error = r.error;
      if (r.pair != null) run.pair = r.pair;
      if (r.commands != null) run.commands = json(r.commands) as Record<string, string[]>;
      return run;
    });
  }
}

// ---- observations <-> rows (one place per table, for every writer and reader) ----

type Selected<K extends keyof StoreTables> = Selectable<StoreTables[K]>;

/** The sweep id of an observation the agent made; observations recorded otherwise (schema 1) have none. */
const sweepOf = (r: { sweep_id: number | null }) => (r.sweep_id != null ? { sweepId: Number(r.sweep_id) } : {});

function hostRow(o: HostObservation) {
  return {
    host: o.host,
    observed_at: isoRequired(o.observedAt),
    reachable: o.reachable,
    error: o.error ?? null,
    latency_ms: o.latencyMs ?? null,
    zfs_version: o.zfsVersion ?? null,
    rejected: o.rejected ?? null,
    sweep_id: o.sweepId ?? null,
  };
}
function hostObs(r: Selected<'host_observations'>): HostObservation {
  return {
    host: r.host,
    observedAt: isoRequired(r.observed_at),
    reachable: Boolean(r.reachable),
    error: r.error,
    latencyMs: num(r.latency_ms),
    zfsVersion: r.zfs_version,
    ...(r.rejected != null ? { rejected: num(r.rejected) } : {}),
    ...sweepOf(r),
  };
}
function poolRow(o: PoolObservation) {
  return {
    host: o.host,
    pool: o.pool,
    observed_at: isoRequired(o.observedAt),
    health: o.health ?? null,
    size_bytes: o.sizeBytes ?? null,
    allocated_bytes: o.allocatedBytes ?? null,
    free_bytes: o.freeBytes ?? null,
    fragmentation_pct: o.fragmentationPct ?? null,
    last_scrub_at: iso(o.lastScrubAt),
    scrub_errors: o.scrubErrors ?? null,
    data_errors: o.dataErrors ?? null,
    sweep_id: o.sweepId ?? null,
  };
}
function poolObs(r: Selected<'pool_observations'>): PoolObservation {
  return {
    host: r.host,
    pool: r.pool,
    observedAt: isoRequired(r.observed_at),
    health: r.health,
    sizeBytes: num(r.size_bytes),
    allocatedBytes: num(r.allocated_bytes),
    freeBytes: num(r.free_bytes),
    fragmentationPct: num(r.fragmentation_pct),
    lastScrubAt: iso(r.last_scrub_at),
    scrubErrors: num(r.scrub_errors),
    dataErrors: num(r.data_errors),
    ...sweepOf(r),
  };
}
function datasetRow(o: DatasetObservation) {
  return {
    host: o.host,
    dataset: o.dataset,
    observed_at: isoRequired(o.observedAt),
    newest_snapshot: o.newestSnapshot ?? null,
    newest_snapshot_at: iso(o.newestSnapshotAt),
    snapshot_count: o.snapshotCount,
    used_bytes: o.usedBytes ?? null,
    type: o.type ?? null,
    sweep_id: o.sweepId ?? null,
  };
}
function datasetObs(r: Selected<'dataset_observations'>): DatasetObservation {
  return {
    host: r.host,
    dataset: r.dataset,
    observedAt: isoRequired(r.observed_at),
    newestSnapshot: r.newest_snapshot,
    newestSnapshotAt: iso(r.newest_snapshot_at),
    snapshotCount: Number(r.snapshot_count),
    usedBytes: num(r.used_bytes),
    ...(r.type != null ? { type: r.type } : {}),
    ...sweepOf(r),
  };
}
function pairRow(o: PairStateObservation) {
  return {
    pair_id: o.pairId,
    observed_at: isoRequired(o.observedAt),
    status: o.status,
    behind: o.behind ?? null,
    base: o.base ?? null,
    lag_seconds: o.lagSeconds ?? null,
    detail: o.detail === undefined || o.detail === null ? null : JSON.stringify(o.detail),
    sweep_id: o.sweepId ?? null,
  };
}
function pairObs(r: Selected<'pair_states'>): PairStateObservation {
  return {
    pairId: r.pair_id,
    observedAt: isoRequired(r.observed_at),
    status: r.status,
    behind: num(r.behind),
    base: r.base,
    lagSeconds: num(r.lag_seconds),
    ...(r.detail != null ? { detail: json(r.detail) } : {}),
    ...sweepOf(r),
  };
}

/** SQLite allows 999 bound parameters per statement in older builds: insert in chunks of 50 rows (at most 11 columns). */
async function insertChunked<K extends 'host_observations' | 'pool_observations' | 'dataset_observations' | 'pair_states'>(
  tx: Tx,
  table: K,
  rows: Insertable<StoreTables[K]>[],
): Promise<void> {
  for (let i = 0; i < rows.length; i += 50)
    await tx
      .insertInto(table)
      .values(rows.slice(i, i + 50) as never)
      .execute();
}

/** The columns of a run; what the history has beyond them (steps, changes, warnings) is kept in `detail`. */
function runRow(r: RunRecord) {
  const { planId, title, kind, outcome, hosts, bytes, durationMs, error, pair, commands, startedAt, finishedAt, ...rest } = r;
  return {
    plan_id: planId,
    title,
    kind,
    outcome,
    hosts: JSON.stringify(hosts ?? []),
    bytes: bytes ?? 0,
    duration_ms: durationMs ?? 0,
    error: error ?? null,
    pair: pair ?? null,
    commands: commands ? JSON.stringify(commands) : null,
    started_at: isoRequired(startedAt),
    finished_at: isoRequired(finishedAt),
    detail: JSON.stringify(rest),
  };
}

/** Opens (and creates or migrates) the fleet store at `url`: a file path, `sqlite:PATH` or `postgres://…`. */
export function openStore(url?: string, options?: { busyTimeoutMs?: number }): Promise<FleetStore> {
  return FleetStore.open(url, options);
}
