/**
 * A recursive pair's `exclude` patterns (issue 12 §6): children of the source that are neither sent
 * nor counted. A pattern is a dataset path relative to the pair's source (so it still holds after a
 * failover reverses the group): `*` matches within one name component, `**` across components, `?`
 * one character. A matched child is left out with everything below it, as `zfs send -R -X` does.
 */
import type { HostListing } from './listing.js';
import { validateDatasetName } from '../zfs/names.js';

/** What is wrong with an `exclude` pattern, or undefined. */
export function excludePatternProblem(p: unknown): string | undefined {
  if (typeof p !== 'string' || p.trim() === '') return 'must be a non-empty string (a child dataset relative to the source, e.g. "tmp" or "vms/*/scratch")';
  if (p !== p.trim()) return `${JSON.stringify(p)} has spaces around it`;
  if (p.startsWith('/') || p.endsWith('/')) return `${JSON.stringify(p)}: write the child relative to the source, without a leading or trailing "/"`;
  if (/[@#%]/.test(p)) return `${JSON.stringify(p)} names a snapshot or bookmark; exclude names child datasets`;
  if (p.split('/').some((c) => c !== '**' && c.includes('**'))) return `${JSON.stringify(p)}: "**" stands alone as a component ("a/**/b")`;
  try {
    validateDatasetName(`pool/${p.replace(/\*+|\?/g, 'x')}`);
  } catch (e) {
    return `${JSON.stringify(p)} is not a dataset path: ${(e as Error).message.replace(/^.*?: /, '')}`;
  }
  return undefined;
}

function toRegExp(pattern: string): RegExp {
  let re = '';
  const parts = pattern.split('/');
  parts.forEach((part, i) => {
    const last = i === parts.length - 1;
    if (part === '**') {
      re += last ? '.*' : '(?:[^/]+/)*';
      return;
    }
    re +=
      part
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]') + (last ? '' : '/');
  });
  return new RegExp(`^${re}$`);
}

/** Whether a child (its path relative to the source) is excluded by a pattern itself (not through an excluded parent). */
export function excludeMatcher(patterns: readonly string[]): (relative: string) => boolean {
  const res = patterns.map(toRegExp);
  return (relative) => res.some((r) => r.test(relative));
}

export interface Exclusion {
  /** The topmost excluded datasets (full names, what `zfs send -X` is given), listing order. */
  roots: string[];
  /** Every excluded dataset, the roots' descendants too. */
  all: string[];
  /** The descendants that are sent. */
  sent: string[];
}

/** The source's descendants split into excluded and sent. No patterns: nothing excluded. */
export function exclusionOf(listing: HostListing, dataset: string, patterns: readonly string[] | undefined): Exclusion {
  const children: string[] = [];
  const walk = (name: string) => {
    for (const c of listing.datasets.get(name)?.children ?? []) {
      if (!listing.datasets.has(c)) continue;
      children.push(c);
      walk(c);
    }
  };
  walk(dataset);
  return splitExcluded(dataset, children, patterns);
}

/** The same from a list of descendants' names (parents before children, as `zfs list -r` prints them). */
export function splitExcluded(dataset: string, children: readonly string[], patterns: readonly string[] | undefined): Exclusion {
  const out: Exclusion = { roots: [], all: [], sent: [] };
  if (!patterns?.length) return { ...out, sent: [...children] };
  const match = excludeMatcher(patterns);
  for (const name of children) {
    const rel = name.slice(dataset.length + 1);
    if (out.roots.some((r) => name.startsWith(`${r}/`))) out.all.push(name);
    else if (match(rel)) {
      out.roots.push(name);
      out.all.push(name);
    } else out.sent.push(name);
  }
  return out;
}

/** Whether `name` is `dataset` itself or below it. */
export function within(name: string, dataset: string): boolean {
  return name === dataset || name.startsWith(`${dataset}/`);
}

export interface MissingChildren {
  /** Created on the source after the base (no base snapshot): the next recursive send creates them. */
  fresh: string[];
  /**
   * The source had them at the base, the target lacks them (excluded then, or destroyed there): an
   * incremental -R stream cannot be received ("destination ... does not exist"), or lands in another
   * dataset of the target pool holding that snapshot.
   */
  lost: string[];
}

/** The sent descendants the target lacks, split by whether the source has them at the base (`@base`, the snapshot's short name). */
export function missingChildren(
  src: HostListing,
  srcDs: string,
  dst: HostListing,
  dstDs: string,
  sent: readonly string[],
  base: string | undefined,
): MissingChildren {
  const out: MissingChildren = { fresh: [], lost: [] };
  for (const d of sent) {
    if (dst.datasets.has(`${dstDs}${d.slice(srcDs.length)}`)) continue;
    if (out.lost.some((l) => d.startsWith(`${l}/`)) || out.fresh.some((l) => d.startsWith(`${l}/`))) continue;
    const hasBase = base !== undefined && (src.datasets.get(d)?.snapshots ?? []).some((s) => s.name === `${d}@${base}`);
    (hasBase ? out.lost : out.fresh).push(d);
  }
  return out;
}
