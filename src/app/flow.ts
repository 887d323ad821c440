/**
 * The one path every plan takes, whoever asks for it (the extension's commands, the timeline, the
 * CLI, later the agent and the worker): preview -> confirm -> typed names -> execute (preconditions
 * re-checked, each `confirm` step asked) -> record in the history -> report. The consumers differ
 * only in their Interaction: how they show the plan, ask, report progress and the outcome.
 */
import { executePlan, type ExecEvent, type ExecResult } from '../core/execute/executor.js';
import { planBasesLost, type BaseLoss } from '../core/replication/baseGuard.js';
import type { ReplicationPair } from '../core/fleet/pairs.js';
import { planToShell, type Plan, type PlanStep } from '../core/replication/plan.js';
import { syncJobs, unattendedRefusal } from './jobs.js';
import type { App } from './services.js';
import type { Job } from '../core/queue/job.js';

/** A plan as it is put before the user: with the pairs' bases it destroys and what the caller adds. */
export interface Review {
  plan: Plan;
  /** The newest common snapshots of pairs that the plan destroys (each must be confirmed by its dataset's name). */
  losses: BaseLoss[];
  /** More text for the preview (inspections, a diagnosis). */
  extraPreview?: string;
  /** More lines for the confirmation (after the summary; for a blocked plan, after what is in the way). */
  extraDetail?: string[];
  /** The plan can be queued instead of run now (a pair's sync that a worker would run unattended): offer **Queue**. */
  queueable?: boolean;
}

/** What the consumer showed when it asked (the modal's text and buttons, the preview document): kept in the result for callers and tests. */
export interface Shown {
  message?: string;
  detail?: string;
  buttons?: string[];
  /** The preview document (a vscode.Uri in the extension). */
  preview?: unknown;
}

export type Choice = 'run' | 'queue' | 'terminal' | 'cancelled';

/** A name the user must type exactly: a destroyed clone or dataset, or a pair's newest common base. */
export type TypedQuestion = { kind: 'clone' | 'dataset'; host: string; name: string } | { kind: 'base'; loss: BaseLoss };

export interface TerminalRecord {
  name: string;
  runOn: string;
  text: string;
}

/** How a consumer shows, asks and reports. */
export interface Interaction {
  /** A plan with nothing to do. */
  nothing(plan: Plan): void;
  /** Show the plan before asking (a preview document, standard output). */
  preview(r: Review): Promise<Shown>;
  /** A runnable plan: run it, queue it (where `queueable`), type it into terminals, or not. */
  confirm(r: Review): Promise<{ choice: Choice } & Shown>;
  /** A blocked plan: which of the alternatives to take, or none. */
  chooseAlternative(r: Review, labels: string[]): Promise<{ label?: string } & Shown>;
  confirmTyped(q: TypedQuestion): Promise<boolean>;
  /** A step marked `confirm`, right before it runs. */
  confirmStep(plan: Plan, step: PlanStep): Promise<boolean>;
  /** Runs `run` with progress shown and a way to cancel it (the signal). */
  running(plan: Plan, run: (onEvent: (e: ExecEvent) => void, signal: AbortSignal) => Promise<ExecResult>): Promise<ExecResult>;
  /** Type the plan into terminals (only where `confirm` offered it). */
  sendToTerminals?(plan: Plan): Promise<TerminalRecord[]>;
  /** The plan's job was queued (or its pair already had one waiting or running). */
  queued?(r: Queued): void;
  /**
   * The outcome, after it is recorded. `replan` is offered when the hosts changed since the plan was
   * made; `diagnose` when a pair's sync failed. Returns what a re-plan led to.
   */
  outcome(
    plan: Plan,
    result: ExecResult,
    offers: { replan?: () => Promise<FlowResult | undefined>; diagnose?: () => Promise<unknown> },
  ): Promise<FlowResult | undefined>;
}

/** What happened, for the caller and the tests. */
export interface FlowResult extends Shown {
  plan: Plan;
  choice: Choice | 'blocked' | 'nothing';
  losses?: BaseLoss[];
  result?: ExecResult;
  terminals?: TerminalRecord[];
  /** The job **Queue** added (or found already queued for the pair). */
  queued?: Queued;
  /** Step confirmations given while running (step ids). */
  confirmedSteps?: string[];
  /** What a blocked plan's alternative or a re-plan led to. */
  next?: FlowResult;
}

/** Offered instead of Run when a plan is blocked (the rebase of a clone in the way, the rollback with -R). */
export interface Alternative {
  label: string;
  run: () => Promise<FlowResult | undefined>;
}

export interface Queued {
  job: Job;
  added: boolean;
}

export interface FlowOptions {
  /** The pair the plan is for (recorded in the history; its base is guarded even when it is not configured). */
  pair?: ReplicationPair;
  /** The plan is this pair's sync: it may be queued instead (a worker plans it again from fresh listings when it runs). */
  queueAs?: ReplicationPair;
  replan?: () => Promise<FlowResult | undefined>;
  diagnose?: () => Promise<unknown>;
  alternatives?: Alternative[];
  extraPreview?: string;
  extraDetail?: string[];
  /** After the run, before it is recorded and its outcome shown: what follows from it outside ZFS (the fleet file of a failover); lines it returns are the run's warnings. */
  afterRun?: (result: ExecResult) => Promise<string[]>;
}

