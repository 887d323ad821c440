/**
 * `zfs-fleet check --from-store` over 10,000 dataset observations (BENCH_DATASETS) vs a bare SQL
 * loop reading the same rows, printed as a ratio (goal of the agent's issue: the check under 1 s).
 *
 * The store (SQLite, a temp file) holds what an agent writes for a fleet of 10 hosts: BENCH_SWEEPS
 * sweeps (default 5: the check must read the newest sweep only, not the history) of 10 hosts x 1,000
 * datasets named as real fleets name them (pool/role/app/nnn), snapshot counts and newest
 * snapshots in sanoid's naming, one pool per host with zpool list's sizes, and 100 pairs in sync.
 * Ours: the built CLI, a process per run (Node's start, the store bundle and its WebAssembly
 * included). The peer: a Node process that opens the same file with node-sqlite3-wasm and reads the
 * same rows with plain SELECTs (the newest host rows, then the pools and datasets of that sweep,
 * the newest pair states) in one transaction, doing nothing with them, with V8's baseline
 * WebAssembly tier only as the CLI (src/cli/main.ts) runs it. Medians of BENCH_RUNS
 * (default 5), alternating. Then the same two in this process, warm (no start-up): the store's
 * latestObservations + factsFromObservations + evaluateCheck vs the bare loop.
 *
 *   node esbuild.mjs && node esbuild.mjs --bench && node dist/bench/fromStore.js
 * BENCH_PG_URL=postgres://…/an_empty_db adds the same on PostgreSQL.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Database } from 'node-sqlite3-wasm';
import { parsePair, type PairSpec } from '../src/core/fleet/pairs.js';
import { DEFAULT_THRESHOLDS, evaluateCheck } from '../src/core/monitor/check.js';
import type { PairState } from '../src/core/replication/state.js';
import { factsFromObservations } from '../src/store/observations.js';
import { openStore, type DatasetObservation, type HostObservation, type PairStateObservation, type PoolObservation } from '../src/store/store.js';
import { secs } from './proc.js';

const root = path.resolve(__dirname, '../..');
const DATASETS = Number(process.env.BENCH_DATASETS ?? 10_000);
const SWEEPS = Number(process.env.BENCH_SWEEPS ?? 5);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const HOSTS = Array.from({ length: 10 }, (_, i) => `fs${String(i + 1).padStart(2, '0')}`);
const PAIRS = 100;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const sanoid = (t: number) =>
  new Date(t)
    .toISOString()
    .replace(/T(\d\d):(\d\d):(\d\d).*/, '_$1:$2:$3_hourly')
    .replace(/^/, 'autosnap_');

async function seed(file: string, dir: string): Promise<{ pairsFile: string }> {
  const store = await openStore(file);
  const perHost = Math.ceil(DATASETS / HOSTS.length);
  const names = (h: number) =>
    Array.from({ length: perHost }, (_, i) => `tank/${['home', 'srv', 'vm', 'db'][i % 4]}/app${String(Math.floor(i / 4)).padStart(3, '0')}-${HOSTS[h]}`);
  const pairs: { source: string; target: string }[] = [];
  for (let i = 0; i < PAIRS; i++) {
    const h = i % HOSTS.length;
    const ds = names(h)[Math.floor(i / HOSTS.length)]!;
    pairs.push({ source: `${HOSTS[h]}:${ds}`, target: `${HOSTS[(h + 1) % HOSTS.length]}:backup/${HOSTS[h]}/${ds.slice(5)}` });
  }
  const now = Date.now();
  for (let s = SWEEPS - 1; s >= 0; s--) {
    const at = new Date(now - s * 60_000 - 5_000).toISOString();
    const hosts: HostObservation[] = HOSTS.map((host) => ({
      host,
      observedAt: at,
      reachable: true,
      latencyMs: 800 + Math.random() * 400,
      zfsVersion: 'zfs-2.3.2-1',
      rejected: 0,
    }));
    const pools: PoolObservation[] = HOSTS.map((host) => ({
      host,
      pool: 'tank',
      observedAt: at,
      health: 'ONLINE',
      sizeBytes: 7_990_000_000_000,
      allocatedBytes: 5_100_000_000_000,
      freeBytes: 2_890_000_000_000,
    }));
    const datasets: DatasetObservation[] = HOSTS.flatMap((host, h) =>
      names(h).map((dataset, i) => {
        const newest = now - ((i * 7919) % 3600) * 1000 - s * 60_000;
        return {
          host,
          dataset,
          observedAt: at,
          newestSnapshot: `${dataset}@${sanoid(newest)}`,
          newestSnapshotAt: new Date(Math.floor(newest / 1000) * 1000).toISOString(),
          snapshotCount: 48 + ((i * 31) % 2000),
          usedBytes: 1_000_000 * (1 + ((i * 131) % 500_000)),
          type: 'filesystem',
        };
      }),
    );
    const pairStates: PairStateObservation[] = pairs.map((p) => {
      const [sh, sd] = [p.source.slice(0, p.source.indexOf(':')), p.source.slice(p.source.indexOf(':') + 1)];
      const [th, td] = [p.target.slice(0, p.target.indexOf(':')), p.target.slice(p.target.indexOf(':') + 1)];
      const id = `${p.source}->${p.target}`;
      const base = `${sd}@${sanoid(now - 3_600_000)}`;
      const state: Omit<PairState, 'comparison' | 'nameClashes'> = {
        pairId: id,
        source: { host: sh, dataset: sd },
        target: { host: th, dataset: td },
        status: 'in-sync',
        statuses: ['in-sync'],
        summary: 'In sync.',
        targetExists: true,
        base: { kind: 'snapshot', source: base, target: base.replace(sd, td), guid: '1234567890123456789' },
        targetModified: 'no',
        targetNewer: [],
      };
      return { pairId: id, observedAt: at, status: 'in-sync', behind: 0, base, lagSeconds: 0, detail: { baseAtRisk: false, state } };
    });
    await store.recordSweep({ startedAt: at, finishedAt: at, agent: 'bench', hosts, pools, datasets, pairs: pairStates });
  }
  await store.close();
  const pairsFile = path.join(dir, 'pairs.json');
  fs.writeFileSync(pairsFile, JSON.stringify({ pairs }));
  return { pairsFile };
}

