/**
 * A `receive_resume_token` read without running anything, and whether the stream it stands for can
 * still be resumed from the source.
 *
 * The token is what libzfs (`zfs_send_resume_token_to_nvlist`) decodes: `1-<checksum>-<length>-<hex>`,
 * where <hex> is a zlib-compressed packed nvlist (native encoding, the target's byte order, as its
 * kernel wrote it), <length> its uncompressed size and <checksum> the first word of fletcher-4 over the
 * compressed bytes. The nvlist holds `toguid`/`toname` (the snapshot being sent), `fromguid` (an
 * incremental's source), `object`/`offset`/`bytes` (how far it got) and flags (`largeblockok`,
 * `compressok`, `rawok`, ...). The decoder is tested against the contents `zfs send -nvP -t TOKEN`
 * prints for real tokens (test/fixtures/openzfs-2.3); anything it does not recognise makes the token
 * "unreadable", and the planner then falls back to what zfs says when the resume runs.
 *
 * `zfs send -t` refuses a token whose snapshot is gone ("cannot resume send: 'X' used in the initial
 * send no longer exists", "'X' is no longer the same snapshot used in the initial send", "incremental
 * source 0x... no longer exists"); checkResumeToken says the same from the source's listing, before
 * anything runs.
 */
import { inflateSync } from 'node:zlib';
import type { HostListing } from '../fleet/listing.js';
import type { ZfsObject } from '../zfs/types.js';

export interface ResumeTokenInfo {
  version: number;
  /** The snapshot being sent, as named on the source when the stream started. */
  toname: string;
  /** Its guid, decimal (as the listings print guids). */
  toguid: string;
  /** An incremental stream's source (snapshot or bookmark) guid, decimal. */
  fromguid?: string;
  /** How far the receive got: bytes of the stream received. */
  bytes?: number;
  /** Boolean entries of the token (largeblockok, embedok, compressok, rawok, savedok). */
  flags: string[];
}

export type DecodedToken = { ok: true; info: ResumeTokenInfo } | { ok: false; reason: string };

const U64 = 0xffffffffffffffffn;

/** The first word of fletcher-4 over 32-bit words (little-endian, as x86 and arm64 targets write them). */
function fletcher4First(buf: Buffer, littleEndian: boolean): bigint {
  let a = 0n;
  for (let i = 0; i + 4 <= buf.length; i += 4) a = (a + BigInt(littleEndian ? buf.readUInt32LE(i) : buf.readUInt32BE(i))) & U64;
  return a;
}

// data_type_t (sys/nvpair.h)
const DATA_TYPE_BOOLEAN = 1;
const DATA_TYPE_UINT64 = 8;
const DATA_TYPE_STRING = 9;
const DATA_TYPE_NVLIST = 19;
const DATA_TYPE_NVLIST_ARRAY = 20;

type NvValue = bigint | string | true;

/** A packed nvlist in native encoding, flat (the resume token has no nested lists). */
function unpackNative(buf: Buffer): Map<string, NvValue> {
  if (buf.length < 16) throw new Error('packed nvlist too short');
  const encoding = buf[0];
  const endian = buf[1];
  if (encoding !== 0) throw new Error(`nvlist encoding ${encoding} (only native, 0, is read)`);
  const le = endian === 1;
  const i32 = (o: number) => (le ? buf.readInt32LE(o) : buf.readInt32BE(o));
  const i16 = (o: number) => (le ? buf.readInt16LE(o) : buf.readInt16BE(o));
  const u64 = (o: number) => (le ? buf.readBigUInt64LE(o) : buf.readBigUInt64BE(o));
  // nvs_header_t (4 bytes), then nvl_version and nvl_nvflag (int32 each), then the pairs.
  let off = 4 + 8;
  const out = new Map<string, NvValue>();
  for (;;) {
    if (off + 4 > buf.length) throw new Error('packed nvlist ends without its terminator');
    const size = i32(off);
    if (size === 0) break;
    if (size < 16 || off + size > buf.length) throw new Error(`nvpair of size ${size} at offset ${off}`);
    const nameSize = i16(off + 4);
    const nelem = i32(off + 8);
    const type = i32(off + 12);
    if (nameSize < 1 || 16 + nameSize > size) throw new Error(`nvpair name of size ${nameSize} at offset ${off}`);
    const name = buf.toString('latin1', off + 16, off + 16 + nameSize - 1);
    const value = off + ((16 + nameSize + 7) & ~7);
    if (type === DATA_TYPE_NVLIST || type === DATA_TYPE_NVLIST_ARRAY) throw new Error(`nested nvlist ${name}`);
    if (type === DATA_TYPE_UINT64 && nelem === 1) {
      if (value + 8 > off + size) throw new Error(`uint64 ${name} outside its pair`);
      out.set(name, u64(value));
    } else if (type === DATA_TYPE_STRING && nelem === 1) {
      const end = buf.indexOf(0, value);
      if (end < 0 || end >= off + size) throw new Error(`string ${name} outside its pair`);
      out.set(name, buf.toString('utf8', value, end));
    } else if (type === DATA_TYPE_BOOLEAN) {
      out.set(name, true);
    }
    // Other types (arrays of redaction snapshots, ...) are skipped: nvp_size covers them.
    off += size;
  }
  return out;
}

