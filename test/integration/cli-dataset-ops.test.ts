/**
 * zfs-fleet hold, release, clone, promote, set, rename, roles and expire (the built bundle) on the lab's zfs-fuse
 * hosts over real sshd: each preview changes nothing; what the preview said changes is what ZFS then
 * shows (the snapshots a promote moved, the descendants that inherited a value, the mountpoints after
 * a rename); a renamed source keeps replicating incrementally once the fleet file names it; bad
 * input (a name that exists, a value ZFS rejects, a release without a hold) is a clear error and
 * nothing changes. Throw-away roots on off1 and ovh3.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../src/core/replication/plan.js';
import { buildCli, labCli } from './queueCli.js';
import { DST, SRC, datasetNames, destroyRoot, makeSource, q, randomRoot, replicate, sh, snapshotGuids } from './replication/scenarios.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zfs-fleet-dsops-'));
const NAME = randomRoot();
const R1 = `zfs-hdd/${NAME}`;
const R2 = `rpool/${NAME}`;
const DS = `${R1}/data`;
const { run } = labCli(tmp);
const fleetFile = path.join(tmp, 'fleet.json');
const writeFleet = (source: string) => fs.writeFileSync(fleetFile, JSON.stringify({ pairs: [{ source: `${SRC}:${source}`, target: `${DST}:${R2}/data` }] }));
const shortSnaps = (host: string, dataset: string) => [...snapshotGuids(host, dataset).keys()].map((n) => n.slice(n.indexOf('@'))).sort();
const get = (host: string, prop: string, dataset: string) => sh(host, `zfs get -H -o value,source ${prop} ${q(dataset)}`).trim();
const planOf = (stdout: string) => (JSON.parse(stdout) as { plan: Plan }).plan;

beforeAll(async () => {
  buildCli();
  await makeSource(DS, ['a', 'b', 'c'], { gapSeconds: 1 });
  sh(DST, `zfs create -p ${q(R2)}`);
  replicate(DS, `${R2}/data`, 'a', 'c');
  writeFleet(DS);
}, 180_000);

afterAll(async () => {
  await destroyRoot(DST, R2);
  await destroyRoot(SRC, R1);
  fs.rmSync(tmp, { recursive: true, force: true });
}, 180_000);

describe('zfs-fleet hold, release, clone, promote, set, rename, roles, expire', () => {
  it('hold and release: the preview changes nothing; a held snapshot is not destroyed; a release without a hold is refused', async () => {
    const snap = `${DS}@a`;
    const preview = await run('hold', `${SRC}:${snap}`, 'keep');
    expect(preview.code, preview.stderr).toBe(0);
    expect(preview.stdout).toContain(`zfs hold keep ${snap}`);
    expect(get(SRC, 'userrefs', snap)).toBe('0\t-');
    expect((await run('hold', `${SRC}:${snap}`, 'keep', '--yes')).code).toBe(0);
    expect(get(SRC, 'userrefs', snap)).toBe('1\t-');
    const destroy = await run('destroy', `${SRC}:${snap}`, '--yes');
    expect(destroy.code).toBe(1);
    expect(destroy.stderr).toContain('1 user hold');
    const twice = await run('hold', `${SRC}:${snap}`, 'keep', '--yes');
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/tag already exists/);
    expect((await run('release', `${SRC}:${snap}`, 'keep', '--yes')).code).toBe(0);
    expect(get(SRC, 'userrefs', snap)).toBe('0\t-');
    const none = await run('release', `${SRC}:${snap}`, 'keep', '--yes');
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`${snap} has no holds`);
  }, 120_000);

  it('clone, then promote: the snapshots the preview said move are the ones that moved', async () => {
    const clone = `${R1}/restore`;
    expect((await run('clone', `${SRC}:${DS}@b`, clone, '-o', 'compression=gzip', '--yes')).code).toBe(0);
    expect(get(SRC, 'origin', clone)).toBe(`${DS}@b\t-`);
    expect(get(SRC, 'compression', clone)).toBe('gzip\tlocal');
    const taken = await run('clone', `${SRC}:${DS}@b`, clone, '--yes');
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain(`${clone} already exists`);

    const before = { ds: shortSnaps(SRC, DS), clone: shortSnaps(SRC, clone) };
    const preview = await run('promote', `${SRC}:${clone}`, '--json', '--fleet', fleetFile);
    expect(preview.code, preview.stderr).toBe(0);
    const plan = planOf(preview.stdout);
    expect(plan.effects![0]).toBe(`Moved from ${DS} to ${clone}: @a, @b.`);
    // The source of a pair: the preview warns that its snapshots move away.
    expect(plan.warnings.join('\n')).toMatch(new RegExp(`${DS} is the source of pair .*: its snapshots up to @b move to ${clone}`));
    expect(shortSnaps(SRC, DS)).toEqual(before.ds);
    expect((await run('promote', `${SRC}:${clone}`, '--yes', '--fleet', fleetFile)).code).toBe(0);
    expect(shortSnaps(SRC, clone)).toEqual(['@a', '@b']);
    expect(shortSnaps(SRC, DS)).toEqual(['@c']);
    expect(get(SRC, 'origin', DS)).toBe(`${clone}@b\t-`);
    // Back as it was (the pair's source keeps its history for the rename below).
    expect((await run('promote', `${SRC}:${DS}`, '--yes')).code).toBe(0);
    expect(shortSnaps(SRC, DS)).toEqual(before.ds);
    const notClone = await run('promote', `${SRC}:${DS}`, '--yes');
    expect(notClone.code).toBe(1);
    expect(notClone.stderr).toContain(`${DS} is not a clone`);
  }, 120_000);

  it('set: the descendants the preview lists are the ones that took the value; a value ZFS rejects changes nothing', async () => {
    sh(SRC, `zfs create ${q(`${DS}/kid`)}\nzfs create -o compression=off ${q(`${DS}/own`)}`);
    const preview = await run('set', `${SRC}:${DS}`, 'compression=on', '--json');
    expect(preview.code, preview.stderr).toBe(0);
    const effects = planOf(preview.stdout).effects!;
    expect(effects).toContain(`${DS}/kid: off -> on (inherited)`);
    expect(effects.join('\n')).toContain(`Kept (set on itself): ${DS}/own=off`);
    expect(get(SRC, 'compression', DS)).toBe('off\tdefault');
    expect((await run('set', `${SRC}:${DS}`, 'compression=on', '--yes')).code).toBe(0);
    expect(get(SRC, 'compression', DS)).toBe('on\tlocal');
    expect(get(SRC, 'compression', `${DS}/kid`)).toBe(`on\tinherited from ${DS}`);
    expect(get(SRC, 'compression', `${DS}/own`)).toBe('off\tlocal');
    const bad = await run('set', `${SRC}:${DS}`, 'compression=bogus', '--yes');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/compression/);
    const unknown = await run('set', `${SRC}:${DS}`, 'nosuchprop=1', '--yes');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/nosuchprop/);
    expect(get(SRC, 'compression', DS)).toBe('on\tlocal');
  }, 120_000);

  it('rename: the mountpoints the preview said; the pair is named; with the fleet file edited, the next sync is incremental', async () => {
    sh(SRC, `zfs create ${q(`${R1}/new`)}\nzfs set mountpoint=/${q(`${R1}-elsewhere`)} ${q(`${R1}/new`)}`);
    const to = `${R1}/new/data`;
    const onto = await run('rename', `${SRC}:${DS}`, `${R1}/new`, '--yes');
    expect(onto.code).toBe(1);
    expect(onto.stderr).toContain(`${R1}/new already exists`);
    const guid = sh(SRC, `zfs get -H -o value guid ${q(DS)}`).trim();
    const preview = await run('rename', `${SRC}:${DS}`, to, '--json', '--fleet', fleetFile);
    expect(preview.code, preview.stderr).toBe(0);
    const plan = planOf(preview.stdout);
    expect(plan.effects).toContain(`${to}: mountpoint /${DS} -> /${R1}-elsewhere/data (inherited)`);
    expect(plan.warnings.join('\n')).toContain(`names ${SRC}:${DS} as its source: after the rename, edit the fleet file to ${SRC}:${to}`);
    expect(datasetNames(SRC, R1)).toContain(DS);
    expect((await run('rename', `${SRC}:${DS}`, to, '--yes', '--fleet', fleetFile)).code).toBe(0);
    expect(datasetNames(SRC, R1)).not.toContain(DS);
    expect(get(SRC, 'mountpoint', to)).toBe(`/${R1}-elsewhere/data\tinherited from ${R1}/new`);
    expect(sh(SRC, `zfs get -H -o value guid ${q(to)}`).trim()).toBe(guid);
    // The pair follows the new name: an incremental sync from @c.
    writeFleet(to);
    sh(SRC, `zfs snapshot ${q(`${to}@d`)}`);
    const sync = await run('sync', `${SRC}:${to}`, `${DST}:${R2}/data`, '--json', '--fleet', fleetFile);
    expect(sync.code, sync.stderr).toBe(0);
    const send = planOf(sync.stdout).steps.find((s) => s.type === 'pipe');
    expect(send && send.type === 'pipe' && send.from.argv.join(' ')).toMatch(/send .*-[iI] .*@c .*@d/);
    expect((await run('sync', `${SRC}:${to}`, `${DST}:${R2}/data`, '--yes', '--fleet', fleetFile)).code).toBe(0);
    expect(shortSnaps(DST, `${R2}/data`)).toEqual(['@a', '@b', '@c', '@d']);
  }, 180_000);

  it('roles: the preview sets what differs; then zfs get says each role, a write to the replica fails, and it still receives', async () => {
    const primary = `${R1}/grp`;
    const replica = `${R2}/grp`;
    await makeSource(primary, ['a']);
    replicate(primary, replica, 'a');
    const file = path.join(tmp, 'group.json');
    fs.writeFileSync(file, JSON.stringify({ groups: [{ name: 'g', primary: `${SRC}:${primary}`, replicas: [`${DST}:${replica}`] }] }));
    const preview = await run('roles', 'g', '--fleet', file, '--json');
    expect(preview.code, preview.stderr).toBe(0);
    expect(planOf(preview.stdout).effects).toEqual([
      `${SRC}:${primary}: zfs-fleet:role - -> primary`,
      `${SRC}:${primary}: zfs-fleet:group - -> g`,
      `${SRC}:${primary}: zfs-fleet:primary - -> ${SRC}:${primary}`,
      `${DST}:${replica}: zfs-fleet:role - -> replica`,
      `${DST}:${replica}: zfs-fleet:group - -> g`,
      `${DST}:${replica}: zfs-fleet:primary - -> ${SRC}:${primary}`,
      `${DST}:${replica}: readonly off -> on`,
    ]);
    expect(get(DST, 'zfs-fleet:role', replica)).toBe('-\t-');
    expect((await run('roles', 'g', '--fleet', file, '--yes')).code).toBe(0);
    expect(get(SRC, 'zfs-fleet:role', primary)).toBe('primary\tlocal');
    expect(get(DST, 'zfs-fleet:role', replica)).toBe('replica\tlocal');
    expect(get(DST, 'zfs-fleet:primary', replica)).toBe(`${SRC}:${primary}\tlocal`);
    // Read-only as the host enforces it (zfs-fuse then reports `off temporary`: see readonlyOn).
    expect(sh(DST, `touch "$(zfs get -H -o value mountpoint ${q(replica)})/stray" 2>&1 || true`)).toMatch(/Read-only file system/);
    const again = await run('roles', 'g', '--fleet', file, '--yes');
    expect(again.stdout).toContain('Every dataset of group g carries its role');
    // A read-only replica still receives.
    sh(SRC, `zfs snapshot ${q(`${primary}@b`)}`);
    const sync = await run('sync', 'group', 'g', '--fleet', file, '--yes');
    expect(sync.code, sync.stderr).toBe(0);
    expect(shortSnaps(DST, replica)).toEqual(['@a', '@b']);
  }, 180_000);

  it("expire: the newest N, a pair's base and a held snapshot kept; exactly the listed ones destroyed; the pair stays incremental", async () => {
    const primary = `${R1}/grp`;
    const replica = `${R2}/grp`;
    const file = path.join(tmp, 'group.json');
    // From the roles test: @a and @b on both sides (the base is @b). Three more on the primary, @a held.
    sh(SRC, ['c', 'd', 'e'].map((x) => `zfs snapshot ${q(`${primary}@${x}`)}`).join('\n') + `\nzfs hold keep ${q(`${primary}@a`)}`);
    const preview = await run('expire', `${SRC}:${primary}`, '--keep', '1', '--fleet', file, '--json');
    expect(preview.code, preview.stderr).toBe(0);
    const plan = planOf(preview.stdout);
    expect(plan.destroys.snapshots.map((x) => x.name)).toEqual([`${primary}@c`, `${primary}@d`]);
    expect(plan.effects).toEqual([
      'Kept: @a: held (1 user hold)',
      `Kept: @b: the newest common snapshot of the pair g (${SRC}:${primary} -> ${DST}:${replica})`,
    ]);
    expect(shortSnaps(SRC, primary)).toEqual(['@a', '@b', '@c', '@d', '@e']);
    expect((await run('expire', `${SRC}:${primary}`, '--keep', '1', '--fleet', file, '--yes')).code).toBe(0);
    expect(shortSnaps(SRC, primary)).toEqual(['@a', '@b', '@e']);
    expect((await run('sync', 'group', 'g', '--fleet', file, '--yes')).code).toBe(0);
    expect(shortSnaps(DST, replica)).toEqual(['@a', '@b', '@e']);
    // The group form, replicas only, keeping none: the base (@e now) stays.
    const r = await run('expire', 'g', '--keep', '0', '--fleet', file, '--yes');
    expect(r.code, r.stderr).toBe(0);
    expect(shortSnaps(DST, replica)).toEqual(['@e']);
    expect(shortSnaps(SRC, primary)).toEqual(['@a', '@b', '@e']);
    // Without --keep: the fleet file's retention policy, refused (with why) where there is none.
    const none = await run('expire', `${SRC}:${primary}`, '--fleet', file);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`${SRC}:${primary} has no retention policy in the fleet file`);
    const withPolicy = path.join(tmp, 'policy.json');
    fs.writeFileSync(
      withPolicy,
      JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), policies: { [`${SRC}:${primary}`]: { retention: { hourly: 1, daily: 0, monthly: 0 } } } }),
    );
    const byPolicy = await run('expire', `${SRC}:${primary}`, '--fleet', withPolicy, '--json');
    expect(byPolicy.code, byPolicy.stderr).toBe(0);
    // Not named by sanoid: sanoid never prunes them, so neither does the policy's expire.
    expect(planOf(byPolicy.stdout).summary).toContain(`nothing to expire (3 snapshots, kept by the policy of ${SRC}:${primary}`);
    sh(SRC, `zfs release keep ${q(`${primary}@a`)}`);
  }, 180_000);
});
