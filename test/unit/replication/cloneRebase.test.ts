/** Clone rebase plans from recorded listings and recorded `zfs get -s local` output. */
import { describe, expect, it } from 'vitest';
import { localPropertiesCommand, parseLocalProperties, planCloneRebase, shareCommand } from '../../../src/core/replication/cloneRebase.js';
import { PlanError } from '../../../src/core/replication/plan.js';
import { R2, fixture, fuseListing, fuseListingWithout } from './fixtures.js';

const seed = fuseListing('seed000', 'ovh3');
const CLONE = `${R2}/seed000/clones/products`;
const BASE = `${R2}/seed000/products@20230501-0000`;
const props = parseLocalProperties(fixture('seed000.ovh3.local-props.txt'));

describe('locally set properties', () => {
  it('the command and the parse of what zfs-fuse printed', () => {
    expect(localPropertiesCommand('zfs', CLONE).argv).toEqual(['zfs', 'get', '-H', '-p', '-s', 'local', '-o', 'property,value,source', 'all', CLONE]);
    expect(props).toEqual([
      { property: 'atime', value: 'off' },
      { property: 'org.zfs-fleet:purpose', value: 'staging over NFS' },
    ]);
  });
});

describe('planCloneRebase', () => {
  it('keepData: snapshot, local send|recv to <clone>-pre-rebase-<date>, destroy, clone with the local properties', () => {
    const p = planCloneRebase('ovh3', seed, CLONE, BASE, { keepData: true, date: '20230610-0900', localProperties: props });
    const copy = `${CLONE}-pre-rebase-20230610-0900`;
    expect(p.steps.map((s) => (s.type === 'command' ? s.argv : s.exec!.argv))).toEqual([
      ['zfs', 'snapshot', `${CLONE}@pre-rebase-20230610-0900`],
      ['sh', '-c', `zfs send ${CLONE}@pre-rebase-20230610-0900 | zfs recv ${copy}`],
      ['zfs', 'destroy', '-r', CLONE],
      ['zfs', 'clone', '-o', 'atime=off', '-o', 'org.zfs-fleet:purpose=staging over NFS', BASE, CLONE],
    ]);
    const pipe = p.steps[1]!;
    expect(pipe.type === 'pipe' && pipe.route).toBe('local');
    expect(pipe.type === 'pipe' && [pipe.from.argv, pipe.to.argv]).toEqual([
      ['zfs', 'send', `${CLONE}@pre-rebase-20230610-0900`],
      ['zfs', 'recv', copy],
    ]);
    expect(p.destroys.clones.map((c) => c.name)).toEqual([CLONE]);
    expect(p.destroys.snapshots.map((c) => c.name)).toEqual([`${CLONE}@pre-rebase-20230610-0900`]);
    expect(p.preconditions).toContainEqual({ kind: 'origin', host: 'ovh3', dataset: CLONE, origin: `${R2}/seed000/products@20230515-0000` });
    expect(p.preconditions).toContainEqual({ kind: 'dataset-absent', host: 'ovh3', dataset: copy });
    expect(p.warnings.join('\n')).toContain(`the current data is kept in ${copy}`);
    // what uses the clone: known from the listing, the rest for the executor to fill
    expect(p.preview?.cloneUsage).toMatchObject({ host: 'ovh3', clone: CLONE, mounted: true, mountpoint: `/${CLONE}`, dependants: [] });
    expect(p.inspect?.map((i) => i.purpose)).toEqual(['share-properties', 'mount-users']);
    expect(p.inspect?.[0]!.argv).toEqual(shareCommand('zfs', CLONE).argv);
  });

  it('without keepData: destroy and clone only, and the loss is said', () => {
    const p = planCloneRebase('ovh3', seed, CLONE, BASE, { keepData: false, date: 'x', localProperties: [] });
    expect(p.steps.map((s) => s.op)).toEqual(['destroy', 'clone']);
    expect(p.steps[0]!.type === 'command' && p.steps[0]!.argv).toEqual(['zfs', 'destroy', CLONE]);
    expect(p.warnings.join('\n')).toContain('which is lost');
  });

  it("blocked while clones of the clone's snapshots exist", () => {
    // clonechain without c1's child (its lines left out): c1 has a snapshot @x, and c2 is a clone of it
    const CC = `${R2}/clonechain`;
    const chain = fuseListingWithout('clonechain', 'ovh3', (n) => n.startsWith(`${CC}/c1/child`));
    const p = planCloneRebase('ovh3', chain, `${CC}/c1`, `${CC}/fs@20230501-0000`, { keepData: true, date: 'd', localProperties: [] });
    expect(p.steps).toEqual([]);
    expect(p.blockedBy?.clones.map((c) => c.name)).toEqual([`${CC}/c2`]);
    expect(p.preview?.cloneUsage).toMatchObject({ dependants: [`${CC}/c2`] });
  });

  it('refused for children, non-clones, the same origin, bad names', () => {
    const chain = fuseListing('clonechain', 'ovh3');
    const CC = `${R2}/clonechain`;
    // c1 has a child dataset
    expect(() => planCloneRebase('ovh3', chain, `${CC}/c1`, `${CC}/fs@20230501-0000`, { keepData: true, date: 'd', localProperties: [] })).toThrow(
      /child datasets/,
    );
    // c2 is a clone of c1@x: re-basing c2 onto fs@20230501-0000 is fine; re-basing c1 would need c2 gone
    const p = planCloneRebase('ovh3', chain, `${CC}/c2`, `${CC}/fs@20230501-0000`, { keepData: false, date: 'd', localProperties: [] });
    expect(p.steps.map((s) => s.op)).toEqual(['destroy', 'clone']);
    expect(() => planCloneRebase('ovh3', chain, `${CC}/fs`, `${CC}/fs@20230501-0000`, { keepData: true, date: 'd', localProperties: [] })).toThrow(PlanError);
    expect(() => planCloneRebase('ovh3', seed, CLONE, `${R2}/seed000/products@20230515-0000`, { keepData: true, date: 'd', localProperties: [] })).toThrow(
      /already a clone of/,
    );
    expect(() => planCloneRebase('ovh3', seed, CLONE, BASE, { keepData: true, date: 'a b', localProperties: [] })).toThrow(/date/);
  });
});
