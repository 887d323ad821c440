/**
 * Replication pairs from their two sources, the setting `zfsFleet.pairs` and the workspace file
 * `.zfs-fleet.json` (`{"pairs": [...]}`; other top-level keys, such as the `policies` that
 * `zfs-fleet import sanoid --write` adds, are not pairs and are left to their readers), as plain data. No vscode here: the reading is done by
 * pairsConfig.ts; this decides what is valid, which entry wins, and why an entry is rejected.
 * Every entry ends up either as a pair or as an invalid entry with its reason: nothing is dropped.
 */
import { DEFAULT_PAIR_OPTIONS, parsePair, type PairSpec, type ReplicationPair } from './pairs.js';

export const PAIRS_FILE = '.zfs-fleet.json';

/** Where an entry was written. */
export type PairOrigin = { kind: 'settings'; scope: 'user' | 'workspace' | 'folder'; index: number } | { kind: 'file'; file: string; index: number };

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
  return o.index < 0 ? o.file : `${o.file} (pairs #${o.index + 1})`;
}

const OPTION_KEYS = Object.keys(DEFAULT_PAIR_OPTIONS);
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
      if (!OPTION_KEYS.includes(k)) return bad(`unknown option "${k}" (known: ${OPTION_KEYS.join(', ')})`);
      if (typeof v !== 'boolean') return bad(`option "${k}" must be true or false`);
    }
  }
  const spec: PairSpec = {
    source: e.source.trim(),
    target: e.target.trim(),
    ...(e.route !== undefined ? { route: e.route as PairSpec['route'] } : {}),
    ...(typeof e.label === 'string' && e.label.trim() ? { label: e.label.trim() } : {}),
    ...(e.options !== undefined ? { options: e.options as PairSpec['options'] } : {}),
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

/** Entries of one workspace file: each entry, or one invalid entry for a file that is not `{"pairs": [...]}`. */
export function fileEntries(f: PairsFile): PairEntry[] {
  const whole = (reason: string): PairEntry[] => [{ ok: false, origin: { kind: 'file', file: f.file, index: -1 }, entry: undefined, reason }];
  if (f.text === undefined) return whole(`cannot be read: ${f.error ?? 'unknown error'}`);
  let json: unknown;
  try {
    json = JSON.parse(f.text);
  } catch (e) {
    return whole(`is not valid JSON: ${(e as Error).message}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return whole('must be an object {"pairs": [...]}');
  const pairs = (json as Record<string, unknown>).pairs;
  if (pairs === undefined) return [];
  if (!Array.isArray(pairs)) return whole('"pairs" must be an array');
  return pairs.map((p, index) => checkEntry(p, { kind: 'file', file: f.file, index }));
}

/**
 * All entries: the settings' first, then the workspace files'. A settings pair wins over a file pair
 * with the same id (the file's entry is not listed; the settings entry says it overrides it); a
 * second entry with an id already listed from the same place is invalid ("duplicate").
 */
export function collectPairs(settings: { value: unknown; scope: 'user' | 'workspace' | 'folder' }, files: readonly PairsFile[]): PairEntry[] {
  const out: PairEntry[] = [];
  const byId = new Map<string, ValidPair>();
  const add = (e: PairEntry) => {
    if (!e.ok) return void out.push(e);
    const prev = byId.get(e.pair.id);
    if (prev) {
      if (prev.origin.kind === 'settings' && e.origin.kind === 'file') {
        prev.overrides ??= e.origin;
        return;
      }
      return void out.push({
        ok: false,
        origin: e.origin,
        entry: e.spec,
        reason: `duplicate: the pair ${e.pair.id} is already defined in ${describeOrigin(prev.origin)}`,
      });
    }
    byId.set(e.pair.id, e);
    out.push(e);
  };
  const v = settings.value;
  if (v !== undefined && v !== null) {
    if (!Array.isArray(v))
      out.push({
        ok: false,
        origin: { kind: 'settings', scope: settings.scope, index: -1 },
        entry: v,
        reason: 'zfsFleet.pairs must be an array of {source, target, route?, label?, options?}',
      });
    else v.forEach((entry, index) => add(checkEntry(entry, { kind: 'settings', scope: settings.scope, index })));
  }
  for (const f of files) for (const e of fileEntries(f)) add(e);
  return out;
}
