/**
 * known_hosts handling against files and fingerprints made by the real ssh-keygen (in a temp dir at
 * test time): plain, comma lists, wildcards, negation, [host]:port, hashed (ssh-keygen -H), @revoked,
 * @cert-authority, several keys per host.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendKnownHost,
  entryMatchesHost,
  fingerprintSha256,
  formatKnownHostLine,
  keyTypeOf,
  knownHostsName,
  knownKeyTypes,
  matchPatternList,
  parseKnownHosts,
  verifyHostKey,
} from '../../../src/transport/knownHosts.js';

let dir: string;
const keys: Record<string, { file: string; type: string; b64: string; blob: Buffer; line: string }> = {};

function sshKeygen(args: string[]): string {
  return execFileSync('ssh-keygen', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function makeKey(name: string, type: string): void {
  const file = path.join(dir, name);
  sshKeygen(['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-C', name, '-f', file]);
  const line = fs.readFileSync(file + '.pub', 'utf8').trim();
  const [t, b64] = line.split(' ') as [string, string];
  keys[name] = { file, type: t, b64, blob: Buffer.from(b64, 'base64'), line };
}

/** Line numbers ssh-keygen -F reports for a name: OpenSSH's own lookup, our oracle. */
function keygenFind(file: string, name: string): number[] {
  let out: string;
  try {
    out = sshKeygen(['-F', name, '-f', file]);
  } catch {
    return [];
  }
  return [...out.matchAll(/found: line (\d+)/g)].map((m) => Number(m[1]));
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zf-kh-'));
  makeKey('a_ed', 'ed25519');
  makeKey('a_ecdsa', 'ecdsa');
  makeKey('b_ed', 'ed25519');
  makeKey('c_rsa', 'rsa');
  makeKey('ca', 'ed25519');
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('fingerprints', () => {
  it('match ssh-keygen -lf for ed25519, ecdsa and rsa keys', () => {
    for (const k of Object.values(keys)) {
      const expected = sshKeygen(['-lf', k.file + '.pub'])
        .trim()
        .split(/\s+/)[1];
      expect(fingerprintSha256(k.blob)).toBe(expected);
      expect(keyTypeOf(k.blob)).toBe(k.type);
    }
  });

  it('has no base64 padding', () => {
    expect(fingerprintSha256(Buffer.from('x'))).not.toContain('=');
  });
});

describe('names and patterns', () => {
  it('uses [host]:port except for port 22, lower-cased', () => {
    expect(knownHostsName('Example.ORG', 22)).toBe('example.org');
    expect(knownHostsName('example.org', 2222)).toBe('[example.org]:2222');
    expect(knownHostsName('::1', 2222)).toBe('[::1]:2222');
    expect(knownHostsName('[::1]', 22)).toBe('::1');
  });

  it('matches pattern lists like OpenSSH (wildcards, negation wins)', () => {
    expect(matchPatternList('a.example.org', '*.example.org,!b.example.org')).toBe(true);
    expect(matchPatternList('b.example.org', '*.example.org,!b.example.org')).toBe(false);
    expect(matchPatternList('host1', 'host?')).toBe(true);
    expect(matchPatternList('host', 'host?')).toBe(false);
    expect(matchPatternList('[h]:2222', '[h]:2222')).toBe(true);
    expect(matchPatternList('x', '!x')).toBe(false);
  });
});

describe('a known_hosts file made with the real tools', () => {
  let plain: string;
  let hashed: string;
  const lines = (): string[] => [
    '# comment line',
    '',
    `alpha,alpha.example.org,10.0.0.1 ${keys.a_ed!.type} ${keys.a_ed!.b64}`,
    `alpha ${keys.a_ecdsa!.type} ${keys.a_ecdsa!.b64} second key of alpha`,
    `[beta]:2222 ${keys.b_ed!.type} ${keys.b_ed!.b64}`,
    `*.wild.test,!bad.wild.test ${keys.c_rsa!.type} ${keys.c_rsa!.b64}`,
    `@cert-authority *.example.org ${keys.ca!.type} ${keys.ca!.b64}`,
    `@revoked * ${keys.b_ed!.type} ${keys.b_ed!.b64}`,
    `gamma ${keys.b_ed!.type} ${keys.b_ed!.b64}`,
  ];

  beforeAll(() => {
    plain = path.join(dir, 'known_hosts');
    fs.writeFileSync(plain, lines().join('\n') + '\n');
    hashed = path.join(dir, 'known_hosts_hashed');
    fs.writeFileSync(hashed, lines().join('\n') + '\n');
    sshKeygen(['-q', '-H', '-f', hashed]);
  });

  it('parses entries, markers and comments, skipping what does not parse', () => {
    const entries = parseKnownHosts(fs.readFileSync(plain, 'utf8'), plain);
    expect(entries.map((e) => e.line)).toEqual([3, 4, 5, 6, 7, 8, 9]);
    const junk = [
      'garbage line',
      `delta ssh-ed25519 not-base64!!`,
      `delta ssh-rsa ${keys.a_ed!.b64}`, // type field does not match the blob
      'old 1024 35 12345678901234567890',
      `@unknown-marker x ${keys.a_ed!.type} ${keys.a_ed!.b64}`,
      `|1|short|hash ${keys.a_ed!.type} ${keys.a_ed!.b64}`,
      `  delta\t${keys.a_ed!.type}   ${keys.a_ed!.b64}  `,
    ];
    expect(parseKnownHosts(junk.join('\r\n')).map((e) => [e.line, e.hosts])).toEqual([[7, 'delta']]);
    expect(entries[1]!.comment).toBe('second key of alpha');
    expect(entries[4]!.marker).toBe('cert-authority');
    expect(entries[5]!.marker).toBe('revoked');
    expect(entries.every((e) => e.file === plain)).toBe(true);
  });

  it('ssh-keygen -H hashed the plain names (each name of a comma list on its own line)', () => {
    const entries = parseKnownHosts(fs.readFileSync(hashed, 'utf8'));
    expect(entries.filter((e) => e.hashed).length).toBeGreaterThanOrEqual(5);
  });

  it('finds the same lines as ssh-keygen -F, plain and hashed', () => {
    for (const file of [plain, hashed]) {
      const entries = parseKnownHosts(fs.readFileSync(file, 'utf8'));
      for (const name of ['alpha', 'alpha.example.org', '10.0.0.1', '[beta]:2222', 'beta', 'gamma', 'x.wild.test', 'bad.wild.test', 'nobody']) {
        const ours = entries.filter((e) => entryMatchesHost(e, name)).map((e) => e.line); // markers included, as -F does
        expect(ours, `${path.basename(file)} ${name}`).toEqual(keygenFind(file, name));
      }
    }
  });

  for (const which of ['plain', 'hashed'] as const) {
    describe(which, () => {
      const file = () => (which === 'plain' ? plain : hashed);

      it('known: the key of the host', async () => {
        const r = await verifyHostKey([file()], 'alpha', 22, keys.a_ed!.blob);
        expect(r).toMatchObject({ status: 'known', keyType: 'ssh-ed25519', fingerprint: fingerprintSha256(keys.a_ed!.blob), file: file() });
        expect(r.line).toBeGreaterThan(0);
      });

      it('known: any of several keys, and names from a comma list, case-insensitively', async () => {
        expect((await verifyHostKey([file()], 'alpha', 22, keys.a_ecdsa!.blob)).status).toBe('known');
        expect((await verifyHostKey([file()], 'ALPHA.example.org', 22, keys.a_ed!.blob)).status).toBe('known');
        expect((await verifyHostKey([file()], '10.0.0.1', 22, keys.a_ed!.blob)).status).toBe('known');
      });

      it('[host]:port: known on its port only', async () => {
        // beta's key is also @revoked for every host, so it shows as revoked: check with the entry lookup instead.
        expect(await knownKeyTypes([file()], 'beta', 2222)).toEqual(['ssh-ed25519']);
        expect(await knownKeyTypes([file()], 'beta', 22)).toEqual([]);
        expect(await knownKeyTypes([file()], 'alpha', 2222)).toEqual([]);
      });

      it('unknown: a host with no entry (and @cert-authority lines are ignored)', async () => {
        const r = await verifyHostKey([file()], 'nobody.example.org', 22, keys.ca!.blob);
        expect(r.status).toBe('unknown');
        expect(r.fingerprint).toBe(fingerprintSha256(keys.ca!.blob));
      });

      it('changed: a different key of the same type', async () => {
        const r = await verifyHostKey([file()], 'alpha', 22, keys.ca!.blob);
        expect(r.status).toBe('changed');
        expect(r.knownFingerprints!.map((k) => k.fingerprint).sort()).toEqual(
          [fingerprintSha256(keys.a_ed!.blob), fingerprintSha256(keys.a_ecdsa!.blob)].sort(),
        );
        expect(r.file).toBe(file());
        // Points at the known key of the presented type.
        const entries = parseKnownHosts(fs.readFileSync(file(), 'utf8'));
        expect(entries.find((e) => e.line === r.line)!.keyType).toBe('ssh-ed25519');
      });

      it('changed: a host known only with keys of other types', async () => {
        const r = await verifyHostKey([file()], 'x.wild.test', 22, keys.a_ed!.blob);
        expect(r.status).toBe('changed');
        expect(r.knownFingerprints).toEqual([expect.objectContaining({ keyType: 'ssh-rsa', fingerprint: fingerprintSha256(keys.c_rsa!.blob) })]);
      });

      it('wildcards and negation', async () => {
        expect((await verifyHostKey([file()], 'x.wild.test', 22, keys.c_rsa!.blob)).status).toBe('known');
        expect((await verifyHostKey([file()], 'bad.wild.test', 22, keys.c_rsa!.blob)).status).toBe('unknown');
      });

      it('revoked: refused even where the same key is also listed as known', async () => {
        const r = await verifyHostKey([file()], 'gamma', 22, keys.b_ed!.blob);
        expect(r.status).toBe('revoked');
        expect(r.file).toBe(file());
        expect((await verifyHostKey([file()], 'elsewhere', 22, keys.b_ed!.blob)).status).toBe('revoked');
      });
    });
  }

  it('reads several files in order; missing files count as empty', async () => {
    const extra = path.join(dir, 'extra_known_hosts');
    fs.writeFileSync(extra, `newhost ${keys.a_ed!.type} ${keys.a_ed!.b64}\n`);
    const r = await verifyHostKey([path.join(dir, 'missing'), plain, extra], 'newhost', 22, keys.a_ed!.blob);
    expect(r).toMatchObject({ status: 'known', file: extra, line: 1 });
  });
});

describe('appendKnownHost', () => {
  it('creates the directory (0700) and file (0600) and writes a line ssh-keygen -F finds', async () => {
    const file = path.join(dir, 'new', 'sub', 'known_hosts');
    await appendKnownHost(file, 'Host1.example.org', 22, keys.a_ed!.type, keys.a_ed!.b64);
    await appendKnownHost(file, 'host2', 2222, keys.a_ecdsa!.type, keys.a_ecdsa!.b64, { hashed: true });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    const text = fs.readFileSync(file, 'utf8');
    expect(text.split('\n')[0]).toBe(`host1.example.org ${keys.a_ed!.type} ${keys.a_ed!.b64}`);
    expect(text.split('\n')[1]).toMatch(/^\|1\|[A-Za-z0-9+/=]{28}\|[A-Za-z0-9+/=]{28} ecdsa-sha2-nistp256 /);
    expect(keygenFind(file, 'host1.example.org')).toEqual([1]);
    expect(keygenFind(file, '[host2]:2222')).toEqual([2]);
    expect(keygenFind(file, 'host2')).toEqual([]);
    expect((await verifyHostKey([file], 'host2', 2222, keys.a_ecdsa!.blob)).status).toBe('known');
  });

  it('adds a newline first when the file does not end with one', async () => {
    const file = path.join(dir, 'no_newline');
    fs.writeFileSync(file, `alpha ${keys.a_ed!.type} ${keys.a_ed!.b64}`);
    await appendKnownHost(file, 'beta', 22, keys.b_ed!.type, keys.b_ed!.b64);
    expect(fs.readFileSync(file, 'utf8').split('\n')).toHaveLength(3);
    expect(keygenFind(file, 'beta')).toEqual([2]);
  });

  it('rejects a host name or key that would corrupt the file', async () => {
    const file = path.join(dir, 'bad');
    await expect(appendKnownHost(file, 'a b', 22, 'ssh-ed25519', keys.a_ed!.b64)).rejects.toThrow();
    await expect(appendKnownHost(file, 'a,b', 22, 'ssh-ed25519', keys.a_ed!.b64)).rejects.toThrow();
    await expect(appendKnownHost(file, 'a', 22, 'ssh-ed25519', 'not base64!')).rejects.toThrow();
  });

  it('formats [host]:port for other ports', () => {
    expect(formatKnownHostLine('h', 2200, 'ssh-ed25519', 'AAAA')).toBe('[h]:2200 ssh-ed25519 AAAA');
  });
});
