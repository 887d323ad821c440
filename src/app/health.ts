/**
 * The fleet's health as `zfs-fleet check` and the extension's Fleet Health view both compute it:
 * host listings + pairs + the run history -> `FleetFacts` (core/monitor/facts.ts) -> findings
 * (core/monitor/check.ts). One gathering for every consumer, so the CLI and the view never disagree.
 *
 * A consumer reads health through a `HealthSource`: `liveHealthSource` lists the hosts itself (the
 * CLI through the fleet, the extension through its tree model); a source reading the fleet store
 * (what the agent records) plugs in behind the same interface.
 */
import { mapLimit } from '../core/fleet/fleet.js';
import type { HostListing } from '../core/fleet/listing.js';
import type { ReplicationPair } from '../core/fleet/pairs.js';
import { describeOrigin, type PairEntry } from '../core/fleet/pairSpecs.js';
import { evaluateCheck, type CheckReport, type CheckThresholds, type Finding } from '../core/monitor/check.js';
import { fleetFacts, type FleetFacts, type HostResult, type RunRecord } from '../core/monitor/facts.js';
import type { RunLog } from './history.js';

/** The fleet's health at one moment, and where it was read from. */
export interface HealthSnapshot {
  facts: FleetFacts;
  /** check's report: every finding (OK ones included, problems first), the overall severity. */
  report: CheckReport;
  /** ms since the epoch. */
  readAt: number;
  from: 'live' | 'store';
}

export interface HealthSource {
  /** force: ask the hosts again (a live source); otherwise what is at hand may be used. */
  read(options?: { force?: boolean }): Promise<HealthSnapshot>;
}

/** Valid pairs, and an UNKNOWN finding per entry that is not one (an invalid entry of the pairs file or the settings). */
export function pairsAndProblems(entries: readonly PairEntry[]): { pairs: ReplicationPair[]; problems: Finding[] } {
  const pairs: ReplicationPair[] = [];
  const problems: Finding[] = [];
  for (const e of entries) {
    if (e.ok) pairs.push(e.pair);
    else {
      const where = describeOrigin(e.origin);
      problems.push({ severity: 'unknown', kind: 'config', subject: where, short: `${where} invalid`, message: `${where}: ${e.reason}` });
    }
  }
  return { pairs, problems };
}

/** Each host's listing, or the first line of why there is none; `concurrency` hosts at a time. */
export async function listHosts(hosts: readonly string[], list: (host: string) => Promise<HostListing>, concurrency = 8): Promise<HostResult[]> {
  const results = await mapLimit(hosts, concurrency, list);
  return results.map((r, i) =>
    r.status === 'fulfilled'
      ? { host: hosts[i]!, listing: r.value }
      : { host: hosts[i]!, error: (((r.reason as Error)?.message ?? String(r.reason)) || String(r.reason)).split('\n')[0]! },
  );
}

/** The runs of the history (newest first); an unreadable history is an UNKNOWN finding, not a failure. */
export async function readRuns(log: RunLog): Promise<{ runs: RunRecord[]; problem?: Finding }> {
  try {
    return { runs: (await log.read(100_000)).entries };
  } catch (e) {
    return {
      runs: [],
      problem: { severity: 'unknown', kind: 'config', subject: log.file, short: 'history unreadable', message: `${log.file}: ${(e as Error).message}` },
    };
  }
}

/** The facts of the given hosts and pairs (listed in parallel with reading the history), and the problems met on the way. */
export async function gatherFacts(input: {
  hosts: readonly string[];
  list: (host: string) => Promise<HostListing>;
  pairs: readonly ReplicationPair[];
  runLog: RunLog;
  now?: () => number;
}): Promise<{ facts: FleetFacts; problems: Finding[] }> {
  const [results, history] = await Promise.all([listHosts(input.hosts, input.list), readRuns(input.runLog)]);
  const now = (input.now ?? Date.now)();
  const facts = fleetFacts({ hosts: results, pairs: input.pairs, history: history.runs, now });
  return { facts, problems: history.problem ? [history.problem] : [] };
}

/** What a live source needs from its consumer. */
export interface LiveHealthDeps {
  /** The hosts to check. */
  hosts(): readonly string[];
  /** A host's listing (force: ask the host again); throws with the reason it cannot be listed. */
  listing(host: string, force: boolean): Promise<HostListing>;
  /** The configured pairs and their entries that are not valid. */
  pairs(): Promise<readonly PairEntry[]>;
  runLog: RunLog;
  thresholds(): CheckThresholds;
  now?: () => number;
}

/** Health read from the hosts themselves, judged as `zfs-fleet check` judges it. Pairs whose hosts are not all checked are left out (as check does). */
export function liveHealthSource(deps: LiveHealthDeps): HealthSource {
  return {
    async read(options = {}) {
      const hosts = [...new Set(deps.hosts())];
      const checked = new Set(hosts);
      const { pairs, problems } = pairsAndProblems(await deps.pairs());
      const inScope = pairs.filter((p) => checked.has(p.source.host) && checked.has(p.target.host));
      const gathered = await gatherFacts({
        hosts,
        list: (h) => deps.listing(h, options.force ?? false),
        pairs: inScope,
        runLog: deps.runLog,
        ...(deps.now ? { now: deps.now } : {}),
      });
      const report = evaluateCheck(gathered.facts, deps.thresholds(), [...problems, ...gathered.problems]);
      return { facts: gathered.facts, report, readAt: gathered.facts.now, from: 'live' };
    },
  };
}
