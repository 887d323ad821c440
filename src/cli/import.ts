/**
 * `zfs-fleet import syncoid-args|sanoid FILE --host NAME`: what a fleet already has (syncoid lines,
 * sanoid.conf) as pairs and policies; `--write` merges them into the fleet file after showing the
 * diff, and writes only with `--yes`. The reading and merging are pure (src/core/fleet/import);
 * this reads the files, finds the fleet's hosts and prints.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FleetFileError, mergeFleetFile, unifiedDiff, type MergeResult } from '../core/fleet/import/fleetFile.js';
import { importSanoidConf } from '../core/fleet/import/sanoid.js';
import { importSyncoidArgs, type FleetHostInfo } from '../core/fleet/import/syncoid.js';
import { SNAPSHOT_PERIODS, type ImportResult } from '../core/fleet/import/types.js';
import { PAIRS_FILE } from '../core/fleet/pairSpecs.js';
import { validateHostSpec } from '../core/fleet/endpoint.js';
import { listConfigHosts, resolveSshTarget } from '../transport/sshConfig.js';
import { UsageError } from './usage.js';

export interface ImportOptions {
  positional: string[];
  json: boolean;
  yes: boolean;
  sshConfig: string;
  importHost?: string;
  hostMap: string[];
  write: boolean;
  fleetFile?: string;
}

export const IMPORT_USAGE = `  import syncoid-args FILE --host NAME  one syncoid invocation's arguments per line, run on NAME:
                                       pairs (pull, push, local) and their warnings
  import sanoid FILE --host NAME       sanoid.conf on NAME: retention and freshness per dataset
         [--host-map OTHER=ALIAS ...]  name the fleet host a syncoid remote host is
         [--write [--yes]] [--fleet FILE]  merge into FILE (default ./.zfs-fleet.json): the diff
                                       is printed; only --yes writes it`;

type Out = (line: string) => void;

/** The fleet's hosts: ssh config aliases (with HostName and User), the fleet file's hosts and the hosts of its pairs. */
function fleetHosts(sshConfig: string, fleetText: string | undefined, warn: (m: string) => void): FleetHostInfo[] {
  const hosts: FleetHostInfo[] = [];
  if (fs.existsSync(sshConfig)) {
    const text = fs.readFileSync(sshConfig, 'utf8');
    for (const alias of listConfigHosts(text)) {
      try {
        const t = resolveSshTarget(alias, { configPath: sshConfig, systemConfigPath: false, defaults: { user: '' } });
        hosts.push({ alias, hostName: t.hostName, ...(t.user ? { user: t.user } : {}) });
      } catch (e) {
        warn(`${sshConfig}: ${alias}: ${(e as Error).message}`);
        hosts.push({ alias });
      }
    }
  }
  if (fleetText !== undefined) {
    try {
      const doc = JSON.parse(fleetText) as { pairs?: unknown; hosts?: unknown };
      if (doc.hosts && typeof doc.hosts === 'object' && !Array.isArray(doc.hosts))
        for (const alias of Object.keys(doc.hosts)) if (!hosts.some((h) => h.alias === alias)) hosts.push({ alias });
      for (const e of Array.isArray(doc.pairs) ? doc.pairs : []) {
        for (const side of ['source', 'target']) {
          const v = (e as Record<string, unknown> | null)?.[side];
          if (typeof v !== 'string' || !v.includes(':')) continue;
          // The host as written there (`user@host` included): matched on its host part.
          const alias = v.slice(0, v.indexOf(':'));
          if (!hosts.some((h) => h.alias === alias)) hosts.push({ alias });
        }
      }
    } catch {
      // An unreadable fleet file is reported when --write merges into it.
    }
  }
  return hosts;
}

function parseHostMap(entries: string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const e of entries) {
    const eq = e.indexOf('=');
    if (eq <= 0 || eq === e.length - 1) throw new UsageError(`--host-map takes OTHER=ALIAS (got ${JSON.stringify(e)})`);
    map[e.slice(0, eq)] = validateHostSpec(e.slice(eq + 1));
  }
  return map;
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

