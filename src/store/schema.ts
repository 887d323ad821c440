/**
 * The fleet store's one schema, for SQLite and PostgreSQL, as numbered migrations. A migration is
 * DDL written once with a few column types that differ per dialect (the `T` map); the database
 * records each applied version in `schema_migrations`. A new table (the job queue, roles) is a new
 * migration appended here, never an edit of an applied one.
 */
import type { Generated } from 'kysely';

export type StoreKind = 'sqlite' | 'postgres';

/** Column types per dialect: times are ISO-8601 UTC text in SQLite (sortable), timestamptz in PostgreSQL. */
const TYPES = {
  sqlite: { id: 'INTEGER PRIMARY KEY AUTOINCREMENT', time: 'TEXT', bool: 'INTEGER', int: 'INTEGER', real: 'REAL', json: 'TEXT' },
  postgres: {
    id: 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
    time: 'TIMESTAMPTZ',
    bool: 'BOOLEAN',
    int: 'BIGINT',
    real: 'DOUBLE PRECISION',
    json: 'JSONB',
  },
} as const;
type T = Record<keyof (typeof TYPES)['sqlite'], string>;

export interface Migration {
  version: number;
  name: string;
  statements: (t: T) => string[];
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'observations, pair states and runs',
    statements: (t) => [
      `CREATE TABLE host_observations (
        id ${t.id},
        host TEXT NOT NULL,
        observed_at ${t.time} NOT NULL,
        reachable ${t.bool} NOT NULL,
        error TEXT,
        latency_ms ${t.real},
        zfs_version TEXT
      )`,
      `CREATE INDEX host_observations_host_time ON host_observations (host, observed_at)`,
      `CREATE TABLE pool_observations (
        id ${t.id},
        host TEXT NOT NULL,
        pool TEXT NOT NULL,
        observed_at ${t.time} NOT NULL,
        health TEXT,
        size_bytes ${t.int},
        allocated_bytes ${t.int},
        free_bytes ${t.int},
        fragmentation_pct ${t.real},
        last_scrub_at ${t.time},
        scrub_errors ${t.int}
      )`,
      `CREATE INDEX pool_observations_pool_time ON pool_observations (host, pool, observed_at)`,
      `CREATE TABLE dataset_observations (
        id ${t.id},
        host TEXT NOT NULL,
        dataset TEXT NOT NULL,
        observed_at ${t.time} NOT NULL,
        newest_snapshot TEXT,
        newest_snapshot_at ${t.time},
        snapshot_count ${t.int} NOT NULL,
        used_bytes ${t.int}
      )`,
      `CREATE INDEX dataset_observations_dataset_time ON dataset_observations (host, dataset, observed_at)`,
      `CREATE TABLE pair_states (
        id ${t.id},
        pair_id TEXT NOT NULL,
        observed_at ${t.time} NOT NULL,
        status TEXT NOT NULL,
        behind ${t.int},
        base TEXT,
        lag_seconds ${t.real}
      )`,
      `CREATE INDEX pair_states_pair_time ON pair_states (pair_id, observed_at)`,
      `CREATE TABLE runs (
        id ${t.id},
        plan_id TEXT NOT NULL,
        title TEXT NOT NULL,
        kind TEXT NOT NULL,
        outcome TEXT NOT NULL,
        hosts ${t.json} NOT NULL,
        bytes ${t.int} NOT NULL,
        duration_ms ${t.int} NOT NULL,
        error TEXT,
        pair TEXT,
        commands ${t.json},
        started_at ${t.time} NOT NULL,
        finished_at ${t.time} NOT NULL,
        detail ${t.json},
        UNIQUE (plan_id, finished_at)
      )`,
      `CREATE INDEX runs_pair_finished ON runs (pair, finished_at)`,
    ],
  },
  {
    version: 2,
    name: 'agent sweeps: observations keyed by sweep, newest per key',
    // One sweep of the agent (zfs-fleet agent) = one row here and every observation it made, in one
    // transaction. "The newest observations of host H" = its newest host row's sweep_id, then the
    // pools and datasets of that sweep and host: two index lookups, however long the history is.
    statements: (t) => [
      `CREATE TABLE sweeps (
        id ${t.id},
        started_at ${t.time} NOT NULL,
        finished_at ${t.time} NOT NULL,
        hosts ${t.int} NOT NULL,
        hosts_up ${t.int} NOT NULL,
        pairs ${t.int} NOT NULL,
        duration_ms ${t.real} NOT NULL,
        agent TEXT
      )`,
      `CREATE INDEX sweeps_finished ON sweeps (finished_at)`,
      `ALTER TABLE host_observations ADD COLUMN sweep_id ${t.int}`,
      `ALTER TABLE host_observations ADD COLUMN rejected ${t.int}`,
      `ALTER TABLE pool_observations ADD COLUMN sweep_id ${t.int}`,
      `ALTER TABLE dataset_observations ADD COLUMN sweep_id ${t.int}`,
      `ALTER TABLE dataset_observations ADD COLUMN type TEXT`,
      `ALTER TABLE pair_states ADD COLUMN sweep_id ${t.int}`,
      `ALTER TABLE pair_states ADD COLUMN detail ${t.json}`,
      `CREATE INDEX host_observations_host_id ON host_observations (host, id)`,
      `CREATE INDEX pool_observations_sweep_host ON pool_observations (sweep_id, host)`,
      `CREATE INDEX dataset_observations_sweep_host ON dataset_observations (sweep_id, host)`,
      `CREATE INDEX pair_states_pair_id ON pair_states (pair_id, id)`,
    ],
  },
  {
    version: 3,
    name: 'the job queue',
    // One row per job. `name`, `blocks` (KB), `files`, `priority` and `sync` are the columns of the
    // syncrestore queue people already query: -1 available, -2 running, 0 success, > 0 failed (the
    // exit code of the failing step), -10 paused. A pair has at most one job available, running or
    // paused (the partial unique index: a schedule never stacks a second run behind a slow one).
    statements: (t) => [
      `CREATE TABLE jobs (
        id ${t.id},
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        priority ${t.int} NOT NULL,
        sync ${t.int} NOT NULL,
        blocks ${t.int},
        files ${t.int},
        spec ${t.json} NOT NULL,
        pair_id TEXT,
        source_host TEXT,
        target_host TEXT,
        attempts ${t.int} NOT NULL,
        worker TEXT,
        lease_until ${t.time},
        cancel_requested ${t.bool} NOT NULL,
        created_at ${t.time} NOT NULL,
        started_at ${t.time},
        finished_at ${t.time},
        bytes_done ${t.int},
        bytes_total ${t.int},
        error TEXT,
        run_plan_id TEXT
      )`,
      `CREATE INDEX jobs_claim ON jobs (sync, priority)`,
      `CREATE UNIQUE INDEX jobs_one_active_per_pair ON jobs (pair_id) WHERE sync IN (-1, -2, -10)`,
    ],
  },
  {
    version: 4,
    name: 'jobs that wait for another (a migration: parents before children)',
    // `after_job`: the job this one waits for; it is claimed only once that one succeeded (sync = 0).
    statements: (t) => [`ALTER TABLE jobs ADD COLUMN after_job ${t.int}`],
  },
  {
    version: 5,
    name: "pools' data errors (zpool status), beside the last scrub",
    statements: (t) => [`ALTER TABLE pool_observations ADD COLUMN data_errors ${t.int}`],
  },
];

