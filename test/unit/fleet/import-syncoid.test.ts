/** syncoid argument files to pairs: routes, flags, host matching and every warning, on the sample configs (test/fixtures/configs, written from the documented shapes). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { shellWords } from '../../../src/core/fleet/import/shellWords.js';
import { importSyncoidArgs, matchHost, splitSyncoidEndpoint, toPairSpec, type FleetHostInfo } from '../../../src/core/fleet/import/syncoid.js';
import { parsePair } from '../../../src/core/fleet/pairs.js';

const dir = path.resolve(__dirname, '../../fixtures/configs');
const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');
/** What the CLI finds in test/fixtures/configs/ssh_config. */
const HOSTS: FleetHostInfo[] = [
  { alias: 'off1', hostName: 'off1.openfoodfacts.org', user: 'root' },
  { alias: 'off2', hostName: 'off2.openfoodfacts.org', user: 'ovh3operator' },
  { alias: 'ovh3', hostName: 'ovh3.openfoodfacts.org' },
];
const ovh3 = () => importSyncoidArgs(read('ovh3.syncoid-args.conf'), { file: 'ovh3.syncoid-args.conf', host: 'ovh3', fleetHosts: HOSTS });
const off2 = () => importSyncoidArgs(read('off2.syncoid-args.conf'), { file: 'off2.syncoid-args.conf', host: 'off2', fleetHosts: HOSTS });

describe('shell words', () => {
  it('splits like sh: quotes, escapes, comments', () => {
    expect(shellWords(`--exclude 'a b' "c \\"d\\"" e\\ f # comment`)).toEqual({ ok: true, words: ['--exclude', 'a b', 'c "d"', 'e f'] });
    expect(shellWords(`x#y 'it''s'`)).toEqual({ ok: true, words: ['x#y', 'its'] });
    expect(shellWords('   ')).toEqual({ ok: true, words: [] });
    expect(shellWords(`"open`)).toEqual({ ok: false, reason: 'unterminated double quote' });
    expect(shellWords(`'open`)).toEqual({ ok: false, reason: 'unterminated single quote' });
    expect(shellWords(`end\\`)).toEqual({ ok: false, reason: 'a backslash at the end of the line' });
  });
});

describe('syncoid endpoints and hosts', () => {
  it("tells remote from local as syncoid's getssh does", () => {
    expect(splitSyncoidEndpoint('ovh3operator@off2.openfoodfacts.org:zfs-hdd/off')).toEqual({
      remote: 'ovh3operator@off2.openfoodfacts.org',
      dataset: 'zfs-hdd/off',
    });
    expect(splitSyncoidEndpoint('off2:zfs-hdd/off')).toEqual({ remote: 'off2', dataset: 'zfs-hdd/off' });
    expect(splitSyncoidEndpoint('rpool/off')).toEqual({ dataset: 'rpool/off' });
    expect(splitSyncoidEndpoint('rpool/a:b')).toEqual({ dataset: 'rpool/a:b' });
    expect(splitSyncoidEndpoint('off2:pool/ds@snap')).toEqual({ remote: 'off2', dataset: 'pool/ds@snap' });
  });

  it('matches aliases, HostNames and --host-map; keeps a user the alias does not have', () => {
    expect(matchHost('off2', HOSTS)).toBe('off2');
    expect(matchHost('ovh3operator@off2.openfoodfacts.org', HOSTS)).toBe('off2');
    expect(matchHost('root@off2.openfoodfacts.org', HOSTS)).toBe('root@off2');
    expect(matchHost('root@OVH3.openfoodfacts.org', HOSTS)).toBe('root@ovh3');
    expect(matchHost('backup@pbs.example.net', HOSTS)).toBeUndefined();
    expect(matchHost('backup@pbs.example.net', HOSTS, { 'pbs.example.net': 'pbs' })).toBe('backup@pbs');
    expect(matchHost('backup@pbs.example.net', HOSTS, { 'backup@pbs.example.net': 'pbs' })).toBe('pbs');
    // A host of the pairs file, written with its user: matched on the host part, the user kept.
    const fromPairs = [{ alias: 'backup@pbs.example.net' }];
    expect(matchHost('backup@pbs.example.net', fromPairs)).toBe('backup@pbs.example.net');
    expect(matchHost('root@pbs.example.net', fromPairs)).toBe('root@pbs.example.net');
    expect(matchHost('pbs.example.net', fromPairs)).toBe('backup@pbs.example.net');
  });
});

