/** A job's files: `df -P -i` as a real zfs-fuse host answers it (test/fixtures/zfs-fuse/df-inodes), matched back to the mountpoints asked. */
import { describe, expect, it } from 'vitest';
import { dfInodesArgv, mountpointsOf, parseDfInodes } from '../../../src/core/queue/files.js';
import { recorded } from '../core/fixtures.js';

describe('files from df -i', () => {
  const r = recorded('zfs-fuse', 'df-inodes');
  const asked = ['/zfs-hdd/off', '/zfs-hdd/off/my data', '/zfs-hdd/off/users', '/zfs-hdd/off/nonexistent', '/'];

  it('reads IUsed by mountpoint, a mountpoint and a dataset name with a space included; a missing path is left out', () => {
    expect(r.exit).toBe(1); // df says so for the missing path, and reports the others
    const used = parseDfInodes(r.stdout, asked);
    expect(used.get('/zfs-hdd/off')).toBe(8);
    expect(used.get('/zfs-hdd/off/my data')).toBe(6);
    expect(used.get('/zfs-hdd/off/users')).toBe(8);
    expect(used.has('/zfs-hdd/off/nonexistent')).toBe(false);
    expect(used.get('/')).toBeGreaterThan(1000);
  });

  it('a line for a mount not asked (df reports the mount above a path that is not its own) is not taken for it', () => {
    // Asked for a directory that is not a mountpoint: df prints the mount it lives on, which ends otherwise.
    const used = parseDfInodes(r.stdout, ['/zfs-hdd/off/my']);
    expect(used.size).toBe(0);
    // The longest asked mountpoint wins: "/zfs-hdd/off/my data" is not read as "… data" of another.
    expect(parseDfInodes(r.stdout, ['data', '/zfs-hdd/off/my data']).get('/zfs-hdd/off/my data')).toBe(6);
  });

  it('garbage and control bytes from a host are ignored, not parsed into numbers', () => {
    const hostile = 'Filesystem Inodes IUsed IFree IUse% Mounted on\nx 1 2 3 4% /a\nx 1 \x1b[2J 3 4% /b\nx 1 99999999999999999999 3 4% /c\n';
    const used = parseDfInodes(hostile, ['/a', '/b', '/c']);
    expect([...used]).toEqual([['/a', 2]]);
  });

  it('asks only mounted filesystems with a plain absolute mountpoint; df is told where its options end', () => {
    const m = mountpointsOf([
      { name: 'p/a', type: 'filesystem', mountpoint: '/p/a', mounted: true },
      { name: 'p/b', type: 'filesystem', mountpoint: '/p/b', mounted: false },
      { name: 'p/c', type: 'filesystem', mountpoint: 'legacy' },
      { name: 'p/d', type: 'filesystem', mountpoint: '/p/d\nx', mounted: true },
      { name: 'p/v', type: 'volume' },
      { name: 'p/e', type: 'filesystem', mountpoint: '/p/e' },
    ]);
    expect([...m]).toEqual([
      ['p/a', '/p/a'],
      ['p/e', '/p/e'],
    ]);
    expect(dfInodesArgv(['-x'])).toEqual(['df', '-P', '-i', '--', '-x']);
  });
});
