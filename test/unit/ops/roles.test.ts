/** The roles plan from a listing and `zfs get` rows of the role properties recorded on the zfs-fuse lab (scratch/tree on ovh3). */
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildListing } from '../../../src/core/fleet/listing.js';
import { endKey, planRoles, type RoleGroup } from '../../../src/core/ops/roles.js';
import { parseZfsGetTriples } from '../../../src/core/zfs/parse.js';
import { parsePropertyRows } from '../../../src/core/zfs/properties.js';
import { capabilities, planError } from '../replication/fixtures.js';

const fixture = (name: string, ext = 'stdout') => fs.readFileSync(`test/fixtures/zfs-fuse/${name}.${ext}`, 'utf8');
const listing = buildListing('ovh3', capabilities('ovh3'), [], parseZfsGetTriples(fixture('list-props-tree'), fixture('list-props-tree', 'cmd').trim()));
const listings = new Map([['ovh3', listing]]);
const A = { host: 'ovh3', dataset: 'scratch/tree/a' };
const B = { host: 'ovh3', dataset: 'scratch/tree/b' };
const rows = new Map([
  [endKey(A), parsePropertyRows(fixture('get-role-props-unset'))],
  [endKey(B), parsePropertyRows(fixture('get-role-props-set'))],
]);

describe('planRoles', () => {
  it('sets only what differs, one zfs set each; a member of another group is warned about; a replica not received yet is said', () => {
    const group: RoleGroup = { name: 'g', primary: A, replicas: [B, { host: 'ovh3', dataset: 'scratch/tree/none' }] };
    const p = planRoles(group, listings, rows);
    expect(p.steps.map((s) => s.type === 'command' && s.argv)).toEqual([
      ['zfs', 'set', 'zfs-fleet:role=primary', 'scratch/tree/a'],
      ['zfs', 'set', 'zfs-fleet:group=g', 'scratch/tree/a'],
      ['zfs', 'set', 'zfs-fleet:primary=ovh3:scratch/tree/a', 'scratch/tree/a'],
      // b is already a read-only replica (recorded): its group and primary are set, nothing else.
      ['zfs', 'set', 'zfs-fleet:group=g', 'scratch/tree/b'],
      ['zfs', 'set', 'zfs-fleet:primary=ovh3:scratch/tree/a', 'scratch/tree/b'],
    ]);
    expect(p.effects).toContain('ovh3:scratch/tree/b: zfs-fleet:group data -> g');
    expect(p.effects).toContain('ovh3:scratch/tree/none does not exist yet: its first sync creates it; run roles again after it.');
    expect(p.warnings).toEqual([`ovh3:scratch/tree/b is marked as a member of group 'data': the plan marks it as replica of 'g' instead`]);
    expect(p.destroys.snapshots).toEqual([]);
    expect(p.preconditions.map((c) => c.kind)).toEqual(['dataset-exists', 'dataset-exists']);
  });

  it('a writable replica is made read-only; all set already is a plan with nothing to do', () => {
    const p = planRoles({ name: 'data', primary: B, replicas: [A] }, listings, rows);
    const argv = p.steps.map((s) => (s.type === 'command' ? s.argv.slice(2).join(' ') : ''));
    expect(argv).toContain('readonly=on scratch/tree/a');
    // The primary read-only (as recorded): warned, left as it is.
    expect(p.warnings.join('\n')).toMatch(/the primary ovh3:scratch\/tree\/b is read-only/);
    const done = new Map(rows);
    done.set(
      endKey(A),
      parsePropertyRows(fixture('get-role-props-set')).map((r) => ({
        ...r,
        name: A.dataset,
        value: r.property === 'zfs-fleet:primary' ? 'ovh3:scratch/tree/a' : r.property === 'zfs-fleet:group' ? 'g' : r.value,
      })),
    );
    done.set(endKey(B), []);
    expect(planError(() => planRoles({ name: 'g', primary: B, replicas: [] }, listings, done)).reason).toMatch(/did not read the user property zfs-fleet:role/);
    const none = planRoles(
      { name: 'g', primary: A, replicas: [] },
      listings,
      new Map([[endKey(A), done.get(endKey(A))!.map((r) => (r.property === 'zfs-fleet:role' ? { ...r, value: 'primary' } : r))]]),
    );
    expect(none.steps).toEqual([]);
    expect(none.summary).toBe('Every dataset of group g carries its role.');
  });
});
