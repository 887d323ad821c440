/**
 * The fleet store's behaviour, run against each backend on a real database: SQLite on a temp file
 * (test/unit/store) and PostgreSQL on the lab server (test/integration/store, test/lab/pg.sh).
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as esbuild from 'esbuild';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { History } from '../../../src/app/history.js';
import { openStore, SCHEMA_VERSION, StoreSchemaTooNewError, type FleetStore, type RunRecord } from '../../../src/store/index.js';

const run = promisify(execFile);
const root = path.resolve(__dirname, '../../..');

export interface Backend {
  kind: 'sqlite' | 'postgres';
  /** A fresh, empty database for one test. */
  newUrl(): Promise<string>;
  cleanup?(): Promise<void>;
}

/** The `<!-- store-query: NAME BACKENDS -->` sql blocks of README.md. */
export function readmeQueries(kind: string): { name: string; sql: string }[] {
  const text = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const re = /<!-- store-query: (\S+) ([^>]*?) -->\n```sql\n([\s\S]*?)```/g;
  const out: { name: string; sql: string }[] = [];
  for (const m of text.matchAll(re)) if (m[2]!.split(/\s+/).includes(kind)) out.push({ name: m[1]!, sql: m[3]!.trim() });
  return out;
}

const ago = (hours: number) => new Date(Date.now() - hours * 3600_000).toISOString();

/** One agent sweep at `at`: off1 up (with its pool and dataset) or down, ovh3 up; `count` snapshots per dataset. */
const sweep = (at: string, off1Up: boolean, count: number) => ({
  startedAt: at,
  finishedAt: at,
  agent: 'test pid 1',
  hosts: [
    off1Up
      ? { host: 'off1', observedAt: at, reachable: true, latencyMs: 120, zfsVersion: 'zfs-fuse 0.7.0', rejected: 0 }
      : { host: 'off1', observedAt: at, reachable: false, error: 'connect ECONNREFUSED 127.0.0.1:2351' },
    { host: 'ovh3', observedAt: at, reachable: true, latencyMs: 80, zfsVersion: 'zfs-fuse 0.7.0', rejected: 0 },
  ],
  pools: [
    ...(off1Up ? [{ host: 'off1', pool: 'zfs-hdd', observedAt: at, health: 'ONLINE', sizeBytes: 1000, allocatedBytes: 10, freeBytes: 990 }] : []),
    { host: 'ovh3', pool: 'rpool', observedAt: at, health: 'ONLINE', sizeBytes: 2000, allocatedBytes: 20, freeBytes: 1980 },
  ],
  datasets: [
    ...(off1Up ? [{ host: 'off1', dataset: 'zfs-hdd/off/products', observedAt: at, snapshotCount: count, type: 'filesystem' }] : []),
    { host: 'ovh3', dataset: 'rpool/b', observedAt: at, snapshotCount: count, newestSnapshot: 'rpool/b@x', newestSnapshotAt: ago(3), type: 'filesystem' },
    { host: 'ovh3', dataset: 'rpool/a', observedAt: at, snapshotCount: count, type: 'volume' },
  ],
  pairs: [{ pairId: 'p1', observedAt: at, status: 'behind', behind: count, base: 'zfs-hdd/off/products@a', lagSeconds: 60, detail: { baseAtRisk: true } }],
});

export function sampleRun(over: Partial<RunRecord> = {}): RunRecord {
  return {
    planId: 'plan-1',
    kind: 'sync',
    title: 'Sync off1:zfs-hdd/off/products -> ovh3:rpool/off/products',
    hosts: ['off1', 'ovh3'],
    outcome: 'ok',
    startedAt: '2026-11-30T10:00:00.000Z',
    finishedAt: '2026-11-30T10:00:05.250Z',
    durationMs: 5250,
    bytes: 123456789,
    steps: [{ id: 's1', host: 'off1', status: 'ok', durationMs: 5000 } as never],
    pair: 'off1:zfs-hdd/off/products->ovh3:rpool/off/products',
    commands: { off1: ['zfs send -I @a @b'], ovh3: ['zfs recv -u rpool/off/products'] },
    ...over,
  };
}

