/** `zfs allow` output of OpenZFS 2.3.2 (recorded on the lab VM) as data, and who holds what where. */
import { describe, expect, it } from 'vitest';
import { allowSections, effectivePermissions, parseZfsAllow, zfsAllowCommand, type DatasetAllow, type Principal } from '../../../src/core/zfs/allow.js';
import { classifyZfsError, ZfsParseError } from '../../../src/core/zfs/errors.js';
import { recorded } from '../core/fixtures.js';

const parse = (name: string) => {
  const r = recorded('openzfs-2.3', name);
  expect(r.exit).toBe(0);
  return parseZfsAllow(r.stdout, r.cmd);
};
const sorted = (s: Set<string>) => [...s].sort();

const operator: Principal = { user: 'operator', uid: 1000, groups: ['operator'], gids: [37] };
const L = 'tank/zfs-fleet-allow';

describe('parseZfsAllow', () => {
  it('reads the VM delegations of seed 001 (Local+Descendent user lines)', () => {
    expect(parse('root_zfs_allow_tank')).toEqual([
      {
        dataset: 'tank',
        sets: {},
        createTime: [],
        grants: [{ grantee: { kind: 'user', name: 'operator' }, scope: 'local+descendent', permissions: ['hold', 'send'] }],
      },
    ]);
    const backup = parse('operator_zfs_allow_backup');
    expect(backup).toHaveLength(1);
    expect(backup[0]!.grants[0]!.permissions).toEqual(['compression', 'create', 'destroy', 'hold', 'mount', 'mountpoint', 'receive', 'release', 'rollback']);
    // What the operator sees is what root sees.
    expect(backup).toEqual(parse('root_zfs_allow_backup'));
  });

  it('prints the ancestors with delegations after the dataset asked about (a dataset without its own shows only them)', () => {
    expect(parse('operator_zfs_allow_products').map((s) => s.dataset)).toEqual(['tank']);
    expect(parse('operator_zfs_allow_backup_off').map((s) => s.dataset)).toEqual(['backup']);
    expect(parse('root_zfs_allow_shapes_child').map((s) => s.dataset)).toEqual([`${L}/child`, L, 'tank']);
  });

  it('reads every section and line kind: sets (nested), create time, Local, Descendent, Local+Descendent, user/group/everyone, unresolved ids', () => {
    const [child, parent, tank] = parse('root_zfs_allow_shapes_child');
    expect(child).toEqual({
      dataset: `${L}/child`,
      sets: {},
      createTime: [],
      grants: [{ grantee: { kind: 'user', name: 'operator' }, scope: 'local', permissions: ['compression', 'snapshot'] }],
    });
    expect(parent!.sets).toEqual({ '@nested': ['@recv', 'rollback'], '@recv': ['create', 'mount', 'receive'] });
    expect(parent!.createTime).toEqual(['create', 'mount', 'receive']);
    expect(parent!.grants).toEqual([
      { grantee: { kind: 'user', name: 'operator' }, scope: 'local', permissions: ['create', 'mount'] },
      { grantee: { kind: 'group', name: 'operator' }, scope: 'local', permissions: ['diff'] },
      { grantee: { kind: 'user', name: 'operator' }, scope: 'descendent', permissions: ['@recv', 'destroy'] },
      { grantee: { kind: 'everyone' }, scope: 'descendent', permissions: ['bookmark'] },
      { grantee: { kind: 'user', name: 'operator' }, scope: 'local+descendent', permissions: ['hold', 'receive:append', 'release'] },
      { grantee: { kind: 'user', id: 4242 }, scope: 'local+descendent', permissions: ['send'] },
      { grantee: { kind: 'group', name: 'operator' }, scope: 'local+descendent', permissions: ['snapshot'] },
      { grantee: { kind: 'group', id: 4343 }, scope: 'local+descendent', permissions: ['@nested'] },
      { grantee: { kind: 'group', name: 'staff' }, scope: 'local+descendent', permissions: ['snapshot'] },
      { grantee: { kind: 'everyone' }, scope: 'local+descendent', permissions: ['userprop'] },
    ]);
    expect(tank!.dataset).toBe('tank');
    expect(parse('operator_zfs_allow_shapes_child')).toEqual(parse('root_zfs_allow_shapes_child'));
    expect(parse('root_zfs_allow_shapes')).toEqual([parent, tank]);
  });

  it('create-time permissions reach the creator as Local grants on the new dataset', () => {
    const [made] = parse('root_zfs_allow_created_by_operator');
    expect(made).toEqual({
      dataset: `${L}/made`,
      sets: {},
      createTime: [],
      grants: [{ grantee: { kind: 'user', name: 'operator' }, scope: 'local', permissions: ['create', 'mount', 'receive'] }],
    });
  });

  it('a missing dataset or a snapshot is an error (exit 255), classified not-found / the snapshot message', () => {
    const missing = recorded('openzfs-2.3', 'root_err_allow_not_exist');
    expect(missing.exit).toBe(255);
    expect(missing.stdout).toBe('');
    expect(classifyZfsError(missing.stderr, missing.exit)).toBe('not-found');
    expect(classifyZfsError(recorded('openzfs-2.3', 'operator_err_allow_missing').stderr, 255)).toBe('not-found');
    const snap = recorded('openzfs-2.3', 'root_err_allow_snapshot');
    expect(snap.exit).toBe(255);
    expect(snap.stderr).toMatch(/snapshot delimiter '@' is not expected here/);
  });

  it('refuses what it does not know, naming the line', () => {
    const out = recorded('openzfs-2.3', 'root_zfs_allow_tank').stdout;
    expect(() => parseZfsAllow(out.replace('Local+Descendent permissions:', 'Remote permissions:'))).toThrow(ZfsParseError);
    expect(() => parseZfsAllow(out.replace('\tuser operator', '\tuser'))).toThrow(/line 3/);
    expect(() => parseZfsAllow(out.split('\n').slice(1).join('\n'))).toThrow(/Permissions on DATASET/);
    expect(parseZfsAllow('')).toEqual([]);
  });

  it('builds the command', () => {
    const cmd = zfsAllowCommand('/sbin/zfs', 'tank/off/products');
    expect(cmd.argv).toEqual(['/sbin/zfs', 'allow', 'tank/off/products']);
    expect(cmd.parse(recorded('openzfs-2.3', 'operator_zfs_allow_products').stdout)[0]!.dataset).toBe('tank');
  });
});

