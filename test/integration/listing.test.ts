/** The one-listing-per-host model against the lab's real zfs-fuse hosts over real sshd, compared with what OpenSSH + zfs print. */
import { afterAll, describe, expect, it } from 'vitest';
import { lab, labFleet, ssh } from './lab.js';

const fleet = labFleet(['off1', 'ovh3', 'off2']);
afterAll(() => fleet.dispose());

describe('listing a real host', () => {
  it('probes zfs-fuse and what it lacks', async () => {
    const caps = await fleet.host('off1').capabilities();
    expect(caps.implementation).toBe('zfs-fuse');
    expect(caps.versionText).toMatch(/^zfs-fuse/);
    expect(caps.listParsable).toBe(false);
    expect(caps.bookmarks).toBe(false);
    expect(caps.properties).toContain('createtxg');
    expect(caps.properties).not.toContain('written');
    expect(caps.resumeTokens).toBe(false);
  });

  it('lists exactly the objects `zfs list -t all` shows, with exact numbers', async () => {
    const listing = await fleet.host('off1').refresh();
    const raw = ssh('off1', 'zfs list -H -t all -o name').split('\n').filter(Boolean);
    const ours = [...listing.datasets.values()].flatMap((e) => [e.object.name, ...e.snapshots.map((s) => s.name)]);
    expect(new Set(ours)).toEqual(new Set(raw));
    // exact guids: zfs-fuse prints them rounded without -p; ours must equal `zfs get -p`.
    const guid = ssh('off1', "zfs get -H -p -o value guid 'zfs-hdd/off/my data'").trim();
    expect(listing.datasets.get('zfs-hdd/off/my data')?.object.guid).toBe(guid);
    const used = Number(ssh('off1', 'zfs get -H -p -o value used zfs-hdd/off/products').trim());
    expect(listing.datasets.get('zfs-hdd/off/products')?.object.used).toBe(used);
    expect(listing.pools.map((p) => p.name)).toEqual(lab().hosts.find((h) => h.name === 'off1')!.pools);
    expect(listing.pools[0]!.health).toBe('ONLINE');
  });

  it('orders snapshots newest first and keeps names with spaces whole', async () => {
    const listing = await fleet.host('off1').listing();
    const snaps = listing.datasets.get('zfs-hdd/off/products')!.snapshots.map((s) => s.name.split('@')[1]);
    expect(snaps).toEqual(['20230608-1130', '20230530-2330', '20230515-0000', '20230501-0000']);
    expect(listing.datasets.get('zfs-hdd/off')!.children).toContain('zfs-hdd/off/my data');
    expect(listing.datasets.get('zfs-hdd/off/my data')!.snapshots.length).toBeGreaterThan(0);
  });

  it('sees the replica: same guids on both sides, and the clone under its origin', async () => {
    const [src, dst] = await Promise.all([fleet.host('off1').listing(), fleet.host('ovh3').listing()]);
    const srcSnaps = new Map(src.datasets.get('zfs-hdd/off/products')!.snapshots.map((s) => [s.name.split('@')[1], s.guid]));
    const dstSnaps = dst.datasets.get('rpool/off/products')!.snapshots;
    expect(dstSnaps.length).toBeGreaterThan(0);
    for (const s of dstSnaps) expect(s.guid).toBe(srcSnaps.get(s.name.split('@')[1]));
    const clone = dst.datasets.get('rpool/off/clones/products')!.object;
    expect(clone.origin).toMatch(/^rpool\/off\/products@/);
    expect(dst.clones.get(clone.origin!)).toEqual(['rpool/off/clones/products']);
  });
});
