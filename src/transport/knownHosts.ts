/**
 * OpenSSH known_hosts files: parse, verify a presented host key, append a new entry.
 *
 * Supported, as OpenSSH does (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT", hostfile.c):
 * - plain host patterns, comma separated, with `*` / `?` wildcards and `!` negation;
 * - `[host]:port` names for ports other than 22 (a plain `host` entry never matches another port);
 * - hashed names `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`;
 * - `@revoked` lines: a presented key equal to a revoked key is refused;
 * - comments, blank lines, several keys per host.
 * `@cert-authority` lines do not make a key known: ZFS Fleet does not verify host certificates, so
 * a host known only through a CA is unknown (as for OpenSSH when the server presents a plain key),
 * and the question about its key says that a CA is trusted for it (HostKeyCheck.certAuthority).
 * Old SSH-1 `host bits exponent modulus` lines and lines that do not parse are skipped.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';

export type HostKeyStatus = 'known' | 'unknown' | 'changed' | 'revoked';

export interface KnownHostsEntry {
  /** 1-based line number in its file. */
  line: number;
  /** The file it came from, when read from a file. */
  file?: string;
  marker?: 'revoked' | 'cert-authority';
  /** The host field as written (comma list of patterns, or one hashed name). */
  hosts: string;
  /** Present for a hashed host field. */
  hashed?: { salt: Buffer; hash: Buffer };
  keyType: string;
  keyBase64: string;
  /** The decoded key blob (SSH wire format). */
  key: Buffer;
  comment?: string;
}

export interface KnownKeyInfo {
  keyType: string;
  fingerprint: string;
  file?: string;
  line: number;
}

export interface HostKeyCheck {
  status: HostKeyStatus;
  /** SHA256 fingerprint of the presented key, as OpenSSH prints it. */
  fingerprint: string;
  /** The presented key's type (e.g. ssh-ed25519). */
  keyType: string;
  /** For 'changed': the keys known for this host. */
  knownFingerprints?: KnownKeyInfo[];
  /** 'known'/'revoked': where the matching entry is; 'changed': the first known key (of the same type when there is one). */
  file?: string;
  line?: number;
  /** 'unknown': a `@cert-authority` line names this host (`file:line`): the host is expected to present a certificate, which is not verified here. */
  certAuthority?: string;
}

/** `host` for port 22, `[host]:port` otherwise, lower-cased: the name OpenSSH looks up in known_hosts. */
export function knownHostsName(host: string, port: number): string {
  let h = host.toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  return port === 22 ? h : `[${h}]:${port}`;
}

/** `SHA256:` + unpadded base64 of SHA-256 over the key blob, exactly as `ssh-keygen -l` prints it. */
export function fingerprintSha256(keyBlob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '');
}

/** The key type (first string) of an SSH wire-format public key blob. */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) throw new Error('Malformed SSH public key blob');
  const len = keyBlob.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > keyBlob.length) throw new Error('Malformed SSH public key blob');
  return keyBlob.subarray(4, 4 + len).toString('latin1');
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Parse known_hosts text; lines that do not parse are skipped. */
export function parseKnownHosts(text: string, file?: string): KnownHostsEntry[] {
  const out: KnownHostsEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const fields = raw.split(/[ \t]+/);
    let marker: KnownHostsEntry['marker'];
    if (fields[0]!.startsWith('@')) {
      const m = fields.shift()!;
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else continue; // unknown marker: OpenSSH skips the line
    }
    if (fields.length < 3) continue;
    const [hosts, keyType, keyBase64, ...rest] = fields as [string, string, string, ...string[]];
    if (/^\d+$/.test(keyType)) continue; // SSH-1 RSA line
    if (!BASE64.test(keyBase64)) continue;
    const key = Buffer.from(keyBase64, 'base64');
    let blobType: string;
    try {
      blobType = keyTypeOf(key);
    } catch {
      continue;
    }
    if (blobType !== keyType) continue;
    let hashed: KnownHostsEntry['hashed'];
    if (hosts.startsWith('|')) {
      const m = /^\|1\|([A-Za-z0-9+/=]+)\|([A-Za-z0-9+/=]+)$/.exec(hosts);
      if (!m) continue;
      hashed = { salt: Buffer.from(m[1]!, 'base64'), hash: Buffer.from(m[2]!, 'base64') };
      if (hashed.salt.length !== 20 || hashed.hash.length !== 20) continue;
    }
    const entry: KnownHostsEntry = { line: i + 1, hosts, keyType, keyBase64, key };
    if (file !== undefined) entry.file = file;
    if (marker) entry.marker = marker;
    if (hashed) entry.hashed = hashed;
    if (rest.length) entry.comment = rest.join(' ');
    out.push(entry);
  }
  return out;
}

