/**
 * The queue's worker: claims jobs (src/store/queue.ts through the small WorkerQueue interface),
 * holds each one's lease while it runs, and runs it through the same flow as the CLI and the
 * extension (syncFlow: fresh listings -> plan -> review -> execute with preconditions re-checked ->
 * the run recorded). What differs is the Interaction: nobody is there to confirm, so a plan that
 * destroys anything (a snapshot, a bookmark, a clone, a pair's base, a `recv -F`) or asks for a step
 * to be confirmed is not run: the job fails with exit 3 and the command an operator runs to review
 * it. A plan the hosts outdated before it ran is planned again once.
 *
 * The lease is renewed every third of its length; a renewal that says `cancel` (queue cancel) or
 * `lost` (the lease ran out and the job is someone else's now) aborts the run at once, as Ctrl-C
 * does: the receive is killed, the target stays at its previous snapshot, the holds are released.
 */
import type { ExecEvent, ExecResult } from '../core/execute/executor.js';
import type { ReplicationPair } from '../core/fleet/pairs.js';
import { EXIT, jobOutcome, SUCCESS, type Job, type JobSpec, type JobState } from '../core/queue/job.js';
import { shellQuote } from '../core/zfs/quote.js';
import { reviewAndRun, type FlowResult, type Interaction } from './flow.js';
import { unattendedRefusal } from './jobs.js';
import { planReleaseStaleHolds } from '../core/replication/staleHolds.js';
import { syncFlow, type ReplicationUI } from './replication.js';
import type { App } from './services.js';

export interface WorkerQueue {
  claim(o: { worker: string; leaseSeconds?: number; perHost?: number; penalty?: number }): Promise<Job | undefined>;
  renew(id: number, worker: string, o: { leaseSeconds?: number; bytesDone?: number; bytesTotal?: number }): Promise<'ok' | 'cancel' | 'lost'>;
  finish(id: number, worker: string, f: { sync: number; error?: string | null; bytesDone?: number | null; runPlanId?: string | null }): Promise<boolean>;
  /** The worker stops: the job goes back to available (its attempt counted). */
  release(id: number, worker: string, why: string): Promise<boolean>;
  /** Jobs per state (a `--once` worker waits while jobs it cannot claim yet wait for running ones). */
  summary?(): Promise<{ state: JobState; jobs: number }[]>;
}

export interface WorkerOptions {
  /** Who claims (`HOSTNAME pid N`): written on the jobs it runs. */
  worker: string;
  /** Jobs run at once by this worker. */
  parallel: number;
  /** Running jobs per host across all workers. */
  perHost?: number;
  leaseSeconds: number;
  penalty?: number;
  /** Drain: run what can be claimed, then exit when nothing is left to claim and nothing runs. */
  once: boolean;
  /** How long to wait before claiming again when nothing could be claimed. */
  pollSeconds: number;
  signal: AbortSignal;
  log(line: string): void;
  /** The pair a job's spec names, as the fleet file defines it (its route, options, how its hosts reach each other). */
  pairOf(spec: JobSpec): ReplicationPair;
  /** Told of each job that failed (not of a cancelled one, nor of one put back in the queue): the fleet file's `onFailure`. */
  onFailure?(run: JobRun): Promise<void>;
}

export interface JobRun {
  job: Job;
  sync: number;
  error: string | null;
  result?: ExecResult;
  /**
   * What became of the job: `recorded` (its end written to the queue), `put back` (the worker
   * stopped mid-run: available again for the next worker, not a failure), `not ours` (its lease
   * was lost: another worker's now, nothing recorded by this one).
   */
  ended: 'recorded' | 'put back' | 'not ours';
}