describe('effectivePermissions (the rules verified on the VM)', () => {
  const sections = allowSections(parse('root_zfs_allow_shapes_child'), parse('root_zfs_allow_created_by_operator'));

  it("on a dataset: its Local and Local+Descendent grants, the ancestors' Descendent and Local+Descendent ones; by user and by group", () => {
    expect(sorted(effectivePermissions(sections, L, operator))).toEqual([
      'create',
      'diff',
      'hold',
      'mount',
      'receive:append',
      'release',
      'send',
      'snapshot',
      'userprop',
    ]);
    expect(sorted(effectivePermissions(sections, `${L}/child`, operator))).toEqual([
      'bookmark',
      'compression',
      'create',
      'destroy',
      'hold',
      'mount',
      'receive',
      'receive:append',
      'release',
      'send',
      'snapshot',
      'userprop',
    ]);
    expect(sorted(effectivePermissions(sections, 'tank', operator))).toEqual(['hold', 'send']);
  });

  it('on its snapshots (send, destroy): Local grants on the dataset do not count', () => {
    expect(sorted(effectivePermissions(sections, `${L}/child`, operator, 'descendants'))).toEqual([
      'bookmark',
      'create',
      'destroy',
      'hold',
      'mount',
      'receive',
      'receive:append',
      'release',
      'send',
      'snapshot',
      'userprop',
    ]);
    expect(sorted(effectivePermissions(sections, L, operator, 'descendants'))).not.toContain('diff');
  });

  it('ids that do not resolve match by uid/gid; sets expand, also nested ones; everyone counts for all', () => {
    const u4242: Principal = { user: 'someone', uid: 4242, groups: [], gids: [] };
    expect(sorted(effectivePermissions(sections, L, u4242))).toEqual(['send', 'userprop']);
    expect(sorted(effectivePermissions(sections, `${L}/child`, u4242))).toEqual(['bookmark', 'send', 'userprop']);
    const g4343: Principal = { user: 'x', uid: 5000, groups: ['x'], gids: [5000, 4343] };
    expect(sorted(effectivePermissions(sections, L, g4343))).toEqual(['create', 'mount', 'receive', 'rollback', 'userprop']);
    const staff: Principal = { user: 'y', uid: 5001, groups: ['y', 'staff'], gids: [5001, 50] };
    expect(sorted(effectivePermissions(sections, L, staff))).toEqual(['snapshot', 'userprop']);
  });

  it("for a dataset the user creates: the ancestors' Descendent grants plus every ancestor's create-time permissions", () => {
    const created = effectivePermissions(sections, `${L}/new`, operator, 'created');
    expect(sorted(created)).toEqual(['bookmark', 'create', 'destroy', 'hold', 'mount', 'receive', 'receive:append', 'release', 'send', 'snapshot', 'userprop']);
    // Once created, the grant zfs wrote for the creator gives the same.
    expect(sorted(effectivePermissions(sections, `${L}/made`, operator))).toEqual(sorted(created));
    // Local grants on the parent only (no create-time): nothing carries over to the new child.
    const local = allowSections(parse('root_zfs_allow_local_only'));
    expect(sorted(effectivePermissions(local, 'tank/zfs-fleet-allow-local', operator))).toEqual(['create', 'hold', 'mount', 'receive', 'send']);
    expect(sorted(effectivePermissions(local, 'tank/zfs-fleet-allow-local/new', operator, 'created'))).toEqual(['hold', 'send']);
  });

  it('a set granted on a dataset may be defined on an ancestor (the nearest definition wins)', () => {
    // The shape `zfs allow` printed on the VM for `zfs allow -s @recv ... tank; zfs allow -u operator @recv tank/zfplab` (see verify-permissions.sh).
    const s: DatasetAllow[] = [
      {
        dataset: 'tank/zfplab',
        sets: {},
        createTime: [],
        grants: [{ grantee: { kind: 'user', name: 'operator' }, scope: 'local+descendent', permissions: ['@recv'] }],
      },
      {
        dataset: 'tank',
        sets: { '@recv': ['create', 'mount', 'receive'] },
        createTime: [],
        grants: [{ grantee: { kind: 'user', name: 'operator' }, scope: 'local+descendent', permissions: ['hold', 'send'] }],
      },
    ];
    expect(sorted(effectivePermissions(allowSections(s), 'tank/zfplab/a', operator, 'created'))).toEqual(['create', 'hold', 'mount', 'receive', 'send']);
    const shadowed = [{ ...s[0]!, sets: { '@recv': ['receive'] } }, s[1]!];
    expect(sorted(effectivePermissions(allowSections(shadowed), 'tank/zfplab', operator))).toEqual(['hold', 'receive', 'send']);
  });
});
