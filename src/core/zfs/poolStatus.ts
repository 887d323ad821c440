/**
 * `zpool status` read for what monitoring needs of each pool: the last scrub (when, with how many
 * errors, or still running / paused) and the count of data errors, from the `scan:` and `errors:`
 * lines. Asked as `env TZ=UTC LC_ALL=C zpool status` so the dates are UTC in C-locale words
 * (`Sat Dec  5 04:39:52 2026`). OpenZFS writes `  scan: scrub repaired 0B in 00:00:01 with 0 errors
 * on DATE`; zfs-fuse (Solaris' older format) ` scrub: scrub completed after 0h0m with 0 errors on DATE`.
 * Recorded outputs: test/fixtures/openzfs-2.3/root_zpool_status_*, test/fixtures/zfs-fuse/zpool-status-*.
 */
import type { ZfsCommand } from './commands.js';
import type { PoolInfo } from './types.js';
import { formatUtc } from '../retention/forecast.js';

export interface PoolScan {
  kind: 'scrub' | 'resilver';
  state: 'finished' | 'in-progress' | 'paused' | 'canceled';
  /** When it finished (or was paused / canceled, or started, while in progress): seconds since the epoch. */
  at?: number;
  /** Errors the finished scan found (`with N errors`). */
  errors?: number;
}

export interface PoolStatus {
  pool: string;
  /** The `state:` line (ONLINE, DEGRADED, ...). */
  state?: string;
  /** The last scan; undefined: none ever ran (`none requested`, or no `scan:` line at all). */
  scan?: PoolScan;
  /** `errors: N data errors` (0 for `No known data errors`); undefined when the line is missing. */
  dataErrors?: number;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Sat Dec  5 04:39:52 2026` (UTC: the command sets TZ) as seconds since the epoch; undefined if it is not that shape. */
export function parseStatusDate(text: string): number | undefined {
  const m = /\b([A-Z][a-z]{2}) +(\d{1,2}) (\d{1,2}):(\d{2}):(\d{2}) (\d{4})\b/.exec(text);
  if (!m) return undefined;
  const month = MONTHS.indexOf(m[1]!);
  if (month < 0) return undefined;
  return Date.UTC(Number(m[6]), month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])) / 1000;
}

/** The scan line's text (after `scan:` or `scrub:`) as a PoolScan; undefined for `none requested` or words it does not know. */
export function parseScan(text: string): PoolScan | undefined {
  const t = text.trim();
  if (/^none requested/.test(t)) return undefined;
  const kind = /^(scrub|resilver)/.exec(t)?.[1] as PoolScan['kind'] | undefined;
  if (!kind) return undefined;
  const at = parseStatusDate(t);
  const errors = /with (\d+) errors?/.exec(t)?.[1];
  const state: PoolScan['state'] | undefined = / in progress/.test(t)
    ? 'in-progress'
    : / paused/.test(t)
      ? 'paused'
      : / (canceled|stopped)/.test(t)
        ? 'canceled'
        : /(repaired|resilvered|completed)/.test(t)
          ? 'finished'
          : undefined;
  if (!state) return undefined;
  return { kind, state, ...(at !== undefined ? { at } : {}), ...(errors !== undefined ? { errors: Number(errors) } : {}) };
}

/** Every pool of a `zpool status` output. Unknown lines are skipped; a pool is never invented. */
export function parseZpoolStatus(text: string): PoolStatus[] {
  const pools: PoolStatus[] = [];
  let cur: PoolStatus | undefined;
  for (const line of text.split('\n')) {
    const m = /^\s*([a-z]+):\s?(.*)$/.exec(line);
    if (!m) continue;
    const [, key, value] = m as unknown as [string, string, string];
    if (key === 'pool') {
      cur = { pool: value.trim() };
      pools.push(cur);
    } else if (!cur) continue;
    else if (key === 'state') cur.state = value.trim();
    else if (key === 'scan' || key === 'scrub') {
      const scan = parseScan(value);
      if (scan) cur.scan = scan;
    } else if (key === 'errors') {
      const v = value.trim();
      if (/^No known data errors/.test(v)) cur.dataErrors = 0;
      else {
        const n = /^(\d+) data errors?/.exec(v)?.[1];
        if (n !== undefined) cur.dataErrors = Number(n);
      }
    }
  }
  return pools;
}

/** `zpool status` as the listing asks it: dates in UTC, C locale. */
export function zpoolStatusCommand(zpoolPath: string): ZfsCommand<PoolStatus[]> {
  const argv = ['env', 'TZ=UTC', 'LC_ALL=C', zpoolPath, 'status'];
  return { argv, parse: parseZpoolStatus };
}

/** The scans and data errors of `zpool status` onto the pools `zpool list` gave (by name; a pool status did not name stays as it is). */
export function mergePoolStatus(pools: PoolInfo[], statuses: readonly PoolStatus[]): PoolInfo[] {
  const byName = new Map(statuses.map((s) => [s.pool, s]));
  for (const p of pools) {
    const s = byName.get(p.name);
    if (!s) continue;
    if (s.scan) p.scan = s.scan;
    if (s.dataErrors !== undefined) p.dataErrors = s.dataErrors;
  }
  return pools;
}

/** A pool's last scan in words: `scrub finished 2026-12-05 04:40 UTC, 0 errors`, `scrub paused since …`; `none` when none ran. */
export function describeScan(scan: PoolScan | undefined): string {
  if (!scan) return 'none';
  const at = scan.at !== undefined ? formatUtc(scan.at) : 'at an unknown time';
  switch (scan.state) {
    case 'finished':
      return `${scan.kind} finished ${at}, ${scan.errors ?? 0} error${scan.errors === 1 ? '' : 's'}`;
    case 'in-progress':
      return `${scan.kind} in progress since ${at}`;
    case 'paused':
      return `${scan.kind} paused since ${at}`;
    case 'canceled':
      return `${scan.kind} canceled ${at}`;
  }
}