/** OpenSSH match_pattern: `*` any run, `?` one character; whole-string, case-insensitive here (names are lower-cased). */
export function matchPattern(text: string, pattern: string): boolean {
  let re = '^';
  for (const ch of pattern) {
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else re += ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(re + '$', 's').test(text);
}

/** OpenSSH match_pattern_list over a comma list: a matching negated pattern wins (no match), else any positive match. */
export function matchPatternList(text: string, list: string): boolean {
  const t = text.toLowerCase();
  let matched = false;
  for (const p of list.split(',')) {
    if (p === '') continue;
    const pat = p.toLowerCase();
    if (pat.startsWith('!')) {
      if (matchPattern(t, pat.slice(1))) return false;
    } else if (matchPattern(t, pat)) {
      matched = true;
    }
  }
  return matched;
}

/** Whether an entry's host field matches a lookup name (from knownHostsName). */
export function entryMatchesHost(entry: KnownHostsEntry, lookupName: string): boolean {
  const name = lookupName.toLowerCase();
  if (entry.hashed) {
    const h = createHmac('sha1', entry.hashed.salt).update(name).digest();
    return h.equals(entry.hashed.hash);
  }
  return matchPatternList(name, entry.hosts);
}

/** `|1|salt|hash` for a name (hashed as `ssh-keygen -H` / HashKnownHosts do). */
export function hashHostName(lookupName: string, salt: Buffer = randomBytes(20)): string {
  const h = createHmac('sha1', salt).update(lookupName.toLowerCase()).digest();
  return `|1|${salt.toString('base64')}|${h.toString('base64')}`;
}

/** Read and parse the files that exist (missing or unreadable files contribute nothing). */
export async function readKnownHostsFiles(files: readonly string[]): Promise<KnownHostsEntry[]> {
  const out: KnownHostsEntry[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = await fsp.readFile(f, 'utf8');
    } catch {
      continue;
    }
    out.push(...parseKnownHosts(text, f));
  }
  return out;
}

/** The entries that name this host (cert-authority lines included: they only say a CA is trusted for it). */
export async function lookupKnownHost(files: readonly string[], host: string, port: number): Promise<KnownHostsEntry[]> {
  const name = knownHostsName(host, port);
  return (await readKnownHostsFiles(files)).filter((e) => entryMatchesHost(e, name));
}

