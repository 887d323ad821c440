/**
 * zfs-fleet check and metrics (the built bundle) against the lab: exit codes 0/1/2/3 as a
 * Nagios/Icinga plugin returns them, the perfdata, and the textfile node_exporter reads.
 * The lab's host `unreachable` is a port nobody listens on; the seeded snapshots are minutes old,
 * so `--stale-after 1s` makes every dataset with snapshots stale and `--stale-after 7d` none.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cliRun.js';
import { lab } from './lab.js';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'dist/cli.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zfs-fleet-check-'));
const history = path.join(tmp, 'history.jsonl');
const pairs = path.join(tmp, 'pairs.json');
const PAIR = 'off1:zfs-hdd/off/products->ovh3:rpool/off/products';
/** Nagios Plugin Development Guidelines: 'label'=value[UOM];[warn];[crit];[min];[max]. */
const PERF = /^'(?:[^'=]|'')+'=-?\d+(\.\d+)?(s|%|B|KB|MB|TB|c)?(;(-?\d+(\.\d+)?)?){0,4}$/;

function run(...args: string[]) {
  const l = lab();
  // No capability cache on disk (another lab may share the machine's), the history of this test only.
  const env = { ...process.env, ZFS_FLEET_NO_CACHE: '1', ZFS_FLEET_HISTORY: history };
  return runCli([cli, ...args, '--ssh-config', l.sshConfig, '--known-hosts', l.knownHosts, '--timeout', '5'], env);
}

function perfdata(stdout: string): string[] {
  const lines = stdout.trimEnd().split('\n');
  const bar = lines.findIndex((l) => l.includes(' | '));
  expect(bar).toBeGreaterThanOrEqual(0);
  return [lines[bar]!.split(' | ')[1]!, ...lines.slice(bar + 1)];
}

beforeAll(() => {
  execFileSync(process.execPath, [path.join(root, 'esbuild.mjs')], { cwd: root, stdio: 'pipe' });
  fs.writeFileSync(pairs, JSON.stringify({ pairs: [{ source: 'off1:zfs-hdd/off/products', target: 'ovh3:rpool/off/products' }] }));
});

describe('zfs-fleet check', () => {
  it('exit 0 OK: off2, its pool ONLINE, snapshots younger than 7d', async () => {
    const r = await run('check', 'off2', '--stale-after', '7d');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ZFS FLEET OK - 1 host\(s\), 1 pool\(s\), \d+ dataset\(s\), 0 pair\(s\) checked\n/);
    expect(r.stdout).toMatch(/^\[OK\] off2: 1 pool\(s\), \d+ dataset\(s\), \d+ snapshot\(s\), listed in /m);
    const perf = perfdata(r.stdout);
    for (const p of perf) expect(p).toMatch(PERF);
    expect(perf).toContainEqual(expect.stringMatching(/^'capacity_off2:zfs-nvme'=\d+(\.\d)?%;80;90;0;100$/));
    expect(perf).toContain("'hosts_unreachable'=0;;;0;1");
  }, 60_000);

  it('exit 1 WARNING: stale datasets (--stale-after 1s); the pair from the pairs file behind, its last run failed', async () => {
    fs.writeFileSync(
      history,
      JSON.stringify({ pair: PAIR, outcome: 'failed', finishedAt: new Date().toISOString(), error: 'cannot receive incremental stream: dataset is busy' }) +
        '\n',
    );
    const r = await run('check', '--pairs', pairs, '--stale-after', '1s');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^ZFS FLEET WARNING - \d+ warning: /);
    expect(r.stdout).toMatch(/^\[WARNING\] off1:zfs-hdd\/off\/products: newest snapshot @20230608-1130 is \d+[smh].* old \(over 1s\)$/m);
    expect(r.stdout).toMatch(new RegExp(`^\\[WARNING\\] ${PAIR.replace(/[/.]/g, '\\$&')}: behind by 1 snapshot\\(s\\), lag `, 'm'));
    expect(r.stdout).toContain(`[WARNING] ${PAIR}: the last run (`);
    expect(r.stdout).toContain(') failed: cannot receive incremental stream: dataset is busy');
    const perf = perfdata(r.stdout);
    for (const p of perf) expect(p).toMatch(PERF);
    expect(perf).toContainEqual(expect.stringMatching(new RegExp(`^'lag_seconds_${PAIR.replace(/[/.]/g, '\\$&')}'=\\d+s;1;;0$`)));
    expect(perf).toContain(`'behind_${PAIR}'=1;;;0`);
    fs.rmSync(history);
  }, 60_000);

  it('exit 2 CRITICAL: an unreachable host, said first', async () => {
    const r = await run('check', 'off2', 'unreachable', '--stale-after', '7d');
    expect(r.code).toBe(2);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('ZFS FLEET CRITICAL - 1 critical: unreachable unreachable');
    expect(lines[1]).toMatch(/^\[CRITICAL\] unreachable: unreachable: .*(refused|ECONNREFUSED)/);
    expect(perfdata(r.stdout)).toContain("'hosts_unreachable'=1;;;0;2");
  }, 60_000);

  it('exit 3 UNKNOWN: bad usage, on stdout where the monitoring reads it', async () => {
    for (const args of [
      ['check', 'off2', '--stale-after', 'soon'],
      ['check', 'off2', '--textfile', 'x'],
      ['check', '--pairs', path.join(tmp, 'missing.json')],
    ]) {
      const r = await run(...args);
      expect(r.code, args.join(' ')).toBe(3);
      expect(r.stdout).toMatch(/^ZFS FLEET UNKNOWN - /);
    }
  }, 60_000);

  it('--json: the same report as data, the same exit code', async () => {
    const r = await run('check', 'off2', 'unreachable', '--json');
    expect(r.code).toBe(2);
    const j = JSON.parse(r.stdout) as { severity: string; exitCode: number; findings: { kind: string }[] };
    expect(j.severity).toBe('critical');
    expect(j.exitCode).toBe(2);
    expect(j.findings[0]!.kind).toBe('host-unreachable');
  }, 60_000);
});

describe('zfs-fleet metrics', () => {
  it('--textfile: written whole (FILE.tmp renamed), hosts, pools, datasets and the pair', async () => {
    const file = path.join(tmp, 'textfile', 'zfs_fleet.prom');
    const r = await run('metrics', '--pairs', pairs, '--textfile', file, 'off1', 'ovh3', 'unreachable');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(fs.existsSync(`${file}.tmp`)).toBe(false);
    const text = fs.readFileSync(file, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text).toContain('# TYPE zfs_fleet_host_up gauge\n');
    expect(text).toContain('zfs_fleet_host_up{host="off1"} 1\n');
    expect(text).toContain('zfs_fleet_host_up{host="unreachable"} 0\n');
    expect(text).toMatch(/^zfs_fleet_pool_healthy\{host="ovh3",pool="rpool",health="ONLINE"\} 1$/m);
    expect(text).toMatch(/^zfs_fleet_dataset_newest_snapshot_age_seconds\{host="off1",dataset="zfs-hdd\/off\/my data"\} \d+$/m);
    const labels = `pair="${PAIR}",source_host="off1",source="zfs-hdd/off/products",target_host="ovh3",target="rpool/off/products"`;
    expect(text).toContain(`zfs_fleet_pair_snapshots_behind{${labels}} 1\n`);
    expect(text).toMatch(new RegExp(`^zfs_fleet_pair_lag_seconds\\{${labels.replace(/[/.]/g, '\\$&')}\\} \\d+$`, 'm'));
  }, 60_000);
});