/** Decode a receive_resume_token; never throws. */
export function decodeResumeToken(token: string): DecodedToken {
  const m = /^(\d+)-([0-9a-f]+)-([0-9a-f]+)-([0-9a-f]+)$/.exec(token.trim());
  if (!m) return { ok: false, reason: 'not in the form VERSION-CHECKSUM-LENGTH-HEX' };
  const version = Number(m[1]);
  if (version !== 1) return { ok: false, reason: `token version ${version} (only version 1 is known)` };
  if (m[4]!.length % 2 !== 0) return { ok: false, reason: 'odd number of hex digits' };
  const compressed = Buffer.from(m[4]!, 'hex');
  const checksum = BigInt(`0x${m[2]}`);
  if (fletcher4First(compressed, true) !== checksum && fletcher4First(compressed, false) !== checksum)
    return { ok: false, reason: 'checksum mismatch (the token is damaged)' };
  let packed: Buffer;
  try {
    packed = inflateSync(compressed);
  } catch (e) {
    return { ok: false, reason: `cannot decompress: ${(e as Error).message}` };
  }
  if (packed.length !== parseInt(m[3]!, 16)) return { ok: false, reason: `decompressed to ${packed.length} bytes, the token says ${parseInt(m[3]!, 16)}` };
  let nv: Map<string, NvValue>;
  try {
    nv = unpackNative(packed);
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  const toguid = nv.get('toguid');
  const toname = nv.get('toname');
  if (typeof toguid !== 'bigint' || typeof toname !== 'string') return { ok: false, reason: 'no toguid/toname in the token' };
  const info: ResumeTokenInfo = { version, toname, toguid: toguid.toString(), flags: [...nv].filter(([, v]) => v === true).map(([k]) => k) };
  const fromguid = nv.get('fromguid');
  if (typeof fromguid === 'bigint' && fromguid !== 0n) info.fromguid = fromguid.toString();
  const bytes = nv.get('bytes');
  if (typeof bytes === 'bigint') info.bytes = Number(bytes);
  return { ok: true, info };
}

export interface ResumeTokenCheck {
  token: string;
  info?: ResumeTokenInfo;
  /** The token could not be read: why (nothing is known about the stream then). */
  unreadable?: string;
  /** The snapshot the stream sends, as the source lists it now (found by guid: a rename does not matter to zfs). */
  sending?: ZfsObject;
  /** An incremental's source (snapshot or bookmark) as the source lists it now. */
  from?: ZfsObject;
  /** The stream cannot be resumed from the source, in words ("@X no longer exists on the source"). */
  stale?: string;
}

function snapLabel(name: string): string {
  const i = name.search(/[@#]/);
  return i < 0 ? name : name.slice(i);
}

/**
 * Can the partial receive be resumed from the pair's source? Looks for the token's snapshots by guid
 * among the source dataset's (and, for recursive pairs, its descendants') snapshots and bookmarks.
 */
export function checkResumeToken(token: string, source: HostListing, sourceDataset: string, recursive = false): ResumeTokenCheck {
  const decoded = decodeResumeToken(token);
  if (!decoded.ok) return { token, unreadable: decoded.reason };
  const info = decoded.info;
  const out: ResumeTokenCheck = { token, info };
  const byGuid = new Map<string, ZfsObject>();
  const byName = new Map<string, ZfsObject>();
  for (const [name, e] of source.datasets) {
    if (name !== sourceDataset && !(recursive && name.startsWith(`${sourceDataset}/`))) continue;
    for (const o of [...e.snapshots, ...e.bookmarks]) {
      if (o.guid !== undefined) byGuid.set(o.guid, o);
      byName.set(o.name, o);
    }
  }
  const sending = byGuid.get(info.toguid);
  if (sending?.type === 'snapshot') out.sending = sending;
  else {
    const same = byName.get(info.toname);
    const where = `${source.host}:${sourceDataset}`;
    if (same) out.stale = `${snapLabel(info.toname)} on the source was re-created since the stream started (guid ${same.guid}, the stream's is ${info.toguid})`;
    else if (info.toname.startsWith(`${sourceDataset}@`) || (recursive && info.toname.startsWith(`${sourceDataset}/`)))
      out.stale = `${snapLabel(info.toname)} no longer exists on the source`;
    else out.stale = `the stream is of ${info.toname}, which is not a snapshot of the source ${where}`;
    return out;
  }
  if (info.fromguid !== undefined) {
    const from = byGuid.get(info.fromguid);
    if (!from) {
      out.stale = `the incremental source of the stream (guid ${info.fromguid}) no longer exists on the source, neither as a snapshot nor as a bookmark`;
      return out;
    }
    out.from = from;
  }
  return out;
}
