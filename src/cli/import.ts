/**
 * `zfs-fleet import syncoid-args|sanoid FILE --host NAME`: what a fleet already has (syncoid lines,
 * sanoid.conf) as pairs and policies; `--write` merges them into the fleet file after showing the
 * diff, and writes only with `--yes`. The reading and merging are pure (src/core/fleet/import);
 * this reads the files, finds the fleet's hosts and prints.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fleetFileHosts, importSummary, previewImport, type ImportPreview } from '../app/import.js';
import { FleetFileError, type MergeResult } from '../core/fleet/import/fleetFile.js';
import { PAIRS_FILE } from '../core/fleet/pairSpecs.js';
import { validateHostSpec } from '../core/fleet/endpoint.js';
import { sshConfigHosts } from '../transport/sshConfig.js';
import { UsageError } from './usage.js';
import { writeFleetFile } from './fleetFile.js';

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

function parseHostMap(entries: string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const e of entries) {
    const eq = e.indexOf('=');
    if (eq <= 0 || eq === e.length - 1) throw new UsageError(`--host-map takes OTHER=ALIAS (got ${JSON.stringify(e)})`);
    map[e.slice(0, eq)] = validateHostSpec(e.slice(eq + 1));
  }
  return map;
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
  const fleetHosts = [...sshConfigHosts(o.sshConfig, warn)];
  for (const h of fleetFileHosts(fleetText)) if (!fleetHosts.some((x) => x.alias === h.alias)) fleetHosts.push(h);
  let preview: ImportPreview;
  try {
    preview = previewImport({ kind, text, label, host, fleetText, fleetPath, fleetHosts, hostMap: parseHostMap(o.hostMap) });
  } catch (e) {
    // A fleet file the merge cannot take matters only when writing; the import itself is still printed.
    if (!(e instanceof FleetFileError) || o.write) throw e;
    preview = { ...previewImport({ kind, text, label, host, fleetText: undefined, fleetPath, fleetHosts, hostMap: parseHostMap(o.hostMap) }), diff: '' };
  }
  const result = preview.result;

  let merge: (MergeResult & { file: string; diff: string; written: boolean }) | undefined;
  if (o.write) {
    const written = o.yes && preview.diff !== '';
    if (written) {
      writeFleetFile(fleetPath, preview.merge.text);
    }
    merge = { ...preview.merge, file: fleetPath, diff: preview.diff, written };
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
  for (const line of importSummary(result)) out(line);
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
