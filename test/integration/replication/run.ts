/**
 * A minimal executor for the integration tests (the product's executor is built elsewhere on the
 * same plans): runs each step's argv through the product's runners, joins relay pipes with a
 * PassThrough, re-checks the preconditions against fresh listings before the plan and before the
 * steps they are attached to, and runs cleanup steps after a failure.
 */
import { PassThrough } from 'node:stream';
import type { Fleet } from '../../../src/core/fleet/fleet.js';
import type { HostListing } from '../../../src/core/fleet/listing.js';
import { checkPreconditions, type Plan, type PlanStep } from '../../../src/core/replication/plan.js';
import { RunnerError, type RunResult } from '../../../src/core/runner.js';

export interface StepRun {
  step: PlanStep;
  result: RunResult;
  /** The sending side of a relay pipe. */
  from?: RunResult;
}

export class StepFailed extends Error {
  constructor(
    readonly step: PlanStep,
    readonly result: RunResult,
  ) {
    super(`step ${step.id} (${step.description}) failed with ${result.exitCode}: ${result.stderr.trim()}`);
  }
}

/** Fresh listings; a listing is read-only, so one lost connection (the shared lab's sshd is restarted by others at times) is retried. */
export async function listings(fleet: Fleet, hosts: readonly string[]): Promise<Map<string, HostListing>> {
  const m = new Map<string, HostListing>();
  for (const h of hosts) {
    try {
      m.set(h, await fleet.host(h).refresh());
    } catch (e) {
      if (!(e instanceof RunnerError) || e.code !== 'disconnected') throw e;
      m.set(h, await fleet.host(h).refresh());
    }
  }
  return m;
}

async function runStep(fleet: Fleet, step: PlanStep): Promise<StepRun> {
  if (step.type === 'command') return { step, result: await fleet.host(step.host).runner.run(step.argv, { timeoutMs: 120_000 }) };
  if (step.exec) return { step, result: await fleet.host(step.exec.host).runner.run(step.exec.argv, { timeoutMs: 120_000 }) };
  // relay: the source's stdout into the target's stdin
  const pipe = new PassThrough();
  const abort = new AbortController();
  const to = fleet.host(step.to.host).runner.run(step.to.argv, { stdin: pipe, timeoutMs: 120_000, signal: abort.signal });
  const from = fleet
    .host(step.from.host)
    .runner.run(step.from.argv, { stdout: pipe, timeoutMs: 120_000, signal: abort.signal })
    .then(
      (r) => {
        pipe.end();
        return r;
      },
      (e: unknown) => {
        pipe.destroy(e as Error);
        throw e;
      },
    );
  const [f, t] = await Promise.all([from, to]);
  const result: RunResult = f.exitCode !== 0 && t.exitCode === 0 ? f : t;
  return { step, result, from: f };
}

/** Transient on zfs-fuse: "dataset is busy" for a moment after a mount changed. */
function transientBusy(step: PlanStep, r: RunResult): boolean {
  return (step.op === 'destroy' || step.op === 'rollback' || step.op === 'clone') && /dataset is busy/.test(r.stderr);
}

export interface RunOptions {
  /** Steps not to run (by id). */
  skip?: (step: PlanStep) => boolean;
  /** Retries of a destroy/rollback/clone step that fails with zfs-fuse's transient "dataset is busy" (default 10). */
  busyRetries?: number;
  onStep?: (run: StepRun) => void;
}

export async function runPlan(fleet: Fleet, plan: Plan, options: RunOptions = {}): Promise<StepRun[]> {
  if (plan.blockedBy) throw new Error(`the plan is blocked: ${plan.blockedBy.reason}`);
  const fresh = await listings(fleet, plan.hosts);
  const changes = checkPreconditions(plan, fresh);
  if (changes.length) throw new Error(`the plan is out of date:\n${changes.map((c) => c.message).join('\n')}`);
  const runs: StepRun[] = [];
  const ok = new Set<string>();
  let failure: Error | undefined;
  for (const step of plan.steps) {
    if (step.estimate || options.skip?.(step)) continue;
    if (failure && !(step.cleanupOf && ok.has(step.cleanupOf))) continue;
    if (!failure && plan.preconditions.some((p) => p.beforeStep === step.id)) {
      const c = checkPreconditions(plan, await listings(fleet, plan.hosts), { beforeStep: step.id });
      if (c.length) {
        failure = new Error(`before ${step.id}: ${c.map((x) => x.message).join('; ')}`);
        continue;
      }
    }
    let run = await runStep(fleet, step);
    for (let i = 0; i < (options.busyRetries ?? 10) && run.result.exitCode !== 0 && transientBusy(step, run.result); i++) {
      await new Promise((r) => setTimeout(r, 500));
      run = await runStep(fleet, step);
    }
    runs.push(run);
    options.onStep?.(run);
    if (run.result.exitCode === 0 && (run.from?.exitCode ?? 0) === 0) ok.add(step.id);
    else failure ??= new StepFailed(step, run.from && run.from.exitCode !== 0 ? run.from : run.result);
  }
  if (failure) throw failure;
  return runs;
}
