/**
 * zfs-fleet snapshot and destroy (the built bundle) on the lab's zfs-fuse hosts over real sshd: the
 * preview changes nothing; what the plan listed is exactly what ZFS destroyed; a snapshot with a
 * clone, a held one and a pair's newest common snapshot are refused with the reason and nothing
 * changes; bad input gets a clear error. Throw-away roots on off1 and ovh3.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../src/core/replication/plan.js';
import { buildCli, labCli } from './queueCli.js';
import { DST, SRC, destroyRoot, makeSource, q, randomRoot, replicate, sh, snapshotNames } from './replication/scenarios.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zfs-fleet-ops-'));
const NAME = randomRoot();
const R1 = `zfs-hdd/${NAME}`;
const R2 = `rpool/${NAME}`;
const DS = `${R1}/data`;
const SNAPS = ['a', 'b', 'c', 'd', 'e'];
const { run } = labCli(tmp);
const fleetFile = path.join(tmp, 'fleet.json');
const short = (names: string[]) => names.map((n) => n.slice(n.indexOf('@')));
/** The snapshots of exactly `dataset` (not its children). */
const snapsOf = (host: string, dataset: string) => short(snapshotNames(host, dataset).filter((n) => n.startsWith(`${dataset}@`)));

beforeAll(async () => {
  buildCli();
  await makeSource(DS, SNAPS, { gapSeconds: 1 });
  sh(SRC, `zfs create ${q(`${DS}/child`)}`);
  // A pair DS -> ovh3, replicated up to @c: its newest common snapshot is @c.
  sh(DST, `zfs create -p ${q(R2)}`);
  replicate(DS, `${R2}/data`, 'a', 'c');
  fs.writeFileSync(fleetFile, JSON.stringify({ pairs: [{ source: `${SRC}:${DS}`, target: `${DST}:${R2}/data` }] }));
}, 180_000);

afterAll(async () => {
  await destroyRoot(DST, R2);
  await destroyRoot(SRC, R1);
  fs.rmSync(tmp, { recursive: true, force: true });
}, 180_000);

describe('zfs-fleet snapshot and destroy', () => {
  it('snapshot: the preview changes nothing; --yes takes it; --recursive takes it on the children too', async () => {
    const preview = await run('snapshot', `${SRC}:${DS}@manual`);
    expect(preview.code, preview.stderr).toBe(0);
    expect(preview.stdout).toMatch(/zfs snapshot .*@manual/);
    expect(preview.stdout).toMatch(/nothing changed: run again with --yes/);
    expect(snapsOf(SRC, DS)).not.toContain('@manual');
    expect((await run('snapshot', `${SRC}:${DS}@manual`, '--yes')).code).toBe(0);
    expect(snapsOf(SRC, DS)).toContain('@manual');
    const again = await run('snapshot', `${SRC}:${DS}@manual`, '--yes');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`${DS}@manual already exists`);
    expect((await run('snapshot', `${SRC}:${DS}@rec`, '--recursive', '--yes')).code).toBe(0);
    expect(snapsOf(SRC, `${DS}/child`)).toEqual(['@rec']);
  }, 120_000);

  it('destroy: the plan lists every snapshot of the range, and exactly those are what ZFS destroyed', async () => {
    const before = snapsOf(SRC, DS);
    const preview = await run('destroy', `${SRC}:${DS}@d%manual`, '--json', '--fleet', fleetFile);
    expect(preview.code, preview.stderr).toBe(0);
    const listed = short((JSON.parse(preview.stdout) as { plan: Plan }).plan.destroys.snapshots.map((s) => s.name));
    expect(listed).toEqual(['@d', '@e', '@manual']);
    expect(snapsOf(SRC, DS)).toEqual(before);
    const r = await run('destroy', `${SRC}:${DS}@d%manual`, '--yes', '--fleet', fleetFile);
    expect(r.code, r.stderr).toBe(0);
    const after = snapsOf(SRC, DS);
    expect(before.filter((s) => !after.includes(s))).toEqual(listed);
    expect(after).toEqual(['@a', '@b', '@c', '@rec']);
  }, 120_000);

  it("refused with the reason, nothing destroyed: a pair's newest common snapshot, a snapshot with a clone, a held one", async () => {
    const before = snapsOf(SRC, DS);
    const base = await run('destroy', `${SRC}:${DS}@b,c`, '--yes', '--fleet', fleetFile);
    expect(base.code).toBe(1);
    expect(base.stderr).toMatch(/not destroyed: .*@c.*newest common snapshot/s);
    sh(SRC, `zfs clone ${q(`${DS}@b`)} ${q(`${R1}/clone`)}`);
    const clone = await run('destroy', `${SRC}:${DS}@a%b`, '--yes', '--fleet', fleetFile);
    expect(clone.code).toBe(1);
    expect(clone.stderr).toContain(`${DS}@b has clone ${R1}/clone (promote or destroy it first)`);
    sh(SRC, `zfs hold keep ${q(`${DS}@a`)}`);
    const held = await run('destroy', `${SRC}:${DS}@a`, '--yes', '--fleet', fleetFile);
    expect(held.code).toBe(1);
    expect(held.stderr).toContain(`${DS}@a has 1 user hold (see zfs holds; release it first)`);
    expect(snapsOf(SRC, DS)).toEqual(before);
    sh(SRC, `zfs release keep ${q(`${DS}@a`)}`);
    // Not the base, no clone, no hold: it goes.
    expect((await run('destroy', `${SRC}:${DS}@a`, '--yes', '--fleet', fleetFile)).code).toBe(0);
    expect(snapsOf(SRC, DS)).toEqual(before.filter((s) => s !== '@a'));
  }, 120_000);

  it('bad input: clear errors, nothing changed', async () => {
    const before = snapsOf(SRC, DS);
    const missing = await run('destroy', `${SRC}:${DS}@nope`, '--yes');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`${DS}@nope does not exist`);
    const noAt = await run('destroy', `${SRC}:${DS}`);
    expect(noAt.code).toBe(2);
    expect(noAt.stderr).toMatch(/destroy takes HOST:DATASET@SNAPSHOTS/);
    const backwards = await run('destroy', `${SRC}:${DS}@c%b`, '--yes');
    expect(backwards.code).toBe(1);
    expect(backwards.stderr).toMatch(/@c is newer than @b/);
    const badName = await run('snapshot', `${SRC}:${DS}@bad*name`, '--yes');
    expect(badName.code).toBe(1);
    expect(snapsOf(SRC, DS)).toEqual(before);
  }, 120_000);
});
