/** Parsers and the error classifier fed with output recorded from OpenZFS 2.3.2 (the lab VM). */
import { describe, expect, it } from 'vitest';
import { buildListing } from '../../../src/core/fleet/listing.js';
import { openZfsCapabilities } from '../../../src/core/zfs/capabilities.js';
import { listAllCommand } from '../../../src/core/zfs/commands.js';
import { classifyZfsError, ZfsParseError } from '../../../src/core/zfs/errors.js';
import { parseOpenZfsVersion, parseZfsListTsv, parseZpoolList } from '../../../src/core/zfs/parse.js';
import { recorded } from './fixtures.js';

const columnsOf = (cmd: string) => cmd.split(' ')[cmd.split(' ').indexOf('-o') + 1]!.split(',');

describe('OpenZFS 2.3 output', () => {
  it('identifies the version', () => {
    const v = recorded('openzfs-2.3', 'root_zfs_version');
    expect(parseOpenZfsVersion(v.stdout)).toBe('2.3.2');
    const caps = openZfsCapabilities('2.3.2', v.stdout.split('\n')[0]!);
    expect(caps).toMatchObject({ listParsable: true, json: true, holds: true, bookmarks: true, resumeTokens: true });
    expect(listAllCommand(caps, 'zfs').argv.slice(0, 6)).toEqual(['zfs', 'list', '-H', '-p', '-t', 'filesystem,volume,snapshot,bookmark']);
  });

  it('parses `zfs list -H -p` with createtxg, written, holds, origin and a resume token', () => {
    const r = recorded('openzfs-2.3', 'root_zfs_list_backup');
    const objs = parseZfsListTsv(r.stdout, columnsOf(r.cmd), r.cmd);
    expect(objs.length).toBe(r.stdout.split('\n').filter(Boolean).length);
    // The expectations come from the recorded line's own columns, so a re-recording keeps them true.
    const cols = columnsOf(r.cmd);
    const raw = (name: string) =>
      Object.fromEntries(
        r.stdout
          .split('\n')
          .find((l) => l.startsWith(name + '\t'))!
          .split('\t')
          .map((v, i) => [cols[i], v]),
      );
    const clone = objs.find((o) => o.name === 'backup/clones/products')!;
    const cloneRaw = raw('backup/clones/products');
    expect(clone).toMatchObject({
      type: 'filesystem',
      origin: 'backup/off/products@20230515-0000',
      createtxg: Number(cloneRaw.createtxg),
      guid: cloneRaw.guid,
      used: Number(cloneRaw.used),
      mountpoint: '/backup/clones/products',
      readonly: false,
    });
    expect(clone.guid).toMatch(/^\d{6,}$/);
    const partial = objs.find((o) => o.receiveResumeToken);
    expect(partial?.name).toBe('backup/off/images');
    expect(partial?.receiveResumeToken).toMatch(/^1-[0-9a-f]+-/);
    const snap = objs.find((o) => o.name === 'backup/off/products@20230501-0000')!;
    const snapRaw = raw('backup/off/products@20230501-0000');
    expect(snap).toMatchObject({
      type: 'snapshot',
      creation: Number(snapRaw.creation),
      createtxg: Number(snapRaw.createtxg),
      userrefs: Number(snapRaw.userrefs),
      written: Number(snapRaw.written),
    });
    expect(snap.written).toBeGreaterThan(0);
    expect(snap.available).toBeUndefined();
    expect(snap.mountpoint).toBeUndefined();
    const listing = buildListing('vm', openZfsCapabilities('2.3.2', ''), [], objs);
    expect(listing.clones.get('backup/off/products@20230515-0000')).toEqual(['backup/clones/products']);
    const snaps = listing.datasets.get('backup/off/products')!.snapshots;
    for (let i = 1; i < snaps.length; i++) expect(snaps[i - 1]!.createtxg!).toBeGreaterThan(snaps[i]!.createtxg!);
  });

  it('parses bookmarks into their dataset', () => {
    const r = recorded('openzfs-2.3', 'root_zfs_list_bookmark_hp');
    const objs = parseZfsListTsv(r.stdout, columnsOf(r.cmd), r.cmd);
    expect(objs.length).toBeGreaterThan(0);
    expect(objs.every((o) => o.type === 'bookmark' && o.name.includes('#'))).toBe(true);
  });

  it('parses `zpool list -H -p`', () => {
    const r = recorded('openzfs-2.3', 'root_zpool_list_hp');
    const expected = r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [name, health, size, allocated, free] = l.split('\t');
        return { name, health, size: Number(size), allocated: Number(allocated), free: Number(free) };
      });
    expect(expected.map((p) => p.name)).toEqual(['backup', 'tank']);
    expect(parseZpoolList(r.stdout, true, r.cmd)).toEqual(expected);
  });

  it('refuses output it does not recognise, naming the command and the line', () => {
    const r = recorded('openzfs-2.3', 'root_zfs_list_human');
    const err = (() => {
      try {
        parseZfsListTsv(r.stdout, ['name', 'used', 'available', 'referenced', 'mountpoint'], r.cmd);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ZfsParseError);
    expect((err as Error).message).toMatch(/^unrecognised output of `zfs list.*` at line 1: /);
  });

  it.each([
    ['root_err_not_exist', 'not-found'],
    ['root_err_snapshot_not_exist', 'not-found'],
    ['root_err_destroy_has_clone', 'has-clones'],
    ['root_err_destroy_held', 'held'],
    ['root_err_recv_exists', 'exists'],
    ['root_err_recv_mismatch', 'incremental-mismatch'],
    ['root_err_recv_modified', 'target-modified'],
    ['root_err_rollback_clones', 'has-clones'],
    ['root_err_rollback_newer', 'newer-snapshots'],
    ['operator_err_destroy_denied', 'permission'],
    ['operator_err_recv_tank_denied', 'permission'],
    ['operator_err_release_denied', 'permission'],
    ['operator_err_rollback_denied', 'permission'],
    ['operator_err_snapshot_denied', 'permission'],
  ])('classifies %s as %s', (name, kind) => {
    const r = recorded('openzfs-2.3', name);
    expect(r.exit).not.toBe(0);
    expect(classifyZfsError(r.stderr, r.exit)).toBe(kind);
  });
});
