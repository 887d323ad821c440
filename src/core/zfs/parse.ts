/** Parsers for the two listing dialects (`zfs list -H -p` and `zfs get -H -p` triples) and for zpool and version output. */
import { ZfsParseError } from './errors.js';
import type { PoolInfo, ZfsObject, ZfsObjectType } from './types.js';

const TYPES: Record<string, ZfsObjectType> = { filesystem: 'filesystem', volume: 'volume', snapshot: 'snapshot', bookmark: 'bookmark' };

function num(value: string): number | undefined {
  if (value === '-' || value === '' || value === 'none') return undefined;
  if (!/^\d+$/.test(value)) return NaN;
  return Number(value);
}

const SIZE_SUFFIX: Record<string, number> = { '': 1, B: 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40, P: 2 ** 50, E: 2 ** 60, Z: 2 ** 70 };

/** A human size as zfs/zpool print without -p ("1.5G", "783K", "512"); for hosts that cannot print exact numbers. */
export function parseHumanSize(value: string): number | undefined {
  if (value === '-' || value === '' || value === 'none') return undefined;
  const m = /^(\d+(?:\.\d+)?)([BKMGTPEZ]?)$/i.exec(value);
  if (!m) return NaN;
  return Math.round(Number(m[1]) * SIZE_SUFFIX[m[2]!.toUpperCase()]!);
}

type Setter = (o: ZfsObject, v: string) => string | undefined;

function numeric(key: 'creation' | 'createtxg' | 'used' | 'available' | 'referenced' | 'written' | 'userrefs'): Setter {
  return (o, v) => {
    const n = num(v);
    if (Number.isNaN(n)) return `${key} is not a number`;
    if (n !== undefined) o[key] = n;
    return undefined;
  };
}

/** How each property's text becomes a field. Unknown properties are ignored, not errors. */
const SETTERS: Record<string, Setter> = {
  type: (o, v) => {
    const t = TYPES[v];
    if (!t) return `unknown type '${v}'`;
    o.type = t;
    return undefined;
  },
  creation: numeric('creation'),
  createtxg: numeric('createtxg'),
  used: numeric('used'),
  available: numeric('available'),
  avail: numeric('available'),
  referenced: numeric('referenced'),
  refer: numeric('referenced'),
  written: numeric('written'),
  userrefs: numeric('userrefs'),
  guid: (o, v) => {
    if (v === '-') return undefined;
    if (!/^\d+$/.test(v)) return 'guid is not a decimal number (is -p missing?)';
    o.guid = v;
    return undefined;
  },
  mountpoint: (o, v) => {
    if (v !== '-') o.mountpoint = v;
    return undefined;
  },
  mounted: (o, v) => {
    if (v !== '-') o.mounted = v === 'yes';
    return undefined;
  },
  readonly: (o, v) => {
    if (v !== '-') o.readonly = v === 'on';
    return undefined;
  },
  origin: (o, v) => {
    if (v !== '-' && v !== '') o.origin = v;
    return undefined;
  },
  encryption: (o, v) => {
    if (v !== '-' && v !== 'off') o.encryption = v;
    return undefined;
  },
  // Only the two roles zfs-fleet writes; anything else a host says is not a role.
  'zfs-fleet:role': (o, v) => {
    if (v === 'primary' || v === 'replica') o.role = v;
    return undefined;
  },
  keystatus: (o, v) => {
    if (v === 'available' || v === 'unavailable') o.keystatus = v;
    return undefined;
  },
  receive_resume_token: (o, v) => {
    if (v !== '-' && v !== '') o.receiveResumeToken = v;
    return undefined;
  },
};

/** Call `fn` for each non-empty line with its 1-based number (a loop over indexOf: no array of lines for 100,000-line listings). */
function eachLine(stdout: string, fn: (line: string, lineNumber: number) => void): void {
  let start = 0;
  let lineNumber = 0;
  while (start < stdout.length) {
    let end = stdout.indexOf('\n', start);
    if (end < 0) end = stdout.length;
    lineNumber++;
    const line = stdout.slice(start, end);
    start = end + 1;
    if (line !== '') fn(line, lineNumber);
  }
}

