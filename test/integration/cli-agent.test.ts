/**
 * zfs-fleet agent and check/metrics --from-store (the built bundle) against the lab's real zfs-fuse
 * hosts over real sshd, with the fleet store on a real SQLite file and on the real PostgreSQL
 * (ZFS_FLEET_PG_URL, `bash test/lab/pg.sh up`; skipped without it, as test/integration/store is).
 * A host is taken down by stopping its sshd only (its pid file in the lab), and brought back with
 * `lab.sh up` (idempotent: it restarts what is not running). Run it against a lab of your own:
 *   ZFS_FLEET_LAB=/tmp/lab-agent ZFS_FLEET_LAB_PORT_BASE=2350 bash test/lab/lab.sh up
 *   ZFS_FLEET_LAB=/tmp/lab-agent ZFS_FLEET_LAB_PORT_BASE=2350 npx vitest run test/integration/cli-agent.test.ts
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type FleetStore } from '../../src/store/index.js';
import { runCli } from './cliRun.js';
import { lab, labUp, stopSshd } from './lab.js';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'dist/cli.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zfs-fleet-agent-'));
const pairs = path.join(tmp, 'pairs.json');
const PAIR = 'off1:zfs-hdd/off/products->ovh3:rpool/off/products';
const HOSTS = ['off1', 'ovh3', 'off2'];
const pgAdmin = process.env.ZFS_FLEET_PG_URL;
if (!pgAdmin) console.warn('SKIPPED (PostgreSQL half): needs ZFS_FLEET_PG_URL (bash test/lab/pg.sh up prints it)');

function env(): NodeJS.ProcessEnv {
  // The capability cache in a directory of this test's own (the agent caches per host as every CLI run does), the history of this test only.
  return { ...process.env, XDG_CACHE_HOME: path.join(tmp, 'cache'), ZFS_FLEET_HISTORY: path.join(tmp, 'history.jsonl') };
}

function connection(): string[] {
  const l = lab();
  return ['--ssh-config', l.sshConfig, '--known-hosts', l.knownHosts, '--timeout', '5'];
}

function run(...args: string[]) {
  return runCli([cli, ...args, ...connection()], env());
}

/** The lines of check's output with what differs between two listings of the same state left out: timings, and ages to the second. */
function comparable(stdout: string): string[] {
  return stdout.split('\n').map((l) =>
    l
      .replace(/listed in \d+\.\ds/g, 'listed in Ts')
      // other test files write to the same lab pools meanwhile: the agent's sweep and the live
      // check a moment later may see a pool 0.1% fuller or a dataset more; the shape must match
      .replace(/'capacity_([^']*)'=[\d.]+%/g, "'capacity_$1'=N%")
      .replace(/(\d+ pool\(s\)), \d+ dataset\(s\), \d+ snapshot\(s\)/g, '$1, N dataset(s), N snapshot(s)')
      .replace(/'(listing_seconds|lag_seconds|newest_snapshot_age)_([^']*)'=[\d.]+s/g, "'$1_$2'=Ts")
      .replace(/\b\d+[smhdw]( \d+[smhdw])?\b/g, 'AGE'),
  );
}

beforeAll(() => {
  execFileSync(process.execPath, [path.join(root, 'esbuild.mjs')], { cwd: root, stdio: 'pipe' });
  fs.writeFileSync(pairs, JSON.stringify({ pairs: [{ source: 'off1:zfs-hdd/off/products', target: 'ovh3:rpool/off/products' }] }));
});

const pgDatabases: string[] = [];
async function pgAdminQuery(q: string): Promise<void> {
  const c = new pg.Client({ connectionString: pgAdmin });
  await c.connect();
  try {
    await c.query(q);
  } finally {
    await c.end();
  }
}

afterAll(async () => {
  for (const name of pgDatabases) await pgAdminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  fs.rmSync(tmp, { recursive: true, force: true });
});

const backends: { kind: string; newUrl: () => Promise<string> }[] = [
  { kind: 'sqlite', newUrl: async () => path.join(fs.mkdtempSync(path.join(tmp, 'db-')), 'fleet.db') },
  ...(pgAdmin
    ? [
        {
          kind: 'postgres',
          newUrl: async () => {
            const name = `zfs_fleet_agent_test_${process.pid}_${pgDatabases.length + 1}`;
            await pgAdminQuery(`DROP DATABASE IF EXISTS ${name}`);
            await pgAdminQuery(`CREATE DATABASE ${name}`);
            pgDatabases.push(name);
            const u = new URL(pgAdmin);
            u.pathname = `/${name}`;
            return u.toString();
          },
        },
      ]
    : []),
];