/** The unattended Interaction: runs what is safe unattended, refuses what needs an operator, says why. */
function unattended(
  pair: ReplicationPair,
  signal: AbortSignal,
  onEvent: (e: ExecEvent) => void,
  said: { refused?: string; cannotPlan?: string },
): ReplicationUI {
  const review = `zfs-fleet sync ${shellQuote(pair.source.host + ':' + pair.source.name!.full)} ${shellQuote(pair.target.host + ':' + pair.target.name!.full)}`;
  let replans = 0;
  const refuse = (why: string) => {
    said.refused = `${why}: a queued job never does that unattended; review and run it with: ${review}`;
  };
  const ui: Interaction = {
    nothing: () => undefined,
    preview: async () => ({}),
    confirm: async (r) => {
      const why = unattendedRefusal(r);
      if (why) refuse(why);
      return { choice: why ? 'cancelled' : 'run' };
    },
    chooseAlternative: async (r) => {
      said.cannotPlan = `the plan is blocked: ${r.plan.blockedBy?.reason ?? ''}`;
      return {};
    },
    confirmTyped: async () => false,
    confirmStep: async () => false,
    running: (_plan, run) => run(onEvent, signal),
    outcome: async (_plan, result, offers) => {
      // The hosts changed between planning and running: plan again, once.
      if (result.outcome === 'changed' && offers.replan && replans++ === 0) return offers.replan();
      return undefined;
    },
  };
  return {
    ...ui,
    cannotPlan: (what, reason) => {
      said.cannotPlan = `${what}: ${reason}`;
    },
    rebaseTarget: () => Promise.reject(new Error('a queued job does not re-base clones')),
    diagnosis: async () => ({ reviewFix: false }),
  };
}

/**
 * A previous attempt of the job was cut (its worker killed): the holds its sync placed may still be
 * there, and the next `zfs hold` of the same snapshot would fail. Released through the same flow
 * (a plan that destroys nothing, recorded like any run).
 */
async function releaseStaleHolds(app: App, pair: ReplicationPair, signal: AbortSignal, log: (line: string) => void, jobId: number): Promise<void> {
  const [src, dst] = await app.freshListings([pair.source.host, pair.target.host]);
  const plan = planReleaseStaleHolds(pair, src!, dst!, { zfs: app.zfs });
  if (!plan) return;
  log(`job ${jobId}: a previous attempt was cut: releasing the holds it may have left (${plan.steps.length} held snapshot(s))`);
  await reviewAndRun(
    app,
    unattended(pair, signal, () => undefined, {}),
    plan,
    { pair },
  );
}

/** The last run of a flow (a re-plan's, when there was one). */
function lastRun(r: FlowResult | undefined): FlowResult | undefined {
  let x = r;
  while (x?.next) x = x.next;
  return x;
}

