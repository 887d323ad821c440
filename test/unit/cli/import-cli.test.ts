/**
 * The built CLI (`node dist/cli.js import ...`, built once here with esbuild) on the sample configs:
 * --json, and --write with and without --yes into a temporary directory. No lab, no host.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fileEntries } from '../../../src/core/fleet/definition.js';

const root = path.resolve(__dirname, '../../..');
const cli = path.join(root, 'dist/cli.js');
const configs = path.join(root, 'test/fixtures/configs');
const sshConfig = path.join(configs, 'ssh_config');

function run(args: string[], cwd = root): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', env: { ...process.env, ZFS_FLEET_NO_CACHE: '1' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  execFileSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'ignore' });
}, 120_000);

describe('zfs-fleet import (built CLI)', () => {
  it('syncoid-args --json: pairs, groups, warnings with kind, file and line', () => {
    const r = run(['import', 'syncoid-args', path.join(configs, 'ovh3.syncoid-args.conf'), '--host', 'ovh3', '--ssh-config', sshConfig, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j)).toEqual(['pairs', 'hosts', 'groups', 'policies', 'warnings']);
    expect(j.hosts.map((r: { host: string; from: string }) => `${r.host} from ${r.from}`)).toEqual(['off2 from ovh3', 'off1 from ovh3']);
    expect(j.pairs).toHaveLength(10);
    expect(j.pairs[0]).toMatchObject({ source: 'off2:zfs-hdd/off', target: 'ovh3:rpool/off', route: 'pull', file: 'ovh3.syncoid-args.conf', line: 4 });
    expect(j.groups[0]).toMatchObject({ id: 'off2->ovh3', route: 'pull' });
    expect(new Set(j.warnings.map((w: { kind: string }) => w.kind))).toEqual(
      new Set(['overlapping-target', 'not-applied', 'duplicate-line', 'duplicate-pair', 'unknown-flag', 'unknown-host', 'unparsable']),
    );
    for (const w of j.warnings) expect(Object.keys(w).sort()).toEqual(['file', 'kind', 'line', 'message']);
  });

  it('--host-map names the unknown host', () => {
    const r = run([
      'import',
      'syncoid-args',
      path.join(configs, 'ovh3.syncoid-args.conf'),
      '--host',
      'ovh3',
      '--ssh-config',
      sshConfig,
      '--json',
      '--host-map',
      'pbs.example.net=pbs',
    ]);
    const j = JSON.parse(r.stdout);
    expect(j.pairs.map((p: { source: string }) => p.source)).toContain('backup@pbs:tank/vm');
    expect(j.warnings.some((w: { kind: string }) => w.kind === 'unknown-host')).toBe(false);
  });

  it('sanoid: the readable summary and --json policies', () => {
    const text = run(['import', 'sanoid', path.join(configs, 'off2.sanoid.conf'), '--host', 'off2']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('off2:zfs-nvme/off/products  keep hourly 36, daily 30, weekly 4, monthly 3  [recursive=zfs, autosnap, autoprune]');
    expect(text.stdout).toContain('freshness: hourly warn 90m crit 6h, daily warn 2d crit 3d, monthly warn 32d crit 40d');
    expect(text.stdout).toContain('off2.sanoid.conf:24: unknown-template');
    const j = JSON.parse(run(['import', 'sanoid', path.join(configs, 'off2.sanoid.conf'), '--host', 'off2', '--json']).stdout);
    expect(j.policies).toHaveLength(6);
    expect(j.pairs).toEqual([]);
  });

  it('--write shows the diff and writes nothing without --yes; with --yes it writes, and again changes nothing', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zfs-fleet-import-'));
    const fleet = path.join(tmp, '.zfs-fleet.json');
    const before = JSON.stringify({ pairs: [{ source: 'off1:zfs-hdd/off', target: 'ovh3:rpool/off-old', route: 'pull' }] }, null, 2) + '\n';
    fs.writeFileSync(fleet, before);
    const args = ['import', 'syncoid-args', path.join(configs, 'ovh3.syncoid-args.conf'), '--host', 'ovh3', '--ssh-config', sshConfig, '--write'];

    const dry = run(args, tmp);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('--- a/.zfs-fleet.json\n+++ b/.zfs-fleet.json\n@@ ');
    expect(dry.stdout).toContain('+      "source": "off2:zfs-hdd/off",');
    expect(dry.stdout).toContain('.zfs-fleet.json: not written (dry run); add --yes to write it');
    expect(fs.readFileSync(fleet, 'utf8')).toBe(before);

    const yes = run([...args, '--yes'], tmp);
    expect(yes.code).toBe(0);
    expect(yes.stdout).toContain('.zfs-fleet.json: written (10 pair(s), 0 policy(ies), 2 host route(s) added)');
    const after = fs.readFileSync(fleet, 'utf8');
    expect(JSON.parse(after).pairs).toHaveLength(11);
    expect(fileEntries({ file: fleet, text: after }).every((e) => e.ok)).toBe(true);
    // The printed diff is the change made: patch(1) would apply it to the old file.
    const diff = yes.stdout.slice(yes.stdout.indexOf('--- a/'), yes.stdout.indexOf('\n.zfs-fleet.json: written'));
    const old = path.join(tmp, 'old.json');
    fs.writeFileSync(old, before);
    const patched = spawnSync('patch', ['-s', '-o', '-', old], { input: diff + '\n', encoding: 'utf8' });
    if (patched.error === undefined) expect(patched.stdout).toBe(after);

    const again = run([...args, '--yes'], tmp);
    expect(again.stdout).toContain('.zfs-fleet.json: nothing to change');
    expect(fs.readFileSync(fleet, 'utf8')).toBe(after);

    // Policies go under "policies", into the same file (--fleet names it), with --json saying what was written.
    const pol = run(['import', 'sanoid', path.join(configs, 'ovh3.sanoid.conf'), '--host', 'ovh3', '--write', '--yes', '--json', '--fleet', fleet], root);
    const j = JSON.parse(pol.stdout);
    expect(j.write).toMatchObject({ file: fleet, written: true, addedPolicies: ['ovh3:rpool/off', 'ovh3:rpool/off-backups', 'ovh3:rpool/staging-clones'] });
    expect(Object.keys(JSON.parse(fs.readFileSync(fleet, 'utf8')).policies)).toHaveLength(3);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('usage errors exit 2; a missing file exits 1', () => {
    expect(run(['import', 'syncoid-args', path.join(configs, 'ovh3.syncoid-args.conf')]).stderr).toContain('needs --host NAME');
    expect(run(['import', 'cron', 'x', '--host', 'h']).code).toBe(2);
    expect(run(['import', 'sanoid', 'x', '--host', 'h', '--yes']).code).toBe(2);
    expect(run(['import', 'sanoid', 'x', '--host', 'h', '--route', 'pull']).stderr).toContain('import does not take --route');
    const missing = run(['import', 'sanoid', path.join(configs, 'nope.conf'), '--host', 'h']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('ENOENT');
  });
});
