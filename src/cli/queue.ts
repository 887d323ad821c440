/**
 * `zfs-fleet queue ...` (add, ls, pause, resume, retry, cancel, prio) and `zfs-fleet worker`: the
 * job queue in the fleet store, and the process that runs it. The worker runs each job through the
 * same flow as `zfs-fleet sync --yes`, refusing what needs an operator (src/app/worker.ts).
 */
import { spawn } from 'node:child_process';
import * as os from 'node:os';
import type { Logger } from '../core/log.js';
import { runWorker, type JobRun } from '../app/worker.js';
import { safeLine } from '../core/text.js';
import { fleetDefinition } from './fleetFile.js';
import type { Fleet } from '../core/fleet/fleet.js';
import type { ReplicationPair, Route } from '../core/fleet/pairs.js';
import { formatBytes } from '../core/format.js';
import { failureReport, JOB_STATES, type Job, type JobState, type NewJob } from '../core/queue/job.js';
import { addMigration, migrationJobs, syncJobs, type JobOptions, type MigrationJob } from '../app/jobs.js';
import { parseEndpoint } from '../core/fleet/endpoint.js';
import { defaultStoreUrl } from '../store/location.js';
import type { JobQueue } from '../store/queue.js';
import { cliApp, configuredPairs, fleetPair, type ReplicationOptions } from './replication.js';
import { UsageError } from './usage.js';

export interface QueueOptions extends ReplicationOptions {
  priority?: number;
  state?: string;
  failed?: boolean;
  parallel?: number;
  perHost?: number;
  leaseSeconds?: number;
  penalty?: number;
  once: boolean;
}

export const QUEUE_USAGE = `  queue add sync SRC DST [SRC DST...] [--priority 1-10] [--route R] | queue add group NAME [--priority P]
  queue add migrate SRC_ROOT DST_ROOT [--priority P] [--route R]
                                        queue a sync (a group: one job per replica; a migration: one per
                                        dataset under SRC_ROOT, each after its parent's) in the fleet store;
                                        a pair already queued, running or paused is not queued twice
  queue ls [--state available|running|paused|failed|cancelled|success] [--json]
  queue pause [JOB...|--all] | queue resume [JOB...|--all] | queue retry JOB...|--failed
  queue cancel JOB... | queue prio JOB P
                                        pause: not started ones wait (running ones finish); cancel: a running
                                        job is stopped, its target stays at its previous snapshot
  worker [--parallel 1] [--per-host N] [--once] [--lease 60s] [--penalty 32] [--store URL]
                                        claim and run queued jobs (--once: until none is left); a plan
                                        that destroys anything is not run unattended (exit 3 in the job)`;

type Out = (line: string) => void;

function endpointOf(arg: string, what: string): { host: string; dataset: string } {
  let e;
  try {
    e = parseEndpoint(arg);
  } catch (err) {
    throw new UsageError(`${what}: ${(err as Error).message}`);
  }
  if (!e.name || e.name.kind === 'snapshot' || e.name.kind === 'bookmark') throw new UsageError(`${what} is HOST:DATASET, not '${arg}'`);
  return { host: e.host, dataset: e.name.full };
}

async function openQueue(o: { store?: string }): Promise<JobQueue> {
  const { openStore, JobQueue } = await import('../store/store.js');
  return new JobQueue(await openStore(o.store ?? defaultStoreUrl()));
}

const ids = (args: string[]): number[] =>
  args.map((a) => {
    const n = Number(a);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`a job is its number (queue ls shows them), not '${a}'`);
    return n;
  });

function jobLine(j: Job): string[] {
  const size = j.blocks == null ? '?' : formatBytes(j.blocks * 1024);
  const progress = j.state === 'running' && j.bytesDone != null ? `${formatBytes(j.bytesDone)}${j.bytesTotal ? ` of ${formatBytes(j.bytesTotal)}` : ''}` : '';
  return [
    String(j.id),
    j.state + (j.cancelRequested && j.state === 'running' ? ' (cancelling)' : ''),
    String(j.sync),
    String(j.priority),
    j.name,
    size,
    String(j.attempts),
    j.worker ?? '',
    progress || (j.error ? j.error.split('\n')[0]! : j.waitsFor ? `after job ${j.waitsFor}` : ''),
  ];
}

export function formatJobs(jobs: Job[]): string[][] {
  return [['ID', 'STATE', 'SYNC', 'PRI', 'NAME', 'SIZE', 'TRIES', 'WORKER', 'PROGRESS/ERROR'], ...jobs.map(jobLine)];
}

