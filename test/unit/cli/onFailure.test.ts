/**
 * The fleet file's `onFailure`: the built CLI's `zfs-fleet worker --once` on a real SQLite queue whose
 * job cannot run (its hosts refuse connections: 127.0.0.1 port 1 through an ssh config), runs the
 * command with the job in its environment and the report on its stdin.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFleetDefinition } from '../../../src/core/fleet/definition.js';
import { JobQueue, openStore } from '../../../src/store/store.js';
import { syncJob } from '../store/queueSuite.js';

const root = path.resolve(__dirname, '../../..');
const cli = path.join(root, 'dist/cli.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zfs-fleet-onfailure-'));

beforeAll(() => {
  execFileSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'ignore' });
}, 120_000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('onFailure', () => {
  it('a failed job runs the command: ZFS_FLEET_JOB_* in its environment, the report on stdin, its output in the worker log', async () => {
    const file = path.join(tmp, 'fleet.db');
    const store = await openStore(file);
    const q = new JobQueue(store);
    let id: number;
    try {
      id = (await q.add(syncJob('a:tank/data', 'b:backup/data', { name: 'a:tank/data -> b:backup/data\x1b[2J' }))).job.id;
    } finally {
      await store.close();
    }
    const sshConfig = path.join(tmp, 'ssh_config');
    fs.writeFileSync(sshConfig, 'Host a b\n  HostName 127.0.0.1\n  Port 1\n  ConnectTimeout 5\n');
    const report = path.join(tmp, 'report.txt');
    const envOut = path.join(tmp, 'env.txt');
    const fleet = path.join(tmp, 'fleet.json');
    fs.writeFileSync(fleet, JSON.stringify({ onFailure: `cat > '${report}'; env | grep '^ZFS_FLEET_' | sort > '${envOut}'; echo mailed` }));
    const env = { ...process.env, ZFS_FLEET_NO_CACHE: '1', HOME: tmp, XDG_STATE_HOME: path.join(tmp, 'state'), XDG_CACHE_HOME: path.join(tmp, 'cache') };
    const args = ['--fleet', fleet, '--store', file, '--ssh-config', sshConfig, '--known-hosts', path.join(tmp, 'known_hosts')];
    const w = spawnSync(process.execPath, [cli, 'worker', '--once', ...args], { encoding: 'utf8', env, timeout: 90_000 });
    expect(w.status).toBe(1);
    const log = w.stdout + w.stderr;
    expect(log).toContain(`job ${id}: onFailure: mailed`);
    expect(log).toContain(`job ${id}: onFailure ran`);
    const vars = Object.fromEntries(
      fs
        .readFileSync(envOut, 'utf8')
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(vars).toMatchObject({
      ZFS_FLEET_JOB_ID: String(id),
      ZFS_FLEET_JOB_NAME: 'a:tank/data -> b:backup/data\\x1b[2J',
      ZFS_FLEET_JOB_SOURCE: 'a:tank/data',
      ZFS_FLEET_JOB_TARGET: 'b:backup/data',
    });
    expect(Number(vars.ZFS_FLEET_JOB_EXIT)).toBeGreaterThan(0);
    expect(vars.ZFS_FLEET_JOB_ERROR).toMatch(/\S/);
    const text = fs.readFileSync(report, 'utf8');
    expect(text).toContain(`: job ${id} failed\n`);
    expect(text).toContain(`exit:     ${vars.ZFS_FLEET_JOB_EXIT} (`);
    expect(text).toContain(`retry:    zfs-fleet queue retry ${id}\n`);
    expect(text).not.toContain('\x1b');
    // The state the command was told of is the store's.
    const again = await openStore(file);
    try {
      expect((await new JobQueue(again).get(id)).sync).toBe(Number(vars.ZFS_FLEET_JOB_EXIT));
    } finally {
      await again.close();
    }
  }, 120_000);

  it('the fleet file: a command or an invalid entry naming the key', () => {
    expect(readFleetDefinition({ file: 'f.json', text: '{"onFailure": "mail -s failed root"}' }).onFailure).toBe('mail -s failed root');
    for (const bad of ['""', '3', '["mail"]']) {
      const d = readFleetDefinition({ file: 'f.json', text: `{"onFailure": ${bad}}` });
      expect(d.onFailure).toBeUndefined();
      expect(d.entries).toMatchObject([{ ok: false, reason: '"onFailure" must be a shell command (a non-empty string)' }]);
    }
  });
});