/** The configured pairs (and the plan's own) whose newest common base the plan destroys. */
export async function reviewOf(app: App, plan: Plan, opts: FlowOptions = {}): Promise<Review> {
  const own = opts.pair;
  const destroysSnapshots = plan.destroys.snapshots.length + plan.destroys.bookmarks.length > 0;
  const pairs = !destroysSnapshots ? [] : [...(await app.configuredPairs()).filter((p) => p.id !== own?.id), ...(own ? [own] : [])];
  const losses = await planBasesLost(
    plan,
    pairs,
    (h) => app.fleet.host(h).listing(),
    (h, e) => app.logger.warn(`${h}: not listed, so the pairs on it are not checked for a lost base: ${e.message}`),
  );
  return { plan, losses, ...(opts.extraPreview ? { extraPreview: opts.extraPreview } : {}), ...(opts.extraDetail ? { extraDetail: opts.extraDetail } : {}) };
}

export async function reviewAndRun(app: App, ui: Interaction, plan: Plan, opts: FlowOptions = {}): Promise<FlowResult> {
  if (plan.steps.length === 0 && !plan.blockedBy) {
    ui.nothing(plan);
    return { plan, choice: 'nothing' };
  }
  const review = await reviewOf(app, plan, opts);
  const shown = await ui.preview(review);
  const losses = review.losses;

  if (plan.blockedBy) {
    const alternatives = opts.alternatives ?? [];
    const { label, ...asked } = await ui.chooseAlternative(
      review,
      alternatives.map((a) => a.label),
    );
    const next = await alternatives.find((a) => a.label === label)?.run();
    return { ...shown, ...asked, plan, losses, choice: 'blocked', ...(next ? { next } : {}) };
  }

  const queueable = Boolean(opts.queueAs && app.queue && !unattendedRefusal(review));
  const { choice, ...asked } = await ui.confirm(queueable ? { ...review, queueable } : review);
  const base = { ...shown, ...asked, plan, losses };
  if (choice === 'queue' && queueable) {
    app.requireTrust('Queue');
    const [job] = await syncJobs(app, [opts.queueAs!], { route: opts.queueAs!.route }, (line) => app.logger.warn(line));
    const queued = await (await app.queue!()).add(job!);
    app.logger.info(`${queued.added ? 'queued' : 'already queued:'} job ${queued.job.id}: ${queued.job.name}`);
    ui.queued?.(queued);
    return { ...base, choice: 'queue', queued };
  }
  if (choice === 'terminal' && ui.sendToTerminals) {
    app.requireTrust('Send to Terminal');
    return { ...base, choice: 'terminal', terminals: await ui.sendToTerminals(plan) };
  }
  if (choice !== 'run') return { ...base, choice: 'cancelled' };
  app.requireTrust(plan.title);

  // A clone or dataset (with everything in it) is destroyed, or a pair's newest common base: its name, typed exactly.
  const typed: TypedQuestion[] = [
    ...plan.destroys.datasets.map((o) => ({ kind: 'dataset' as const, host: o.host, name: o.name })),
    ...plan.destroys.clones.map((o) => ({ kind: 'clone' as const, host: o.host, name: o.name })),
    ...losses.map((loss) => ({ kind: 'base' as const, loss })),
  ];
  for (const q of typed) if (!(await ui.confirmTyped(q))) return { ...base, choice: 'cancelled' };

  const confirmedSteps: string[] = [];
  const result = await execute(app, ui, plan, confirmedSteps);
  const more = opts.afterRun ? await opts.afterRun(result) : [];
  if (more.length) result.warnings = [...(result.warnings ?? []), ...more];
  await app.history
    .append({
      ...result,
      ...(opts.pair ? { pair: opts.pair.id } : {}),
      commands: Object.fromEntries(planToShell(plan, app.ssh ? { ssh: app.ssh } : {}).byHost),
    })
    .catch((e: unknown) => app.logger.error(`could not write the replication history: ${(e as Error).message}`));
  await app.afterRun?.(plan);
  const out: FlowResult = { ...base, choice: 'run', result, confirmedSteps };
  const next = await ui.outcome(plan, result, { ...(opts.replan ? { replan: opts.replan } : {}), ...(opts.diagnose ? { diagnose: opts.diagnose } : {}) });
  if (next) out.next = next;
  return out;
}

function execute(app: App, ui: Interaction, plan: Plan, confirmedSteps: string[]): Promise<ExecResult> {
  app.logger.info(`running plan ${plan.id}: ${plan.title}`);
  return ui
    .running(plan, (onEvent, signal) =>
      executePlan(
        plan,
        { runner: (h) => app.fleet.host(h).runner, freshListing: (h) => app.fleet.host(h).refresh(), logger: app.logger },
        {
          signal,
          onEvent: (e) => {
            logEvent(app, plan, e);
            onEvent(e);
          },
          confirmStep: async (step) => {
            const yes = await ui.confirmStep(plan, step);
            if (yes) confirmedSteps.push(step.id);
            return yes;
          },
        },
      ),
    )
    .then((r) => {
      app.logger.info(
        `plan ${plan.id} ${r.outcome} in ${(r.durationMs / 1000).toFixed(1)} s${r.bytes ? `, ${r.bytes} bytes` : ''}${r.error ? `: ${r.error}` : ''}`,
      );
      return r;
    });
}

function logEvent(app: App, plan: Plan, e: ExecEvent): void {
  if (e.type === 'step-start') app.logger.info(`${plan.id} step ${e.index + 1}/${e.total}: ${e.step.description}`);
  else if (e.type === 'step-done') app.logger.info(`${plan.id} ${e.step.id} done in ${e.durationMs} ms${e.bytes !== undefined ? `, ${e.bytes} bytes` : ''}`);
  else if (e.type === 'step-failed') app.logger.error(`${plan.id} ${e.step.id} failed: ${e.error}`);
  else if (e.type === 'step-skipped') app.logger.info(`${plan.id} ${e.step.id} skipped: ${e.reason}`);
}