describe('import syncoid-args (ovh3: pulls by the operator)', () => {
  it('reads each line to a pair with its route, options and line', () => {
    const r = ovh3();
    expect(r.pairs.map((p) => [p.line, p.route, p.source, p.target])).toEqual([
      [4, 'pull', 'off2:zfs-hdd/off', 'ovh3:rpool/off'],
      [5, 'pull', 'off2:zfs-nvme/off/products', 'ovh3:rpool/off/products'],
      [6, 'pull', 'off2:zfs-hdd/off-pro', 'ovh3:rpool/off-pro'],
      [7, 'pull', 'off1:zfs-hdd/off-backups', 'ovh3:rpool/off-backups/off1'],
      [8, 'pull', 'off2:zfs-hdd/off-backups/mongo dump', 'ovh3:rpool/off-backups/mongo-dump'],
      [9, 'pull', 'off2:zfs-hdd/obf', 'ovh3:rpool/obf'],
      [18, 'pull', 'off2:zfs-hdd/opff', 'ovh3:rpool/opff'],
      [21, 'pull', 'backup@pbs.example.net:tank/vm', 'ovh3:rpool/pbs'],
      [24, 'push', 'ovh3:rpool/staging-clones', 'off2:zfs-hdd/staging-from-ovh3'],
      [25, 'local', 'ovh3:rpool/off-backups/off1', 'ovh3:rpool/archive/off1'],
    ]);
    const byLine = (n: number) => r.pairs.find((p) => p.line === n)!;
    expect(byLine(4).options).toEqual({ recursive: true, raw: false, compressed: false, largeBlocks: false, properties: false, intermediates: true });
    expect(byLine(4).imported).toEqual({});
    expect(byLine(7).options.raw).toBe(true);
    expect(byLine(8).options.recursive).toBe(true);
    expect(byLine(8).imported).toEqual({ exclude: ['tmp', 'cache'] });
    expect(byLine(9).options.intermediates).toBe(false);
    expect(byLine(9).imported).toEqual({ identifier: 'ovh3', compress: 'zstd-fast' });
    expect(byLine(9).options.bwlimit).toBe(20 * 1024 * 1024); // --source-bwlimit 20m
    expect(byLine(18).imported).toEqual({ sshkey: '/root/.ssh/id_ed25519_ovh3', 'preserve-properties': true, mystery: '42' });
  });

  it('every pair is valid for parsePair; a local pair is a push on its host (piped there, no ssh)', () => {
    for (const p of ovh3().pairs.concat(off2().pairs)) expect(() => parsePair(toPairSpec(p))).not.toThrow();
    expect(toPairSpec(ovh3().pairs.find((p) => p.route === 'local')!).route).toBe('push');
  });

  it("records how ovh3 reaches the other hosts, as its lines write them (the fleet file's hosts.HOST.from.ovh3)", () => {
    expect(ovh3().reach).toEqual([
      { host: 'off2', from: 'ovh3', address: 'off2.openfoodfacts.org', user: 'ovh3operator', file: 'ovh3.syncoid-args.conf', line: 4 },
      { host: 'off1', from: 'ovh3', address: 'off1.openfoodfacts.org', user: 'root', file: 'ovh3.syncoid-args.conf', line: 7 },
    ]);
  });

  it('says each problem with its kind and line, and never drops a line silently', () => {
    const w = ovh3().warnings.map((x) => [x.line, x.kind]);
    expect(w).toEqual([
      [5, 'overlapping-target'],
      [8, 'not-applied'],
      [9, 'not-applied'],
      [12, 'duplicate-line'],
      [15, 'duplicate-pair'],
      [18, 'unknown-flag'],
      [18, 'unknown-flag'],
      [18, 'unknown-flag'],
      [21, 'unknown-host'],
      [28, 'unparsable'],
      [29, 'unparsable'],
      [30, 'unparsable'],
      [31, 'unparsable'],
    ]);
    const lines = read('ovh3.syncoid-args.conf').split('\n');
    const accounted = new Set([...ovh3().pairs.map((p) => p.line), ...ovh3().warnings.map((x) => x.line)]);
    lines.forEach((l, i) => {
      if (l.trim() !== '' && !l.trim().startsWith('#')) expect(accounted.has(i + 1), `line ${i + 1}`).toBe(true);
    });
    const msg = (line: number) => ovh3().warnings.find((x) => x.line === line)!.message;
    expect(msg(5)).toContain('inside the recursive target ovh3:rpool/off of line 4');
    expect(msg(12)).toContain('line 6');
    expect(msg(21)).toContain('--host-map pbs.example.net=ALIAS');
    expect(msg(28)).toContain('unterminated double quote');
    expect(msg(31)).toContain('not a snapshot or bookmark');
    for (const x of ovh3().warnings) expect(x.file).toBe('ovh3.syncoid-args.conf');
  });

  it('groups the pairs by hosts and route', () => {
    expect(ovh3().groups.map((g) => [g.id, g.route, g.pairs.length])).toEqual([
      ['off2->ovh3', 'pull', 6],
      ['off1->ovh3', 'pull', 1],
      ['backup@pbs.example.net->ovh3', 'pull', 1],
      ['ovh3->off2', 'push', 1],
      ['ovh3->ovh3', 'local', 1],
    ]);
  });

  it('--host-map names a host the ssh config does not know', () => {
    const r = importSyncoidArgs(read('ovh3.syncoid-args.conf'), {
      file: 'f',
      host: 'ovh3',
      fleetHosts: HOSTS,
      hostMap: { 'pbs.example.net': 'pbs' },
    });
    expect(r.pairs.find((p) => p.line === 21)!.source).toBe('backup@pbs:tank/vm');
    expect(r.warnings.some((w) => w.kind === 'unknown-host')).toBe(false);
  });
});

