/** zfs send/recv argv by capability, the ssh argv of push/pull, hold tags, `-nvP` parsing (recorded OpenZFS output). */
import { describe, expect, it } from 'vitest';
import { DEFAULT_PAIR_OPTIONS } from '../../../src/core/fleet/pairs.js';
import {
  effectiveSendFlags,
  estimateArgv,
  holdTagFor,
  parseSendEstimate,
  recvArgv,
  sendArgv,
  sshArgvFor,
  streamFeatures,
} from '../../../src/core/replication/argv.js';
import { capabilities, openzfsCapabilities, openzfsOutput } from './fixtures.js';

const fuse = capabilities('off1');
const ozfs = openzfsCapabilities();

describe('stream features from the probed capabilities', () => {
  it('zfs-fuse 0.7: holds only', () => {
    expect(streamFeatures(fuse)).toEqual({
      compressed: false,
      largeBlocks: false,
      raw: false,
      estimate: false,
      resume: false,
      bookmarks: false,
      holds: true,
      exclude: false,
    });
  });
  it('OpenZFS 2.3: everything', () => {
    expect(ozfs.version).toBe('2.3.2');
    expect(streamFeatures(ozfs)).toEqual({
      compressed: true,
      largeBlocks: true,
      raw: true,
      estimate: true,
      resume: true,
      bookmarks: true,
      holds: true,
      exclude: true,
    });
  });
  it('send -X (exclude) from OpenZFS 2.2 on', () => {
    expect(streamFeatures({ ...ozfs, version: '2.1.15' }).exclude).toBe(false);
    expect(streamFeatures({ ...ozfs, version: '2.2.0' }).exclude).toBe(true);
  });
  it('flags only where both sides have them; what is left out is said once per reason', () => {
    expect(effectiveSendFlags(DEFAULT_PAIR_OPTIONS, ozfs, ozfs)).toEqual({ flags: ['-L', '-c'], dropped: [] });
    expect(effectiveSendFlags({ ...DEFAULT_PAIR_OPTIONS, raw: true }, ozfs, fuse)).toEqual({
      flags: [],
      dropped: ["-L (large blocks), -c (compressed stream), -w (raw stream): not supported by the target's zfs (zfs-fuse 0.7.0)"],
    });
    expect(effectiveSendFlags({ ...DEFAULT_PAIR_OPTIONS, recursive: true, properties: true }, fuse, fuse).flags).toEqual(['-R']);
  });
  it('recv -s only where the target can resume', () => {
    expect(recvArgv('zfs', 'p/x', ozfs)).toEqual(['zfs', 'recv', '-s', 'p/x']);
    expect(recvArgv('/sbin/zfs', 'p/x', fuse)).toEqual(['/sbin/zfs', 'recv', 'p/x']);
  });
});

describe('argv', () => {
  it('send and its estimate', () => {
    const s = sendArgv('zfs', ['-L'], 'p/a b@2', { flag: '-I', name: 'p/a b@1' });
    expect(s).toEqual(['zfs', 'send', '-L', '-I', 'p/a b@1', 'p/a b@2']);
    expect(estimateArgv(s)).toEqual(['zfs', 'send', '-n', '-v', '-P', '-L', '-I', 'p/a b@1', 'p/a b@2']);
  });

  it('ssh to a host spec', () => {
    expect(sshArgvFor('ovh3')).toEqual(['ssh', '-o', 'BatchMode=yes', '--', 'ovh3']);
    expect(sshArgvFor('root@backup.example.org:2222')).toEqual(['ssh', '-o', 'BatchMode=yes', '-p', '2222', '--', 'root@backup.example.org']);
    expect(sshArgvFor('admin@[2001:db8::1]:22')).toEqual(['ssh', '-o', 'BatchMode=yes', '-p', '22', '--', 'admin@2001:db8::1']);
    expect(() => sshArgvFor('local')).toThrow(/relay/);
  });

  it('hold tags: stable per pair, different between pairs', () => {
    expect(holdTagFor('off1:a->ovh3:b')).toBe(holdTagFor('off1:a->ovh3:b'));
    expect(holdTagFor('off1:a->ovh3:b')).not.toBe(holdTagFor('off1:a->off2:b'));
    expect(holdTagFor('x')).toMatch(/^zfs-fleet-sync-[0-9a-f]{8}$/);
  });

  it('the size zfs send -nvP printed (OpenZFS 2.3)', () => {
    expect(parseSendEstimate(openzfsOutput('root_send_nvP_I'))).toBe(Number(/^size\t(\d+)$/m.exec(openzfsOutput('root_send_nvP_I'))![1]));
    expect(parseSendEstimate(openzfsOutput('root_send_nvP_bookmark'))).toBeGreaterThan(0);
    expect(parseSendEstimate(openzfsOutput('root_send_nvP_resume'))).toBeGreaterThan(0);
    expect(parseSendEstimate('')).toBeUndefined();
  });
});
