/**
 * Runs a Plan (src/core/replication/plan.ts): preconditions re-checked against fresh listings right
 * before running (and before each step that has its own), steps in order, a step that must be
 * confirmed asked on its own, relay pipes joined here with bytes counted (progress: bytes, rate,
 * time left against the `send -nvP` estimate), cancellation through an AbortSignal (the receive
 * is killed mid-stream, so the target stays at its previous snapshot), cleanup steps (hold
 * releases) run even after a failure or a cancel, and a result record for the history.
 */
import { PassThrough, Transform, type TransformCallback } from 'node:stream';
import type { HostListing } from '../fleet/listing.js';
import type { Logger } from '../log.js';
import type { Runner, RunResult } from '../runner.js';
import { parseSendEstimate } from '../replication/argv.js';
import {
  checkPreconditions,
  pipeShellLine,
  type Change,
  type CommandStep,
  type PipeEnd,
  type PipeStep,
  type Plan,
  type PlanStep,
} from '../replication/plan.js';
import { classifyZfsError, ZfsError } from '../zfs/errors.js';
import { guardedPipeArgv } from './pipeGuard.js';
import { Throttle } from './throttle.js';
import { pipeFailureText, SendProgress } from '../replication/sendProgress.js';

export interface ExecDeps {
  runner(host: string): Runner;
  /** A FRESH listing of the host (the executor re-checks the plan against it). */
  freshListing(host: string): Promise<HostListing>;
  logger: Logger;
}

export type ExecEvent =
  | { type: 'checking'; message: string }
  | { type: 'step-start'; step: PlanStep; index: number; total: number }
  | { type: 'progress'; stepId: string; bytes: number; bytesPerSecond: number; totalBytes?: number; secondsLeft?: number }
  | { type: 'step-done'; step: PlanStep; durationMs: number; bytes?: number }
  | { type: 'step-failed'; step: PlanStep; error: string }
  | { type: 'step-skipped'; step: PlanStep; reason: string };

export interface ExecOptions {
  signal?: AbortSignal;
  onEvent?: (e: ExecEvent) => void;
  /** Asked for each step marked `confirm` (after the plan as a whole was confirmed); false stops the plan. */
  confirmStep?: (step: PlanStep) => Promise<boolean>;
  /** Per-step limit (default: none; a send of a large dataset runs for hours). */
  stepTimeoutMs?: number;
  /** Progress events at most this often (default 250 ms). */
  progressIntervalMs?: number;
}

export type Outcome = 'ok' | 'failed' | 'cancelled' | 'changed' | 'declined';

export interface StepResult {
  id: string;
  description: string;
  status: 'ok' | 'failed' | 'skipped' | 'not-run';
  durationMs?: number;
  bytes?: number;
  error?: string;
}

export interface ExecResult {
  planId: string;
  kind: Plan['kind'];
  title: string;
  hosts: string[];
  outcome: Outcome;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  bytes: number;
  error?: string;
  changes?: string[];
  /** Steps that may fail (`mayFail`) and did: what failed, and why that does not fail the run. */
  warnings?: string[];
  steps: StepResult[];
}

/** The plan no longer matches the hosts: nothing was run for the steps it guards. */
export class PlanChangedError extends Error {
  constructor(readonly changes: Change[]) {
    super(`the hosts changed since the plan was made:\n${changes.map((c) => `- ${c.message}`).join('\n')}`);
    this.name = 'PlanChangedError';
  }
}

class Cancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'Cancelled';
  }
}

class Declined extends Error {
  constructor(readonly step: PlanStep) {
    super(`step "${step.description}" was not confirmed`);
    this.name = 'Declined';
  }
}

class Counter extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    cb(null, chunk);
  }
}

const RETRY_BUSY_MS = [500, 1000, 2000, 4000];
/** What a "dataset is busy" leaves undone, so running it again is safe. */
const RETRIED_OPS = new Set<PlanStep['op']>(['destroy', 'rollback', 'clone', 'rename', 'promote', 'set']);

function hostsOf(step: PlanStep): string[] {
  if (step.type === 'command') return [step.host];
  return step.exec ? [step.exec.host] : [step.from.host, step.to.host];
}

function failText(host: string, argv: readonly string[], res: RunResult): string {
  return new ZfsError(host, argv, res.exitCode, res.stderr).message;
}