function printSummary(r: ImportResult, out: Out): void {
  if (r.pairs.length) {
    out(`${r.pairs.length} pair(s) in ${r.groups.length} group(s):`);
    for (const g of r.groups) {
      out(`  ${g.id} (${g.route})`);
      for (const id of g.pairs) {
        const p = r.pairs.find((x) => `${x.source}->${x.target}` === id)!;
        const flags = [
          p.options.recursive ? 'recursive' : '',
          p.options.raw ? 'raw' : '',
          p.options.intermediates ? '' : 'no intermediates (-i)',
          Object.keys(p.imported).length ? `not applied: ${Object.keys(p.imported).join(',')}` : '',
        ].filter(Boolean);
        out(`    ${p.source} -> ${p.target}${flags.length ? `  [${flags.join('; ')}]` : ''}  (${p.file}:${p.line})`);
      }
    }
  }
  if (r.policies.length) {
    out(`${r.policies.length} policy(ies):`);
    for (const p of r.policies) {
      const keep = SNAPSHOT_PERIODS.filter((k) => p.retention[k] > 0).map((k) => `${k} ${p.retention[k]}`);
      const marks = [
        p.recursive ? `recursive=${p.recursive}` : '',
        p.processChildrenOnly ? 'children only' : '',
        p.autosnap ? 'autosnap' : 'no autosnap',
        p.autoprune ? 'autoprune' : 'no autoprune',
      ].filter(Boolean);
      out(`  ${p.dataset}  keep ${keep.join(', ') || 'nothing'}  [${marks.join(', ')}]  (${p.file}:${p.line})`);
      const fresh = SNAPSHOT_PERIODS.filter((k) => p.freshness[k].warnSeconds > 0 || p.freshness[k].critSeconds > 0).map(
        (k) => `${k} warn ${shortDuration(p.freshness[k].warnSeconds)} crit ${shortDuration(p.freshness[k].critSeconds)}`,
      );
      out(`    freshness: ${p.monitor ? fresh.join(', ') || 'nothing checked' : 'not monitored'}`);
    }
  }
  if (!r.pairs.length && !r.policies.length) out('nothing imported');
  if (r.warnings.length) {
    out(`${r.warnings.length} warning(s):`);
    for (const w of r.warnings) out(`  ${w.file}:${w.line}: ${w.kind}: ${w.message}`);
  }
}

export async function importCommand(o: ImportOptions, out: Out, warn: (m: string) => void): Promise<number> {
  const [kind, file, ...rest] = o.positional;
  if (kind !== 'syncoid-args' && kind !== 'sanoid') throw new UsageError('import takes syncoid-args or sanoid, then FILE');
  if (!file || rest.length) throw new UsageError(`import ${kind} takes one FILE`);
  if (!o.importHost) throw new UsageError(`import ${kind} needs --host NAME (the host the file is on)`);
  const host = validateHostSpec(o.importHost);
  if (kind === 'sanoid' && o.hostMap.length) throw new UsageError('--host-map is for import syncoid-args');
  if (o.yes && !o.write) throw new UsageError('--yes goes with --write');
  const text = fs.readFileSync(file, 'utf8');
  const fleetPath = o.fleetFile ?? PAIRS_FILE;
  const fleetText = fs.existsSync(fleetPath) ? fs.readFileSync(fleetPath, 'utf8') : undefined;
  const label = path.basename(file);
  const result =
    kind === 'syncoid-args'
      ? importSyncoidArgs(text, { file: label, host, fleetHosts: fleetHosts(o.sshConfig, fleetText, warn), hostMap: parseHostMap(o.hostMap) })
      : importSanoidConf(text, { file: label, host });

  let merge: (MergeResult & { file: string; diff: string; written: boolean }) | undefined;
  if (o.write) {
    let m: MergeResult;
    try {
      m = mergeFleetFile(fleetText, result);
    } catch (e) {
      if (e instanceof FleetFileError) throw new Error(`${fleetPath} ${e.message}: nothing written`, { cause: e });
      throw e;
    }
    const diff = unifiedDiff(fleetText ?? '', m.text, fleetText === undefined ? '/dev/null' : `a/${fleetPath}`, `b/${fleetPath}`);
    const written = o.yes && diff !== '';
    if (written) {
      const tmp = `${fleetPath}.tmp-${process.pid}`;
      fs.writeFileSync(tmp, m.text);
      fs.renameSync(tmp, fleetPath);
    }
    merge = { ...m, file: fleetPath, diff, written };
  }

  if (o.json) {
    const { pairs, groups, policies, warnings, reach } = result;
    const write = merge && {
      file: merge.file,
      written: merge.written,
      diff: merge.diff,
      addedPairs: merge.addedPairs,
      addedPolicies: merge.addedPolicies,
      addedReach: merge.addedReach,
      kept: merge.kept,
    };
    out(JSON.stringify({ pairs, ...(reach ? { hosts: reach } : {}), groups, policies, warnings, ...(write ? { write } : {}) }, null, 2));
    return 0;
  }
  out(`${label} (on ${host}):`);
  printSummary(result, out);
  if (merge) {
    out('');
    for (const k of merge.kept) out(`kept ${k.id}: ${k.note}`);
    if (merge.diff === '') out(`${merge.file}: nothing to change`);
    else {
      for (const l of merge.diff.replace(/\n$/, '').split('\n')) out(l);
      out(
        merge.written
          ? `${merge.file}: written (${merge.addedPairs.length} pair(s), ${merge.addedPolicies.length} policy(ies), ${merge.addedReach.length} host route(s) added)`
          : `${merge.file}: not written (dry run); add --yes to write it`,
      );
    }
  }
  return 0;
}