describe.each(backends)('zfs-fleet agent, fleet store on $kind', ({ kind, newUrl }) => {
  let url: string;
  beforeAll(async () => {
    url = await newUrl();
  });

  async function withStore<T>(fn: (s: FleetStore) => Promise<T>): Promise<T> {
    const s = await openStore(url);
    try {
      return await fn(s);
    } finally {
      await s.close();
    }
  }

  it('agent --once records every host, pool, dataset and the pair state of the lab in one sweep', async () => {
    const r = await run('agent', '--once', '--store', url, '--pairs', pairs, ...HOSTS);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^zfs-fleet agent: sweep 1 \(#1\): 3\/3 hosts up, 3 pools, \d+ datasets, 1 pairs, [\d.]+s$/m);
    await withStore(async (s) => {
      expect((await s.info()).counts).toMatchObject({ sweeps: 1, host_observations: 3, pool_observations: 3, pair_states: 1 });
      const latest = await s.latestObservations({ hosts: HOSTS, pairIds: [PAIR] });
      expect(latest.hosts.map((h) => [h.host, h.reachable, h.zfsVersion, h.sweepId])).toEqual(HOSTS.map((h) => [h, true, 'zfs-fuse 0.7.0', 1]));
      for (const h of latest.hosts) expect(h.latencyMs).toBeGreaterThan(0);
      expect(latest.pools.map((p) => [p.host, p.pool, p.health])).toEqual([
        ['off1', 'zfs-hdd', 'ONLINE'],
        ['ovh3', 'rpool', 'ONLINE'],
        ['off2', 'zfs-nvme', 'ONLINE'],
      ]);
      for (const p of latest.pools) {
        expect(p.sizeBytes).toBeGreaterThan(0);
        // zfs-fuse's zpool has no -p: sizes come rounded for humans (1016M), so they add up within the rounding only.
        expect(Math.abs(p.allocatedBytes! + p.freeBytes! - p.sizeBytes!) / p.sizeBytes!).toBeLessThan(0.01);
      }
      const products = latest.datasets.find((d) => d.host === 'off1' && d.dataset === 'zfs-hdd/off/products')!;
      expect(products).toMatchObject({ newestSnapshot: 'zfs-hdd/off/products@20230608-1130', type: 'filesystem' });
      expect(products.snapshotCount).toBeGreaterThan(1);
      expect(products.usedBytes).toBeGreaterThan(0);
      expect(Date.now() - Date.parse(products.newestSnapshotAt!)).toBeGreaterThan(0);
      expect(latest.pairs).toEqual([expect.objectContaining({ pairId: PAIR, status: 'behind', behind: 1, base: 'zfs-hdd/off/products@20230530-2330' })]);
      expect(latest.pairs[0]!.lagSeconds).toBeGreaterThan(0);
    });
  }, 120_000);

  it('check --from-store: the exit code and lines of a live check of the same lab (stale datasets, the pair behind)', async () => {
    const args = ['--pairs', pairs, '--stale-after', '1s', ...HOSTS];
    const live = await run('check', ...args);
    const stored = await runCli([cli, 'check', '--from-store', '--store', url, ...args], env());
    expect(live.code).toBe(1);
    expect(stored.code).toBe(live.code);
    expect(stored.stderr).toBe('');
    expect(comparable(stored.stdout)).toEqual(comparable(live.stdout));
    expect(stored.stdout).toMatch(/^\[WARNING\] off1:zfs-hdd\/off\/products: newest snapshot @20230608-1130 is \d+[smh].* old \(over 1s\)$/m);
    expect(stored.stdout).toContain(`[WARNING] ${PAIR}: behind by 1 snapshot(s), lag `);
    // metrics likewise (no connection options: it lists nothing)
    const m = await runCli([cli, 'metrics', '--from-store', '--store', url, '--pairs', pairs, ...HOSTS], env());
    expect(m.code, m.stderr).toBe(0);
    expect(m.stdout).toContain('zfs_fleet_host_up{host="off2"} 1\n');
    expect(m.stdout).toContain(`zfs_fleet_pair_snapshots_behind{pair="${PAIR}",`);
  }, 120_000);

  it('a host whose sshd is down: recorded offline with the error, the others recorded; check --from-store says what live check says', async () => {
    await stopSshd('off2');
    try {
      const r = await run('agent', '--once', '--store', url, '--pairs', pairs, ...HOSTS);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/sweep 1 \(#\d+\): 2\/3 hosts up \(down: off2\), 2 pools, \d+ datasets, 1 pairs/);
      await withStore(async (s) => {
        const latest = await s.latestObservations({ hosts: HOSTS, pairIds: [PAIR] });
        const off2 = latest.hosts.find((h) => h.host === 'off2')!;
        expect(off2.reachable).toBe(false);
        expect(off2.error).toMatch(/refused|ECONNREFUSED/);
        expect(latest.hosts.filter((h) => h.reachable).map((h) => h.host)).toEqual(['off1', 'ovh3']);
        expect(new Set(latest.hosts.map((h) => h.sweepId)).size).toBe(1);
        expect(new Set(latest.datasets.map((d) => d.host))).toEqual(new Set(['off1', 'ovh3']));
        expect(latest.pairs[0]!.status).toBe('behind');
      });
      const args = ['--pairs', pairs, '--stale-after', '7d', ...HOSTS];
      const live = await run('check', ...args);
      const stored = await runCli([cli, 'check', '--from-store', '--store', url, ...args], env());
      expect(live.code).toBe(2);
      expect(stored.code).toBe(2);
      expect(comparable(stored.stdout)).toEqual(comparable(live.stdout));
      expect(stored.stdout.split('\n')[0]).toBe('ZFS FLEET CRITICAL - 1 critical: off2 unreachable');
    } finally {
      labUp();
    }
  }, 180_000);

  it('a stale agent: check --from-store says WARNING "agent not reporting since", not the old OK', async () => {
    await new Promise((r) => setTimeout(r, 1500));
    const r = await runCli([cli, 'check', '--from-store', '--max-age', '1s', '--store', url, '--stale-after', '7d', 'off1', 'ovh3'], env());
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('ZFS FLEET WARNING - 2 warning: off1 agent not reporting; ovh3 agent not reporting');
    expect(lines[1]).toMatch(/^\[WARNING\] off1: agent not reporting since \d{4}-\d\d-\d\dT[\d:.]+Z \(\d+s ago, over --max-age 1s\)$/);
    expect(r.stdout).not.toContain('[OK]');
  }, 60_000);

  it('SIGTERM during agent --interval 1s: exit 0, every sweep recorded whole, the store closed', async () => {
    const child = spawn(process.execPath, [cli, 'agent', '--interval', '1s', '--store', url, '--pairs', pairs, ...HOSTS, ...connection()], {
      env: env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const sweeps = new Promise<void>((resolve) =>
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        if ((stderr.match(/: sweep \d+ \(#/g) ?? []).length >= 2) resolve();
      }),
    );
    const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await Promise.race([sweeps, exit]);
    // Mid-way through the third sweep (listing): abandoned, nothing of it written.
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGTERM');
    expect(await exit, stderr).toBe(0);
    expect(stderr).toContain('zfs-fleet agent: SIGTERM: stopping');
    await withStore(async (s) => {
      const { rows } = await sql<{ sweep: number; hosts: number; n: number }>`
        SELECT s.id AS sweep, s.hosts AS hosts, (SELECT count(*) FROM host_observations h WHERE h.sweep_id = s.id) AS n FROM sweeps s ORDER BY s.id`.execute(
        s.db,
      );
      expect(rows.length).toBeGreaterThanOrEqual(2);
      for (const row of rows) expect(Number(row.n)).toBe(Number(row.hosts));
    });
    if (kind === 'sqlite') expect(fs.existsSync(`${url}.lock`)).toBe(false);
  }, 180_000);

  it('store prune counts without --yes; agent --retain removes the older sweeps with their rows, keeping the one it wrote', async () => {
    const counts = () => withStore(async (s) => (await s.info()).counts);
    const before = await counts();
    expect(before.sweeps).toBeGreaterThanOrEqual(3);
    await new Promise((r) => setTimeout(r, 1100));
    const dry = await runCli([cli, 'store', 'prune', '--older-than', '1s', '--store', url], env());
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`Would remove the observations older than 1s`);
    expect(dry.stdout).toMatch(new RegExp(`^  sweeps: +${before.sweeps - 1} rows$`, 'm'));
    expect(dry.stdout).toContain('Nothing removed: run again with --yes.');
    expect(await counts()).toEqual(before);

    const r = await run('agent', '--once', '--retain', '1s', '--store', url, '--pairs', pairs, ...HOSTS);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`^zfs-fleet agent: removed ${before.sweeps} sweep\\(s\\) older than 1s \\(\\d+ dataset, \\d+ pair rows\\)$`, 'm'));
    expect(await counts()).toMatchObject({ sweeps: 1, host_observations: 3, pool_observations: 3, pair_states: 1, runs: before.runs });
    const latest = await withStore((s) => s.latestObservations({ hosts: HOSTS, pairIds: [PAIR] }));
    expect(latest.hosts.map((h) => h.reachable)).toEqual([true, true, true]);
    expect(latest.pairs).toHaveLength(1);
  }, 120_000);
});