function typeFromName(name: string): ZfsObjectType {
  return name.includes('@') ? 'snapshot' : name.includes('#') ? 'bookmark' : 'filesystem';
}

/**
 * `zfs list -H -p -o name,<props...>`: one tab-separated line per object, columns in `columns` order
 * (the first must be `name`). Names may contain spaces, never tabs.
 */
export function parseZfsListTsv(stdout: string, columns: readonly string[], command = 'zfs list'): ZfsObject[] {
  if (columns[0] !== 'name') throw new Error('the first column of a listing must be name');
  const out: ZfsObject[] = [];
  const setters = columns.map((c) => SETTERS[c]);
  const n = columns.length;
  eachLine(stdout, (line, lineNumber) => {
    const fields = line.split('\t');
    if (fields.length !== n) throw new ZfsParseError(command, lineNumber, line, `expected ${n} tab-separated fields, found ${fields.length}`);
    const name = fields[0]!;
    const o: ZfsObject = { name, type: typeFromName(name) };
    for (let i = 1; i < n; i++) {
      const set = setters[i];
      if (!set) continue;
      const problem = set(o, fields[i]!);
      if (problem) throw new ZfsParseError(command, lineNumber, line, problem);
    }
    out.push(o);
  });
  return out;
}

/**
 * `zfs get -H -p -o name,property,value <props>`: one line per (object, property), objects in order.
 * Used on hosts without `zfs list -p` (zfs-fuse), where `zfs get -p` still prints exact numbers.
 */
export function parseZfsGetTriples(stdout: string, command = 'zfs get'): ZfsObject[] {
  const out: ZfsObject[] = [];
  const byName = new Map<string, ZfsObject>();
  eachLine(stdout, (line, lineNumber) => {
    const t1 = line.indexOf('\t');
    const t2 = t1 < 0 ? -1 : line.indexOf('\t', t1 + 1);
    if (t1 <= 0 || t2 < 0) throw new ZfsParseError(command, lineNumber, line, 'expected name<TAB>property<TAB>value');
    const name = line.slice(0, t1);
    const property = line.slice(t1 + 1, t2);
    const value = line.slice(t2 + 1);
    let o = byName.get(name);
    if (!o) {
      o = { name, type: typeFromName(name) };
      byName.set(name, o);
      out.push(o);
    }
    const set = SETTERS[property];
    if (!set) return;
    const problem = set(o, value);
    if (problem) throw new ZfsParseError(command, lineNumber, line, problem);
  });
  return out;
}

const POOL_COLUMNS = ['name', 'health', 'size', 'allocated', 'free'] as const;

/** `zpool list -H [-p] -o name,health,size,allocated,free` (zfs-fuse: `used`/`avail` columns are accepted too, same order). */
export function parseZpoolList(stdout: string, exact: boolean, command = 'zpool list'): PoolInfo[] {
  const out: PoolInfo[] = [];
  const lines = stdout.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const f = line.split('\t');
    if (f.length !== POOL_COLUMNS.length)
      throw new ZfsParseError(command, i + 1, line, `expected ${POOL_COLUMNS.length} tab-separated fields, found ${f.length}`);
    const size = (v: string): number | undefined => {
      const n = exact ? num(v) : parseHumanSize(v);
      if (Number.isNaN(n)) throw new ZfsParseError(command, i + 1, line, `'${v}' is not a size`);
      return n;
    };
    out.push({ name: f[0]!, health: f[1]!, size: size(f[2]!), allocated: size(f[3]!), free: size(f[4]!) });
  }
  return out;
}

/** `zfs version` of OpenZFS: "zfs-2.3.2-1\nzfs-kmod-2.3.2-1" (FreeBSD: "zfs-2.1.9-FreeBSD_..."). */
export function parseOpenZfsVersion(stdout: string): string | undefined {
  const m = /^zfs-(\d+\.\d+(?:\.\d+)?)/m.exec(stdout);
  return m?.[1];
}
