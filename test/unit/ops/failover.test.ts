/**
 * Failover, takeover and demotion plans from listings recorded on the zfs-fuse lab (the replication
 * scenarios off1 -> ovh3) and the role properties' `zfs get` rows recorded there (get-role-props-*),
 * moved onto the scenario's datasets.
 */
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { HostListing } from '../../../src/core/fleet/listing.js';
import { swapGroupPrimary } from '../../../src/core/fleet/editFile.js';
import { planDemote, planFailover, planTakeover, promotedGroup, roleStamp } from '../../../src/core/ops/failover.js';
import { endKey, type GroupEnd, type RoleGroup } from '../../../src/core/ops/roles.js';
import { checkPreconditions, type PlanStep } from '../../../src/core/replication/plan.js';
import { planSync } from '../../../src/core/replication/sync.js';
import { parsePropertyRows, type PropertyRow } from '../../../src/core/zfs/properties.js';
import { fuseListing, planError, R1, R2, scenarioPair } from '../replication/fixtures.js';

const recorded = (name: string) => parsePropertyRows(fs.readFileSync(`test/fixtures/zfs-fuse/${name}.stdout`, 'utf8'));
/** The recorded rows of scratch/tree/a (nothing set, readonly off) as another dataset's, with `values` instead. */
function rows(dataset: string, values: Record<string, string> = {}): PropertyRow[] {
  return recorded('get-role-props-unset').map((r) => ({
    ...r,
    name: dataset,
    ...(values[r.property] !== undefined ? { value: values[r.property]!, source: { kind: 'local' as const } } : {}),
  }));
}

function setup(scenario: string, primaryProps: Record<string, string> = {}, replicaProps: Record<string, string> = {}) {
  const pair = { ...scenarioPair(scenario), group: 'g' };
  const P: GroupEnd = { host: 'off1', dataset: `${R1}/${scenario}/fs` };
  const T: GroupEnd = { host: 'ovh3', dataset: `${R2}/${scenario}/fs` };
  const group: RoleGroup = { name: 'g', primary: P, replicas: [T] };
  const listings = new Map<string, HostListing>([
    ['off1', fuseListing(scenario, 'off1')],
    ['ovh3', fuseListing(scenario, 'ovh3')],
  ]);
  const props = new Map([
    [endKey(P), rows(P.dataset, { 'zfs-fleet:role': 'primary', 'zfs-fleet:group': 'g', 'zfs-fleet:primary': `off1:${P.dataset}`, ...primaryProps })],
    [
      endKey(T),
      rows(T.dataset, { 'zfs-fleet:role': 'replica', 'zfs-fleet:group': 'g', 'zfs-fleet:primary': `off1:${P.dataset}`, readonly: 'on', ...replicaProps }),
    ],
  ]);
  return { pair, P, T, group, listings, props };
}

const argvs = (p: { steps: PlanStep[] }) => p.steps.map((s) => (s.type === 'command' ? s.argv.join(' ') : `${s.from.argv.join(' ')} | recv`));
const now = new Date('2026-12-05T01:02:03Z');