/** The newest schema version this build knows. */
export const SCHEMA_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));

export function migrationStatements(kind: StoreKind, m: Migration): string[] {
  return m.statements(TYPES[kind]);
}

/** Row types as Kysely sees them (times are written as ISO strings; PostgreSQL reads them back as Date). */
type Time = string | Date;

export interface HostObservationRow {
  id: Generated<number>;
  host: string;
  observed_at: Time;
  reachable: boolean | number;
  error: string | null;
  latency_ms: number | null;
  zfs_version: string | null;
  sweep_id: number | null;
  rejected: number | null;
}
export interface PoolObservationRow {
  id: Generated<number>;
  host: string;
  pool: string;
  observed_at: Time;
  health: string | null;
  size_bytes: number | null;
  allocated_bytes: number | null;
  free_bytes: number | null;
  fragmentation_pct: number | null;
  last_scrub_at: Time | null;
  scrub_errors: number | null;
  data_errors: number | null;
  sweep_id: number | null;
}
export interface DatasetObservationRow {
  id: Generated<number>;
  host: string;
  dataset: string;
  observed_at: Time;
  newest_snapshot: string | null;
  newest_snapshot_at: Time | null;
  snapshot_count: number;
  used_bytes: number | null;
  sweep_id: number | null;
  type: string | null;
}
export interface PairStateRow {
  id: Generated<number>;
  pair_id: string;
  observed_at: Time;
  status: string;
  behind: number | null;
  base: string | null;
  lag_seconds: number | null;
  sweep_id: number | null;
  /** JSON: what check needs of the pair's state besides the columns (statuses, summary, why no base, ...). */
  detail: unknown;
}
export interface SweepRow {
  id: Generated<number>;
  started_at: Time;
  finished_at: Time;
  hosts: number;
  hosts_up: number;
  pairs: number;
  duration_ms: number;
  agent: string | null;
}
export interface RunRow {
  id: Generated<number>;
  plan_id: string;
  title: string;
  kind: string;
  outcome: string;
  /** JSON text in SQLite, jsonb (parsed) in PostgreSQL. */
  hosts: unknown;
  bytes: number;
  duration_ms: number;
  error: string | null;
  pair: string | null;
  commands: unknown;
  started_at: Time;
  finished_at: Time;
  detail: unknown;
}

export interface JobRow {
  id: Generated<number>;
  name: string;
  kind: string;
  priority: number;
  /** -1 available, -2 running, 0 success, > 0 failed (exit code), -10 paused. */
  sync: number;
  /** What the job moves, in KB (the send's estimate, else `written`/`used`). */
  blocks: number | null;
  files: number | null;
  /** JSON: what the worker plans from (core/queue JobSpec). */
  spec: unknown;
  pair_id: string | null;
  source_host: string | null;
  target_host: string | null;
  attempts: number;
  worker: string | null;
  lease_until: Time | null;
  cancel_requested: boolean | number;
  created_at: Time;
  started_at: Time | null;
  finished_at: Time | null;
  bytes_done: number | null;
  bytes_total: number | null;
  error: string | null;
  run_plan_id: string | null;
  /** The job this one waits for (claimed once that one succeeded). */
  after_job: number | null;
}

export interface StoreTables {
  jobs: JobRow;
  schema_migrations: { version: number; name: string; applied_at: string };
  host_observations: HostObservationRow;
  pool_observations: PoolObservationRow;
  dataset_observations: DatasetObservationRow;
  pair_states: PairStateRow;
  runs: RunRow;
  sweeps: SweepRow;
}