export async function queueCommand(
  fleet: Fleet,
  o: QueueOptions,
  out: Out,
  table: (rows: string[][]) => void,
  err: (s: string) => void,
  logger: Logger,
): Promise<number> {
  const [sub, ...rest] = o.positional;
  if (!sub) throw new UsageError('queue needs a command: add, ls, pause, resume, retry, cancel, prio');
  if (!['add', 'ls', 'pause', 'resume', 'retry', 'cancel', 'prio'].includes(sub)) throw new UsageError(`unknown queue command '${sub}'`);
  let state: JobState | undefined;
  if (o.state !== undefined) {
    if (!JOB_STATES.includes(o.state as JobState)) throw new UsageError(`--state is one of ${JOB_STATES.join(', ')}`);
    state = o.state as JobState;
  }
  // Usage is checked before the store is opened.
  let newJobs: (() => Promise<NewJob[]>) | undefined;
  let migration: (() => Promise<MigrationJob[]>) | undefined;
  const app = () => cliApp(fleet, o, logger);
  const jobOptions: JobOptions = { ...(o.priority !== undefined ? { priority: o.priority } : {}), ...(o.route ? { route: o.route as Route } : {}) };
  const warn = (line: string) => err(`zfs-fleet: ${line}\n`);
  if (sub === 'add') {
    const [what, a, b] = rest;
    if (what === 'sync') {
      const ends = rest.slice(1);
      if (!ends.length || ends.length % 2) throw new UsageError('queue add sync takes SRC DST (HOST:DATASET HOST:DATASET), or several SRC DST pairs');
      // Several pairs in one call: each host listed once to size them all (a list of pairs: `xargs -n 400 zfs-fleet queue add sync < pairs`).
      const pairs: ReplicationPair[] = [];
      for (let i = 0; i < ends.length; i += 2) pairs.push(fleetPair(ends[i]!, ends[i + 1]!, o.route, o.fleetFile));
      newJobs = () => syncJobs(app(), pairs, jobOptions, warn);
    } else if (what === 'migrate') {
      if (!a || !b || rest.length !== 3) throw new UsageError('queue add migrate takes SRC_ROOT DST_ROOT (HOST:DATASET HOST:DATASET)');
      const [from, to] = [endpointOf(a, 'SRC_ROOT'), endpointOf(b, 'DST_ROOT')];
      migration = () => migrationJobs(app(), from, to, (s, t) => fleetPair(s, t, o.route as Route | undefined, o.fleetFile), jobOptions, warn);
    } else if (what === 'group') {
      if (!a || rest.length !== 2) throw new UsageError('queue add group takes the group NAME');
      const all = configuredPairs(o, logger);
      const pairs = all.filter((p) => p.group === a);
      if (!pairs.length) {
        const groups = [...new Set(all.flatMap((p) => (p.group ? [p.group] : [])))];
        throw new UsageError(`no group ${a} in the fleet file (${groups.join(', ') || 'none defined'})`);
      }
      newJobs = () => syncJobs(app(), pairs, jobOptions, warn);
    } else throw new UsageError(`queue add what? sync SRC DST, group NAME or migrate SRC_ROOT DST_ROOT (got '${what ?? ''}')`);
  }
  if ((sub === 'pause' || sub === 'resume') && !o.all && rest.length === 0) throw new UsageError(`queue ${sub} takes JOB... or --all`);
  if (sub === 'retry' && !o.failed && rest.length === 0) throw new UsageError('queue retry takes JOB... or --failed');
  if (sub === 'cancel' && rest.length === 0) throw new UsageError('queue cancel takes JOB...');
  if (sub === 'prio' && rest.length !== 2) throw new UsageError('queue prio takes JOB PRIORITY (1 first, 10 last)');
  const named = sub === 'prio' ? ids(rest.slice(0, 1)) : sub === 'add' || sub === 'ls' ? [] : ids(rest);

  const q = await openQueue(o);
  try {
    let changed: Job[];
    switch (sub) {
      case 'add': {
        const results = [];
        if (migration) results.push(...(await addMigration(q, await migration())));
        else for (const j of await newJobs!()) results.push(await q.add(j));
        if (o.json) out(JSON.stringify(results, null, 2));
        else
          for (const r of results)
            out(
              r.added
                ? `queued job ${r.job.id}: ${r.job.name} (priority ${r.job.priority}${r.job.after ? `, after job ${r.job.after}` : ''})`
                : `already queued: job ${r.job.id} (${r.job.state}): ${r.job.name}`,
            );
        return 0;
      }
      case 'ls': {
        const jobs = await q.list({ ...(state ? { state } : {}) });
        if (o.json) out(JSON.stringify(jobs, null, 2));
        else if (!jobs.length) out(state ? `no ${state} jobs` : 'the queue is empty');
        else table(formatJobs(jobs));
        return 0;
      }
      case 'pause':
        changed = await q.pause(named);
        break;
      case 'resume':
        changed = await q.resume(named);
        break;
      case 'retry':
        changed = await q.retry(named);
        break;
      case 'cancel':
        changed = await q.cancel(named);
        break;
      default:
        changed = [await q.prioritize(named[0]!, Number(rest[1]))];
    }
    if (o.json) out(JSON.stringify(changed, null, 2));
    else if (!changed.length) out(`nothing to ${sub}`);
    else table(formatJobs(changed));
    return 0;
  } finally {
    await q.store.close();
  }
}

