/**
 * The fleet file read by the CLI on the lab: a group's replicas synced with the route its hosts
 * entries give. The lab hosts' own ssh knows the others by address only (test/lab/lab.sh), as in a
 * real fleet: a push to `ovh3` (the operator's alias) fails on off1, and succeeds once the file says
 * how off1 reaches ovh3 (`hosts.ovh3`: 127.0.0.1, its port, root); a pull reaches the source the
 * same way; a replica on the primary's own host is piped there, without ssh. The group verbs
 * (`plan|sync|status group`, `status --all`) and `check --group` read the same file.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cliRun.js';
import { lab } from './lab.js';
import { destroyRoot, makeSource, q, randomRoot, sh, snapshotGuids, SNAPS } from './replication/scenarios.js';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'dist/cli.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zf-fleetfile-'));
const NAME = randomRoot();
const R1 = `zfs-hdd/${NAME}`;
const R2 = `rpool/${NAME}`;
const R3 = `zfs-nvme/${NAME}`;
const PRIMARY = `off1:${R1}/data`;
const TO_OVH3 = `ovh3:${R2}/data`;
const LOCAL_COPY = `off1:${R1}/copy`;
const TO_OFF2 = `off2:${R3}/data`;

function fleetFile(withHosts: boolean): string {
  const port = (h: string) => lab().hosts.find((x) => x.name === h)!.port;
  const doc = {
    ...(withHosts
      ? { hosts: { ovh3: { address: '127.0.0.1', port: port('ovh3'), user: 'root' }, off1: { address: '127.0.0.1', port: port('off1'), user: 'root' } } }
      : {}),
    groups: [{ name: 'data', primary: PRIMARY, replicas: [TO_OVH3, LOCAL_COPY], route: 'push', maxLag: '30d', staleAfter: '3650d' }],
    pairs: [{ source: PRIMARY, target: TO_OFF2, route: 'pull' }],
  };
  const file = path.join(dir, withHosts ? 'fleet.json' : 'aliases-only.json');
  fs.writeFileSync(file, JSON.stringify(doc, null, 2));
  return file;
}

function run(...args: string[]) {
  const l = lab();
  return runCli([cli, ...args, '--ssh-config', l.sshConfig, '--known-hosts', l.knownHosts], { ...process.env, XDG_STATE_HOME: dir });
}

const guids = (host: string, ds: string) => [...snapshotGuids(host, ds).values()];

beforeAll(async () => {
  execFileSync(process.execPath, [path.join(root, 'esbuild.mjs')], { cwd: root, stdio: 'pipe' });
  sh('off1', `zfs create ${q(R1)}`);
  sh('ovh3', `zfs create ${q(R2)}`);
  sh('off2', `zfs create ${q(R3)}`);
  await makeSource(`${R1}/data`, SNAPS.slice(0, 2));
  expect(SNAPS.length).toBeGreaterThan(2);
}, 120_000);

afterAll(async () => {
  await destroyRoot('off2', R3);
  await destroyRoot('ovh3', R2);
  await destroyRoot('off1', R1);
}, 120_000);

describe('the fleet file on the lab', () => {
  it('push with the aliases only: off1 cannot resolve ovh3, the operator alias (nothing received)', async () => {
    const r = await run('sync', PRIMARY, TO_OVH3, '--fleet', fleetFile(false), '--yes');
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/Could not resolve hostname ovh3/);
    expect(sh('ovh3', `zfs list -H -o name ${q(`${R2}/data`)} 2>/dev/null || true`).trim()).toBe('');
  }, 120_000);

  it('plan group: the push to ovh3 reaches it as the hosts entry says; the replica on off1 is piped there, without ssh', async () => {
    const r = await run('plan', 'group', 'data', '--fleet', fleetFile(true));
    expect(r.code, r.stderr).toBe(0);
    const [toOvh3, toCopy] = r.stdout.split(/^=== /m).slice(1);
    expect(toOvh3).toMatch(/ssh -o BatchMode=yes -p \d+ -- root@127\.0\.0\.1/);
    expect(toCopy).toMatch(/zfs send .* \| zfs recv/);
    expect(toCopy).not.toMatch(/\bssh\b/);
  }, 60_000);

  it("sync group: each replica synced in turn; both have the primary's snapshots", async () => {
    const r = await run('sync', 'group', 'data', '--fleet', fleetFile(true), '--yes');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(guids('ovh3', `${R2}/data`)).toEqual(guids('off1', `${R1}/data`));
    expect(guids('off1', `${R1}/copy`)).toEqual(guids('off1', `${R1}/data`));
  }, 240_000);

  it('pull: off2 reaches off1 as the file says', async () => {
    const r = await run('sync', PRIMARY, TO_OFF2, '--fleet', fleetFile(true), '--yes');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(guids('off2', `${R3}/data`)).toEqual(guids('off1', `${R1}/data`));
  }, 180_000);

  it('status --all: after a new snapshot on the primary, every replica is behind 1, with what to run', async () => {
    sh('off1', `zfs snapshot ${q(`${R1}/data@${SNAPS[2]}`)}`);
    const r = await run('status', '--all', '--fleet', fleetFile(true));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`group data: ${PRIMARY} (newest @${SNAPS[2]}): not level`);
    expect(r.stdout.match(/behind 1 {2}base @/g)).toHaveLength(3);
    expect(r.stdout).toContain(`-> zfs-fleet sync ${PRIMARY} ${LOCAL_COPY}`);
    expect(r.stdout).toContain(`pair ${PRIMARY}->${TO_OFF2}: ${PRIMARY}`);
    const j = JSON.parse((await run('status', 'group', 'data', '--fleet', fleetFile(true), '--json')).stdout) as { replicas: { position: string }[] }[];
    expect(j[0]!.replicas.map((x) => x.position)).toEqual(['behind', 'behind']);
    const none = await run('status', 'group', 'nope', '--fleet', fleetFile(true));
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no group nope in the fleet file .*\(data\)/);
  }, 120_000);

  it('check --group takes the group from the same file: behind within its maxLag is OK', async () => {
    const r = await run('check', '--fleet', fleetFile(true), '--group', 'data');
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain(`${PRIMARY}->${TO_OVH3}: behind by 1 snapshot(s)`);
    expect(r.stdout).toContain(`${PRIMARY}->${LOCAL_COPY}: behind by 1 snapshot(s)`);
    expect(r.stdout).not.toContain(TO_OFF2);
    const bad = await run('check', '--fleet', fleetFile(true), '--group', 'nope');
    expect(bad.code).toBe(3);
    expect(bad.stdout + bad.stderr).toMatch(/--group nope: no such group .*\(data\)/);
  }, 120_000);
});