/** Runs one claimed job to its end and records it (the run in the runs table through app.history, the state in the queue). */
export async function runJob(
  app: App,
  queue: WorkerQueue,
  job: Job,
  o: Pick<WorkerOptions, 'worker' | 'leaseSeconds' | 'log' | 'pairOf'> & { shutdown?: AbortSignal },
): Promise<JobRun> {
  const ac = new AbortController();
  let bytesDone = 0;
  let stepBytes = 0;
  let bytesTotal: number | undefined;
  let stopped: 'cancel' | 'lost' | 'shutdown' | undefined;
  const onShutdown = () => {
    if (stopped) return;
    stopped = 'shutdown';
    ac.abort();
  };
  if (o.shutdown?.aborted) onShutdown();
  o.shutdown?.addEventListener('abort', onShutdown);
  let lastRenewed = Date.now();
  const renew = async () => {
    try {
      const r = await queue.renew(job.id, o.worker, { leaseSeconds: o.leaseSeconds, bytesDone: bytesDone + stepBytes, ...(bytesTotal ? { bytesTotal } : {}) });
      lastRenewed = Date.now();
      if (r !== 'ok' && !stopped) {
        stopped = r;
        o.log(`job ${job.id}: ${r === 'cancel' ? 'cancel asked: stopping' : 'the lease was lost (the job went back to the queue): stopping'}`);
        ac.abort();
      }
    } catch (e) {
      // The store is away (PostgreSQL restarting): go on while the lease lasts, then stop (another worker may take the job).
      o.log(`job ${job.id}: could not renew the lease: ${(e as Error).message.split('\n')[0]}`);
      if (Date.now() - lastRenewed > o.leaseSeconds * 1000 && !stopped) {
        stopped = 'lost';
        ac.abort();
      }
    }
  };
  const timer = setInterval(() => void renew(), Math.max(200, (o.leaseSeconds * 1000) / 3));
  const said: { refused?: string; cannotPlan?: string } = {};
  let sync: number;
  let error: string | null;
  let result: ExecResult | undefined;
  try {
    const pair = o.pairOf(job.spec);
    const onEvent = (e: ExecEvent) => {
      if (e.type === 'progress') {
        stepBytes = e.bytes;
        if (e.totalBytes) bytesTotal = e.totalBytes;
      } else if (e.type === 'step-done') {
        bytesDone += e.bytes ?? 0;
        stepBytes = 0;
      }
    };
    if (job.attempts > 1) await releaseStaleHolds(app, pair, ac.signal, o.log, job.id);
    let flow = await syncFlow(app, unattended(pair, ac.signal, onEvent, said), pair, {});
    let last = lastRun(flow);
    result = last?.result;
    // A resume finishes only the stream that was cut (an earlier attempt killed mid-send): plan once
    // more for what the source has beyond it, so the job ends with the target caught up.
    if (result?.outcome === 'ok' && last!.plan.preconditions.some((p) => p.kind === 'resume-token') && !ac.signal.aborted) {
      o.log(`job ${job.id}: resumed the interrupted receive (${result.bytes ?? 0} bytes); planning again for what remains`);
      const resumed = result;
      flow = await syncFlow(app, unattended(pair, ac.signal, onEvent, said), pair, {});
      last = lastRun(flow);
      result = last?.result ? { ...last.result, bytes: (resumed.bytes ?? 0) + (last.result.bytes ?? 0) } : resumed;
    }
    ({ sync, error } = jobOutcome({
      ...(said.refused ? { refused: said.refused } : {}),
      ...(said.cannotPlan ? { cannotPlan: said.cannotPlan } : {}),
      outcome: last?.choice === 'nothing' || !flow ? (said.cannotPlan ? undefined : 'nothing') : result?.outcome,
      ...(result?.error ? { error: result.error } : {}),
    }));
    if (stopped === 'cancel' && result?.outcome === 'cancelled') error = 'cancelled (queue cancel): the target stays at its previous snapshot';
  } catch (e) {
    sync = EXIT.failed;
    error = ((e as Error).message ?? String(e)).split('\n')[0]!;
  } finally {
    clearInterval(timer);
    o.shutdown?.removeEventListener('abort', onShutdown);
  }
  if (sync !== SUCCESS) for (const h of [job.sourceHost, job.targetHost]) if (h) app.fleet.reconnect(h);
  if (stopped === 'lost') {
    o.log(`job ${job.id}: not recorded: it is no longer this worker's`);
    return { job, sync, error, ...(result ? { result } : {}), ended: 'not ours' };
  }
  // A stop that came after the job had succeeded does not undo it: it is recorded as any other end.
  if (stopped === 'shutdown' && sync !== SUCCESS) {
    const back = await queue.release(job.id, o.worker, `its worker ${o.worker} stopped (SIGTERM) during attempt ${job.attempts}; back in the queue`);
    o.log(`job ${job.id}: stopped with the worker${back ? ': back in the queue' : ": it was no longer this worker's"}`);
    return { job, sync: EXIT.cancelled, error: 'the worker stopped', ...(result ? { result } : {}), ended: back ? 'put back' : 'not ours' };
  }
  const recorded = await queue.finish(job.id, o.worker, { sync, error, bytesDone: result?.bytes ?? bytesDone, runPlanId: result?.planId ?? null });
  if (!recorded) o.log(`job ${job.id}: finished, but it was no longer this worker's: not recorded`);
  o.log(`job ${job.id} ${job.name}: ${sync === SUCCESS ? 'success' : `exit ${sync}`}${error ? `: ${error}` : ''}`);
  return { job, sync, error, ...(result ? { result } : {}), ended: recorded ? 'recorded' : 'not ours' };
}