/** How long an `onFailure` command may run before it is killed (a mail that hangs must not hold the worker). */
const ON_FAILURE_TIMEOUT_MS = 60_000;

/**
 * The fleet file's `onFailure` as a worker's hook: `/bin/sh -c COMMAND` with the job in its
 * environment and the report on its stdin; its output goes to the worker's log. The file is read
 * when a job fails (an edit takes effect without a restart); no command, nothing is run.
 */
export function onFailureHook(fleetFile: string | undefined, worker: string, log: (line: string) => void): (run: JobRun) => Promise<void> {
  return async (run) => {
    const command = fleetDefinition(fleetFile).onFailure;
    if (command === undefined) return;
    const job: Job = { ...run.job, sync: run.sync, state: 'failed', error: run.error, finishedAt: new Date().toISOString() };
    const env = {
      ...process.env,
      ZFS_FLEET_JOB_ID: String(job.id),
      ZFS_FLEET_JOB_NAME: safeLine(job.name),
      ZFS_FLEET_JOB_EXIT: String(job.sync),
      ZFS_FLEET_JOB_SOURCE: job.spec.source,
      ZFS_FLEET_JOB_TARGET: job.spec.target,
      ZFS_FLEET_JOB_ERROR: safeLine((job.error ?? '').split('\n')[0]!),
      ZFS_FLEET_WORKER: worker,
    };
    const code = await new Promise<number | string>((resolve) => {
      const child = spawn('/bin/sh', ['-c', command], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      const timer = setTimeout(() => child.kill('SIGKILL'), ON_FAILURE_TIMEOUT_MS);
      const out = (b: Buffer) => {
        for (const line of b.toString('utf8').split('\n')) if (line.trim()) log(`job ${job.id}: onFailure: ${safeLine(line)}`);
      };
      child.stdout.on('data', out);
      child.stderr.on('data', out);
      child.stdin.on('error', () => undefined); // a command that does not read its stdin
      child.stdin.end(failureReport(job, worker));
      child.on('error', (e) => (clearTimeout(timer), resolve(e.message)));
      child.on('close', (c, sig) => (clearTimeout(timer), resolve(sig ? `killed by ${sig}` : (c ?? 0))));
    });
    log(`job ${job.id}: onFailure ${code === 0 ? 'ran' : `failed (${typeof code === 'number' ? `exit ${code}` : code})`}`);
  };
}

/** `zfs-fleet worker`: claims and runs jobs; SIGTERM/SIGINT: no new claims, running jobs stopped and put back, exit 0. */
export async function workerCommand(fleet: Fleet, o: QueueOptions, log: (line: string) => void, logger: Logger): Promise<number> {
  if (o.positional.length) throw new UsageError(`worker takes no arguments (got ${o.positional.join(' ')})`);
  const q = await openQueue(o);
  // Runs are recorded in the same store (the runs table), as `zfs-fleet sync` records them.
  const app = cliApp(fleet, o, logger);
  const stop = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (!stop.signal.aborted) log(`zfs-fleet worker: ${sig}: stopping (running jobs go back to the queue)`);
    stop.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const worker = `${os.hostname()} pid ${process.pid}`;
  const parallel = o.parallel ?? 1;
  log(
    `zfs-fleet worker ${worker}: claiming from ${q.store.location}, ${parallel} at a time${o.perHost ? `, at most ${o.perHost} per host` : ''}${o.once ? ', until none is left' : ''}`,
  );
  try {
    const r = await runWorker(app, q, {
      worker,
      parallel,
      ...(o.perHost !== undefined ? { perHost: o.perHost } : {}),
      ...(o.penalty !== undefined ? { penalty: o.penalty } : {}),
      leaseSeconds: o.leaseSeconds ?? 60,
      once: o.once,
      pollSeconds: 2,
      signal: stop.signal,
      log,
      pairOf: (spec) => fleetPair(spec.source, spec.target, spec.route, o.fleetFile),
      onFailure: onFailureHook(o.fleetFile, worker, log),
    });
    log(`zfs-fleet worker: ${r.ran} job(s) run, ${r.failed} failed${r.putBack ? `, ${r.putBack} put back in the queue` : ''}`);
    return o.once && r.failed ? 1 : 0;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await app.history.close?.();
    await q.store.close();
  }
}