/** One run of a plan: what its steps read, and what they record. */
interface Run {
  plan: Plan;
  deps: ExecDeps;
  options: ExecOptions;
  emit: (e: ExecEvent) => void;
  started: number;
  results: Map<string, StepResult>;
  /** Steps that ended well (their cleanups run, whatever happens later). */
  succeeded: Set<string>;
  bytes: number;
  /** The latest `send -nvP` estimate: progress reports time left against it. */
  totalEstimate?: number;
  warnings: string[];
}

export async function executePlan(plan: Plan, deps: ExecDeps, options: ExecOptions = {}): Promise<ExecResult> {
  const run: Run = {
    plan,
    deps,
    options,
    emit: options.onEvent ?? (() => {}),
    started: Date.now(),
    results: new Map<string, StepResult>(plan.steps.map((s) => [s.id, { id: s.id, description: s.description, status: 'not-run' }])),
    succeeded: new Set<string>(),
    bytes: 0,
    warnings: [],
  };
  if (plan.blockedBy) return record(run, 'failed', `the plan is blocked: ${plan.blockedBy.reason}`);
  try {
    if (options.signal?.aborted) throw new Cancelled();
    await recheck(run, undefined, []);
    for (let i = 0; i < plan.steps.length; i++) await stepInTurn(run, plan.steps[i]!, i);
    return record(run, 'ok');
  } catch (e) {
    await runCleanups(run);
    if (e instanceof PlanChangedError) return record(run, 'changed', e.message, e.changes);
    if (e instanceof Cancelled) return record(run, 'cancelled', 'cancelled by the user');
    if (e instanceof Declined) return record(run, 'declined', e.message);
    return record(run, 'failed', e instanceof Error ? e.message : String(e));
  }
}

/** The result record for the history. */
function record(run: Run, outcome: Outcome, error?: string, changes?: Change[]): ExecResult {
  const { plan } = run;
  return {
    planId: plan.id,
    kind: plan.kind,
    title: plan.title,
    hosts: plan.hosts,
    outcome,
    startedAt: new Date(run.started).toISOString(),
    finishedAt: new Date().toISOString(),
    durationMs: Date.now() - run.started,
    bytes: run.bytes,
    error,
    changes: changes?.map((c) => c.message),
    ...(run.warnings.length ? { warnings: run.warnings } : {}),
    steps: plan.steps.map((s) => run.results.get(s.id)!),
  };
}

/** Re-check the preconditions attached to a step (or to the start) against fresh listings; throws PlanChangedError. */
async function recheck(run: Run, beforeStep: string | undefined, hosts: string[]): Promise<void> {
  const relevant = run.plan.preconditions.filter((p) => p.beforeStep === beforeStep);
  if (relevant.length === 0) return;
  run.emit({ type: 'checking', message: beforeStep ? `re-checking before step ${beforeStep}` : 're-checking the plan against the hosts' });
  const needed = [...new Set([...relevant.flatMap((p) => (p.kind === 'same-snapshot' ? [p.host, p.other.host] : [p.host])), ...hosts])];
  const listings = new Map<string, HostListing>();
  await Promise.all(needed.map(async (h) => listings.set(h, await run.deps.freshListing(h))));
  const changes = checkPreconditions(run.plan, listings, { beforeStep });
  if (changes.length) throw new PlanChangedError(changes);
}

/** One step in the order of the plan: skipped (a cleanup of a step that did not run), confirmed, re-checked, run. */
async function stepInTurn(run: Run, step: PlanStep, index: number): Promise<void> {
  const { options, emit } = run;
  const res = run.results.get(step.id)!;
  if (options.signal?.aborted) throw new Cancelled();
  if (step.cleanupOf && !run.succeeded.has(step.cleanupOf)) {
    res.status = 'skipped';
    emit({ type: 'step-skipped', step, reason: `step ${step.cleanupOf} did not run` });
    return;
  }
  if (step.confirm && options.confirmStep && !(await options.confirmStep(step))) throw new Declined(step);
  // After the step's confirmation, right before it runs: a snapshot taken while the dialog was
  // open (an auto-snapshot every minute is normal) must stop a `-r` from destroying it unlisted.
  await recheck(run, step.id, hostsOf(step));
  emit({ type: 'step-start', step, index, total: run.plan.steps.length });
  try {
    await runStep(run, step, options.signal);
  } catch (e) {
    res.status = 'failed';
    res.error = e instanceof Error ? e.message : String(e);
    if (options.signal?.aborted || e instanceof Cancelled) throw new Cancelled();
    emit({ type: 'step-failed', step, error: res.error });
    if (!step.mayFail) throw e;
    run.warnings.push(`${step.description}: failed (${res.error.split('\n')[0]}); ${step.mayFail}`);
    run.deps.logger.warn(`step ${step.id} (${step.description}) failed; the run goes on: ${step.mayFail}`);
    return;
  }
  res.status = 'ok';
  run.succeeded.add(step.id);
  emit({ type: 'step-done', step, durationMs: res.durationMs ?? 0, bytes: res.bytes });
}

