/**
 * `zfs-fleet agent`: polls the fleet into the fleet store. Every --interval it lists each host once
 * (--concurrency at a time, the capabilities cached as every CLI run does), computes the same facts
 * `check` judges (core/monitor/facts.ts) and writes them as one sweep in ONE transaction (hosts,
 * pools, datasets, pair states; store/observations.ts). A host that does not answer is recorded
 * offline with its error and the sweep goes on. SIGTERM/SIGINT: an unfinished sweep is abandoned
 * (nothing of it is written), a sweep being written is finished, the store is closed, exit 0.
 * One line per sweep on stderr.
 */
import * as os from 'node:os';
import type { Fleet } from '../core/fleet/fleet.js';
import { formatDuration } from '../core/monitor/duration.js';
import { fleetFacts } from '../core/monitor/facts.js';
import { defaultStoreUrl } from '../store/location.js';
import { observationsOfFacts } from '../store/observations.js';
import { listHosts, monitorScope, type MonitorOptions } from './monitor.js';
import { runWorker } from '../app/worker.js';
import type { Logger } from '../core/log.js';
import type { HostResult } from '../core/monitor/facts.js';
import type { ReplicationPair } from '../core/fleet/pairs.js';
import { isDue } from '../core/queue/job.js';
import { jobsFromListings } from '../app/jobs.js';
import { sleep } from '../core/sleep.js';
import type { JobQueue } from '../store/queue.js';
import { cliApp, fleetPair, type ReplicationOptions } from './replication.js';
import { onFailureHook } from './queue.js';

export interface AgentOptions extends MonitorOptions {
  intervalSeconds: number;
  concurrency: number;
  once: boolean;
  /** Run this many queue workers in the agent (0: none); the fleet file's schedules are queued each sweep either way. */
  workers?: number;
  perHost?: number;
  leaseSeconds?: number;
  /** Observations older than this are removed (hourly); 0: kept forever. Default DEFAULT_RETAIN_SECONDS. */
  retainSeconds?: number;
}

export const DEFAULT_INTERVAL_SECONDS = 60;
/** How long the agent keeps observations by default (--retain): a month of sweeps. */
export const DEFAULT_RETAIN_SECONDS = 30 * 86400;
/** How often the agent prunes (after a sweep, at most this often). */
const PRUNE_EVERY_MS = 3600_000;
export const DEFAULT_CONCURRENCY = 32;

type Log = (line: string) => void;

