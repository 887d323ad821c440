/** The zfs-fleet CLI (the built bundle) against the lab: output, exit codes, errors. */
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cliRun.js';
import { lab, ssh } from './lab.js';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'dist/cli.js');

function run(...args: string[]) {
  const l = lab();
  return runCli([cli, ...args, '--ssh-config', l.sshConfig, '--known-hosts', l.knownHosts, '--timeout', '5']);
}

beforeAll(() => {
  execFileSync(process.execPath, [path.join(root, 'esbuild.mjs')], { cwd: root, stdio: 'pipe' });
});

describe('zfs-fleet CLI', () => {
  it('hosts: every Host of the ssh config, the unreachable one failing the run', async () => {
    const r = await run('hosts');
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    for (const h of ['off1', 'ovh3', 'off2']) expect(lines.find((l) => l.startsWith(h + ' '))).toMatch(/\bok\b.*zfs-fuse/);
    expect(lines.find((l) => l.startsWith('unreachable'))).toMatch(/unreachable/);
  });

  it('hosts --json for the named hosts, exit 0', async () => {
    const r = await run('hosts', 'off1', 'ovh3', '--json');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { host: string; reachable: boolean; pools: string[] }[];
    const pools = (h: string) => ssh(h, 'zpool list -H -o name').split('\n').filter(Boolean);
    expect(rows.map((x) => [x.host, x.reachable, x.pools])).toEqual([
      ['off1', true, pools('off1')],
      ['ovh3', true, pools('ovh3')],
    ]);
    expect(rows[1]!.pools).toContain('rpool');
  });

  it('ls HOST:DATASET --snapshots --json lists the same objects as zfs itself', async () => {
    const r = await run('ls', 'off1:zfs-hdd/off', '--snapshots', '--json');
    expect(r.code).toBe(0);
    const names = (JSON.parse(r.stdout) as { objects: { name: string }[] }).objects.map((o) => o.name);
    const raw = ssh('off1', 'zfs list -H -t all -r -o name zfs-hdd/off').split('\n').filter(Boolean);
    expect(new Set(names)).toEqual(new Set(raw));
    expect(names).toContain('zfs-hdd/off/my data@20230608-1130');
  });

  it('a large listing piped to another program arrives whole (thousands of snapshots)', async () => {
    // 3,000 snapshots on a fresh zfs-fuse lab: 10-60 s (async: a blocked worker fails vitest's RPC after 60 s).
    await promisify(execFile)('bash', [path.join(root, 'test/lab/lab.sh'), 'many-snapshots', 'off2', 'zfs-nvme/bench', '3000']);
    const r = await run('ls', 'off2:zfs-nvme/bench', '--snapshots', '--json');
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(512 << 10); // far beyond a 64 KiB pipe buffer
    const names = (JSON.parse(r.stdout) as { objects: { name: string }[] }).objects.map((o) => o.name);
    const raw = ssh('off2', 'zfs list -H -t all -r -o name zfs-nvme/bench').split('\n').filter(Boolean);
    expect(names.length).toBe(raw.length);
    expect(names.length).toBeGreaterThan(3000);
  }, 180_000);

  it('ls a dataset whose name has a space, as a table', async () => {
    const r = await run('ls', 'off1:zfs-hdd/off/my data');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[1]).toMatch(/^zfs-hdd\/off\/my data\s+filesystem/);
  });

  it('ls [user@]host:port:DATASET without an alias', async () => {
    const l = lab();
    const cfg = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'zf-cli-')), 'ssh_config');
    fs.writeFileSync(cfg, `Host 127.0.0.1\n  IdentityFile ${l.identity}\n  IdentitiesOnly yes\n`);
    const r = await runCli([
      cli,
      'ls',
      `root@127.0.0.1:${l.hosts.find((h) => h.name === 'ovh3')!.port}:rpool/off`,
      '--ssh-config',
      cfg,
      '--known-hosts',
      l.knownHosts,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/rpool\/off\/clones\/products\s+filesystem.*origin rpool\/off\/products@/);
  });

  it('errors: one line on stderr and exit 1; bad usage exit 2', async () => {
    const missing = await run('ls', 'off1:zfs-hdd/nope');
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/zfs-hdd\/nope does not exist/);
    const down = await run('ls', 'unreachable');
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^zfs-fleet: .*refused/i);
    const badName = await run('ls', 'off1:zfs-hdd/a$b');
    expect(badName.code).toBe(2);
    expect(badName.stderr).toMatch(/invalid character '\$'/);
    expect((await run('frobnicate')).code).toBe(2);
    expect((await run('ls', 'off1', '--bogus')).code).toBe(2);
  });

  it('an unknown host key without a terminal is refused, never accepted', async () => {
    const l = lab();
    const empty = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'zf-cli-')), 'known_hosts');
    fs.writeFileSync(empty, '');
    const cfg = path.join(path.dirname(empty), 'ssh_config');
    fs.writeFileSync(cfg, fs.readFileSync(l.sshConfig, 'utf8').replace(/UserKnownHostsFile\s+\S+/g, `UserKnownHostsFile ${empty}`));
    const r = await runCli([cli, 'ls', 'off1', '--ssh-config', cfg, '--known-hosts', empty]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/host key/i);
    expect(fs.readFileSync(empty, 'utf8')).toBe('');
  });
});