/** Release what we took (holds), whatever happened, with a signal of its own. */
async function runCleanups(run: Run): Promise<void> {
  const { plan, results, succeeded } = run;
  const cleanups = plan.steps.filter((s) => s.cleanupOf && succeeded.has(s.cleanupOf) && results.get(s.id)!.status === 'not-run');
  for (const c of cleanups) {
    try {
      await runStep(run, c, undefined);
      results.get(c.id)!.status = 'ok';
    } catch (ce) {
      results.get(c.id)!.status = 'failed';
      results.get(c.id)!.error = (ce as Error).message;
      run.deps.logger.error(`cleanup step ${c.id} (${c.description}) failed: ${(ce as Error).message}`);
    }
  }
}

/** Run one step: a command, a pipe that runs on one host, or a relay joined here. */
async function runStep(run: Run, step: PlanStep, signal: AbortSignal | undefined): Promise<void> {
  const t0 = Date.now();
  if (step.type === 'command') await runCommand(run, step, signal);
  else if (step.exec) await runHostPipe(run, step, step.exec, signal, t0);
  else await runRelay(run, step, signal, t0);
  run.results.get(step.id)!.durationMs = Date.now() - t0;
}

async function runCommand(run: Run, step: CommandStep, signal: AbortSignal | undefined): Promise<void> {
  const { deps } = run;
  const timeoutMs = run.options.stepTimeoutMs;
  let r = await deps.runner(step.host).run(step.argv, { signal, timeoutMs });
  // zfs-fuse (and busy Linux hosts) answer "dataset is busy" for a moment after a mount change (a
  // child just created and mounted, a property set): destroy, rollback, clone, rename, promote and set
  // are retried a few times (7.5 s in all); a busy that lasts (a stalled recv) still fails.
  for (const delay of RETRY_BUSY_MS) {
    if (r.exitCode === 0 || !RETRIED_OPS.has(step.op) || classifyZfsError(r.stderr, r.exitCode) !== 'busy' || signal?.aborted) break;
    deps.logger.debug(`${step.host}: ${step.op} said busy; retrying in ${delay} ms`);
    await new Promise((res) => setTimeout(res, delay));
    r = await deps.runner(step.host).run(step.argv, { signal, timeoutMs });
  }
  if (r.exitCode !== 0) throw new Error(failText(step.host, step.argv, r));
  if (step.estimate) run.totalEstimate = parseSendEstimate(r.stdout) ?? parseSendEstimate(r.stderr) ?? run.totalEstimate;
}

/**
 * push / pull / local: one shell pipeline on one host; the stream does not pass through us. It runs
 * under a guard (pipeGuard.ts) that kills it when its input, held open here, ends: our connection
 * dropped, or the run was cancelled. Otherwise the pipe would run on and might finish unattended.
 * Its progress: the lines of `zfs send -v -P` (where the planner asked for them) on standard error.
 */
