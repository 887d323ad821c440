/**
 * Claim throughput of the job queue: BENCH_JOBS no-op jobs (default 400) claimed and finished by 1,
 * 4 and 16 worker processes through JobQueue (claim = the queue's transaction: lease expiry, the
 * candidate, the update; finish = one update), beside the floor: a bare loop of the two statements
 * a queue needs at the least (`UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED) RETURNING id`,
 * then `UPDATE … SET sync=0`) over the same table, with the same number of processes (PostgreSQL:
 * `pg`; SQLite: node-sqlite3-wasm, each claim in BEGIN IMMEDIATE, SQLite having no SKIP LOCKED).
 * Jobs per second and the ratio floor/queue, same invocation.
 *
 *   node esbuild.mjs --bench && node dist/bench/queueClaim.js
 * BENCH_PG_URL=postgres://…/postgres adds PostgreSQL (a scratch database per run is created there).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Database } from 'node-sqlite3-wasm';
import pg from 'pg';
import { JobQueue, openStore } from '../src/store/store.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 400);
const WORKERS = [1, 4, 16];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zfs-fleet-bench-queue-'));

/** Child mode: claim until none is left, through the queue or the bare statements. */
async function child(mode: 'queue' | 'bare', url: string, who: string): Promise<void> {
  let n = 0;
  if (mode === 'queue') {
    const store = await openStore(url, { busyTimeoutMs: 120_000 });
    const q = new JobQueue(store);
    for (;;) {
      const j = await q.claim({ worker: who });
      if (!j) break;
      await q.finish(j.id, who, { sync: 0 });
      n++;
    }
    await store.close();
  } else if (url.startsWith('postgres')) {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    for (;;) {
      const r = await c.query(
        `UPDATE jobs SET sync = -2, worker = $1 WHERE id = (SELECT id FROM jobs WHERE sync = -1 ORDER BY priority, id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id`,
        [who],
      );
      if (!r.rows.length) break;
      await c.query(`UPDATE jobs SET sync = 0 WHERE id = $1`, [r.rows[0].id]);
      n++;
    }
    await c.end();
  } else {
    const db = new Database(url);
    db.exec('PRAGMA busy_timeout = 120000'); // as the store waits for the writer's lock
    for (;;) {
      let id: number | undefined;
      for (;;) {
        try {
          db.exec('BEGIN IMMEDIATE');
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 2));
        }
      }
      const row = db.get(`SELECT id FROM jobs WHERE sync = -1 ORDER BY priority, id LIMIT 1`) as { id: number } | null;
      if (row) {
        id = row.id;
        db.run(`UPDATE jobs SET sync = -2, worker = ? WHERE id = ?`, [who, id]);
      }
      db.exec('COMMIT');
      if (id === undefined) break;
      db.run(`UPDATE jobs SET sync = 0 WHERE id = ?`, [id]);
      n++;
    }
    db.close();
  }
  process.stdout.write(`${n}\n`);
}

async function fill(url: string): Promise<void> {
  const store = await openStore(url);
  const q = new JobQueue(store);
  for (let i = 0; i < JOBS; i++)
    await q.add({
      name: `h${i % 10}:tank/d${i} -> b:backup/d${i}`,
      spec: { kind: 'sync', source: `h${i % 10}:tank/d${i}`, target: `b:backup/d${i}` },
      pairId: `p${i}`,
      sourceHost: `h${i % 10}`,
      targetHost: 'b',
    });
  await store.close();
}

function runChildren(mode: 'queue' | 'bare', url: string, workers: number): Promise<number> {
  const t0 = performance.now();
  return Promise.all(
    Array.from(
      { length: workers },
      (_, i) =>
        new Promise<number>((resolve, reject) => {
          const c = spawn(process.execPath, [__filename, '--child', mode, url, `w${i}`], { stdio: ['ignore', 'pipe', 'inherit'] });
          let out = '';
          c.stdout.on('data', (b: Buffer) => (out += b.toString()));
          c.on('close', (code) => (code === 0 ? resolve(Number(out.trim())) : reject(new Error(`child exited ${code}`))));
        }),
    ),
  ).then((counts) => {
    const total = counts.reduce((a, b) => a + b, 0);
    if (total !== JOBS) throw new Error(`${mode}: ${total} claims for ${JOBS} jobs`);
    return performance.now() - t0;
  });
}

async function backend(kind: 'sqlite' | 'postgres', newUrl: () => Promise<string>): Promise<void> {
  console.log(`\n${kind}: ${JOBS} no-op jobs claimed and finished (jobs/s, higher is better; ratio = floor / queue, lower is better)`);
  for (const w of WORKERS) {
    const times: Record<string, number> = {};
    for (const mode of ['bare', 'queue'] as const) {
      const url = await newUrl();
      await fill(url);
      times[mode] = await runChildren(mode, url, w);
    }
    const rate = (ms: number) => ((JOBS / ms) * 1000).toFixed(0);
    console.log(
      `  ${String(w).padStart(2)} worker(s): queue ${rate(times.queue!).padStart(6)} jobs/s   bare loop ${rate(times.bare!).padStart(6)} jobs/s   ratio ${(times.queue! / times.bare!).toFixed(2)}x`,
    );
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return child(process.argv[3] as 'queue' | 'bare', process.argv[4]!, process.argv[5]!);
  let n = 0;
  await backend('sqlite', async () => path.join(tmp, `q${++n}.db`));
  const pgUrl = process.env.BENCH_PG_URL;
  if (pgUrl) {
    const dbs: string[] = [];
    const admin = async (sql: string) => {
      const c = new pg.Client({ connectionString: pgUrl });
      await c.connect();
      try {
        await c.query(sql);
      } finally {
        await c.end();
      }
    };
    try {
      await backend('postgres', async () => {
        const name = `zfs_fleet_bench_queue_${process.pid}_${dbs.length + 1}`;
        await admin(`DROP DATABASE IF EXISTS ${name}`);
        await admin(`CREATE DATABASE ${name}`);
        dbs.push(name);
        const u = new URL(pgUrl);
        u.pathname = `/${name}`;
        return u.toString();
      });
    } finally {
      for (const d of dbs) await admin(`DROP DATABASE IF EXISTS ${d} WITH (FORCE)`);
    }
  } else console.log('\npostgres: skipped (BENCH_PG_URL=postgres://… to add it)');
  fs.rmSync(tmp, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
