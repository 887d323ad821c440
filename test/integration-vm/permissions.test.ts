/**
 * The permission audit through the product (Fleet, the real SSH transport, the operator's own
 * connection) on the VM's delegations: seed 001's pull by an unprivileged operator (`hold,send` on
 * tank; the seed-like set on backup). Then a delegation is taken away as root, the audit must report
 * exactly that, its fix command must fix it, and the VM's delegations are restored (also on failure).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { auditPairPermissions, formatPermissionAudit, type HostPermissionReport, type SyncPlanFlags } from '../../src/core/fleet/permissions.js';
import { parsePair, type PairSpec } from '../../src/core/fleet/pairs.js';
import { parseZfsAllow } from '../../src/core/zfs/allow.js';
import { SNAPS, ssh, sshTry, vmFleet } from './vm.js';

const fleet = vmFleet(['zfsvm-operator']);
afterAll(() => fleet.dispose());

const PLAN: SyncPlanFlags = { holds: true, snapshot: false, rollback: true, destroy: true, resume: true };
const host = fleet.host('zfsvm-operator');
const hosts = { source: host, target: host };
const pull = (spec: Partial<PairSpec> = {}) =>
  parsePair({ source: 'zfsvm-operator:tank/off/products', target: 'zfsvm-operator:backup/off/products', route: 'pull', ...spec });
const report = (reports: HostPermissionReport[], side: 'source' | 'target') => {
  const r = reports.filter((x) => x.side === side);
  expect(r).toHaveLength(1);
  return r[0]!;
};
const exists = (dataset: string) => sshTry('zfsvm', `zfs list -H -o name ${dataset}`).status === 0;
/** Where the audit puts the target's grant: the dataset, or its parent before the first receive. */
const fixDatasetFor = (dataset: string) => (exists(dataset) ? dataset : dataset.slice(0, dataset.lastIndexOf('/')));

describe('permission audit for an unprivileged operator (seed 001) on the VM', () => {
  it('a pull from tank/off/products to backup/off/products lacks nothing; the holds it cannot release are a warning', async () => {
    const audit = await auditPairPermissions(pull(), hosts, PLAN);
    const src = report(audit.reports, 'source');
    expect(src).toMatchObject({ host: 'zfsvm-operator', user: 'operator', root: false, dataset: 'tank/off/products', required: ['hold', 'send'], lacking: [] });
    expect(src.warnings.join('\n')).toMatch(/may hold snapshots of tank\/off\/products but not release them/);
    const dst = report(audit.reports, 'target');
    expect(dst).toMatchObject({
      user: 'operator',
      dataset: 'backup/off/products',
      required: ['create', 'destroy', 'hold', 'mount', 'receive', 'release', 'rollback'],
      lacking: [],
    });
    expect(dst.fix).toBeUndefined();
    expect(audit.ok).toBe(true);
    // The gatherer read the delegations zfs prints.
    expect(audit.facts.source.user).toMatchObject({ user: 'operator', uid: 1000, groups: ['operator'] });
    const tank = parseZfsAllow(ssh('zfsvm', 'zfs allow tank/off/products'));
    expect(audit.facts.source.delegations.sections.get('tank')).toEqual(tank.find((s) => s.dataset === 'tank'));
    // Taking a snapshot first is what the operator cannot do.
    const snap = await auditPairPermissions(pull(), hosts, { ...PLAN, snapshot: true });
    expect(report(snap.reports, 'source').lacking).toEqual(['snapshot']);
    expect(report(snap.reports, 'source').fix?.command).toBe('zfs allow -u operator snapshot tank/off/products');
  });

  it('with -p, the stream of tank/off/images carries recordsize, which backup does not delegate; zfs agrees', async () => {
    const pair = pull({ source: 'zfsvm-operator:tank/off/images', target: 'zfsvm-operator:backup/off/images', options: { properties: true } });
    const audit = await auditPairPermissions(pair, hosts, { ...PLAN, holds: false, rollback: false, destroy: false });
    expect(audit.facts.streamProperties).toEqual(['recordsize']);
    const dst = report(audit.reports, 'target');
    expect(dst.lacking).toEqual(['recordsize']);
    expect(dst.fix?.command).toBe(`zfs allow -u operator recordsize ${fixDatasetFor('backup/off/images')}`);
    // What the receive does: exit 0, the property refused, exactly as the audit said.
    const scratch = 'backup/zfs-fleet-vm-props';
    try {
      const r = sshTry('zfsvm-operator', `zfs send -p tank/off/images@${SNAPS[0]} | zfs recv -u ${scratch}`);
      expect(r.status).toBe(0);
      expect(r.stderr).toContain(`cannot receive recordsize property on ${scratch}: permission denied`);
    } finally {
      sshTry('zfsvm', `zfs destroy -r ${scratch}`);
    }
    expect(exists(scratch)).toBe(false);
  });

  it('after `zfs unallow` of hold on tank and release,rollback on backup, reports exactly those; its fix fixes them; the VM is restored', async () => {
    const before = { tank: ssh('zfsvm', 'zfs allow tank'), backup: ssh('zfsvm', 'zfs allow backup') };
    const targetFix = fixDatasetFor('backup/off/products');
    const undo: string[] = [];
    try {
      undo.push('zfs allow -u operator hold tank', 'zfs allow -u operator release,rollback backup');
      ssh('zfsvm', 'zfs unallow -u operator hold tank && zfs unallow -u operator release,rollback backup');
      const audit = await auditPairPermissions(pull(), hosts, PLAN);
      const src = report(audit.reports, 'source');
      const dst = report(audit.reports, 'target');
      expect(audit.ok).toBe(false);
      expect(src.lacking).toEqual(['hold']);
      expect(src.fix?.command).toBe('zfs allow -u operator hold tank/off/products');
      expect(src.warnings).toEqual([]);
      expect(dst.lacking).toEqual(['release', 'rollback']);
      expect(dst.fix?.command).toBe(`zfs allow -u operator release,rollback ${targetFix}`);
      expect(formatPermissionAudit(audit)).toContain('target zfsvm-operator:backup/off/products as operator [commands, stream]: lacks release,rollback');
      // An admin runs the fix commands as root: the audit is satisfied.
      undo.push(`zfs unallow -u operator hold tank/off/products`, `zfs unallow -u operator release,rollback ${targetFix}`);
      ssh('zfsvm', `${src.fix!.command} && ${dst.fix!.command}`);
      const fixed = await auditPairPermissions(pull(), hosts, PLAN);
      expect(fixed.reports.map((r) => r.lacking)).toEqual([[], []]);
    } finally {
      // Undo in reverse: the fix grants first, then the original delegations.
      const failed = undo
        .reverse()
        .map((c) => ({ c, r: sshTry('zfsvm', c) }))
        .filter((x) => x.r.status !== 0);
      const after = { tank: sshTry('zfsvm', 'zfs allow tank').stdout, backup: sshTry('zfsvm', 'zfs allow backup').stdout };
      expect(failed.map((f) => `${f.c}: ${f.r.stderr}`)).toEqual([]);
      expect(after).toEqual(before);
    }
    expect(ssh('zfsvm', 'zfs allow tank/off/products')).toBe(before.tank);
  });
});