/** The peer: the same rows through node-sqlite3-wasm with plain SELECTs, nothing done with them. */
const BARE = `
const { Database } = require(${JSON.stringify(path.join(root, 'node_modules/node-sqlite3-wasm'))});
const db = new Database(process.argv[1], { readOnly: true });
let n = 0;
db.exec('BEGIN'); // one lock for all the reads, as the store takes it
for (const host of JSON.parse(process.argv[2])) {
  const h = db.get('SELECT * FROM host_observations WHERE host = ? ORDER BY id DESC LIMIT 1', [host]);
  n += db.all('SELECT * FROM pool_observations WHERE sweep_id = ? AND host = ? ORDER BY id', [h.sweep_id, host]).length;
  n += db.all('SELECT * FROM dataset_observations WHERE sweep_id = ? AND host = ? ORDER BY id', [h.sweep_id, host]).length;
}
for (const id of JSON.parse(process.argv[3])) n += db.all('SELECT * FROM pair_states WHERE pair_id = ? ORDER BY id DESC LIMIT 1', [id]).length;
db.exec('COMMIT');
db.close();
process.stdout.write(String(n));
`;

async function main(): Promise<void> {
  const cli = path.join(root, 'dist/cli.js');
  if (!fs.existsSync(cli)) throw new Error('build the CLI first: node esbuild.mjs');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zf-bench-store-'));
  const file = path.join(dir, 'fleet.db');
  const t0 = performance.now();
  const { pairsFile } = await seed(file, dir);
  const pairIds = (JSON.parse(fs.readFileSync(pairsFile, 'utf8')) as { pairs: { source: string; target: string }[] }).pairs.map(
    (p) => `${p.source}->${p.target}`,
  );
  console.log(`seeded ${SWEEPS} sweeps x ${DATASETS} datasets (${HOSTS.length} hosts, ${PAIRS} pairs) in ${secs(performance.now() - t0)} s`);
  const env = { ...process.env, ZFS_FLEET_HISTORY: path.join(dir, 'history.jsonl') };
  const ours: number[] = [];
  const peer: number[] = [];
  let lines = 0;
  let rows = 0;
  for (let i = 0; i < RUNS; i++) {
    let t = performance.now();
    const r = spawnSync(process.execPath, [cli, 'check', '--from-store', '--store', file, '--pairs', pairsFile, '--stale-after', '7d', '--json'], {
      encoding: 'utf8',
      maxBuffer: 1 << 28,
      env,
    });
    ours.push(performance.now() - t);
    if (r.status !== 0) throw new Error(`check --from-store exited ${r.status}: ${r.stdout.slice(0, 300)} ${r.stderr}`);
    lines = (JSON.parse(r.stdout) as { findings: unknown[] }).findings.length;
    t = performance.now();
    const b = spawnSync(process.execPath, ['--liftoff-only', '-e', BARE, file, JSON.stringify(HOSTS), JSON.stringify(pairIds)], { encoding: 'utf8' });
    peer.push(performance.now() - t);
    if (b.status !== 0) throw new Error(`bare SQL loop failed: ${b.stderr}`);
    rows = Number(b.stdout);
  }
  const o = median(ours);
  const p = median(peer);
  console.log(`check --from-store (${DATASETS} datasets, ${lines} findings, exit 0): median ${o.toFixed(0)} ms of ${RUNS}`);
  console.log(`bare SQL loop over the same ${rows} rows (node-sqlite3-wasm):        median ${p.toFixed(0)} ms of ${RUNS}`);
  console.log(`ratio ${(o / p).toFixed(2)}x (goal: check --from-store under 1 s)`);

  // Warm, in this process: what the check does after its start-up, vs the bare loop.
  const pairsList = (JSON.parse(fs.readFileSync(pairsFile, 'utf8')) as { pairs: PairSpec[] }).pairs.map(parsePair);
  const store = await openStore(file);
  const bare = new Database(file, { readOnly: true });
  const inOurs: number[] = [];
  const inPeer: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    let t = performance.now();
    const latest = await store.latestObservations({ hosts: HOSTS, pairIds });
    const { facts, problems } = factsFromObservations({ hosts: HOSTS, pairs: pairsList, latest, now: Date.now(), maxAgeSeconds: 3600 });
    evaluateCheck(facts, { ...DEFAULT_THRESHOLDS, staleAfterSeconds: 7 * 86400 }, problems);
    inOurs.push(performance.now() - t);
    t = performance.now();
    bare.exec('BEGIN');
    for (const host of HOSTS) {
      const h = bare.get('SELECT * FROM host_observations WHERE host = ? ORDER BY id DESC LIMIT 1', [host]) as { sweep_id: number };
      bare.all('SELECT * FROM pool_observations WHERE sweep_id = ? AND host = ? ORDER BY id', [h.sweep_id, host]);
      bare.all('SELECT * FROM dataset_observations WHERE sweep_id = ? AND host = ? ORDER BY id', [h.sweep_id, host]);
    }
    for (const id of pairIds) bare.all('SELECT * FROM pair_states WHERE pair_id = ? ORDER BY id DESC LIMIT 1', [id]);
    bare.exec('COMMIT');
    inPeer.push(performance.now() - t);
  }
  bare.close();
  await store.close();
  console.log(
    `warm, in-process: read + facts + judge ${median(inOurs).toFixed(0)} ms vs bare loop ${median(inPeer).toFixed(0)} ms: ${(median(inOurs) / median(inPeer)).toFixed(2)}x`,
  );
  if (process.env.BENCH_PG_URL) await postgres(process.env.BENCH_PG_URL, dir, cli, env);
  if (process.env.BENCH_KEEP) console.log(`kept ${file}`);
  else fs.rmSync(dir, { recursive: true, force: true });
}