async function runHostPipe(run: Run, step: PipeStep, exec: PipeEnd, signal: AbortSignal | undefined, t0: number): Promise<void> {
  const { deps } = run;
  const input = new PassThrough();
  const progress = new SendProgress();
  const every = run.options.progressIntervalMs ?? 250;
  let lastEmit = 0;
  const onStderr = (chunk: string) => {
    if (!progress.feed(chunk) || Date.now() - lastEmit < every) return;
    lastEmit = Date.now();
    const total = run.totalEstimate ?? progress.total;
    const secs = (Date.now() - t0) / 1000;
    const rate = secs > 0 ? progress.bytes / secs : 0;
    run.emit({
      type: 'progress',
      stepId: step.id,
      bytes: progress.bytes,
      bytesPerSecond: rate,
      totalBytes: total,
      secondsLeft: total && rate > 0 ? Math.max(0, (total - progress.bytes) / rate) : undefined,
    });
  };
  try {
    const r = await deps.runner(exec.host).run(guardedPipeArgv(pipeShellLine(step)!), { signal, timeoutMs: run.options.stepTimeoutMs, stdin: input, onStderr });
    if (r.exitCode !== 0) {
      // Both sides' standard error, mixed: the line that says why (ssh's, then the receive's) goes first; all of it to the log.
      deps.logger.warn(`${exec.host}: ${step.description} failed (exit ${r.exitCode ?? r.exitSignal}); its standard error:\n${r.stderr}`);
      throw new Error(failText(exec.host, exec.argv, { ...r, stderr: pipeFailureText(r.stderr) }));
    }
  } finally {
    input.end();
  }
  if (progress.bytes > 0) {
    // Ended well: every stream of the send finished (counted at least as announced).
    const res = run.results.get(step.id)!;
    res.bytes = progress.completed();
    run.bytes += res.bytes;
  }
}

/** relay: the send's stdout is piped through this process into the receive's stdin, bytes counted. */
async function runRelay(run: Run, step: PipeStep, signal: AbortSignal | undefined, t0: number): Promise<void> {
  const { deps } = run;
  const timeoutMs = run.options.stepTimeoutMs;
  const counter = new Counter();
  const pipe = new PassThrough({ highWaterMark: 1 << 20 });
  // A bandwidth limit: paced here, between the counter and the receive (the send waits, as for a slow network).
  if (step.bwlimit) counter.pipe(new Throttle(step.bwlimit)).pipe(pipe);
  else counter.pipe(pipe);
  const tick = setInterval(() => {
    const total = run.totalEstimate;
    const secs = (Date.now() - t0) / 1000;
    const rate = secs > 0 ? counter.bytes / secs : 0;
    run.emit({
      type: 'progress',
      stepId: step.id,
      bytes: counter.bytes,
      bytesPerSecond: rate,
      totalBytes: total,
      secondsLeft: total && rate > 0 ? Math.max(0, (total - counter.bytes) / rate) : undefined,
    });
  }, run.options.progressIntervalMs ?? 250);
  // If either side fails, stop the other: a receive that never sees the end of the stream discards it.
  const local = new AbortController();
  const onAbort = () => local.abort();
  signal?.addEventListener('abort', onAbort);
  try {
    const send = deps.runner(step.from.host).run(step.from.argv, { stdout: counter, signal: local.signal, timeoutMs });
    const recv = deps.runner(step.to.host).run(step.to.argv, { stdin: pipe, signal: local.signal, timeoutMs });
    const [s, r] = await Promise.allSettled([stopOtherOnFailure(send, local), stopOtherOnFailure(recv, local)]);
    if (signal?.aborted) throw new Cancelled();
    relayFailure(step, s, r);
  } finally {
    clearInterval(tick);
    signal?.removeEventListener('abort', onAbort);
  }
  const res = run.results.get(step.id)!;
  res.bytes = counter.bytes;
  run.bytes += counter.bytes;
}

/** Either side failing (a non-zero exit, or a rejection such as a dropped connection) stops the other. */
function stopOtherOnFailure(p: Promise<RunResult>, local: AbortController): Promise<RunResult> {
  return p.then(
    (x) => {
      if (x.exitCode !== 0) local.abort();
      return x;
    },
    (e: unknown) => {
      local.abort();
      throw e;
    },
  );
}

/** Throws the relay's failure: the side that failed first, not the side we stopped because of it (its error is 'aborted'). */
function relayFailure(step: PipeStep, s: PromiseSettledResult<RunResult>, r: PromiseSettledResult<RunResult>): void {
  const stoppedByUs = (x: PromiseSettledResult<RunResult>) => x.status === 'rejected' && (x.reason as { code?: string }).code === 'aborted';
  const failure = (x: PromiseSettledResult<RunResult>, host: string, argv: string[]): Error | undefined =>
    x.status === 'rejected' ? (x.reason as Error) : x.value.exitCode !== 0 ? new Error(failText(host, argv, x.value)) : undefined;
  const sendErr = failure(s, step.from.host, step.from.argv);
  const recvErr = failure(r, step.to.host, step.to.argv);
  if (sendErr && !(stoppedByUs(s) && recvErr)) throw sendErr;
  if (recvErr) throw recvErr;
}