/** The seed the documented queries are checked on: one host offline, one stale dataset, one pair behind, two syncs of one pair. */
export async function seed(store: FleetStore): Promise<void> {
  await store.recordHosts([
    { host: 'off1', observedAt: ago(2), reachable: true, latencyMs: 12.5, zfsVersion: 'zfs-2.3.2' },
    { host: 'off1', observedAt: ago(1), reachable: false, error: 'connect ECONNREFUSED 10.0.0.1:22' },
    { host: 'ovh3', observedAt: ago(2), reachable: false, error: 'timed out' },
    { host: 'ovh3', observedAt: ago(1), reachable: true, latencyMs: 40, zfsVersion: 'zfs-fuse 0.7.0' },
  ]);
  await store.recordDatasets([
    {
      host: 'off1',
      dataset: 'zfs-hdd/off/products',
      observedAt: ago(1),
      newestSnapshot: 'autosnap_fresh',
      newestSnapshotAt: ago(2),
      snapshotCount: 40,
      usedBytes: 10,
    },
    {
      host: 'ovh3',
      dataset: 'rpool/off/products',
      observedAt: ago(30),
      newestSnapshot: 'autosnap_x',
      newestSnapshotAt: ago(30.5),
      snapshotCount: 39,
      usedBytes: 9,
    },
    {
      host: 'ovh3',
      dataset: 'rpool/off/products',
      observedAt: ago(1),
      newestSnapshot: 'autosnap_old',
      newestSnapshotAt: ago(50),
      snapshotCount: 39,
      usedBytes: 9,
    },
  ]);
  await store.recordPairStates([
    { pairId: 'p1', observedAt: ago(3), status: 'in-sync', behind: 0, base: 'a', lagSeconds: 60 },
    { pairId: 'p1', observedAt: ago(1), status: 'behind', behind: 3, base: 'a', lagSeconds: 7200 },
    { pairId: 'p2', observedAt: ago(1), status: 'in-sync', behind: 0, base: 'b', lagSeconds: 30 },
  ]);
  // Two sweeps of the agent (hosts of their own): fs2 answered in the first, not in the second.
  for (const [at, fs2] of [
    [ago(0.2), true],
    [ago(0.1), false],
  ] as const)
    await store.recordSweep({
      startedAt: at,
      finishedAt: at,
      hosts: [
        { host: 'fs1', observedAt: at, reachable: true, latencyMs: 900 },
        fs2
          ? { host: 'fs2', observedAt: at, reachable: true, latencyMs: 700 }
          : { host: 'fs2', observedAt: at, reachable: false, error: 'connect ECONNREFUSED 10.0.0.2:22' },
      ],
      pools: [],
      datasets: [],
      pairs: [],
    });
  await store.recordRuns([
    sampleRun({ planId: 'a', pair: 'p1', finishedAt: '2026-11-01T00:00:00.000Z' }),
    sampleRun({ planId: 'b', pair: 'p1', finishedAt: '2026-11-02T00:00:00.000Z' }),
    sampleRun({ planId: 'c', pair: 'p1', outcome: 'failed', error: 'cannot receive', finishedAt: '2026-11-03T00:00:00.000Z' }),
    sampleRun({ planId: 'd', pair: 'p2', kind: 'rollback', finishedAt: '2026-11-04T00:00:00.000Z' }),
  ]);
}

/** What each documented query must answer on the seed (first column of each row, times cut to the day). */
export const EXPECTED: Record<string, unknown[][]> = {
  'offline-hosts': [['fs2'], ['off1']],
  'stale-datasets': [['ovh3', 'rpool/off/products', 'autosnap_old']],
  'pairs-behind': [['p1', 'behind', 3]],
  'last-sync': [['p1', '2026-11-02']],
  'last-sweeps': [
    [2, 2, 1],
    [1, 2, 2],
  ],
  'down-in-last-sweep': [['fs2', 'connect ECONNREFUSED 10.0.0.2:22']],
};