/** BENCH_PG_URL (an empty database of its own): the same on PostgreSQL, the peer a `pg` client doing the same SELECTs in one transaction. */
const BARE_PG = `
const { Client } = require(${JSON.stringify(path.join(root, 'node_modules/pg'))});
(async () => {
  const c = new Client({ connectionString: process.argv[1] });
  await c.connect();
  let n = 0;
  await c.query('BEGIN');
  for (const host of JSON.parse(process.argv[2])) {
    const h = (await c.query('SELECT * FROM host_observations WHERE host = $1 ORDER BY id DESC LIMIT 1', [host])).rows[0];
    n += (await c.query('SELECT * FROM pool_observations WHERE sweep_id = $1 AND host = $2 ORDER BY id', [h.sweep_id, host])).rows.length;
    n += (await c.query('SELECT * FROM dataset_observations WHERE sweep_id = $1 AND host = $2 ORDER BY id', [h.sweep_id, host])).rows.length;
  }
  for (const id of JSON.parse(process.argv[3])) n += (await c.query('SELECT * FROM pair_states WHERE pair_id = $1 ORDER BY id DESC LIMIT 1', [id])).rows.length;
  await c.query('COMMIT');
  await c.end();
  process.stdout.write(String(n));
})();
`;

async function postgres(url: string, dir: string, cli: string, env: NodeJS.ProcessEnv): Promise<void> {
  const pgDir = fs.mkdtempSync(path.join(dir, 'pg-'));
  const { pairsFile } = await seed(url, pgDir);
  const pairIds = (JSON.parse(fs.readFileSync(pairsFile, 'utf8')) as { pairs: { source: string; target: string }[] }).pairs.map(
    (p) => `${p.source}->${p.target}`,
  );
  const ours: number[] = [];
  const peer: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    let t = performance.now();
    const r = spawnSync(process.execPath, [cli, 'check', '--from-store', '--store', url, '--pairs', pairsFile, '--stale-after', '7d', '--json'], {
      encoding: 'utf8',
      maxBuffer: 1 << 28,
      env,
    });
    ours.push(performance.now() - t);
    if (r.status !== 0) throw new Error(`check --from-store (PostgreSQL) exited ${r.status}: ${r.stdout.slice(0, 300)} ${r.stderr}`);
    t = performance.now();
    const b = spawnSync(process.execPath, ['-e', BARE_PG, url, JSON.stringify(HOSTS), JSON.stringify(pairIds)], { encoding: 'utf8' });
    peer.push(performance.now() - t);
    if (b.status !== 0) throw new Error(`bare pg loop failed: ${b.stderr}`);
  }
  console.log(
    `PostgreSQL: check --from-store median ${median(ours).toFixed(0)} ms vs bare pg loop ${median(peer).toFixed(0)} ms: ${(median(ours) / median(peer)).toFixed(2)}x`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
