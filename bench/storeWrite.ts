/**
 * The fleet store's write of one agent sweep of 100 hosts (BENCH_HOSTS; 30 datasets each, a pool
 * each, 100 pair states: what `zfs-fleet agent` writes per interval), through the store
 * (`recordSweep`: Kysely, one transaction, chunked multi-row inserts) vs a bare loop writing the
 * same rows into the same tables with one prepared INSERT per row inside one transaction
 * (node-sqlite3-wasm for SQLite; `pg` for PostgreSQL). Both warm, in this process, alternating;
 * medians of BENCH_RUNS (default 15) sweeps. Prints the ratios.
 *
 *   node esbuild.mjs --bench && node dist/bench/storeWrite.js
 * BENCH_PG_URL=postgres://…/an_empty_db adds PostgreSQL (the tables are created there by the store).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Database } from 'node-sqlite3-wasm';
import pg from 'pg';
import { openStore, type SweepRecord } from '../src/store/store.js';

const HOSTS = Number(process.env.BENCH_HOSTS ?? 100);
const DATASETS_PER_HOST = 30;
const RUNS = Number(process.env.BENCH_RUNS ?? 15);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One sweep as the agent records it, named as fleets name their hosts and datasets. */
function sweep(n: number): SweepRecord {
  const at = new Date(Date.now() - (RUNS * 2 - n) * 60_000).toISOString();
  const hosts = Array.from({ length: HOSTS }, (_, i) => `zfs${String(i + 1).padStart(3, '0')}`);
  return {
    startedAt: at,
    finishedAt: at,
    agent: 'bench',
    hosts: hosts.map((host) => ({ host, observedAt: at, reachable: true, latencyMs: 900, zfsVersion: 'zfs-2.3.2-1', rejected: 0 })),
    pools: hosts.map((host) => ({ host, pool: 'tank', observedAt: at, health: 'ONLINE', sizeBytes: 8e12, allocatedBytes: 5e12, freeBytes: 3e12 })),
    datasets: hosts.flatMap((host) =>
      Array.from({ length: DATASETS_PER_HOST }, (_, d) => ({
        host,
        dataset: `tank/${['home', 'srv', 'vm'][d % 3]}/app${d}`,
        observedAt: at,
        newestSnapshot: `tank/${['home', 'srv', 'vm'][d % 3]}/app${d}@autosnap_2026-12-04_03:00:01_hourly`,
        newestSnapshotAt: '2026-12-04T03:00:01.000Z',
        snapshotCount: 96,
        usedBytes: 1e9 + d,
        type: 'filesystem',
      })),
    ),
    pairs: hosts.map((host, i) => ({
      pairId: `${host}:tank/srv/app1->${hosts[(i + 1) % hosts.length]}:backup/${host}/app1`,
      observedAt: at,
      status: 'in-sync',
      behind: 0,
      base: 'tank/srv/app1@autosnap_2026-12-04_03:00:01_hourly',
      lagSeconds: 0,
      detail: { baseAtRisk: false },
    })),
  };
}

type Row = Record<string, string | number | boolean | null>;
/** The rows of a sweep as the tables hold them (the columns recordSweep writes). */
function rows(sw: SweepRecord, sweepId: number): { table: string; row: Row }[] {
  const out: { table: string; row: Row }[] = [];
  for (const h of sw.hosts)
    out.push({
      table: 'host_observations',
      row: {
        host: h.host,
        observed_at: h.observedAt,
        reachable: h.reachable,
        error: null,
        latency_ms: h.latencyMs ?? null,
        zfs_version: h.zfsVersion ?? null,
        rejected: 0,
        sweep_id: sweepId,
      },
    });
  for (const p of sw.pools)
    out.push({
      table: 'pool_observations',
      row: {
        host: p.host,
        pool: p.pool,
        observed_at: p.observedAt,
        health: p.health ?? null,
        size_bytes: p.sizeBytes ?? null,
        allocated_bytes: p.allocatedBytes ?? null,
        free_bytes: p.freeBytes ?? null,
        sweep_id: sweepId,
      },
    });
  for (const d of sw.datasets)
    out.push({
      table: 'dataset_observations',
      row: {
        host: d.host,
        dataset: d.dataset,
        observed_at: d.observedAt,
        newest_snapshot: d.newestSnapshot ?? null,
        newest_snapshot_at: d.newestSnapshotAt ?? null,
        snapshot_count: d.snapshotCount,
        used_bytes: d.usedBytes ?? null,
        type: d.type ?? null,
        sweep_id: sweepId,
      },
    });
  for (const p of sw.pairs)
    out.push({
      table: 'pair_states',
      row: {
        pair_id: p.pairId,
        observed_at: p.observedAt,
        status: p.status,
        behind: p.behind ?? null,
        base: p.base ?? null,
        lag_seconds: p.lagSeconds ?? null,
        detail: JSON.stringify(p.detail),
        sweep_id: sweepId,
      },
    });
  return out;
}

