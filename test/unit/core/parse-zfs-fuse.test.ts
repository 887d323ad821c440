/** Parsers and the error classifier fed with output recorded from zfs-fuse 0.7.0 (the lab's hosts). */
import { describe, expect, it } from 'vitest';
import { buildListing } from '../../../src/core/fleet/listing.js';
import { classifyZfsError, ZfsParseError } from '../../../src/core/zfs/errors.js';
import { parseZfsGetTriples, parseZpoolList } from '../../../src/core/zfs/parse.js';
import type { ZfsCapabilities } from '../../../src/core/zfs/types.js';
import { recorded } from './fixtures.js';

const fuse: ZfsCapabilities = {
  implementation: 'zfs-fuse',
  version: '0.7.0',
  versionText: 'zfs-fuse 0.7.0',
  listParsable: false,
  json: false,
  zpoolParsable: false,
  properties: ['createtxg', 'userrefs', 'mounted'],
  holds: true,
  bookmarks: false,
  resumeTokens: false,
  allow: false,
  sendEstimate: false,
};

describe('zfs-fuse output', () => {
  it('parses `zfs get -H -p -r` triples into objects with exact numbers, snapshots included', () => {
    const r = recorded('zfs-fuse', 'get-r-zfs-hdd');
    expect(r.exit).toBe(0);
    const objs = parseZfsGetTriples(r.stdout, r.cmd);
    const lines = r.stdout.split('\n').filter(Boolean);
    expect(objs.length).toBe(new Set(lines.map((l) => l.split('\t')[0])).size);
    const space = objs.find((o) => o.name === 'zfs-hdd/off/my data');
    expect(space?.type).toBe('filesystem');
    expect(space?.guid).toMatch(/^\d{5,}$/);
    const snaps = objs.filter((o) => o.type === 'snapshot');
    expect(snaps.length).toBeGreaterThan(0);
    for (const s of snaps) {
      expect(s.available).toBeUndefined();
      expect(typeof s.creation).toBe('number');
    }
    const listing = buildListing('off1', fuse, [], objs);
    expect(listing.datasets.get('zfs-hdd/off')!.children).toEqual(expect.arrayContaining(['zfs-hdd/off/products', 'zfs-hdd/off/my data']));
    expect(listing.snapshotCount).toBe(snaps.length);
  });

  it('finds clones through origin (zfs-fuse has no `clones` property)', () => {
    const r = recorded('zfs-fuse', 'get-r-rpool');
    const listing = buildListing('ovh3', fuse, [], parseZfsGetTriples(r.stdout, r.cmd));
    const clone = listing.datasets.get('rpool/off/clones/products')!.object;
    expect(clone.origin).toMatch(/^rpool\/off\/products@/);
    expect(listing.clones.get(clone.origin!)).toEqual(['rpool/off/clones/products']);
  });

  it('parses human sizes of `zpool list -H` (no -p on zfs-fuse)', () => {
    const r = recorded('zfs-fuse', 'zpool-list-H');
    const [pool] = parseZpoolList(r.stdout, false, r.cmd);
    expect(pool).toMatchObject({ name: 'rpool', health: 'ONLINE', size: 1016 * 2 ** 20, free: 1012 * 2 ** 20 });
    expect(pool!.allocated).toBe(Math.round(3.82 * 2 ** 20));
  });

  it('refuses unrecognised output: rounded guids of `zfs get` without -p', () => {
    const r = recorded('zfs-fuse', 'get-no-p');
    expect(() => parseZfsGetTriples(r.stdout, r.cmd)).toThrow(ZfsParseError);
  });

  it.each([
    ['command-not-found', 'command-not-found'],
    ['create-exists', 'exists'],
    ['create-no-parent', 'not-found'],
    ['destroy-busy-mountpoint', 'busy'],
    ['destroy-filesystem-children', 'has-dependents'],
    ['destroy-held-snapshot', 'busy'],
    ['destroy-nonexistent', 'not-found'],
    ['destroy-snapshot-with-clones', 'has-clones'],
    ['get-bad-name', 'invalid-name'],
    ['get-written', 'unsupported'],
    ['list-p', 'unsupported'],
    ['list-t-bookmark', 'unsupported'],
    ['recv-s', 'unsupported'],
    ['zfs-version', 'unsupported'],
    ['permission-denied-list', 'zfs-unavailable'],
    ['recv-busy', 'busy'],
    ['recv-destination-modified', 'target-modified'],
    ['recv-full-exists', 'exists'],
    ['recv-incremental-mismatch', 'incremental-mismatch'],
    ['recv-stalled-then-truncated', 'stream-invalid'],
    ['rollback-more-recent', 'newer-snapshots'],
    ['rollback-r-clones', 'has-clones'],
    ['snapshot-exists', 'exists'],
    ['zpool-status-nonexistent', 'not-found'],
  ])('classifies %s as %s', (name, kind) => {
    const r = recorded('zfs-fuse', name);
    expect(r.exit).not.toBe(0);
    expect(classifyZfsError(r.stderr, r.exit)).toBe(kind);
  });
});
