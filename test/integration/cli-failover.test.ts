/**
 * zfs-fleet failover, takeover and demote (the built bundle) on the lab's zfs-fuse hosts over real
 * sshd: a group off1 -> ovh3 failed over there and back with the data written on each primary found
 * on the other; bad input refused with nothing changed; a takeover with off1's sshd stopped, its
 * return shown as split brain, and its demotion with the divergent data kept aside. The fleet file
 * follows each change of primary. Throw-away roots on off1 and ovh3; off1's sshd is brought back by
 * `lab.sh up` (idempotent), whatever happens.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../src/core/replication/plan.js';
import { labUp, stopSshd } from './lab.js';
import { buildCli, labCli } from './queueCli.js';
import { DST, SRC, destroyRoot, makeSource, mountpoint, q, randomRoot, replicate, sh, snapshotGuids } from './replication/scenarios.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zfs-fleet-failover-'));
const NAME = randomRoot();
const R1 = `zfs-hdd/${NAME}`;
const R2 = `rpool/${NAME}`;
const P = `${R1}/db`;
const T = `${R2}/db`;
const { run } = labCli(tmp);
const file = path.join(tmp, 'fleet.json');
const get = (host: string, prop: string, dataset: string) => sh(host, `zfs get -H -o value ${prop} ${q(dataset)}`).trim();
const writable = (host: string, dataset: string) => sh(host, `touch ${q(`${mountpoint(host, dataset)}/probe`)} 2>&1 && echo yes || true`).trim();
const write = (host: string, dataset: string, name: string, text: string) =>
  sh(host, `printf '%s\\n' ${q(text)} > ${q(`${mountpoint(host, dataset)}/${name}`)}`);
const read = (host: string, dataset: string, name: string) => sh(host, `cat ${q(`${mountpoint(host, dataset)}/${name}`)}`).trim();
const group = () => (JSON.parse(fs.readFileSync(file, 'utf8')) as { groups: { primary: string; replicas: string[] }[] }).groups[0]!;
const planOf = (stdout: string) => (JSON.parse(stdout) as { plan: Plan }).plan;
const newest = (host: string, dataset: string) => [...snapshotGuids(host, dataset)].at(-1)!;

beforeAll(async () => {
  buildCli();
  await makeSource(P, ['a']);
  sh(DST, `zfs create -p ${q(R2)}`);
  replicate(P, T, 'a');
  fs.writeFileSync(file, JSON.stringify({ groups: [{ name: 'g', primary: `${SRC}:${P}`, replicas: [`${DST}:${T}`] }] }, null, 2) + '\n');
  const roles = await run('roles', 'g', '--fleet', file, '--yes');
  expect(roles.code, roles.stderr).toBe(0);
}, 180_000);

afterAll(async () => {
  labUp();
  await destroyRoot(DST, R2);
  await destroyRoot(SRC, R1);
  fs.rmSync(tmp, { recursive: true, force: true });
}, 180_000);

describe('zfs-fleet failover, takeover, demote', () => {
  it('bad input is refused with a clear error and nothing changes', async () => {
    const before = fs.readFileSync(file, 'utf8');
    const stranger = await run('failover', 'g', '--to', `${DST}:${R2}/nope`, '--fleet', file, '--yes');
    expect(stranger.code).toBe(1);
    expect(stranger.stderr).toContain(`${DST}:${R2}/nope is not a replica of group g (its replicas: ${DST}:${T})`);
    const take = await run('takeover', 'g', '--to', `${DST}:${T}`, '--fleet', file, '--yes');
    expect(take.code).toBe(1);
    expect(take.stderr).toContain(
      `the primary ${SRC}:${P} answers: a takeover is for a primary that cannot be reached. Use zfs-fleet failover g --to ${DST}:${T}`,
    );
    expect(get(SRC, 'zfs-fleet:role', P)).toBe('primary');
    expect(writable(SRC, P)).toBe('yes');
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
  }, 120_000);

  it('failover there and back: the preview changes nothing; each primary read-only before its final snapshot, the data on the other side, one writable primary, the fleet file swapped', async () => {
    write(SRC, P, 'first.txt', 'written on off1 before the failover');
    const preview = await run('failover', 'g', '--to', `${DST}:${T}`, '--fleet', file, '--json');
    expect(preview.code, preview.stderr).toBe(0);
    const plan = planOf(preview.stdout);
    expect(plan.kind).toBe('failover');
    expect(plan.destroys).toEqual({ snapshots: [], bookmarks: [], clones: [], datasets: [] });
    expect(plan.effects!.join('\n')).toContain(`The fleet file ${file}: group g's primary becomes ${DST}:${T}`);
    expect(writable(SRC, P)).toBe('yes');
    expect(group().primary).toBe(`${SRC}:${P}`);

    const r = await run('failover', 'g', '--to', `${DST}:${T}`, '--fleet', file, '--yes');
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const [snapP, guidP] = newest(SRC, P);
    const [snapT, guidT] = newest(DST, T);
    expect(snapP).toMatch(/@zfs-fleet-failover-\d{8}-\d{6}$/);
    expect(snapT.slice(snapT.indexOf('@'))).toBe(snapP.slice(snapP.indexOf('@')));
    expect(guidT).toBe(guidP);
    expect(read(DST, T, 'first.txt')).toBe('written on off1 before the failover');
    expect(writable(SRC, P)).toMatch(/Read-only file system/);
    expect(writable(DST, T)).toBe('yes');
    expect([get(DST, 'zfs-fleet:role', T), get(DST, 'zfs-fleet:primary', T)]).toEqual(['primary', `${DST}:${T}`]);
    expect([get(SRC, 'zfs-fleet:role', P), get(SRC, 'zfs-fleet:primary', P)]).toEqual(['replica', `${DST}:${T}`]);
    expect(group()).toMatchObject({ primary: `${DST}:${T}`, replicas: [`${SRC}:${P}`] });
    const status = await run('status', 'group', 'g', '--fleet', file);
    expect(status.stdout).toContain(`group g: ${DST}:${T}`);
    expect(status.stdout).toContain('every replica level');

    // And back: written on ovh3, found on off1.
    write(DST, T, 'second.txt', 'written on ovh3 while it was the primary');
    const back = await run('failover', 'g', '--to', `${SRC}:${P}`, '--fleet', file, '--yes');
    expect(back.code, back.stderr + back.stdout).toBe(0);
    expect(read(SRC, P, 'second.txt')).toBe('written on ovh3 while it was the primary');
    expect(newest(SRC, P)[1]).toBe(newest(DST, T)[1]);
    expect(writable(DST, T)).toMatch(/Read-only file system/);
    expect(writable(SRC, P)).toBe('yes');
    expect(group()).toMatchObject({ primary: `${SRC}:${P}`, replicas: [`${DST}:${T}`] });
  }, 300_000);

  it("takeover with off1's sshd stopped; off1 back is split brain; demote keeps its divergent data aside and makes it a replica", async () => {
    sh(SRC, `zfs snapshot ${q(`${P}@before-outage`)}`);
    await run('sync', 'group', 'g', '--fleet', file, '--yes');
    // Written on off1 after the last sync: the data the takeover leaves behind there.
    write(SRC, P, 'lost.txt', 'written on off1 after its last sync');
    sh(SRC, `zfs snapshot ${q(`${P}@off1-only`)}`);
    await stopSshd(SRC);
    try {
      const preview = await run('takeover', 'g', '--to', `${DST}:${T}`, '--fleet', file, '--json');
      expect(preview.code, preview.stderr).toBe(0);
      expect(planOf(preview.stdout).effects!.join('\n')).toMatch(
        new RegExp(`${SRC}:${P} cannot be reached \\(.*(refused|ECONNREFUSED).*\\): it is not changed`),
      );
      const r = await run('takeover', 'g', '--to', `${DST}:${T}`, '--fleet', file, '--yes');
      expect(r.code, r.stderr + r.stdout).toBe(0);
      expect(writable(DST, T)).toBe('yes');
      expect(get(DST, 'zfs-fleet:role', T)).toBe('primary');
      expect(group()).toMatchObject({ primary: `${DST}:${T}`, replicas: [`${SRC}:${P}`] });
      write(DST, T, 'new.txt', 'written on ovh3 after the takeover');
      sh(DST, `zfs snapshot ${q(`${T}@after-takeover`)}`);
    } finally {
      labUp();
    }
    // off1 is back, still saying it is the primary, with a snapshot of its own.
    const status = await run('status', 'group', 'g', '--fleet', file);
    expect(status.stdout).toMatch(new RegExp(`${SRC}:${P}\\s+split brain`));
    expect(status.stdout).toContain(`-> zfs-fleet demote g ${SRC}:${P} --keep-data`);

    const preview = await run('demote', 'g', `${SRC}:${P}`, '--keep-data', '--fleet', file, '--json');
    expect(preview.code, preview.stderr).toBe(0);
    const plan = planOf(preview.stdout);
    // What the rollback destroys: off1's own snapshot and the one the plan takes to copy its data.
    expect(plan.destroys.snapshots.map((s) => s.name.slice(s.name.indexOf('@'))).sort()).toEqual(
      ['@off1-only', expect.stringMatching(/^@zfs-fleet-splitbrain-/)].sort(),
    );
    const before = [...snapshotGuids(SRC, P).keys()];
    const r = await run('demote', 'g', `${SRC}:${P}`, '--keep-data', '--fleet', file, '--yes');
    expect(r.code, r.stderr + r.stdout).toBe(0);
    // Exactly what the preview listed is gone.
    const after = new Set(snapshotGuids(SRC, P).keys());
    expect(before.filter((n) => !after.has(n))).toEqual(plan.destroys.snapshots.map((s) => s.name).filter((n) => before.includes(n)));
    expect(read(SRC, P, 'new.txt')).toBe('written on ovh3 after the takeover');
    expect(newest(SRC, P)[1]).toBe(newest(DST, T)[1]);
    const copy = sh(SRC, `zfs list -H -o name -r ${q(R1)} | grep -- '-splitbrain-' || true`).trim();
    expect(copy).toMatch(new RegExp(`^${P}-splitbrain-\\d{8}-\\d{6}$`));
    sh(SRC, `zfs mount ${q(copy)} 2>/dev/null || true`);
    expect(read(SRC, copy, 'lost.txt')).toBe('written on off1 after its last sync');
    expect([get(SRC, 'zfs-fleet:role', P), get(SRC, 'zfs-fleet:primary', P)]).toEqual(['replica', `${DST}:${T}`]);
    expect(writable(SRC, P)).toMatch(/Read-only file system/);
    const level = await run('status', 'group', 'g', '--fleet', file);
    expect(level.stdout).toContain('every replica level');
  }, 300_000);
});