/** Check entries already looked up for the host against a presented key blob. */
export function checkHostKeyEntries(entries: readonly KnownHostsEntry[], keyBlob: Buffer): HostKeyCheck {
  const fingerprint = fingerprintSha256(keyBlob);
  const keyType = keyTypeOf(keyBlob);
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(keyBlob));
  if (revoked) return withPlace({ status: 'revoked', fingerprint, keyType }, revoked);
  const plain = entries.filter((e) => e.marker === undefined);
  const match = plain.find((e) => e.key.equals(keyBlob));
  if (match) return withPlace({ status: 'known', fingerprint, keyType }, match);
  if (plain.length === 0) {
    const ca = entries.find((e) => e.marker === 'cert-authority');
    return ca
      ? { status: 'unknown', fingerprint, keyType, certAuthority: `${ca.file ?? 'known_hosts'}:${ca.line}` }
      : { status: 'unknown', fingerprint, keyType };
  }
  // The host is known but none of its keys is the presented one: a changed key. (OpenSSH asks when only
  // keys of other types are known; we refuse, and SshRunner orders host key algorithms so that a server
  // offering a known type presents that one.)
  const knownFingerprints = plain.map((e) => {
    const k: KnownKeyInfo = { keyType: e.keyType, fingerprint: fingerprintSha256(e.key), line: e.line };
    if (e.file !== undefined) k.file = e.file;
    return k;
  });
  const first = plain.find((e) => e.keyType === keyType) ?? plain[0]!;
  return withPlace({ status: 'changed', fingerprint, keyType, knownFingerprints }, first);
}

function withPlace(check: HostKeyCheck, e: KnownHostsEntry): HostKeyCheck {
  if (e.file !== undefined) check.file = e.file;
  check.line = e.line;
  return check;
}

/** Verify a presented host key (raw SSH blob) for host:port against known_hosts files. */
export async function verifyHostKey(files: readonly string[], host: string, port: number, keyBlob: Buffer): Promise<HostKeyCheck> {
  return checkHostKeyEntries(await lookupKnownHost(files, host, port), keyBlob);
}

/** The key types known (not revoked) for a host, in file order, without duplicates. */
export async function knownKeyTypes(files: readonly string[], host: string, port: number): Promise<string[]> {
  const types: string[] = [];
  for (const e of await lookupKnownHost(files, host, port)) {
    if (e.marker === undefined && !types.includes(e.keyType)) types.push(e.keyType);
  }
  return types;
}

/** The line appendKnownHost writes (without newline). */
export function formatKnownHostLine(host: string, port: number, keyType: string, keyBase64: string, options: { hashed?: boolean } = {}): string {
  const name = knownHostsName(host, port);
  return `${options.hashed ? hashHostName(name) : name} ${keyType} ${keyBase64}`;
}

/**
 * Append `host keytype key` (or its hashed form) to a known_hosts file, creating the directory (0700)
 * and the file (0600) when missing.
 */
export async function appendKnownHost(
  file: string,
  host: string,
  port: number,
  keyType: string,
  keyBase64: string,
  options: { hashed?: boolean } = {},
): Promise<void> {
  if (!BASE64.test(keyBase64)) throw new Error('appendKnownHost: key is not base64');
  if (!/^[A-Za-z0-9@._+-]+$/.test(keyType)) throw new Error(`appendKnownHost: bad key type "${keyType}"`);
  if (/[\s,#]/.test(host) || host === '') throw new Error(`appendKnownHost: bad host name "${host}"`);
  await fsp.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const line = formatKnownHostLine(host, port, keyType, keyBase64, options);
  const fh = await fsp.open(file, 'a+', 0o600);
  try {
    const { size } = await fh.stat();
    let prefix = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      await fh.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) prefix = '\n';
    }
    await fh.appendFile(prefix + line + '\n');
  } finally {
    await fh.close();
  }
}

/**
 * A RevokedHostKeys file: public keys one per line (`type base64 [comment]`, `#` comments), as OpenSSH
 * reads them. An OpenSSH KRL (binary, starting with "SSHKRL") cannot be read here: the caller refuses
 * to connect rather than ignore it. Returns the revoked key blobs, or 'krl'.
 */
export function parseRevokedKeys(data: Buffer): Buffer[] | 'krl' {
  if (data.subarray(0, 6).toString('latin1') === 'SSHKRL') return 'krl';
  const out: Buffer[] = [];
  for (const raw of data.toString('utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [, b64] = line.split(/\s+/);
    if (b64 && /^[A-Za-z0-9+/]+=*$/.test(b64)) out.push(Buffer.from(b64, 'base64'));
  }
  return out;
}
