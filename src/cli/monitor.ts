/**
 * zfs-fleet check (a Nagios/Icinga plugin) and zfs-fleet metrics (Prometheus text for node_exporter's
 * textfile collector): the I/O around core/monitor. Both list each host once (in parallel), read the
 * fleet file (hosts, groups, pairs) and the history, and hand the facts to the core.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fleetDefinition } from './fleetFile.js';
import { runLogOf } from './replication.js';
import { gatherFacts, pairsAndProblems } from '../app/health.js';
import type { Fleet } from '../core/fleet/fleet.js';
import type { ReplicationPair } from '../core/fleet/pairs.js';
import { PAIRS_FILE } from '../core/fleet/pairSpecs.js';
import { evaluateCheck, nagiosText, type CheckThresholds, type Finding } from '../core/monitor/check.js';
import type { FleetFacts } from '../core/monitor/facts.js';
import { prometheusText } from '../core/monitor/metrics.js';
import { UsageError } from './usage.js';

export interface MonitorOptions {
  positional: string[];
  json: boolean;
  fleetFile?: string;
  /** Only this group of the fleet file (its primary's and replicas' hosts). */
  group?: string;
  historyFile?: string;
  store?: string;
  thresholds: CheckThresholds;
  textfile?: string;
}

type Out = (line: string) => void;

/** The fleet file: its hosts and valid pairs, and a finding (UNKNOWN) per entry that is not valid. No default file is an empty fleet; an unreadable --fleet FILE is an error. */
function readFleet(o: MonitorOptions): { hosts: string[]; pairs: ReplicationPair[]; problems: Finding[] } {
  const def = fleetDefinition(o.fleetFile);
  if (def.error !== undefined) throw new UsageError(`--fleet ${def.file}: ${def.error}`);
  const { pairs, problems } = pairsAndProblems(def.entries);
  if (o.group !== undefined && !def.groups.some((g) => g.name === o.group))
    throw new UsageError(
      `--group ${o.group}: no such group in ${def.file ?? 'the fleet file'} (${def.groups.map((g) => g.name).join(', ') || 'none defined'})`,
    );
  return { hosts: def.hosts.map((h) => h.name), pairs: o.group === undefined ? pairs : pairs.filter((p) => p.group === o.group), problems };
}

/**
 * The hosts given, else those of the group (--group), else the fleet file's hosts and those of its
 * pairs; pairs are kept when both their hosts are checked.
 */
function scope(o: MonitorOptions, fleet: { hosts: string[]; pairs: ReplicationPair[] }): { hosts: string[]; pairs: ReplicationPair[] } {
  const ofPairs = fleet.pairs.flatMap((p) => [p.source.host, p.target.host]);
  const hosts = o.positional.length ? [...new Set(o.positional)] : [...new Set(o.group !== undefined ? ofPairs : [...fleet.hosts, ...ofPairs])];
  const set = new Set(hosts);
  return { hosts, pairs: fleet.pairs.filter((p) => set.has(p.source.host) && set.has(p.target.host)) };
}

function inPair(p: ReplicationPair, host: string, dataset: string): boolean {
  return [p.source, p.target].some((e) => e.host === host && (dataset === e.name!.full || dataset.startsWith(`${e.name!.full}/`)));
}

/** The facts as the extension's Fleet Health view gathers them (app/health.ts), the hosts listed straight from the fleet. */
async function gather(fleet: Fleet, o: MonitorOptions): Promise<{ facts: FleetFacts; problems: Finding[] }> {
  const { problems, ...fleetFile } = readFleet(o);
  const { hosts, pairs } = scope(o, fleetFile);
  if (hosts.length === 0) throw new UsageError(`no hosts: give HOST... or a fleet file (--fleet FILE, default ./${PAIRS_FILE})`);
  fleet.setHosts(hosts);
  const runLog = runLogOf(o);
  try {
    const gathered = await gatherFacts({ hosts, list: (h) => fleet.host(h).listing(), pairs, runLog });
    const facts = gathered.facts;
    // --group: its hosts and pools, and only its datasets (the primary, the replicas, and their children).
    if (o.group !== undefined) facts.datasets = facts.datasets.filter((d) => pairs.some((p) => inPair(p, d.host, d.dataset)));
    return { facts, problems: [...problems, ...gathered.problems] };
  } finally {
    await runLog.close?.();
  }
}

/** `check`: the plugin's text (or --json) on stdout; the exit code is the state (0..3). */
export async function checkCommand(fleet: Fleet, o: MonitorOptions, out: Out): Promise<number> {
  const { facts, problems } = await gather(fleet, o);
  const report = evaluateCheck(facts, o.thresholds, problems);
  out(o.json ? JSON.stringify(report, null, 2) : nagiosText(report));
  return report.exitCode;
}

/** `metrics`: the exposition text on stdout, or into --textfile FILE (FILE.tmp written, then renamed: the collector never reads half a file). */
export async function metricsCommand(fleet: Fleet, o: MonitorOptions, out: Out): Promise<number> {
  const { facts, problems } = await gather(fleet, o);
  for (const p of problems) process.stderr.write(`zfs-fleet: ${p.message}\n`);
  const text = prometheusText(facts);
  if (o.textfile === undefined) {
    out(text.trimEnd());
    return 0;
  }
  const tmp = `${o.textfile}.tmp`;
  await fs.promises.mkdir(path.dirname(path.resolve(o.textfile)), { recursive: true });
  await fs.promises.writeFile(tmp, text, { mode: 0o644 });
  await fs.promises.rename(tmp, o.textfile);
  return 0;
}
