/** The state of a pair, in words and data, from recorded listings. */
import { describe, expect, it } from 'vitest';
import { pairState } from '../../../src/core/replication/state.js';
import { RECORDED, R1, R2, fuseListing, openzfsListing, pair, scenarioPair } from './fixtures.js';

function st(scenario: string, name = 'fs') {
  return pairState(scenarioPair(scenario, name), fuseListing(scenario, 'off1'), fuseListing(scenario, 'ovh3'));
}

describe('pairState on zfs-fuse', () => {
  it('in sync', () => {
    const s = st('insync');
    expect(s.status).toBe('in-sync');
    expect(s.statuses).toEqual(['in-sync']);
    expect(s.base).toMatchObject({ kind: 'snapshot', source: `${R1}/insync/fs@20230530-2330`, target: `${R2}/insync/fs@20230530-2330` });
    expect(s.targetModified).toBe('unknown');
    expect(s.retentionWarning).toBeUndefined();
    expect(s.summary).toMatch(/^In sync: the target has the source's newest snapshot @20230530-2330\./);
  });

  it('behind by 2, with the age of the newest unsent snapshot', () => {
    const s = st('behind');
    expect(s.status).toBe('behind');
    expect(s.behind).toMatchObject({ count: 2, newestUnsent: `${R1}/behind/fs@20230608-1130` });
    expect(s.behind!.snapshots).toEqual([`${R1}/behind/fs@20230530-2330`, `${R1}/behind/fs@20230608-1130`]);
    const creation = fuseListing('behind', 'off1').datasets.get(`${R1}/behind/fs`)!.snapshots[0]!.creation!;
    expect(s.behind!.newestUnsentAgeSeconds).toBe(Math.round(RECORDED.getTime() / 1000 - creation));
    expect(s.summary).toContain('behind by 2 snapshots (@20230530-2330, @20230608-1130)');
  });

  it('a modified target on zfs-fuse: unknown, and the receive error will tell', () => {
    const s = st('modified');
    expect(s.status).toBe('in-sync');
    expect(s.targetModified).toBe('unknown');
    expect(s.targetWrittenBytes).toBeUndefined();
    expect(s.summary).toContain('unknown (no `written` property on ovh3)');
    expect(s.summary).toContain('destination has been modified since most recent snapshot');
  });

  it('the target has a newer snapshot: listed', () => {
    const s = st('newer');
    expect(s.status).toBe('target-has-newer');
    expect(s.targetNewer).toEqual([`${R2}/newer/fs@taken-on-target`]);
    expect(s.summary).toContain('1 snapshot newer than the common base @20230515-0000 (@taken-on-target)');
  });

  it('no common snapshot because the source pruned them', () => {
    const s = st('pruned');
    expect(s.status).toBe('no-common');
    expect(s.noCommon?.reason).toBe('pruned-on-source');
    expect(s.noCommon?.detail).toContain('its oldest snapshot is @20230501-0000');
    expect(s.behind).toBeUndefined();
  });

  it('never sent: no target, or a target without snapshots', () => {
    expect(st('neversent').noCommon?.reason).toBe('never-sent');
    expect(st('neversent').targetExists).toBe(false);
    const empty = st('neversent', 'empty');
    expect(empty.noCommon).toMatchObject({ reason: 'never-sent' });
    expect(empty.noCommon!.detail).toContain('has no snapshots');
    expect(empty.targetExists).toBe(true);
  });

  it('unrelated: same names, other guids', () => {
    const s = st('unrelated');
    expect(s.noCommon?.reason).toBe('unrelated');
    expect(s.nameClashes.map((c) => c.name)).toEqual(['20230501-0000', '20230515-0000']);
    expect(s.noCommon!.detail).toContain('different guids');
  });

  it('names with spaces; the base is the source oldest: retention warning', () => {
    const s = st('spaces', 'my data');
    expect(s.status).toBe('behind');
    expect(s.base?.source).toBe(`${R1}/spaces/my data@snap one`);
    expect(s.retentionWarning).toContain("@snap one is the source's oldest snapshot");
  });

  it('seed 000: newer snapshots on the target (pruned on the source), behind, retention warning', () => {
    const s = st('seed000', 'products');
    expect(s.statuses).toEqual(['target-has-newer', 'behind']);
    expect(s.targetNewer).toEqual([`${R2}/seed000/products@20230515-0000`, `${R2}/seed000/products@20230530-2330`]);
    expect(s.behind?.count).toBe(1);
    expect(s.retentionWarning).toBeDefined();
    expect(s.summary).toContain('none of which exists on the source');
  });

  it('a missing source', () => {
    const s = pairState(pair(`off1:${R1}/nope`, `ovh3:${R2}/nope`), fuseListing('insync', 'off1'), fuseListing('insync', 'ovh3'));
    expect(s.status).toBe('source-missing');
  });
});

describe('pairState on OpenZFS 2.3', () => {
  const tank = openzfsListing('root_zfs_list_tank', 'zfsvm');

  it('written > 0 on the target: modified, with the bytes; behind by 2', () => {
    const backup = openzfsListing('operator_zfs_list_backup', 'zfsvm');
    const s = pairState(pair('zfsvm:tank/off/users', 'zfsvm:backup/off/users'), tank, backup);
    expect(s.targetModified).toBe('yes');
    expect(s.targetWrittenBytes).toBe(73728);
    expect(s.statuses).toEqual(['target-modified', 'behind']);
    expect(s.summary).toContain('73728 bytes written');
  });

  it('a partially received stream: resume-token', () => {
    const backup = openzfsListing('root_zfs_list_backup', 'zfsvm');
    const s = pairState(pair('zfsvm:tank/off/images', 'zfsvm:backup/off/images'), tank, backup);
    expect(s.statuses).toEqual(['no-common', 'resume-token']);
    expect(s.noCommon?.reason).toBe('never-sent');
    expect(s.resumeToken).toMatch(/^1-/);
  });

  it('in sync and unmodified (written 0)', () => {
    const backup = openzfsListing('root_zfs_list_backup', 'zfsvm');
    const s = pairState(pair('zfsvm:tank/off/products', 'zfsvm:backup/off/products'), tank, backup);
    expect(s.status).toBe('in-sync');
    expect(s.targetModified).toBe('no');
    expect(s.summary).not.toContain('unknown');
  });
});
