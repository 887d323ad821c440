/** The probe and the one-command listing (Fleet / ZfsHost over the real SSH transport) against OpenZFS 2.3.2, compared with OpenSSH + zfs. */
import { afterAll, describe, expect, it } from 'vitest';
import type { HostListing } from '../../src/core/fleet/listing.js';
import { SNAPS, ssh, vmFleet, type CommandLog } from './vm.js';

const log: CommandLog = [];
const fleet = vmFleet(['zfsvm'], log);
afterAll(() => fleet.dispose());

const lines = (s: string) => s.split('\n').filter(Boolean);
const names = (l: HostListing) =>
  [...l.datasets.values()].flatMap((e) => [e.object.name, ...e.snapshots.map((s) => s.name), ...e.bookmarks.map((b) => b.name)]);

describe('listing OpenZFS 2.3.2', () => {
  it('probes OpenZFS 2.3.2 with parsable and JSON listings, bookmarks, holds and resume tokens, in ONE remote command', async () => {
    log.length = 0;
    const caps = await fleet.host('zfsvm').capabilities();
    expect(log, 'OpenZFS says what it is in the first batch: no feature probes').toHaveLength(1);
    expect(caps).toMatchObject({
      implementation: 'openzfs',
      version: '2.3.2',
      listParsable: true,
      json: true,
      bookmarks: true,
      holds: true,
      resumeTokens: true,
      allow: true,
    });
    expect(caps.versionText).toMatch(/^zfs-2\.3\.2/);
    expect(caps.properties).toEqual(expect.arrayContaining(['createtxg', 'written', 'userrefs', 'receive_resume_token']));
  });

  it('lists the whole host in ONE remote command (one `zfs list -H -p` and the pools), exactly the objects `zfs list -H -p -t all -o name` prints', async () => {
    // Other suites may change backup on the shared VM between the two listings: compare twice before failing.
    let ours: string[] = [];
    let raw: string[] = [];
    for (let attempt = 0; attempt < 2; attempt++) {
      log.length = 0;
      const listing = await fleet.host('zfsvm').refresh();
      raw = lines(ssh('zfsvm', 'zfs list -H -p -t all -o name'));
      ours = names(listing);
      // One remote command (a batch: sh -c SCRIPT) holding one zfs list and the zpool list.
      expect(log).toHaveLength(1);
      expect(log[0]!.argv.slice(0, 2)).toEqual(['sh', '-c']);
      const script = log[0]!.argv[2]!;
      expect(script.split('zfs list -H -p -t filesystem,volume,snapshot,bookmark').length).toBe(2);
      expect(script).toContain('zpool list -H -p -o name,health,size,allocated,free');
      if (new Set(ours).size === new Set(raw).size && raw.every((n) => ours.includes(n))) break;
    }
    expect(new Set(ours)).toEqual(new Set(raw));
    expect(ours).toHaveLength(raw.length);
  });

  it('orders snapshots newest first by createtxg', async () => {
    const listing = await fleet.host('zfsvm').listing();
    for (const ds of ['tank/off', 'tank/off/products', 'tank/off/images', 'tank/off/users']) {
      const snaps = listing.datasets.get(ds)!.snapshots;
      for (let i = 1; i < snaps.length; i++) expect(snaps[i - 1]!.createtxg!).toBeGreaterThan(snaps[i]!.createtxg!);
      // The VM's own snapshots, in that order (other suites may add more).
      expect(snaps.map((s) => s.name.split('@')[1]!).filter((n) => (SNAPS as readonly string[]).includes(n))).toEqual([...SNAPS].reverse());
    }
    const raw = lines(ssh('zfsvm', 'zfs list -H -p -t snapshot -o name -s createtxg -d 1 tank/off/products')).reverse();
    expect(listing.datasets.get('tank/off/products')!.snapshots.map((s) => s.name)).toEqual(raw);
  });

  it('has `written` (> 0 on tank/off/products: the VM writes after its last snapshot) and exact guids', async () => {
    const listing = await fleet.host('zfsvm').listing();
    const products = listing.datasets.get('tank/off/products')!.object;
    expect(products.written).toBeGreaterThan(0);
    expect(products.written).toBe(Number(ssh('zfsvm', 'zfs get -H -p -o value written tank/off/products').trim()));
    // Every guid of tank, exactly (they exceed 2^53: strings, never numbers).
    const guids = new Map(lines(ssh('zfsvm', 'zfs get -H -p -r -t all -o name,value guid tank')).map((l) => l.split('\t') as [string, string]));
    expect(guids.size).toBeGreaterThan(10);
    const ours = new Map<string, string | undefined>();
    for (const [name, e] of listing.datasets) {
      if (name !== 'tank' && !name.startsWith('tank/')) continue;
      ours.set(name, e.object.guid);
      for (const o of [...e.snapshots, ...e.bookmarks]) ours.set(o.name, o.guid);
    }
    expect(ours).toEqual(guids);
    expect([...guids.values()].some((g) => BigInt(g) > BigInt(Number.MAX_SAFE_INTEGER))).toBe(true);
  });
});
