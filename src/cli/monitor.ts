/**
 * zfs-fleet check (a Nagios/Icinga plugin) and zfs-fleet metrics (Prometheus text for node_exporter's
 * textfile collector): the I/O around core/monitor. Both list each host once (in parallel), read the
 * fleet file (hosts, groups, pairs) and the history, and hand the facts to the core (the gathering is
 * app/health.ts's, shared with the extension's Fleet Health view). With --from-store they list
 * nothing: the facts are rebuilt from the newest observations the agent (./agent.ts) recorded in the
 * fleet store, and judged by the same code.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fleetDefinition } from './fleetFile.js';
import { runLogOf } from './replication.js';
import { listHosts as listEach, pairsAndProblems, readRuns } from '../app/health.js';
import type { Fleet } from '../core/fleet/fleet.js';
import type { ReplicationPair } from '../core/fleet/pairs.js';
import { PAIRS_FILE } from '../core/fleet/pairSpecs.js';
import { evaluateCheck, nagiosText, type CheckThresholds, type Finding } from '../core/monitor/check.js';
import { fleetFacts, type FleetFacts, type HostResult, type RunRecord } from '../core/monitor/facts.js';
import { failedJobFindings } from '../core/monitor/jobs.js';
import { prometheusText } from '../core/monitor/metrics.js';
import type { Job } from '../core/queue/job.js';
import { defaultStoreUrl } from '../store/location.js';
import { factsFromObservations } from '../store/observations.js';
import { StoreRunLog } from '../store/runLog.js';
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
  /** Judge the newest observations of the fleet store instead of listing the hosts. */
  fromStore?: boolean;
  /** --from-store: observations older than this (seconds) are the agent not reporting. */
  maxAgeSeconds?: number;
}

/** --max-age's default: 5 minutes, five sweeps of the agent's default 60 s interval (a slow sweep of a big fleet included). */
export const DEFAULT_MAX_AGE_SECONDS = 300;

type Out = (line: string) => void;

/** The fleet file: its hosts and valid pairs, and a finding (UNKNOWN) per entry that is not valid. No default file is an empty fleet; an unreadable --fleet FILE is an error. */
function readFleet(o: Pick<MonitorOptions, 'fleetFile' | 'group'>): { hosts: string[]; pairs: ReplicationPair[]; problems: Finding[] } {
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
 * The hosts and pairs to look at: the hosts given, else those of the group (--group), else the fleet
 * file's hosts and those of its pairs; pairs are kept when both their hosts are looked at; an invalid
 * entry of the fleet file is a finding.
 */
export function monitorScope(o: Pick<MonitorOptions, 'positional' | 'fleetFile' | 'group'>): {
  hosts: string[];
  pairs: ReplicationPair[];
  problems: Finding[];
} {
  const fleet = readFleet(o);
  const ofPairs = fleet.pairs.flatMap((p) => [p.source.host, p.target.host]);
  const hosts = o.positional.length ? [...new Set(o.positional)] : [...new Set(o.group !== undefined ? ofPairs : [...fleet.hosts, ...ofPairs])];
  if (hosts.length === 0) throw new UsageError(`no hosts: give HOST... or a fleet file (--fleet FILE, default ./${PAIRS_FILE})`);
  const set = new Set(hosts);
  return { hosts, pairs: fleet.pairs.filter((p) => set.has(p.source.host) && set.has(p.target.host)), problems: fleet.problems };
}

/** One listing per host, `concurrency` hosts at once; `fresh`: list again even when the host has a listing (the agent's every sweep). */
export async function listHosts(fleet: Fleet, hosts: string[], options: { concurrency?: number; fresh?: boolean } = {}): Promise<HostResult[]> {
  fleet.setHosts(hosts);
  return listEach(hosts, (h) => fleet.host(h).listing(options.fresh), options.concurrency ?? 8);
}

/**
 * The runs, and the queue's failed jobs of the hosts looked at as findings (when the runs are the
 * fleet store's; a store that cannot be read is already the history's finding).
 */
async function readHistory(o: MonitorOptions, hosts: readonly string[]): Promise<{ runs: RunRecord[]; problems: Finding[] }> {
  const log = runLogOf(o);
  try {
    const { runs, problem } = await readRuns(log);
    const problems = problem ? [problem] : [];
    if (!problem && log instanceof StoreRunLog) {
      const set = new Set(hosts);
      const inScope = (j: Job) => (j.sourceHost === null || set.has(j.sourceHost)) && (j.targetHost === null || set.has(j.targetHost));
      problems.push(...failedJobFindings(await log.jobs(), inScope));
    }
    return { runs, problems };
  } finally {
    await log.close?.();
  }
}

function inPair(p: ReplicationPair, host: string, dataset: string): boolean {
  return [p.source, p.target].some((e) => e.host === host && (dataset === e.name!.full || dataset.startsWith(`${e.name!.full}/`)));
}

/** --group: its hosts and pools, and only its datasets (the primary, the replicas, and their children). */
function groupOnly(facts: FleetFacts, o: MonitorOptions, pairs: readonly ReplicationPair[]): FleetFacts {
  if (o.group !== undefined) facts.datasets = facts.datasets.filter((d) => pairs.some((p) => inPair(p, d.host, d.dataset)));
  return facts;
}

/** --from-store: the newest observation per host, pool, dataset and pair, judged as of now; the runs as live. */
async function gatherFromStore(o: MonitorOptions): Promise<{ facts: FleetFacts; problems: Finding[] }> {
  const { hosts, pairs, problems } = monitorScope(o);
  const { openStore } = await import('../store/store.js');
  const store = await openStore(o.store ?? defaultStoreUrl());
  let latest;
  try {
    latest = await store.latestObservations({ hosts, pairIds: pairs.map((p) => p.id) });
  } finally {
    await store.close();
  }
  const history = await readHistory(o, hosts);
  problems.push(...history.problems);
  const r = factsFromObservations({
    hosts,
    pairs,
    latest,
    history: history.runs,
    now: Date.now(),
    maxAgeSeconds: o.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS,
  });
  return { facts: groupOnly(r.facts, o, pairs), problems: [...problems, ...r.problems] };
}

async function gather(fleet: Fleet, o: MonitorOptions): Promise<{ facts: FleetFacts; problems: Finding[] }> {
  if (o.fromStore) return gatherFromStore(o);
  const { hosts, pairs, problems } = monitorScope(o);
  const [results, history] = await Promise.all([listHosts(fleet, hosts), readHistory(o, hosts)]);
  problems.push(...history.problems);
  return { facts: groupOnly(fleetFacts({ hosts: results, pairs, history: history.runs, now: Date.now() }), o, pairs), problems };
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
  // A failed job is check's to report (and the queue's to show); a textfile collector run every minute would mail it every minute.
  for (const p of problems) if (p.kind !== 'job-failed') process.stderr.write(`zfs-fleet: ${p.message}\n`);
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
