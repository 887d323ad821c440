/**
 * zfs-fleet check (a Nagios/Icinga plugin) and zfs-fleet metrics (Prometheus text for node_exporter's
 * textfile collector): the I/O around core/monitor. Both list each host once (in parallel), read the
 * pairs of --pairs FILE (default ./.zfs-fleet.json) and the history, and hand the facts to the core.
 * With --from-store they list nothing: the facts are rebuilt from the newest observations the agent
 * (./agent.ts) recorded in the fleet store, and judged by the same code.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readPairsFile } from './pairsFile.js';
import { runLogOf } from './replication.js';
import { type Fleet, mapLimit } from '../core/fleet/fleet.js';
import type { ReplicationPair } from '../core/fleet/pairs.js';
import { describeOrigin, fileEntries, PAIRS_FILE } from '../core/fleet/pairSpecs.js';
import { evaluateCheck, nagiosText, type CheckThresholds, type Finding } from '../core/monitor/check.js';
import { fleetFacts, type FleetFacts, type HostResult, type RunRecord } from '../core/monitor/facts.js';
import { prometheusText } from '../core/monitor/metrics.js';
import { defaultStoreUrl } from '../store/location.js';
import { factsFromObservations } from '../store/observations.js';
import { UsageError } from './usage.js';

export interface MonitorOptions {
  positional: string[];
  json: boolean;
  pairsFile?: string;
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

/** The pairs file: its valid pairs, and a finding (UNKNOWN) per entry that is not one. A missing default file is no pairs; a missing --pairs FILE is an error. */
export function readPairs(o: Pick<MonitorOptions, 'pairsFile'>): { pairs: ReplicationPair[]; problems: Finding[] } {
  const read = readPairsFile(o.pairsFile);
  if (read === undefined) return { pairs: [], problems: [] };
  if (read.error !== undefined) throw new UsageError(`--pairs ${read.file}: ${read.error}`);
  const pairs: ReplicationPair[] = [];
  const problems: Finding[] = [];
  for (const e of fileEntries(read)) {
    if (e.ok) pairs.push(e.pair);
    else {
      const where = describeOrigin(e.origin);
      problems.push({ severity: 'unknown', kind: 'config', subject: where, short: `${where} invalid`, message: `${where}: ${e.reason}` });
    }
  }
  return { pairs, problems };
}

/** The hosts given, else those of the pairs; pairs are kept when both their hosts are checked. */
export function scope(o: Pick<MonitorOptions, 'positional'>, pairs: ReplicationPair[]): { hosts: string[]; pairs: ReplicationPair[] } {
  const hosts = o.positional.length ? [...new Set(o.positional)] : [...new Set(pairs.flatMap((p) => [p.source.host, p.target.host]))];
  const set = new Set(hosts);
  return { hosts, pairs: pairs.filter((p) => set.has(p.source.host) && set.has(p.target.host)) };
}

/** One listing per host, `concurrency` hosts at once; `fresh`: list again even when the host has a listing (the agent's every sweep). */
export async function listHosts(fleet: Fleet, hosts: string[], options: { concurrency?: number; fresh?: boolean } = {}): Promise<HostResult[]> {
  fleet.setHosts(hosts);
  const results = await mapLimit(hosts, options.concurrency ?? 8, (h) => fleet.host(h).listing(options.fresh));
  return results.map((r, i) =>
    r.status === 'fulfilled'
      ? { host: hosts[i]!, listing: r.value }
      : { host: hosts[i]!, error: ((r.reason as Error).message ?? String(r.reason)).split('\n')[0]! },
  );
}

async function readHistory(o: MonitorOptions): Promise<{ runs: RunRecord[]; problem?: Finding }> {
  const log = runLogOf(o);
  const file = log.file;
  try {
    return { runs: (await log.read(100_000)).entries };
  } catch (e) {
    return {
      runs: [],
      problem: { severity: 'unknown', kind: 'config', subject: file, short: 'history unreadable', message: `${file}: ${(e as Error).message}` },
    };
  } finally {
    await log.close?.();
  }
}

/** The hosts and pairs to look at: the hosts given, else those of the pairs file (an invalid entry is a finding). */
export function monitorScope(o: Pick<MonitorOptions, 'positional' | 'pairsFile'>): { hosts: string[]; pairs: ReplicationPair[]; problems: Finding[] } {
  const { pairs: all, problems } = readPairs(o);
  const { hosts, pairs } = scope(o, all);
  if (hosts.length === 0) throw new UsageError(`no hosts: give HOST... or a pairs file (--pairs FILE, default ./${PAIRS_FILE})`);
  return { hosts, pairs, problems };
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
  const history = await readHistory(o);
  if (history.problem) problems.push(history.problem);
  const r = factsFromObservations({
    hosts,
    pairs,
    latest,
    history: history.runs,
    now: Date.now(),
    maxAgeSeconds: o.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS,
  });
  return { facts: r.facts, problems: [...problems, ...r.problems] };
}

async function gather(fleet: Fleet, o: MonitorOptions): Promise<{ facts: FleetFacts; problems: Finding[] }> {
  if (o.fromStore) return gatherFromStore(o);
  const { hosts, pairs, problems } = monitorScope(o);
  const [results, history] = await Promise.all([listHosts(fleet, hosts), readHistory(o)]);
  if (history.problem) problems.push(history.problem);
  return { facts: fleetFacts({ hosts: results, pairs, history: history.runs, now: Date.now() }), problems };
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