function report(name: string, ours: number[], peer: number[], sw: SweepRecord): void {
  const n = sw.hosts.length + sw.pools.length + sw.datasets.length + sw.pairs.length;
  const [o, p] = [median(ours), median(peer)];
  console.log(
    `${name}: one sweep of ${sw.hosts.length} hosts (${n} rows): store ${o.toFixed(1)} ms, bare INSERT loop ${p.toFixed(1)} ms: ${(o / p).toFixed(2)}x`,
  );
}

async function sqlite(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zfs-fleet-bench-write-'));
  const file = path.join(dir, 'fleet.db');
  try {
    const store = await openStore(file);
    const ours: number[] = [];
    const peer: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const sw = sweep(i);
      let t = performance.now();
      await store.recordSweep(sw);
      ours.push(performance.now() - t);
      // The peer writes into the same file between the store's writes (the store is idle then; the lock is free).
      const db = new Database(file);
      t = performance.now();
      db.exec('BEGIN IMMEDIATE');
      const id = Number(
        (
          db.get("INSERT INTO sweeps (started_at, finished_at, hosts, hosts_up, pairs, duration_ms, agent) VALUES (?, ?, ?, ?, ?, 0, 'bare') RETURNING id", [
            sw.startedAt,
            sw.finishedAt,
            sw.hosts.length,
            sw.hosts.length,
            sw.pairs.length,
          ]) as { id: number }
        ).id,
      );
      const stmts = new Map<string, ReturnType<Database['prepare']>>();
      for (const { table, row } of rows(sw, id)) {
        const cols = Object.keys(row);
        const key = `${table}:${cols.join(',')}`;
        if (!stmts.has(key)) stmts.set(key, db.prepare(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`));
        stmts.get(key)!.run(Object.values(row).map((v) => (typeof v === 'boolean' ? Number(v) : v)));
      }
      for (const s of stmts.values()) s.finalize();
      db.exec('COMMIT');
      peer.push(performance.now() - t);
      db.close();
    }
    await store.close();
    report('SQLite', ours, peer, sweep(0));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function postgres(url: string): Promise<void> {
  const store = await openStore(url);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const ours: number[] = [];
  const peer: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const sw = sweep(i);
      let t = performance.now();
      await store.recordSweep(sw);
      ours.push(performance.now() - t);
      t = performance.now();
      await client.query('BEGIN');
      const { rows: r } = await client.query<{ id: string }>(
        "INSERT INTO sweeps (started_at, finished_at, hosts, hosts_up, pairs, duration_ms, agent) VALUES ($1, $2, $3, $3, $4, 0, 'bare') RETURNING id",
        [sw.startedAt, sw.finishedAt, sw.hosts.length, sw.pairs.length],
      );
      for (const { table, row } of rows(sw, Number(r[0]!.id))) {
        const cols = Object.keys(row);
        await client.query({
          name: `bench_${table}`,
          text: `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((_, k) => `$${k + 1}`).join(', ')})`,
          values: Object.values(row),
        });
      }
      await client.query('COMMIT');
      peer.push(performance.now() - t);
    }
  } finally {
    await client.end();
    await store.close();
  }
  report('PostgreSQL', ours, peer, sweep(0));
}

async function main(): Promise<void> {
  await sqlite();
  if (process.env.BENCH_PG_URL) await postgres(process.env.BENCH_PG_URL);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