describe('import syncoid-args (off2: the older root pushes)', () => {
  it('pushes, the user kept where the alias has another, send flags mapped, the sync snapshot said', () => {
    const r = off2();
    expect(r.pairs.map((p) => [p.route, p.source, p.target])).toEqual([
      ['push', 'off2:zfs-hdd/off', 'root@ovh3:rpool/off'],
      ['push', 'off2:zfs-hdd/off-pro', 'root@ovh3:rpool/off-pro'],
      ['push', 'off2:zfs-nvme/off/products', 'ovh3:rpool/off/products'],
      ['push', 'off2:zfs-hdd/off-users', 'root@ovh3:rpool/off/users'],
    ]);
    const products = r.pairs[2]!;
    expect(products.options).toMatchObject({ largeBlocks: true, compressed: true, raw: false });
    expect(products.imported).toEqual({ recvoptions: 'u' });
    expect(r.warnings.filter((w) => w.kind === 'not-applied').map((w) => w.line)).toEqual([2, 3, 5]);
    expect(r.warnings.find((w) => w.line === 2)!.message).toContain('sync snapshot');
    // Two streams into rpool/off: the same host whichever user writes it.
    expect(r.warnings.filter((w) => w.kind === 'overlapping-target').map((w) => w.line)).toEqual([5, 7]);
  });

  it('a recursive target holding an earlier one, and two sources into one target, overlap too', () => {
    const text = ['tank/a/b off2:backup/a/b', '-r tank/a off2:backup/a', 'tank/c off2:backup/a/b'].join('\n');
    const r = importSyncoidArgs(text, { file: 'x', host: 'off1', fleetHosts: HOSTS });
    expect(r.warnings.map((w) => [w.line, w.kind])).toEqual([
      [1, 'not-applied'],
      [2, 'not-applied'],
      [2, 'overlapping-target'],
      [3, 'not-applied'],
      [3, 'overlapping-target'],
      [3, 'overlapping-target'],
    ]);
    expect(r.warnings[2]!.message).toContain('a recursive target holding off2:backup/a/b of line 1');
  });

  it('garbage never throws', () => {
    for (const junk of ['\u0000\u0001', '--sendoptions', '"""', "'", '-- -- --', '@:', ':::', 'a@b:c@d e', '-r -r -r x y z', '\\']) {
      expect(() => importSyncoidArgs(junk, { file: 'j', host: 'h', fleetHosts: [] })).not.toThrow();
    }
    expect(importSyncoidArgs('--sendoptions', { file: 'j', host: 'h', fleetHosts: [] }).warnings[0]!.message).toContain('--sendoptions needs a value');
  });
});
