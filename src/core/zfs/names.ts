/**
 * OpenZFS name rules, ported from module/zcommon/zfs_namecheck.c (entity_namecheck, pool_namecheck,
 * dataset_nestcheck) and libzfs' zfs_validate_name. Names coming FROM hosts are parsed leniently
 * (`parseZfsName`); names coming from the USER are validated strictly (`validate*`), so a typo is
 * reported before any command runs.
 */

/** ZFS_MAX_DATASET_NAME_LEN is 256 including the NUL, so 255 characters at most. */
export const MAX_NAME_LENGTH = 255;
/** zfs_max_dataset_nesting's default: a name may have at most 49 '/' before its '@' or '#'. */
export const MAX_NESTING = 50;
/** pool_namecheck leaves room for "$ORIGIN" twice and two separators: 256 - 2 - 14 = 240, exclusive. */
export const MAX_POOL_NAME_LENGTH = 239;

export type ZfsNameKind = 'pool' | 'dataset' | 'snapshot' | 'bookmark';

export class ZfsNameError extends Error {
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`invalid ZFS name ${JSON.stringify(input)}: ${reason}`);
    this.name = 'ZfsNameError';
  }
}

export interface ZfsName {
  /** The whole name as given. */
  full: string;
  pool: string;
  /** The filesystem or volume part (before '@' or '#'). */
  dataset: string;
  /** The part after '@', for snapshots. */
  snapshot?: string;
  /** The part after '#', for bookmarks. */
  bookmark?: string;
  kind: ZfsNameKind;
}

function validChar(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c === '-' || c === '_' || c === '.' || c === ':' || c === ' ';
}

function describeChar(c: string): string {
  if (c === '\t') return 'a tab';
  if (c === '\n') return 'a newline';
  const code = c.codePointAt(0) ?? 0;
  if (code < 0x20 || (code >= 0x7f && code <= 0x9f) || (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069))
    return `control character U+${code.toString(16).padStart(4, '0')}`;
  return `'${c}'`;
}

/** Returns the reason a name fails entity_namecheck, or undefined if it passes. `allowPercent`: names read from hosts may hold '%' (temporary clones). */
function entityProblem(path: string, allowPercent: boolean): string | undefined {
  if (path.length > MAX_NAME_LENGTH) return `name is too long (${path.length} characters; at most ${MAX_NAME_LENGTH})`;
  if (path.startsWith('/')) return 'leading slash in name';
  if (path === '') return 'empty name';
  let start = 0;
  let foundDelim = false;
  for (;;) {
    let end = start;
    while (end < path.length && path[end] !== '/' && path[end] !== '@' && path[end] !== '#') end++;
    if (end === path.length && path[end - 1] === '/') return 'trailing slash in name';
    for (let i = start; i < end; i++) {
      const c = path[i]!;
      if (!validChar(c) && !(allowPercent && c === '%')) return `invalid character ${describeChar(c)} in name`;
    }
    if (end === path.length || path[end] === '/') {
      const component = path.slice(start, end);
      if (component === '.') return "'.' is not a valid component name";
      if (component === '..') return "'..' is not a valid component name";
    }
    if (path[end] === '@' || path[end] === '#') {
      if (foundDelim) return "multiple '@' and/or '#' delimiters in name";
      foundDelim = true;
    }
    if (start === end) return "empty component or misplaced '@' or '#' delimiter in name";
    if (end === path.length) return undefined;
    if (path[end] === '/' && foundDelim) return "a snapshot or bookmark name cannot contain '/'";
    start = end + 1;
  }
}

function nesting(path: string): number {
  let n = 0;
  for (const c of path) {
    if (c === '@' || c === '#') break;
    if (c === '/') n++;
  }
  return n;
}

