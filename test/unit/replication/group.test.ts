/** A sync group's status (core/replication/group.ts) on listings recorded from the zfs-fuse lab: each replica's position, conflicts and instruction. */
import { describe, expect, it } from 'vitest';
import type { HostListing } from '../../../src/core/fleet/listing.js';
import { formatGroupStatus, groupStatus } from '../../../src/core/replication/group.js';
import { fuseListing, pair, R1, R2, RECORDED } from './fixtures.js';

const listings = (scenario: string): Map<string, HostListing | { error: string }> =>
  new Map<string, HostListing | { error: string }>([
    ['off1', fuseListing(scenario, 'off1')],
    ['ovh3', fuseListing(scenario, 'ovh3')],
    ['off2', { error: 'connect ECONNREFUSED 127.0.0.1:2233' }],
  ]);
const now = RECORDED.getTime();

describe('group status', () => {
  it('one primary, three replicas: behind, never sent, on a host that is down', () => {
    const primary = `off1:${R1}/behind/fs`;
    const g = groupStatus(
      'products',
      [pair(primary, `ovh3:${R2}/behind/fs`), pair(primary, `ovh3:${R2}/behind/elsewhere`), pair(primary, 'off2:zfs-nvme/products')],
      listings('behind'),
      now,
    );
    expect(g.level).toBe(false);
    expect(g.newest).toMatch(/^@/);
    expect(g.replicas.map((r) => [r.position, r.behind, r.instruction.split(' ')[1]])).toEqual([
      ['behind', 2, 'sync'],
      ['never-sent', 0, 'sync'],
      ['unreadable', 0, 'status'],
    ]);
    expect(g.replicas[2]!.unreadable).toBe('connect ECONNREFUSED 127.0.0.1:2233');
    const text = formatGroupStatus(g);
    expect(text).toContain(`group products: ${primary} (newest ${g.newest}): not level`);
    expect(text).toMatch(/ovh3:\S+\/behind\/fs\s+behind 2 {2}base @/);
    expect(text).toContain(`-> zfs-fleet sync ${primary} ovh3:${R2}/behind/fs`);
  });

  it('a replica with a snapshot of its own is a conflict, sent to diagnose; one in sync is level', () => {
    const newer = groupStatus('n', [pair(`off1:${R1}/newer/fs`, `ovh3:${R2}/newer/fs`)], listings('newer'), now);
    expect(newer.replicas[0]!.position).toBe('conflict');
    expect(newer.replicas[0]!.conflicts).toEqual(['1 snapshot(s) only on the replica, newer than the common base (@taken-on-target)']);
    expect(newer.replicas[0]!.instruction).toMatch(/^zfs-fleet diagnose /);
    const insync = groupStatus('i', [pair(`off1:${R1}/insync/fs`, `ovh3:${R2}/insync/fs`)], listings('insync'), now);
    expect(insync.level).toBe(true);
    expect(formatGroupStatus(insync)).toMatch(/: every replica level\n.*level {2}base @20230530-2330$/);
    // zfs-fuse lists a readonly=on it enforces as off: its replicas are never called writable.
    expect(insync.replicas[0]!.writable).toBeUndefined();
    // The same listing as a host that reports readonly as it is (a stand-in for OpenZFS: only the implementation changed).
    const asOpenZfs = (l: ReturnType<typeof fuseListing>) => ({ ...l, capabilities: { ...l.capabilities, implementation: 'openzfs' as const } });
    const ls = new Map([
      ['off1', fuseListing('insync', 'off1')],
      ['ovh3', asOpenZfs(fuseListing('insync', 'ovh3'))],
    ]);
    const g = groupStatus('i', [pair(`off1:${R1}/insync/fs`, `ovh3:${R2}/insync/fs`)], ls, now);
    expect(g.replicas[0]!.writable).toBe(true);
    expect(formatGroupStatus(g)).toMatch(/writable: readonly=off .* zfs-fleet roles i --yes makes it read-only\)$/);
    ls.get('ovh3')!.datasets.get(`${R2}/insync/fs`)!.object.readonly = true;
    expect(groupStatus('i', [pair(`off1:${R1}/insync/fs`, `ovh3:${R2}/insync/fs`)], ls, now).replicas[0]!.writable).toBeUndefined();
  });

  it('the same snapshot names with other guids: no common base, the clash named', () => {
    const g = groupStatus('u', [pair(`off1:${R1}/unrelated/fs`, `ovh3:${R2}/unrelated/fs`)], listings('unrelated'), now);
    expect(g.replicas[0]!.position).toBe('no-common-base');
    expect(g.replicas[0]!.conflicts.length).toBeGreaterThan(0);
    expect(g.replicas[0]!.conflicts[0]).toMatch(/^@\S+ on both sides with different guids$/);
    expect(formatGroupStatus(g)).toContain('-> zfs-fleet diagnose');
  });
});
