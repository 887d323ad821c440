/**
 * One replication pair entry, as the setting `zfsFleet.pairs` or the fleet file (definition.ts)
 * writes it: valid (the pair) or invalid (where it is written and why), as plain data. No vscode
 * here: the reading is done by pairsConfig.ts (extension) and cli/fleetFile.ts (CLI).
 */
import { parseRate } from '../execute/throttle.js';
import { excludePatternProblem } from './exclude.js';
import { DEFAULT_PAIR_OPTIONS, parsePair, type PairSpec, type ReplicationPair } from './pairs.js';

export const PAIRS_FILE = '.zfs-fleet.json';

/** Where an entry was written. */
export type PairOrigin =
  | { kind: 'settings'; scope: 'user' | 'workspace' | 'folder'; index: number }
  | {
      kind: 'file';
      file: string;
      /** The entry's position in its section (-1: the whole file or section). */
      index: number;
      /** Where in the file: `pairs` unless said (a group's replica, a host entry). */
      section?: 'pairs' | 'groups' | 'hosts' | 'policies';
      /** The group's or host's name, or the policy's `HOST:DATASET`. */
      name?: string;
      /** A group's replica (0-based). */
      replica?: number;
    };

export interface ValidPair {
  ok: true;
  pair: ReplicationPair;
  spec: PairSpec;
  origin: PairOrigin;
  /** The same pair id is also in the workspace file; this settings entry wins. */
  overrides?: PairOrigin;
}

export interface InvalidPair {
  ok: false;
  origin: PairOrigin;
  /** The entry as written (for the tooltip); undefined when the whole file could not be read. */
  entry: unknown;
  reason: string;
}

export type PairEntry = ValidPair | InvalidPair;

export function describeOrigin(o: PairOrigin): string {
  if (o.kind === 'settings') return `${o.scope} settings (zfsFleet.pairs${o.index < 0 ? '' : ` #${o.index + 1}`})`;
  if (o.index < 0) return o.section ? `${o.file} (${o.section})` : o.file;
  if (o.section === 'hosts' || o.section === 'policies') return `${o.file} (${o.section} ${JSON.stringify(o.name ?? `#${o.index + 1}`)})`;
  if (o.section === 'groups') {
    const name = o.name !== undefined ? ` ${JSON.stringify(o.name)}` : '';
    return `${o.file} (groups #${o.index + 1}${name}${o.replica !== undefined ? `, replica #${o.replica + 1}` : ''})`;
  }
  return `${o.file} (pairs #${o.index + 1})`;
}

// `decrypt` is off unless said (no default to merge); `exclude` is a list, checked on its own.
export const OPTION_KEYS = [...Object.keys(DEFAULT_PAIR_OPTIONS), 'decrypt', 'exclude'];

/** Checked options as the pair keeps them: `bwlimit` in bytes per second. */
function optionsOf(o: Record<string, unknown>): PairSpec['options'] {
  const { bwlimit, ...flags } = o;
  return { ...(flags as PairSpec['options']), ...(bwlimit !== undefined ? { bwlimit: parseRate(bwlimit) } : {}) };
}
const ROUTES = ['relay', 'push', 'pull'];

/** A short name for an entry in messages: `source → target`, or `#N`. */
export function entryName(entry: unknown, origin: PairOrigin): string {
  if (entry && typeof entry === 'object') {
    const e = entry as Record<string, unknown>;
    if (typeof e.label === 'string' && e.label.trim()) return e.label;
    if (typeof e.source === 'string' || typeof e.target === 'string') return `${String(e.source ?? '?')} → ${String(e.target ?? '?')}`;
  }
  return `entry #${origin.index + 1}`;
}

/** One entry checked: the pair, or why not. */
export function checkEntry(entry: unknown, origin: PairOrigin): PairEntry {
  const bad = (reason: string): InvalidPair => ({ ok: false, origin, entry, reason });
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
    return bad('an entry must be an object {"source": "HOST:DATASET", "target": "HOST:DATASET"}');
  const e = entry as Record<string, unknown>;
  for (const k of Object.keys(e)) {
    if (!['source', 'target', 'route', 'label', 'options', 'imported'].includes(k))
      return bad(`unknown key "${k}" (expected source, target, route, label, options, imported)`);
  }
  // `imported`: where `zfs-fleet import` found the pair and the flags it did not apply; informational.
  if (e.imported !== undefined && (e.imported === null || typeof e.imported !== 'object' || Array.isArray(e.imported)))
    return bad('"imported" must be an object (what zfs-fleet import recorded)');
  if (typeof e.source !== 'string' || e.source.trim() === '') return bad('"source" is missing (HOST:DATASET)');
  if (typeof e.target !== 'string' || e.target.trim() === '') return bad('"target" is missing (HOST:DATASET)');
  if (e.route !== undefined && (typeof e.route !== 'string' || !ROUTES.includes(e.route)))
    return bad(`"route" must be relay, push or pull (got ${JSON.stringify(e.route)})`);
  if (e.label !== undefined && typeof e.label !== 'string') return bad('"label" must be a string');
  if (e.options !== undefined) {
    if (e.options === null || typeof e.options !== 'object' || Array.isArray(e.options)) return bad('"options" must be an object');
    for (const [k, v] of Object.entries(e.options)) {
      if (k === 'bwlimit') {
        try {
          parseRate(v);
        } catch (err) {
          return bad(`option "bwlimit": ${(err as Error).message}`);
        }
        continue;
      }
      if (k === 'exclude') {
        if (!Array.isArray(v) || v.length === 0)
          return bad('option "exclude" must be a list of child datasets relative to the source (["tmp", "vms/*/scratch"])');
        for (const p of v) {
          const problem = excludePatternProblem(p);
          if (problem) return bad(`option "exclude": ${problem}`);
        }
        if ((e.options as Record<string, unknown>).recursive !== true)
          return bad('option "exclude" needs "recursive": true (it leaves out children of a recursive pair)');
        continue;
      }
      if (!OPTION_KEYS.includes(k)) return bad(`unknown option "${k}" (known: ${[...OPTION_KEYS, 'bwlimit'].join(', ')})`);
      if (typeof v !== 'boolean') return bad(`option "${k}" must be true or false`);
    }
  }
  const spec: PairSpec = {
    source: e.source.trim(),
    target: e.target.trim(),
    ...(e.route !== undefined ? { route: e.route as PairSpec['route'] } : {}),
    ...(typeof e.label === 'string' && e.label.trim() ? { label: e.label.trim() } : {}),
    ...(e.options !== undefined ? { options: optionsOf(e.options as Record<string, unknown>) } : {}),
  };
  try {
    return { ok: true, pair: parsePair(spec), spec, origin };
  } catch (err) {
    return bad((err as Error).message);
  }
}

export interface PairsFile {
  /** A display path (relative to the workspace folder where possible). */
  file: string;
  /** The file's text; undefined when it could not be read (`error` says why). */
  text?: string;
  error?: string;
}
