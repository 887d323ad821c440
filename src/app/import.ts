/**
 * Importing what a fleet already has (syncoid argument files, sanoid.conf) into the fleet file, for
 * the CLI (`zfs-fleet import`) and the extension (**Import from syncoid/sanoid Config…**): read ->
 * the pairs, policies and warnings -> the merged fleet file and its diff (the preview) -> the
 * consumer asks -> write. The reading and merging are pure (core/fleet/import); the consumers read
 * the files and the ssh config, show the summary and the diff, and write.
 */
import { FleetFileError, mergeFleetFile, unifiedDiff, type MergeResult } from '../core/fleet/import/fleetFile.js';
import { importSanoidConf } from '../core/fleet/import/sanoid.js';
import { importSyncoidArgs, type FleetHostInfo } from '../core/fleet/import/syncoid.js';
import { SNAPSHOT_PERIODS, type ImportResult } from '../core/fleet/import/types.js';

export type ImportKind = 'syncoid-args' | 'sanoid';

export interface ImportInput {
  kind: ImportKind;
  /** The config's text and the name it is reported with (its file name). */
  text: string;
  label: string;
  /** The fleet host the config is on. */
  host: string;
  /** The fleet file's text (undefined: it does not exist yet) and its display path. */
  fleetText: string | undefined;
  fleetPath: string;
  /** The hosts a syncoid remote host is matched against (ssh config aliases, the fleet file's hosts). */
  fleetHosts: readonly FleetHostInfo[];
  hostMap?: Readonly<Record<string, string>>;
}

export interface ImportPreview {
  result: ImportResult;
  merge: MergeResult;
  /** The unified diff of the fleet file ('' when nothing changes). */
  diff: string;
}

/** The config read, merged into the fleet file, and the diff: nothing is written here. Throws FleetFileError (with the path) for a fleet file that cannot take the merge. */
export function previewImport(i: ImportInput): ImportPreview {
  const result =
    i.kind === 'syncoid-args'
      ? importSyncoidArgs(i.text, { file: i.label, host: i.host, fleetHosts: i.fleetHosts, ...(i.hostMap ? { hostMap: i.hostMap } : {}) })
      : importSanoidConf(i.text, { file: i.label, host: i.host });
  let merge: MergeResult;
  try {
    merge = mergeFleetFile(i.fleetText, result);
  } catch (e) {
    if (e instanceof FleetFileError) throw new FleetFileError(`${i.fleetPath} ${e.message}: nothing written`);
    throw e;
  }
  const diff = unifiedDiff(i.fleetText ?? '', merge.text, i.fleetText === undefined ? '/dev/null' : `a/${i.fleetPath}`, `b/${i.fleetPath}`);
  return { result, merge, diff };
}

/** The hosts the fleet file names: its `hosts` and the hosts of its pairs (as written, `user@host` included). An unreadable file names none. */
export function fleetFileHosts(fleetText: string | undefined): FleetHostInfo[] {
  const hosts: FleetHostInfo[] = [];
  const add = (alias: string) => hosts.some((h) => h.alias === alias) || hosts.push({ alias });
  if (fleetText === undefined) return hosts;
  try {
    const doc = JSON.parse(fleetText) as { pairs?: unknown; hosts?: unknown };
    if (doc.hosts && typeof doc.hosts === 'object' && !Array.isArray(doc.hosts)) for (const alias of Object.keys(doc.hosts)) add(alias);
    for (const e of Array.isArray(doc.pairs) ? doc.pairs : []) {
      for (const side of ['source', 'target']) {
        const v = (e as Record<string, unknown> | null)?.[side];
        if (typeof v === 'string' && v.includes(':')) add(v.slice(0, v.indexOf(':')));
      }
    }
  } catch {
    // An unreadable fleet file is reported when the merge reads it.
  }
  return hosts;
}

/** Seconds as sanoid's monitor writes thresholds: 90m, 28h, 32d. */
export function shortDuration(s: number): string {
  for (const [unit, n] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ] as const)
    if (s >= n && s % n === 0) return `${s / n}${unit}`;
  return `${s}s`;
}

/** What an import found, for people: the pairs by group, the policies, the warnings with their lines. */
export function importSummary(r: ImportResult): string[] {
  const out: string[] = [];
  if (r.pairs.length) {
    out.push(`${r.pairs.length} pair(s) in ${r.groups.length} group(s):`);
    for (const g of r.groups) {
      out.push(`  ${g.id} (${g.route})`);
      for (const id of g.pairs) {
        const p = r.pairs.find((x) => `${x.source}->${x.target}` === id)!;
        const flags = [
          p.options.recursive ? 'recursive' : '',
          p.options.raw ? 'raw' : '',
          p.options.intermediates ? '' : 'no intermediates (-i)',
          Object.keys(p.imported).length ? `not applied: ${Object.keys(p.imported).join(',')}` : '',
        ].filter(Boolean);
        out.push(`    ${p.source} -> ${p.target}${flags.length ? `  [${flags.join('; ')}]` : ''}  (${p.file}:${p.line})`);
      }
    }
  }
  if (r.reach?.length) {
    out.push(`${r.reach.length} host route(s):`);
    for (const x of r.reach) out.push(`  ${x.from} reaches ${x.host} as ${x.user ? `${x.user}@` : ''}${x.address ?? x.host}  (${x.file}:${x.line})`);
  }
  if (r.policies.length) {
    out.push(`${r.policies.length} policy(ies):`);
    for (const p of r.policies) {
      const keep = SNAPSHOT_PERIODS.filter((k) => p.retention[k] > 0).map((k) => `${k} ${p.retention[k]}`);
      const marks = [
        p.recursive ? `recursive=${p.recursive}` : '',
        p.processChildrenOnly ? 'children only' : '',
        p.autosnap ? 'autosnap' : 'no autosnap',
        p.autoprune ? 'autoprune' : 'no autoprune',
      ].filter(Boolean);
      out.push(`  ${p.dataset}  keep ${keep.join(', ') || 'nothing'}  [${marks.join(', ')}]  (${p.file}:${p.line})`);
      const fresh = SNAPSHOT_PERIODS.filter((k) => p.freshness[k].warnSeconds > 0 || p.freshness[k].critSeconds > 0).map(
        (k) => `${k} warn ${shortDuration(p.freshness[k].warnSeconds)} crit ${shortDuration(p.freshness[k].critSeconds)}`,
      );
      out.push(`    freshness: ${p.monitor ? fresh.join(', ') || 'nothing checked' : 'not monitored'}`);
    }
  }
  if (!r.pairs.length && !r.policies.length) out.push('nothing imported');
  if (r.warnings.length) {
    out.push(`${r.warnings.length} warning(s):`);
    for (const w of r.warnings) out.push(`  ${w.file}:${w.line}: ${w.kind}: ${w.message}`);
  }
  return out;
}