/**
 * Nothing could be claimed, but jobs are available while others run (a migration's children wait
 * for the parent another worker runs; a per-host limit is full of other workers' jobs): a draining
 * worker waits for them rather than exit with work left. Nothing running: what is left waits for
 * a job that failed or for an operator, and the drain ends.
 */
async function othersRunFor(queue: WorkerQueue): Promise<boolean> {
  const s = await queue.summary?.().catch(() => undefined);
  const n = (state: JobState) => s?.find((x) => x.state === state)?.jobs ?? 0;
  return n('running') > 0 && n('available') > 0;
}

/** Resolves after `ms`, or at once when `signal` aborts or `wake` is called. */
function pause(ms: number, signal: AbortSignal, wake: { fn?: () => void }): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      wake.fn = undefined;
      resolve();
    }
    if (signal.aborted) return done();
    signal.addEventListener('abort', done);
    wake.fn = done;
  });
}

/** What a worker did: jobs it ran to a recorded end, how many of those failed, how many it put back when stopped. */
export interface WorkerTally {
  ran: number;
  failed: number;
  putBack: number;
}

/**
 * Claims and runs jobs, `parallel` at a time, until `signal` aborts or, with `once`, until nothing is
 * left to claim. On abort (SIGTERM, SIGINT) no job is claimed any more and the running ones are
 * stopped as Ctrl-C stops a sync (the target stays at its previous snapshot, holds released) and put
 * back in the queue for the next worker. SIGKILL leaves them to the lease's expiry.
 */
export async function runWorker(app: App, queue: WorkerQueue, o: WorkerOptions): Promise<WorkerTally> {
  const running = new Set<Promise<void>>();
  const wake: { fn?: () => void } = {};
  let ran = 0;
  let failed = 0;
  let putBack = 0;
  let claimErrors = 0;
  while (!o.signal.aborted) {
    let claimed: Job | undefined;
    if (running.size < o.parallel) {
      try {
        claimed = await queue.claim({
          worker: o.worker,
          leaseSeconds: o.leaseSeconds,
          ...(o.perHost !== undefined ? { perHost: o.perHost } : {}),
          ...(o.penalty !== undefined ? { penalty: o.penalty } : {}),
        });
        claimErrors = 0;
      } catch (e) {
        if (claimErrors++ === 0) o.log(`zfs-fleet worker: cannot claim: ${(e as Error).message.split('\n')[0]} (trying again)`);
      }
    }
    if (claimed) {
      const job = claimed;
      o.log(`job ${job.id} ${job.name}: claimed (attempt ${job.attempts})`);
      const p: Promise<void> = runJob(app, queue, job, { ...o, shutdown: o.signal })
        .then(async (r) => {
          // Only an end this worker recorded counts: a job put back (SIGTERM) or lost to another worker is not its failure.
          if (r.ended === 'put back') putBack++;
          if (r.ended !== 'recorded') return;
          ran++;
          if (r.sync !== SUCCESS) failed++;
          if (r.sync > 0 && r.sync !== EXIT.cancelled && o.onFailure)
            await o.onFailure(r).catch((e: unknown) => o.log(`job ${job.id}: onFailure: ${(e as Error).message}`));
        })
        .catch((e: unknown) => {
          failed++;
          o.log(`job ${job.id}: ${(e as Error).message}`);
        })
        .finally(() => {
          running.delete(p);
          wake.fn?.();
        });
      running.add(p);
      continue;
    }
    if (o.once && running.size === 0 && claimErrors === 0 && !(await othersRunFor(queue))) break;
    // Full, or nothing to claim now: wait for a job to end or the poll interval.
    await pause(o.pollSeconds * 1000, o.signal, wake);
  }
  await Promise.all(running);
  return { ran, failed, putBack };
}
