/**
 * zfs-fleet check (a Nagios/Icinga plugin) and zfs-fleet metrics (Prometheus text for node_exporter's
 * textfile collector): the I/O around core/monitor. Both list each host once (in parallel), read the
 * pairs of --pairs FILE (default ./.zfs-fleet.json) and the history, and hand the facts to the core.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readPairsFile } from './pairsFile.js';
import { runLogOf } from './replication.js';
import { gatherFacts, pairsAndProblems } from '../app/health.js';
import type { Fleet } from '../core/fleet/fleet.js';
import type { ReplicationPair } from '../core/fleet/pairs.js';
import { fileEntries, PAIRS_FILE } from '../core/fleet/pairSpecs.js';
import { evaluateCheck, nagiosText, type CheckThresholds, type Finding } from '../core/monitor/check.js';
import type { FleetFacts } from '../core/monitor/facts.js';
import { prometheusText } from '../core/monitor/metrics.js';
import { UsageError } from './usage.js';

export interface MonitorOptions {
  positional: string[];
  json: boolean;
  pairsFile?: string;
  historyFile?: string;
  store?: string;
  thresholds: CheckThresholds;
  textfile?: string;
}

type Out = (line: string) => void;

/** The pairs file: its valid pairs, and a finding (UNKNOWN) per entry that is not one. A missing default file is no pairs; a missing --pairs FILE is an error. */
function readPairs(o: MonitorOptions): { pairs: ReplicationPair[]; problems: Finding[] } {
  const read = readPairsFile(o.pairsFile);
  if (read === undefined) return { pairs: [], problems: [] };
  if (read.error !== undefined) throw new UsageError(`--pairs ${read.file}: ${read.error}`);
  return pairsAndProblems(fileEntries(read));
}

/** The hosts given, else those of the pairs; pairs are kept when both their hosts are checked. */
function scope(o: MonitorOptions, pairs: ReplicationPair[]): { hosts: string[]; pairs: ReplicationPair[] } {
  const hosts = o.positional.length ? [...new Set(o.positional)] : [...new Set(pairs.flatMap((p) => [p.source.host, p.target.host]))];
  const set = new Set(hosts);
  return { hosts, pairs: pairs.filter((p) => set.has(p.source.host) && set.has(p.target.host)) };
}

/** The facts as the extension's Fleet Health view gathers them (app/health.ts), the hosts listed straight from the fleet. */
async function gather(fleet: Fleet, o: MonitorOptions): Promise<{ facts: FleetFacts; problems: Finding[] }> {
  const { pairs: all, problems } = readPairs(o);
  const { hosts, pairs } = scope(o, all);
  if (hosts.length === 0) throw new UsageError(`no hosts: give HOST... or a pairs file (--pairs FILE, default ./${PAIRS_FILE})`);
  fleet.setHosts(hosts);
  const runLog = runLogOf(o);
  try {
    const gathered = await gatherFacts({ hosts, list: (h) => fleet.host(h).listing(), pairs, runLog });
    return { facts: gathered.facts, problems: [...problems, ...gathered.problems] };
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