/** `work`'s result, or 'aborted' as soon as `signal` aborts; the listener is removed either way (one sweep after another must not pile them up). */
async function unlessAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T | 'aborted'> {
  if (signal.aborted) return 'aborted';
  let onAbort!: () => void;
  const aborted = new Promise<'aborted'>((resolve) => {
    onAbort = () => resolve('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * The syncs the fleet file's schedules make due now (a group's `schedule`), queued with their sizes
 * from this sweep's listings; a pair with a job available, running or paused is not queued again.
 */
async function queueScheduled(fleet: Fleet, queue: JobQueue, pairs: ReplicationPair[], listed: HostResult[], now: Date, log: Log): Promise<void> {
  const scheduled = pairs.filter((p) => p.schedule);
  if (!scheduled.length) return;
  const last = await queue.lastQueued(scheduled.map((p) => p.id));
  const listings = new Map(listed.flatMap((r) => ('listing' in r ? [[r.host, r.listing] as const] : [])));
  const due = scheduled.filter((p) => isDue(p.schedule!, last.get(p.id), now));
  const jobs = await jobsFromListings(
    due,
    listings,
    (h) => fleet.host(h).runner,
    {},
    (line) => log(`zfs-fleet agent: ${line}`),
  );
  for (const [i, p] of due.entries()) {
    const r = await queue.add(jobs[i]!);
    log(
      r.added
        ? `zfs-fleet agent: queued job ${r.job.id} (${p.schedule!.text}): ${r.job.name}`
        : `zfs-fleet agent: ${p.id} is due (${p.schedule!.text}) but job ${r.job.id} is ${r.job.state}: not queued again`,
    );
  }
}

export async function agentCommand(
  fleet: Fleet,
  o: AgentOptions & Partial<ReplicationOptions>,
  log: Log,
  workerFleet?: () => Fleet,
  logger?: Logger,
): Promise<number> {
  // The scope is read before the store is opened: a command line without hosts is a usage error at once.
  monitorScope(o);
  const { openStore, JobQueue } = await import('../store/store.js');
  const store = await openStore(o.store ?? defaultStoreUrl());
  const queue = new JobQueue(store);
  const stop = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (!stop.signal.aborted) log(`zfs-fleet agent: ${sig}: stopping`);
    stop.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const agent = `${os.hostname()} pid ${process.pid}`;
  log(
    `zfs-fleet agent: recording into ${store.location}${o.once ? ', one sweep' : `, every ${formatDuration(o.intervalSeconds)}`}${(o.retainSeconds ?? DEFAULT_RETAIN_SECONDS) > 0 ? `, keeping ${formatDuration(o.retainSeconds ?? DEFAULT_RETAIN_SECONDS)} of observations` : ', keeping every observation'}`,
  );
  let failures = 0;
  const retain = o.retainSeconds ?? DEFAULT_RETAIN_SECONDS;
  let lastPrune: number | undefined;
  // Queue workers in this process: a fleet of their own (the sweeps set the agent's hosts), the same store and stop signal.
  let workers: Promise<unknown> | undefined;
  if (o.workers && !o.once && workerFleet && logger) {
    const wf = workerFleet();
    const app = cliApp(wf, { zfs: 'zfs', yes: false, destroyClones: false, fix: false, ...o }, logger);
    workers = runWorker(app, queue, {
      worker: agent,
      parallel: o.workers,
      ...(o.perHost !== undefined ? { perHost: o.perHost } : {}),
      leaseSeconds: o.leaseSeconds ?? 60,
      once: false,
      pollSeconds: 2,
      signal: stop.signal,
      log: (l) => log(`zfs-fleet agent: ${l}`),
      pairOf: (spec) => fleetPair(spec.source, spec.target, spec.route, o.fleetFile),
      onFailure: onFailureHook(o.fleetFile, agent, (l) => log(`zfs-fleet agent: ${l}`)),
    }).finally(async () => {
      await app.history.close?.();
      await wf.dispose();
    });
    log(`zfs-fleet agent: ${o.workers} queue worker(s) running${o.perHost ? `, at most ${o.perHost} job(s) per host` : ''}`);
  }
  try {
    for (let n = 1; !stop.signal.aborted; n++) {
      const t0 = Date.now();
      try {
        // The pairs file is read again each sweep: an edit takes effect without a restart.
        const { hosts, pairs, problems } = monitorScope(o);
        for (const p of problems) log(`zfs-fleet agent: ${p.message}`);
        const listed = await unlessAborted(listHosts(fleet, hosts, { concurrency: o.concurrency, fresh: true }), stop.signal);
        if (listed === 'aborted') {
          log(`zfs-fleet agent: sweep ${n} abandoned (nothing of it recorded)`);
          break;
        }
        // A host that failed gets a new connection next sweep (its sshd may have been restarted).
        for (const r of listed) if ('error' in r) fleet.reconnect(r.host);
        const now = Date.now();
        const facts = fleetFacts({ hosts: listed, pairs, now });
        const obs = observationsOfFacts(facts);
        // Not interrupted: a transaction either commits whole or not at all, and closing waits for it.
        const id = await store.recordSweep({ startedAt: new Date(t0).toISOString(), finishedAt: new Date(now).toISOString(), agent, ...obs });
        const down = facts.hosts.filter((h) => !h.up).map((h) => h.host);
        log(
          `zfs-fleet agent: sweep ${n} (#${id}): ${hosts.length - down.length}/${hosts.length} hosts up${down.length ? ` (down: ${down.join(', ')})` : ''}, ` +
            `${facts.pools.length} pools, ${facts.datasets.length} datasets, ${facts.pairs.length} pairs, ${((Date.now() - t0) / 1000).toFixed(2)}s`,
        );
        failures = 0;
        if (retain > 0 && (lastPrune === undefined || now - lastPrune >= PRUNE_EVERY_MS)) {
          lastPrune = now;
          try {
            const c = await store.pruneObservations(new Date(now - retain * 1000));
            if (c.sweeps)
              log(
                `zfs-fleet agent: removed ${c.sweeps} sweep(s) older than ${formatDuration(retain)} (${c.dataset_observations} dataset, ${c.pair_states} pair rows)`,
              );
          } catch (e) {
            log(`zfs-fleet agent: old observations could not be removed: ${((e as Error).message ?? String(e)).split('\n')[0]}`);
          }
        }
        try {
          await queueScheduled(fleet, queue, pairs, listed, new Date(now), log);
        } catch (e) {
          log(`zfs-fleet agent: the schedules could not be queued: ${((e as Error).message ?? String(e)).split('\n')[0]}`);
        }
      } catch (e) {
        failures++;
        log(`zfs-fleet agent: sweep ${n} failed: ${((e as Error).message ?? String(e)).split('\n')[0]}`);
        if (o.once) return 1;
      }
      if (o.once) break;
      await sleep(Math.max(0, o.intervalSeconds * 1000 - (Date.now() - t0)), stop.signal);
    }
    return 0;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    stop.abort();
    await workers;
    await store.close();
    if (failures) log(`zfs-fleet agent: the last ${failures} sweep(s) failed`);
  }
}