describe('planFailover', () => {
  it('read-only first, then the final snapshot sent, the guids compared, the replica writable, the roles swapped', () => {
    const { pair, T, group, listings, props } = setup('behind');
    const p = planFailover(group, T, pair, listings, props, { now, fleetFile: '.zfs-fleet.json' });
    expect(roleStamp(now)).toBe('20261205-010203');
    const a = argvs(p);
    expect(a[0]).toBe(`zfs set readonly=on ${R1}/behind/fs`);
    expect(a[1]).toBe(`zfs snapshot ${R1}/behind/fs@zfs-fleet-failover-20261205-010203`);
    expect(a.some((x) => x.startsWith('zfs send') && x.includes(`@zfs-fleet-failover-20261205-010203`))).toBe(true);
    const writable = p.steps.findIndex((s) => 'argv' in s && s.argv.join(' ') === `zfs set readonly=off ${R2}/behind/fs`);
    expect(writable).toBeGreaterThan(a.findIndex((x) => x.startsWith('zfs send')));
    // The guid check sits right before the replica is made writable.
    const same = p.preconditions.find((c) => c.kind === 'same-snapshot')!;
    expect(same).toMatchObject({ beforeStep: p.steps[writable]!.id, snapshot: 'zfs-fleet-failover-20261205-010203' });
    expect(a.slice(writable + 1)).toEqual([
      `zfs set zfs-fleet:role=primary ${R2}/behind/fs`,
      `zfs set zfs-fleet:primary=ovh3:${R2}/behind/fs ${R2}/behind/fs`,
      `zfs set zfs-fleet:role=replica ${R1}/behind/fs`,
      `zfs set zfs-fleet:primary=ovh3:${R2}/behind/fs ${R1}/behind/fs`,
    ]);
    expect(p.destroys).toEqual({ snapshots: [], bookmarks: [], clones: [], datasets: [] });
    expect(p.effects!.join('\n')).toMatch(/The fleet file \.zfs-fleet\.json: group g's primary becomes ovh3:/);
    expect(p.effects!.join('\n')).toMatch(/no dataset of the group is writable/);
  });

  it('the guid check fails on listings where the final snapshot is missing on the replica', () => {
    const { pair, T, group, listings, props } = setup('insync');
    const p = planFailover(group, T, pair, listings, props, { now });
    const same = p.preconditions.find((c) => c.kind === 'same-snapshot')!;
    const changes = checkPreconditions(p, listings, { beforeStep: same.beforeStep });
    expect(changes.map((c) => c.message).join('\n')).toMatch(/newest snapshot of .* is @.*, not @zfs-fleet-failover-20261205-010203/);
  });

  it('an old primary already read-only (a failover run again) is not set again', () => {
    const { pair, T, group, listings, props } = setup('behind', { readonly: 'on' });
    const p = planFailover(group, T, pair, listings, props, { now });
    expect(argvs(p)[0]).toMatch(/^zfs snapshot /);
    expect(p.warnings.join('\n')).toMatch(/already read-only/);
  });

  it('refuses a dataset that is not a replica of the group, the primary itself, a replica with data of its own, a missing primary', () => {
    const { pair, P, T, group, listings, props } = setup('behind');
    expect(planError(() => planFailover(group, { host: 'ovh3', dataset: 'elsewhere' }, pair, listings, props)).reason).toMatch(
      /ovh3:elsewhere is not a replica of group g \(its replicas: ovh3:/,
    );
    expect(planError(() => planFailover(group, P, pair, listings, props)).reason).toMatch(/already the primary/);
    const n = setup('newer');
    expect(planError(() => planFailover(n.group, n.T, { ...scenarioPair('newer'), group: 'g' }, n.listings, n.props)).reason).toMatch(
      /is not a copy of .*: it has 1 snapshot\(s\) the primary lacks/,
    );
    const gone = new Map(listings);
    gone.set('off1', fuseListing('neversent', 'off1'));
    expect(planError(() => planFailover(group, T, pair, gone, props)).reason).toMatch(
      /does not exist: a failover needs it; take over instead \(zfs-fleet takeover g --to ovh3:/,
    );
  });
});

describe('planTakeover', () => {
  it('the replica writable at its newest snapshot, roles on what answers, the old primary left and named for demotion', () => {
    const { T, group, listings, props } = setup('behind');
    const away = new Map(listings);
    away.delete('off1');
    const p = planTakeover(group, T, away, props, { now, primaryError: 'connect ECONNREFUSED' });
    expect(argvs(p)).toEqual([
      `zfs set readonly=off ${R2}/behind/fs`,
      `zfs set zfs-fleet:role=primary ${R2}/behind/fs`,
      `zfs set zfs-fleet:primary=ovh3:${R2}/behind/fs ${R2}/behind/fs`,
    ]);
    const e = p.effects!.join('\n');
    expect(e).toMatch(/cannot be reached \(connect ECONNREFUSED\): it is not changed/);
    expect(e).toMatch(/zfs-fleet demote g off1:/);
    expect(p.preconditions[0]).toMatchObject({ kind: 'newest-snapshot', host: 'ovh3' });
  });

  it('refused while the primary answers (failover named); a partial receive only with consent', () => {
    const { T, group, listings, props } = setup('behind');
    expect(planError(() => planTakeover(group, T, listings, props)).reason).toMatch(
      /answers: a takeover is for a primary that cannot be reached\. Use zfs-fleet failover g --to ovh3:/,
    );
    const away = new Map(listings);
    away.delete('off1');
    const l = fuseListing('behind', 'ovh3');
    l.datasets.get(T.dataset)!.object.receiveResumeToken = '1-d1f5b8a7e-c0-789c636064000310a500c4ec50360710e72765a5269730';
    away.set('ovh3', l);
    expect(planError(() => planTakeover(group, T, away, props)).reason).toMatch(/partially received stream .* --discard-partial/);
    const p = planTakeover(group, T, away, props, { discardPartial: true });
    expect(argvs(p)[0]).toBe(`zfs recv -A ${R2}/behind/fs`);
    expect(p.destroys.datasets).toEqual([{ host: 'ovh3', name: `${R2}/behind/fs/%recv`, what: 'the partially received stream' }]);
  });
});

describe('planDemote', () => {
  it('an old primary with snapshots of its own: read-only, copied aside, rolled back (the copy snapshot listed), synced, marked a replica', () => {
    // 'newer': the receiving side has a snapshot the sending side lacks: the old primary came back with its own.
    const pair = { ...scenarioPair('newer'), group: 'g' };
    const S: GroupEnd = { host: 'off1', dataset: `${R1}/newer/fs` };
    const old: GroupEnd = { host: 'ovh3', dataset: `${R2}/newer/fs` };
    const group: RoleGroup = { name: 'g', primary: S, replicas: [old] };
    const listings = new Map([
      ['off1', fuseListing('newer', 'off1')],
      ['ovh3', fuseListing('newer', 'ovh3')],
    ]);
    const props = new Map([
      [endKey(old), rows(old.dataset, { 'zfs-fleet:role': 'primary', 'zfs-fleet:group': 'g', 'zfs-fleet:primary': `ovh3:${old.dataset}` })],
    ]);
    const p = planDemote(group, old, pair, listings, props, { now, keepData: true });
    const a = argvs(p);
    expect(a.slice(0, 3)).toEqual([
      `zfs set readonly=on ${R2}/newer/fs`,
      `zfs snapshot ${R2}/newer/fs@zfs-fleet-splitbrain-20261205-010203`,
      `zfs send ${R2}/newer/fs@zfs-fleet-splitbrain-20261205-010203 | recv`,
    ]);
    const rb = p.steps.find((s) => s.op === 'rollback')!;
    expect(rb.destroys.snapshots.map((s) => s.name)).toContain(`${R2}/newer/fs@zfs-fleet-splitbrain-20261205-010203`);
    // The rollback's re-check (right before it) expects the snapshot the plan takes itself.
    const names = p.preconditions.flatMap((c) => (c.kind === 'objects' && c.beforeStep === rb.id ? c.names : []));
    expect(names).toContain(`${R2}/newer/fs@zfs-fleet-splitbrain-20261205-010203`);
    expect(p.preconditions).toContainEqual({ kind: 'dataset-absent', host: 'ovh3', dataset: `${R2}/newer/fs-splitbrain-20261205-010203` });
    expect(a.slice(-2)).toEqual([`zfs set zfs-fleet:role=replica ${R2}/newer/fs`, `zfs set zfs-fleet:primary=off1:${R1}/newer/fs ${R2}/newer/fs`]);
    expect(p.effects!.join('\n')).toMatch(/kept in ovh3:.*-splitbrain-20261205-010203/);
    expect(p.summary).toMatch(/rolled back to the common snapshot/);
  });
});

describe('promotedGroup and the fleet file', () => {
  it("the new primary takes the old one's place; the file keeps its layout", () => {
    const g: RoleGroup = {
      name: 'g',
      primary: { host: 'a', dataset: 'p/x' },
      replicas: [
        { host: 'b', dataset: 'p/y' },
        { host: 'c', dataset: 'p/z' },
      ],
    };
    expect(promotedGroup(g, { host: 'c', dataset: 'p/z' })).toEqual({
      name: 'g',
      primary: { host: 'c', dataset: 'p/z' },
      replicas: [
        { host: 'b', dataset: 'p/y' },
        { host: 'a', dataset: 'p/x' },
      ],
    });
    const text =
      '{\n  "hosts": {},\n  "groups": [\n    { "name": "other", "primary": "a:p/o", "replicas": ["b:p/o"] },\n    {\n      "name": "g",\n      "primary": "a:p/x",\n      "replicas": ["b:p/y", "c:p/z"],\n      "schedule": "every 1h"\n    }\n  ]\n}\n';
    expect(swapGroupPrimary(text, 'g', 1, 1)).toBe(
      text.replace('"primary": "a:p/x"', '"primary": "c:p/z"').replace('["b:p/y", "c:p/z"]', '["b:p/y", "a:p/x"]'),
    );
    expect(() => swapGroupPrimary(text, 'g', 0, 0)).toThrow(/group number 1 is no longer g/);
  });
});

describe("a group replica's first receive", () => {
  it('is marked read-only with its role after the data arrives; a set that fails does not fail the sync', () => {
    const pair = { ...scenarioPair('neversent'), group: 'g' };
    const p = planSync(pair, fuseListing('neversent', 'off1'), fuseListing('neversent', 'ovh3'));
    const sets = p.steps.filter((s) => s.op === 'set');
    expect(argvs({ steps: sets })).toEqual([
      `zfs set readonly=on ${R2}/neversent/fs`,
      `zfs set zfs-fleet:role=replica ${R2}/neversent/fs`,
      `zfs set zfs-fleet:group=g ${R2}/neversent/fs`,
      `zfs set zfs-fleet:primary=off1:${R1}/neversent/fs ${R2}/neversent/fs`,
    ]);
    expect(p.steps.indexOf(sets[0]!)).toBeGreaterThan(p.steps.findIndex((s) => s.op === 'send'));
    expect(sets.every((s) => s.mayFail?.includes('zfs-fleet roles g'))).toBe(true);
    // A pair outside groups is not marked.
    expect(planSync(scenarioPair('neversent'), fuseListing('neversent', 'off1'), fuseListing('neversent', 'ovh3')).steps.some((s) => s.op === 'set')).toBe(
      false,
    );
  });
});
