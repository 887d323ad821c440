/**
 * Fleet Health from the fleet store when an agent fills it (`zfs-fleet agent`, possibly on another
 * machine sharing a PostgreSQL store), live otherwise. A read that is not forced uses the agent's
 * newest observations when every host in scope has one younger than `maxAgeSeconds`; Refresh (a
 * forced read), a store that cannot be opened, or an agent that is not reporting read the hosts
 * themselves. Judged by the same code as `zfs-fleet check --from-store`.
 */
import { pairsAndProblems, readRuns, type HealthSource } from '../../app/health.js';
import type { RunLog } from '../../app/history.js';
import type { PairEntry } from '../../core/fleet/pairSpecs.js';
import { evaluateCheck, type CheckThresholds } from '../../core/monitor/check.js';
import type { Logger } from '../../core/log.js';
import { factsFromObservations } from '../../store/observations.js';
import type { LatestObservations } from '../../store/store.js';

export interface StoreHealthDeps {
  /** The store's reader (undefined: runs are kept in a history file, no store). */
  store?: { latestObservations(q: { hosts: readonly string[]; pairIds: readonly string[] }): Promise<LatestObservations> };
  hosts(): readonly string[];
  pairs(): Promise<readonly PairEntry[]>;
  runLog: RunLog;
  thresholds(): CheckThresholds;
  /** Observations older than this are not the agent's current view (default 300 s, as check --from-store). */
  maxAgeSeconds?: number;
  logger: Logger;
  now?: () => number;
}

export function storeFirstHealthSource(live: HealthSource, deps: StoreHealthDeps): HealthSource {
  let failedBefore = false;
  return {
    async read(options = {}) {
      if (options.force || !deps.store) return live.read(options);
      const hosts = [...new Set(deps.hosts())];
      if (hosts.length === 0) return live.read(options);
      const { pairs, problems } = pairsAndProblems(await deps.pairs());
      const checked = new Set(hosts);
      const inScope = pairs.filter((p) => checked.has(p.source.host) && checked.has(p.target.host));
      let latest: LatestObservations;
      try {
        latest = await deps.store.latestObservations({ hosts, pairIds: inScope.map((p) => p.id) });
        failedBefore = false;
      } catch (e) {
        if (!failedBefore) deps.logger.warn(`Fleet Health: the fleet store cannot be read (${(e as Error).message}); reading the hosts instead`);
        failedBefore = true;
        return live.read(options);
      }
      const now = (deps.now ?? Date.now)();
      const maxAge = deps.maxAgeSeconds ?? 300;
      const observed = new Map(latest.hosts.map((h) => [h.host, Date.parse(h.observedAt)]));
      // Every host observed recently: the agent is reporting on this fleet. Otherwise the hosts are asked.
      if (!hosts.every((h) => now - (observed.get(h) ?? -Infinity) <= maxAge * 1000)) return live.read(options);
      const history = await readRuns(deps.runLog);
      const r = factsFromObservations({ hosts, pairs: inScope, latest, history: history.runs, now, maxAgeSeconds: maxAge });
      const all = [...problems, ...r.problems, ...(history.problem ? [history.problem] : [])];
      const oldest = Math.min(...hosts.map((h) => observed.get(h)!));
      return { facts: r.facts, report: evaluateCheck(r.facts, deps.thresholds(), all), readAt: oldest, from: 'store' };
    },
  };
}