/** pool_namecheck plus libzfs' reserved names. */
export function poolNameProblem(pool: string): string | undefined {
  if (pool === '') return 'empty pool name';
  if (pool.length > MAX_POOL_NAME_LENGTH) return `pool name is too long (${pool.length} characters; at most ${MAX_POOL_NAME_LENGTH})`;
  for (const c of pool) if (!validChar(c)) return `invalid character ${describeChar(c)} in pool name`;
  const first = pool[0]!;
  if (!((first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z'))) return 'pool name must begin with a letter';
  if (pool === 'mirror' || pool === 'raidz' || pool === 'draid') return `'${pool}' is a reserved name`;
  if (/^(mirror|raidz|draid|spare|log)/.test(pool)) return `name '${pool}' begins with a reserved prefix`;
  if (/^c[0-9]/.test(pool)) return 'pool name is reserved (it looks like a disk name: c[0-9])';
  if (pool.includes('%')) return "invalid character '%' in pool name";
  return undefined;
}

function problemFor(input: string, kind: ZfsNameKind | 'any', strict: boolean): string | undefined {
  if (kind === 'pool') return poolNameProblem(input);
  const entity = entityProblem(input, !strict);
  if (entity) return entity;
  if (nesting(input) >= MAX_NESTING) return `name is nested too deeply (${nesting(input)} levels; fewer than ${MAX_NESTING})`;
  const at = input.indexOf('@');
  const hash = input.indexOf('#');
  if (strict) {
    const pool = input.slice(0, Math.min(...[input.indexOf('/'), at, hash].map((i) => (i < 0 ? input.length : i))));
    const poolProblem = poolNameProblem(pool);
    if (poolProblem) return poolProblem;
  }
  switch (kind) {
    case 'dataset':
      if (at >= 0) return "a dataset name cannot contain '@' (that makes a snapshot name)";
      if (hash >= 0) return "a dataset name cannot contain '#' (that makes a bookmark name)";
      return undefined;
    case 'snapshot':
      if (at < 0) return "missing '@' delimiter in snapshot name";
      if (hash >= 0) return "a snapshot name cannot contain '#'";
      return undefined;
    case 'bookmark':
      if (hash < 0) return "missing '#' delimiter in bookmark name";
      return undefined;
    case 'any':
      return undefined;
  }
}

function split(full: string): ZfsName {
  const at = full.indexOf('@');
  const hash = full.indexOf('#');
  const cut = at >= 0 ? at : hash >= 0 ? hash : full.length;
  const dataset = full.slice(0, cut);
  const slash = dataset.indexOf('/');
  const pool = slash < 0 ? dataset : dataset.slice(0, slash);
  if (at >= 0) return { full, pool, dataset, snapshot: full.slice(at + 1), kind: 'snapshot' };
  if (hash >= 0) return { full, pool, dataset, bookmark: full.slice(hash + 1), kind: 'bookmark' };
  return { full, pool, dataset, kind: slash < 0 ? 'pool' : 'dataset' };
}

/** Validate a name the user typed; throws ZfsNameError naming what is wrong. `kind` 'dataset' accepts a pool's root dataset too. */
export function validateName(input: string, kind: ZfsNameKind | 'any' = 'any'): ZfsName {
  const problem = problemFor(input, kind, true);
  if (problem) throw new ZfsNameError(input, problem);
  return split(input);
}

export const validateDatasetName = (input: string): ZfsName => validateName(input, 'dataset');
export const validateSnapshotName = (input: string): ZfsName => validateName(input, 'snapshot');
export const validateBookmarkName = (input: string): ZfsName => validateName(input, 'bookmark');

/** What is wrong with a snapshot name typed by the user (an input box's validateInput), or undefined. */
export function snapshotNameProblem(input: string): string | undefined {
  try {
    validateSnapshotName(input);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
export const validatePoolName = (input: string): ZfsName => validateName(input, 'pool');

/** True when the user-supplied name is valid for the kind. */
export function isValidName(input: string, kind: ZfsNameKind | 'any' = 'any'): boolean {
  return problemFor(input, kind, true) === undefined;
}

/**
 * What is wrong with a name read from a host, or undefined when it is a ZFS name (lenient like
 * parseZfsName: '%' allowed for ZFS's own hidden datasets, pool rules not enforced).
 */
export function hostNameProblem(full: string): string | undefined {
  // Fast path for a listing's 100,000 names: the usual shape is valid without the character walk.
  if (full.length <= MAX_NAME_LENGTH && COMMON_NAME.test(full) && !DOT_COMPONENT.test(full) && slashes(full) < MAX_NESTING) return undefined;
  // A pool name begins with a letter: a name from a host that begins with '-' would read as an option.
  if (!/^[A-Za-z]/.test(full)) return `name must begin with a letter (its pool's name), not ${JSON.stringify(full.charAt(0))}`;
  return problemFor(full, 'any', false);
}

/** Valid characters in components separated by '/', with at most one '@' or '#' part. */
const COMMON_NAME = /^[A-Za-z][A-Za-z0-9_.: %-]*(?:\/[A-Za-z0-9_.: %-]+)*(?:[@#][A-Za-z0-9_.: %-]+)?$/;
/** A '.' or '..' component (invalid): let the full check name it. */
const DOT_COMPONENT = /(?:^|[/@#])\.\.?(?:\/|$)/;

function slashes(s: string): number {
  let n = 0;
  for (let i = s.indexOf('/'); i >= 0; i = s.indexOf('/', i + 1)) n++;
  return n;
}

/** Parse a name read from a host (lenient: '%' allowed, pool rules not enforced); throws ZfsNameError when it is not a ZFS name at all. */
export function parseZfsName(full: string): ZfsName {
  const problem = problemFor(full, 'any', false);
  if (problem) throw new ZfsNameError(full, problem);
  return split(full);
}

/** The parent dataset's name, or undefined for a pool's root dataset. */
export function parentDataset(dataset: string): string | undefined {
  const i = dataset.lastIndexOf('/');
  return i < 0 ? undefined : dataset.slice(0, i);
}

/** The last component of a dataset name, or the part after '@'/'#'. */
export function shortName(full: string): string {
  const n = split(full);
  if (n.snapshot !== undefined) return n.snapshot;
  if (n.bookmark !== undefined) return n.bookmark;
  const i = n.dataset.lastIndexOf('/');
  return i < 0 ? n.dataset : n.dataset.slice(i + 1);
}