/** A row cut to the columns EXPECTED compares, times to their day. */
export function comparable(name: string, row: Record<string, unknown>): unknown[] {
  const v = Object.values(row).map((x) => (x instanceof Date ? x.toISOString() : x));
  const width = EXPECTED[name]![0]!.length;
  return v.slice(0, width).map((x) => (typeof x === 'string' && /^\d{4}-\d\d-\d\dT/.test(x) ? x.slice(0, 10) : typeof x === 'bigint' ? Number(x) : x));
}

export function storeSuite(backend: Backend): void {
  const opened: FleetStore[] = [];
  const open = async (url?: string) => {
    const s = await openStore(url ?? (await backend.newUrl()));
    opened.push(s);
    return s;
  };
  afterAll(async () => {
    for (const s of opened) await s.close().catch(() => {});
    await backend.cleanup?.();
  });

  it('creates the schema in a new database and reports it', async () => {
    const s = await open();
    const info = await s.info();
    expect(info.kind).toBe(backend.kind);
    expect(info.schemaVersion).toBe(SCHEMA_VERSION);
    expect(Object.values(info.counts)).toEqual([0, 0, 0, 0, 0, 0, 0]);
  });

  it('opens an existing store again without migrating twice', async () => {
    const url = await backend.newUrl();
    const a = await open(url);
    await a.recordHosts([{ host: 'off1', observedAt: ago(1), reachable: true }]);
    await a.close();
    const b = await open(url);
    expect((await b.info()).counts.host_observations).toBe(1);
    expect(await b.schemaVersion()).toBe(SCHEMA_VERSION);
  });

  it('records and reads back every kind of observation, newest first', async () => {
    const s = await open();
    await s.recordHosts([
      { host: 'off1', observedAt: '2026-12-01T10:00:00.000Z', reachable: true, latencyMs: 12.5, zfsVersion: 'zfs-2.3.2' },
      { host: 'off1', observedAt: '2026-12-01T10:05:00.000Z', reachable: false, error: 'connect ECONNREFUSED' },
      { host: 'ovh3', observedAt: '2026-12-01T10:05:00.000Z', reachable: true, latencyMs: 3, zfsVersion: 'zfs-fuse 0.7.0' },
    ]);
    expect(await s.hostObservations({ host: 'off1' })).toEqual([
      { host: 'off1', observedAt: '2026-12-01T10:05:00.000Z', reachable: false, error: 'connect ECONNREFUSED', latencyMs: null, zfsVersion: null },
      { host: 'off1', observedAt: '2026-12-01T10:00:00.000Z', reachable: true, error: null, latencyMs: 12.5, zfsVersion: 'zfs-2.3.2' },
    ]);
    expect((await s.latestHosts()).map((h) => [h.host, h.reachable])).toEqual([
      ['off1', false],
      ['ovh3', true],
    ]);

    const pool = {
      host: 'off1',
      pool: 'zfs-hdd',
      observedAt: '2026-12-01T10:00:00.000Z',
      health: 'ONLINE',
      sizeBytes: 7_990_000_000_000,
      allocatedBytes: 5_000_000_000_000,
      freeBytes: 2_990_000_000_000,
      fragmentationPct: 17,
      lastScrubAt: '2026-11-29T02:00:00.000Z',
      scrubErrors: 0,
      dataErrors: 3,
    };
    await s.recordPools([pool]);
    expect(await s.poolObservations({ host: 'off1' })).toEqual([pool]);

    const ds = {
      host: 'off1',
      dataset: 'zfs-hdd/off/products',
      observedAt: '2026-12-01T10:00:00.000Z',
      newestSnapshot: 'zfs-hdd/off/products@20261201-0900',
      newestSnapshotAt: '2026-12-01T09:00:00.000Z',
      snapshotCount: 3000,
      usedBytes: 1_234_567_890_123,
    };
    await s.recordDatasets([ds, { ...ds, observedAt: '2026-12-01T11:00:00.000Z', snapshotCount: 3001 }]);
    expect((await s.datasetObservations({ dataset: 'zfs-hdd/off/products' })).map((d) => d.snapshotCount)).toEqual([3001, 3000]);
    expect((await s.datasetObservations({ since: '2026-12-01T10:30:00.000Z' })).length).toBe(1);
    expect((await s.datasetObservations())[1]).toEqual(ds);

    const ps = { pairId: 'p1', observedAt: '2026-12-01T10:00:00.000Z', status: 'behind', behind: 4, base: '@20230501-0000', lagSeconds: 86400.5 };
    await s.recordPairStates([ps]);
    expect(await s.pairStates({ pairId: 'p1' })).toEqual([ps]);
    expect((await s.info()).counts).toEqual({
      host_observations: 3,
      pool_observations: 1,
      dataset_observations: 2,
      pair_states: 1,
      runs: 0,
      sweeps: 0,
      jobs: 0,
    });
  });

  it('keeps a run with every field of the history entry', async () => {
    const s = await open();
    const r = sampleRun({ warnings: ['destroy of a bookmark failed: not supported'], changes: ['x'], error: 'boom', outcome: 'failed' });
    expect(await s.recordRun(r)).toBe(true);
    expect(await s.recordRun(r)).toBe(false); // the same run (plan id + finishedAt) is stored once
    expect(await s.runs()).toEqual([r]);
    expect(await s.runs({ outcome: 'ok' })).toEqual([]);
  });

  it('writes a batch in one transaction: a bad row leaves none of it', async () => {
    const s = await open();
    const rows = Array.from({ length: 150 }, (_, i) => ({
      host: 'off1',
      dataset: `zfs-hdd/d${i}`,
      observedAt: ago(1),
      snapshotCount: i === 120 ? (null as unknown as number) : i, // NOT NULL, in the second chunk of 100
    }));
    await expect(s.recordDatasets(rows)).rejects.toThrow();
    expect((await s.info()).counts.dataset_observations).toBe(0);
  });

  it('imports a history.jsonl once (idempotent by plan id + finishedAt)', async () => {
    const s = await open();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zfs-fleet-hist-'));
    const file = path.join(dir, 'history.jsonl');
    const h = new History(file);
    const entries = [
      sampleRun({ planId: 'a' }),
      sampleRun({ planId: 'b', pair: undefined, commands: undefined }),
      sampleRun({ planId: 'a', finishedAt: '2026-12-01T00:00:00.000Z' }),
    ];
    for (const e of entries) await h.append(e);
    fs.appendFileSync(file, '{"truncated\n');
    expect(await s.importHistory(file)).toEqual({ imported: 3, skipped: 0, unreadable: 1 });
    expect(await s.importHistory(file)).toEqual({ imported: 0, skipped: 3, unreadable: 1 });
    const back = await s.runs();
    expect(back.map((r) => r.planId)).toEqual(['a', 'b', 'a']);
    expect(back[1]).toEqual(JSON.parse(JSON.stringify(entries[1])));
    expect(back[2]).toEqual(entries[0]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a database whose schema is newer than it knows, with one line naming the store', async () => {
    const url = await backend.newUrl();
    const s = await open(url);
    await s.recordHosts([{ host: 'off1', observedAt: ago(1), reachable: true }]);
    await s.db
      .insertInto('schema_migrations')
      .values({ version: SCHEMA_VERSION + 1, name: 'from the future', applied_at: new Date().toISOString() })
      .execute();
    await s.close();
    const err = await openStore(url).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(StoreSchemaTooNewError);
    expect(err!.message).not.toContain('\n');
    expect(err!.message).toMatch(
      new RegExp(`^fleet store (sqlite:|postgres://).* has schema version ${SCHEMA_VERSION + 1}, newer than this zfs-fleet knows \\(${SCHEMA_VERSION}\\)`),
    );
  });

  it('two processes write the same store at once, creating it together: no row lost or doubled', async () => {
    const url = await backend.newUrl();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zfs-fleet-writer-'));
    const bundle = path.join(dir, 'writer.cjs');
    await esbuild.build({
      entryPoints: [path.join(__dirname, 'writer.ts')],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: ['pg-native'],
      logLevel: 'error',
    });
    // As in dist/: the .wasm next to the bundle.
    fs.copyFileSync(path.join(root, 'node_modules/node-sqlite3-wasm/dist/node-sqlite3-wasm.wasm'), path.join(dir, 'node-sqlite3-wasm.wasm'));
    const n = 60;
    const results = await Promise.all(['A', 'B'].map((who) => run(process.execPath, [bundle, url, who, String(n)], { timeout: 120_000 })));
    expect(results.map((r) => r.stderr)).toEqual(['', '']);
    const s = await open(url);
    expect((await s.info()).counts).toMatchObject({ host_observations: 2 * n, runs: 2 * n });
    for (const who of ['A', 'B']) {
      const hosts = await s.hostObservations({ host: who, limit: 10 * n });
      expect(hosts.map((h) => h.latencyMs).sort((a, b) => a! - b!)).toEqual(Array.from({ length: n }, (_, i) => i));
    }
    expect(new Set((await s.runs({ limit: 10 * n })).map((r) => r.planId)).size).toBe(2 * n);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 180_000);

  it('records a sweep in one transaction and reads the newest observations per host, from that sweep', async () => {
    const s = await open();
    const first = await s.recordSweep(sweep(ago(0.2), true, 1));
    const second = await s.recordSweep(sweep(ago(0.1), false, 2));
    expect(second).toBeGreaterThan(first);
    const latest = await s.latestObservations({ hosts: ['off1', 'ovh3', 'never'], pairIds: ['p1', 'p2'] });
    expect(latest.hosts.map((h) => [h.host, h.reachable, h.sweepId])).toEqual([
      ['off1', false, second],
      ['ovh3', true, second],
    ]);
    expect(latest.hosts[0]!.error).toBe('connect ECONNREFUSED 127.0.0.1:2351');
    // off1 was down in the newest sweep: nothing of it (its older datasets are not today's).
    expect(latest.pools.map((p) => `${p.host}:${p.pool}`)).toEqual(['ovh3:rpool']);
    expect(latest.datasets.map((d) => [d.dataset, d.snapshotCount, d.type])).toEqual([
      ['rpool/b', 2, 'filesystem'],
      ['rpool/a', 2, 'volume'],
    ]);
    expect(latest.pairs).toEqual([expect.objectContaining({ pairId: 'p1', behind: 2, sweepId: second, detail: { baseAtRisk: true } })]);
    expect((await s.info()).counts).toMatchObject({ sweeps: 2, host_observations: 4, dataset_observations: 5 });

    // One transaction: a sweep that fails half-way (a dataset without its snapshot count) leaves nothing behind.
    const bad = sweep(ago(0), true, 3);
    (bad.datasets[1] as { snapshotCount: unknown }).snapshotCount = null;
    await expect(s.recordSweep(bad)).rejects.toThrow();
    expect((await s.info()).counts).toMatchObject({ sweeps: 2, host_observations: 4, dataset_observations: 5, pool_observations: 3, pair_states: 2 });
  });

  it('prunes the sweeps older than a time with all their rows, in one transaction, never the newest; a dry run only counts', async () => {
    const s = await open();
    const ids = [];
    for (const [h, up] of [
      [50, true],
      [30, true],
      [10, false],
      [5, true],
    ] as const)
      ids.push(await s.recordSweep(sweep(ago(h), up, 1)));
    // Rows written outside a sweep (recordHosts) count by their own time.
    await s.recordHosts([{ host: 'lone', observedAt: ago(40), reachable: true }]);
    const before = (await s.info()).counts;
    const dry = await s.pruneObservations(ago(20), { dryRun: true });
    expect(dry).toEqual({ sweeps: 2, host_observations: 5, pool_observations: 4, dataset_observations: 6, pair_states: 2 });
    expect((await s.info()).counts).toEqual(before);
    expect(await s.pruneObservations(ago(20))).toEqual(dry);
    expect((await s.info()).counts).toMatchObject({ sweeps: 2, host_observations: 4, pool_observations: 3, dataset_observations: 5, pair_states: 2 });
    const latest = await s.latestObservations({ hosts: ['off1', 'ovh3', 'lone'], pairIds: ['p1'] });
    expect(latest.hosts.map((h) => [h.host, h.sweepId])).toEqual([
      ['off1', ids[3]],
      ['ovh3', ids[3]],
    ]);
    // Everything is older than a cutoff in the future, but the newest sweep stays.
    expect(await s.pruneObservations(new Date(Date.now() + 3600_000))).toMatchObject({ sweeps: 1 });
    expect((await s.info()).counts).toMatchObject({ sweeps: 1, host_observations: 2, pair_states: 1 });
    expect((await s.latestObservations({ hosts: ['off1'], pairIds: ['p1'] })).pairs).toEqual([expect.objectContaining({ pairId: 'p1', sweepId: ids[3] })]);
  });

  it('migrates a version-1 store to the current schema, keeping its rows', async () => {
    const url = await backend.newUrl();
    const s = await open(url);
    await s.recordHosts([{ host: 'off1', observedAt: ago(1), reachable: true, latencyMs: 5 }]);
    // Back to what migration 1 made: drop what later migrations added.
    await sql.raw('DROP TABLE jobs').execute(s.db);
    await sql.raw('DROP TABLE sweeps').execute(s.db);
    for (const [table, cols] of [
      ['host_observations', ['sweep_id', 'rejected']],
      ['pool_observations', ['sweep_id', 'data_errors']],
      ['dataset_observations', ['sweep_id', 'type']],
      ['pair_states', ['sweep_id', 'detail']],
    ] as const) {
      for (const idx of ['host_observations_host_id', 'pool_observations_sweep_host', 'dataset_observations_sweep_host', 'pair_states_pair_id'])
        await sql.raw(`DROP INDEX IF EXISTS ${idx}`).execute(s.db);
      for (const c of cols) await sql.raw(`ALTER TABLE ${table} DROP COLUMN ${c}`).execute(s.db);
    }
    await sql.raw('DELETE FROM schema_migrations WHERE version > 1').execute(s.db);
    await s.close();
    const again = await open(url);
    expect(await again.schemaVersion()).toBe(SCHEMA_VERSION);
    const latest = await again.latestObservations({ hosts: ['off1'], pairIds: [] });
    expect(latest.hosts).toEqual([expect.objectContaining({ host: 'off1', reachable: true, latencyMs: 5 })]);
    expect(latest.hosts[0]!.sweepId).toBeUndefined();
  });

  describe('the queries documented in README.md', () => {
    let store: FleetStore;
    // The queue's queries (queue-*) are the queue suite's (queueSuite.ts).
    const queries = readmeQueries(backend.kind).filter((q) => !q.name.startsWith('queue-'));
    beforeAll(async () => {
      store = await open();
      await seed(store);
    });
    it('are there for this backend', () => {
      expect(queries.map((q) => q.name).sort()).toEqual(Object.keys(EXPECTED).sort());
    });
    for (const q of queries)
      it(`${q.name} answers as expected`, async () => {
        const { rows } = await sql.raw<Record<string, unknown>>(q.sql).execute(store.db);
        expect(rows.map((r) => comparable(q.name, r))).toEqual(EXPECTED[q.name]);
      });
  });
}
