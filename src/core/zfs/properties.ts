/**
 * A property across a tree, with where each value comes from: `zfs get -H -p -r -o
 * name,property,value,source PROPS DATASET`, the same command on zfs-fuse 0.7 and OpenZFS. Pure: the
 * command and its parser; the app layer runs it. Used by the Set Property and Rename previews to say
 * what inherits a value, and what a move under another parent changes (mountpoints, shares).
 */
import type { ZfsCommand } from './commands.js';
import { ZfsParseError } from './errors.js';
import { hasControl } from '../text.js';

/** Where a value comes from, as `zfs get` prints it in its source column. */
export type PropertySource =
  | { kind: 'local' }
  | { kind: 'default' }
  | { kind: 'received' }
  | { kind: 'temporary' }
  /** `inherited from DATASET` */
  | { kind: 'inherited'; from: string }
  /** `-`: a read-only property, or one that does not apply. */
  | { kind: 'none' };

export interface PropertyRow {
  name: string;
  property: string;
  value: string;
  source: PropertySource;
}

export function parseSource(text: string): PropertySource {
  if (text === 'local' || text === 'default' || text === 'received' || text === 'temporary') return { kind: text };
  if (text.startsWith('inherited from ')) return { kind: 'inherited', from: text.slice('inherited from '.length) };
  return { kind: 'none' };
}

/** The source as `zfs get` says it. */
export function sourceText(s: PropertySource): string {
  return s.kind === 'inherited' ? `inherited from ${s.from}` : s.kind === 'none' ? '-' : s.kind;
}

export function propertyRowsCommand(zfs: string, properties: readonly string[], dataset: string, recursive = true): ZfsCommand<PropertyRow[]> {
  const argv = [zfs, 'get', '-H', '-p', ...(recursive ? ['-r'] : []), '-o', 'name,property,value,source', properties.join(','), dataset];
  return { argv, parse: (out) => parsePropertyRows(out, argv.join(' ')) };
}

/**
 * Lines `name<TAB>property<TAB>value<TAB>source`; a value may hold a tab (the name and the source never
 * do). A name with control bytes is refused; a value is kept as the host gave it (shown through safeLine).
 */
export function parsePropertyRows(stdout: string, command = 'zfs get'): PropertyRow[] {
  const out: PropertyRow[] = [];
  stdout.split('\n').forEach((line, i) => {
    if (line === '') return;
    const t1 = line.indexOf('\t');
    const t2 = line.indexOf('\t', t1 + 1);
    const t3 = line.lastIndexOf('\t');
    if (t1 <= 0 || t2 < 0 || t3 <= t2) throw new ZfsParseError(command, i + 1, line, 'expected name<TAB>property<TAB>value<TAB>source');
    const value = line.slice(t2 + 1, t3);
    if (hasControl(line.slice(0, t1))) throw new ZfsParseError(command, i + 1, line, 'control characters in a dataset name');
    out.push({ name: line.slice(0, t1), property: line.slice(t1 + 1, t2), value, source: parseSource(line.slice(t3 + 1)) });
  });
  return out;
}

/**
 * Whether a `readonly` row says the dataset is read-only. zfs-fuse 0.7 enforces a `readonly=on` it
 * was set (a write fails with "Read-only file system") but reports it as `off` with the source
 * `temporary` (test/fixtures/zfs-fuse/get-role-props-set), so there that row means on.
 */
export function readonlyOn(row: Pick<PropertyRow, 'value' | 'source'>, implementation: string): boolean {
  return row.value === 'on' || (implementation === 'zfs-fuse' && row.value === 'off' && row.source.kind === 'temporary');
}

/**
 * Properties a child does not inherit (`zfs set` on a parent leaves its children as they are):
 * space limits and reservations, canmount, a volume's size and block size.
 */
export const NOT_INHERITED = new Set(['quota', 'refquota', 'reservation', 'refreservation', 'canmount', 'volsize', 'volblocksize']);

/** A property name `zfs set` may be given: native (`compression`) or a user property (`module:name`, what `zfs-fleet:role` is). */
export function propertyNameProblem(name: string): string | undefined {
  if (!name) return 'an empty property name';
  if (name.length > 256) return `the property name is ${name.length} characters long (at most 256)`;
  if (name.includes(':')) {
    if (!/^[a-z0-9_.:-]+$/.test(name) || name.startsWith(':') || name.startsWith('-'))
      return `'${name}' is not a user property name (lower-case letters, digits, '_', '.', ':', '-', with a ':' as in module:name)`;
    return undefined;
  }
  if (!/^[a-z][a-z0-9_]*$/.test(name)) return `'${name}' is not a property name (lower-case letters, digits and '_')`;
  return undefined;
}

/** A value `zfs set` may be given: no control bytes (a newline would break every `zfs get` line), at most 8 KiB (ZFS's limit for user properties). */
export function propertyValueProblem(value: string): string | undefined {
  if (hasControl(value)) return 'the value holds control characters';
  if (Buffer.byteLength(value, 'utf8') > 8192) return 'the value is over 8192 bytes';
  return undefined;
}
