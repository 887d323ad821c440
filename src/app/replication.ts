/**
 * The replication operations, once for every consumer: sync (up to a snapshot, with the options
 * of "Sync with Options…"), roll back, re-base a clone, diagnose and its fix. Each plans from FRESH
 * listings and goes through reviewAndRun; a blocked plan offers its alternatives (re-base the
 * clones in the way then plan again, the rollback with -R, diagnose). What differs per consumer is
 * the ReplicationUI: how it asks (the snapshot to re-base onto), shows and reports.
 */
import type { HostListing } from '../core/fleet/listing.js';
import type { ReplicationPair } from '../core/fleet/pairs.js';
import { localPropertiesCommand, planCloneRebase, type LocalProperty } from '../core/replication/cloneRebase.js';
import { oldestFirst } from '../core/replication/commonBase.js';
import { diagnose, type DiagnoseOptions, type Diagnosis } from '../core/replication/diagnose.js';
import { destroyLines, PlanError, type Plan } from '../core/replication/plan.js';
import type { MountUsers, ProcessInfo } from '../core/replication/processes.js';
import { planRollback } from '../core/replication/rollback.js';
import { pairState } from '../core/replication/state.js';
import { gatherSyncFacts, planSync, type SyncFacts, type SyncOptions } from '../core/replication/sync.js';
import { shortName } from '../core/zfs/names.js';
import type { ZfsObject } from '../core/zfs/types.js';
import { reviewAndRun, type Alternative, type FlowResult, type Interaction } from './flow.js';
import { inspectForPreview, runInspect } from './inspect.js';
import type { App } from './services.js';

/** The alternative a blocked rollback offers besides the rebase: destroy the clones in the way (what `zfs rollback -R` would). */
export const DESTROY_CLONES = 'Roll Back and Destroy Clones (-R)';
export const DIAGNOSE_PAIR = 'Diagnose Pair';

/** UTC YYYYMMDD-HHMMSS: the suffix of names made now (pre-rebase copies, new snapshots). */
export function stamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

/** What the rebase asks: onto which older snapshot of the origin's dataset, and whether to keep the clone's data. */
export interface RebaseQuestion {
  host: string;
  clone: string;
  origin: string;
  /** Older snapshots of the origin's dataset, newest first; `suggested` first when given. */
  choices: ZfsObject[];
  suggested?: string;
}

export interface ReplicationUI extends Interaction {
  /** No plan can be made (PlanError): say why; `diagnose` may be offered. */
  cannotPlan(what: string, reason: string, diagnose?: () => Promise<unknown>): void;
  /** Throws the consumer's cancel error when the user backs out. */
  rebaseTarget(q: RebaseQuestion): Promise<{ onto: string; keepData: boolean }>;
  /** Show a diagnosis; true when the user wants to review its fix plan. */
  diagnosis(pair: ReplicationPair, d: Diagnosis, notes: string[]): Promise<{ reviewFix: boolean; report?: unknown }>;
}

/** A pair as people name it: its label, else `host:dataset → host`. */
export function pairLabel(pair: ReplicationPair): string {
  return pair.label ?? `${pair.source.host}:${shortName(pair.source.name!.full)} → ${pair.target.host}`;
}

/**
 * Who will run the sync (`id`, and `zfs allow` of both datasets; for push, through the source's ssh
 * to the target), so the plan adds `recv -u` for a non-root receiver and places no hold its user
 * could not release. Read-only; undefined when it cannot be read (planned as for root; logged).
 */
export async function syncFacts(app: App, pair: ReplicationPair): Promise<SyncFacts | undefined> {
  const host = (name: string) => ({ name, runner: app.fleet.host(name).runner, capabilities: () => app.fleet.host(name).capabilities() });
  try {
    return await gatherSyncFacts(pair, { source: host(pair.source.host), target: host(pair.target.host) }, { zfsPath: app.zfs });
  } catch (e) {
    app.logger.warn(`${pair.id}: the users that run the sync could not be read (${(e as Error).message}); planning as for root`);
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Plans (no asking): the CLI's `plan` verb prints them, the flows below review them.

export async function syncPlan(app: App, pair: ReplicationPair, options: SyncOptions = {}): Promise<{ plan: Plan; source: HostListing; target: HostListing }> {
  const [[source, target], facts] = await Promise.all([app.freshListings([pair.source.host, pair.target.host]), syncFacts(app, pair)]);
  const plan = planSync(pair, source!, target!, { ...options, zfs: app.zfs, ...(facts ? { facts } : {}) });
  return { plan, source: source!, target: target! };
}

export async function rollbackPlan(app: App, host: string, snapshot: string, destroyClones = false): Promise<{ plan: Plan; alternative?: Plan }> {
  const [l] = await app.freshListings([host]);
  const plan = planRollback(host, l!, snapshot, { zfs: app.zfs, destroyClones });
  // What the rollback with -R destroys, from the same listing (planned again from a fresh one when chosen).
  const alternative = plan.blockedBy && !destroyClones ? planRollback(host, l!, snapshot, { zfs: app.zfs, destroyClones: true }) : undefined;
  return { plan, ...(alternative ? { alternative } : {}) };
}

/** The clone, its origin, and the older snapshots of the origin's dataset it can be re-based onto (newest first). */
export async function rebaseChoices(app: App, host: string, clone: string, suggested?: string): Promise<RebaseQuestion> {
  const [l] = await app.freshListings([host]);
  const e = l!.datasets.get(clone);
  if (!e) throw new Error(`${host}: ${clone} does not exist`);
  const origin = e.object.origin;
  if (!origin) throw new Error(`${host}: ${clone} is not a clone (it has no origin)`);
  const originDs = origin.slice(0, origin.indexOf('@'));
  const snaps = oldestFirst(l!.datasets.get(originDs)?.snapshots ?? []);
  const i = snaps.findIndex((s) => s.name === origin);
  const choices = snaps.slice(0, Math.max(0, i)).reverse();
  if (choices.length === 0)
    throw new Error(`${host}: ${clone} is a clone of ${origin}, the oldest snapshot of ${originDs}: there is no older snapshot to re-base it onto.`);
  choices.sort((a, b) => (a.name === suggested ? -1 : b.name === suggested ? 1 : 0));
  return { host, clone, origin, choices, ...(suggested ? { suggested } : {}) };
}

/** The rebase plan, with what the preview found (shares, processes using the clone) for the preview and the confirmation. */
export async function rebasePlan(
  app: App,
  host: string,
  clone: string,
  onto: string,
  keepData: boolean,
): Promise<{ plan: Plan; extraPreview: string; notes: string[] }> {
  const [[l], localProperties] = await Promise.all([app.freshListings([host]), app.fleet.host(host).exec(localPropertiesCommand(app.zfs, clone))]);
  const plan = planCloneRebase(host, l!, clone, onto, { keepData, date: stamp(), localProperties, zfs: app.zfs });
  const { text, notes } = await inspectForPreview(app.fleet, plan.inspect ?? []);
  return { plan, extraPreview: text, notes };
}

export interface DiagnoseRun {
  diagnosis: Diagnosis;
  /** Read-only facts that could not be read (the diagnosis is made without them). */
  notes: string[];
}

/**
 * Diagnose with the read-only facts it asks for (processes, clone properties, who uses a clone),
 * read in parallel, up to 4 rounds. A last failed receive that said "destination has been modified"
 * tells what a host without `written` cannot.
 */
export async function diagnosePair(app: App, pair: ReplicationPair, options: { stalledAfterSeconds?: number } = {}): Promise<DiagnoseRun> {
  const [src, dst] = await app.freshListings([pair.source.host, pair.target.host]);
  const last = (await app.history.read(200).catch(() => ({ entries: [] }))).entries.find((h) => h.pair === pair.id);
  const processes = new Map<string, ProcessInfo[]>();
  const cloneProperties = new Map<string, LocalProperty[]>();
  const mountUsers = new Map<string, MountUsers>();
  const opts: DiagnoseOptions = {
    zfs: app.zfs,
    date: stamp(),
    processes,
    cloneProperties,
    mountUsers,
    ...(options.stalledAfterSeconds !== undefined ? { stalledAfterSeconds: options.stalledAfterSeconds } : {}),
    ...(last?.outcome === 'failed' && /destination has been modified/.test(last.error ?? '') ? { targetModified: true } : {}),
  };
  const notes: string[] = [];
  const tried = new Set<string>();
  let d = diagnose(pair, src!, dst!, opts);
  for (let round = 0; round < 4; round++) {
    const todo = d.needs.filter((n) => !tried.has(`${n.host}\0${n.purpose}\0${n.subject}`));
    if (todo.length === 0) break;
    await Promise.all(
      todo.map(async (n) => {
        tried.add(`${n.host}\0${n.purpose}\0${n.subject}`);
        try {
          const r = await runInspect(app.fleet, n);
          if (r.purpose === 'processes') processes.set(n.host, r.value);
          else if (r.purpose === 'local-properties') cloneProperties.set(n.subject, r.value);
          else if (r.purpose === 'mount-users') mountUsers.set(n.subject, r.value);
        } catch (e) {
          notes.push(`${n.purpose} on ${n.host} (${n.subject}): ${(e as Error).message}`);
        }
      }),
    );
    d = diagnose(pair, src!, dst!, opts);
  }
  return { diagnosis: d, notes };
}

// ---------------------------------------------------------------------------------------------
// Flows: plan -> review -> run, with the alternatives of a blocked plan.

/** The clones in a blocked plan's way: re-base each (asked onto which snapshot), then `after` plans again. */
function rebaseAlternatives(
  app: App,
  ui: ReplicationUI,
  plan: Plan,
  suggestedOnto: string | undefined,
  after: () => Promise<FlowResult | undefined>,
): Alternative[] {
  const clones = plan.blockedBy?.clones ?? [];
  return clones.map((c) => ({
    label: clones.length > 1 ? `Re-base ${c.name} onto…` : 'Re-base Clone onto…',
    run: async () => {
      const r = await rebaseFlow(app, ui, c.host, c.name, suggestedOnto);
      // The clone is out of the way: plan again (the user confirms it again).
      if (r?.choice === 'run' && r.result?.outcome === 'ok') r.next = await after();
      return r;
    },
  }));
}

export async function syncFlow(app: App, ui: ReplicationUI, pair: ReplicationPair, options: SyncOptions = {}): Promise<FlowResult | undefined> {
  app.requireTrust(options.upTo ? 'Sync up to here' : 'Sync Pair');
  const what = `${pairLabel(pair)}${options.upTo ? ` up to @${options.upTo}` : ''}`;
  const diagnoseIt = async () => (await diagnoseFlow(app, ui, pair)).flow;
  let planned: Awaited<ReturnType<typeof syncPlan>>;
  try {
    planned = await syncPlan(app, pair, options);
  } catch (e) {
    if (!(e instanceof PlanError)) throw e;
    app.logger.warn(`cannot sync ${what}: ${e.reason}`);
    ui.cannotPlan(`Cannot sync ${what}`, e.reason, diagnoseIt);
    return undefined;
  }
  const { plan, source, target } = planned;
  const again = () => syncFlow(app, ui, pair, options);
  const alternatives: Alternative[] = [];
  if (plan.blockedBy) {
    alternatives.push(...rebaseAlternatives(app, ui, plan, pairState(pair, source, target).base?.target, again));
    alternatives.push({ label: DIAGNOSE_PAIR, run: diagnoseIt });
  }
  // Up to a chosen snapshot is not what a job does (it syncs to the newest): only a whole sync is offered to the queue.
  return reviewAndRun(app, ui, plan, { pair, replan: again, diagnose: diagnoseIt, alternatives, ...(options.upTo ? {} : { queueAs: pair }) });
}

/**
 * Roll back; when clones block it, offer their rebase or, explicitly, the rollback that destroys them
 * (`destroyClones`: the clones, their descendants and snapshots, listed in the blocked prompt and again
 * in the plan's own, each clone's name typed, each step confirmed, re-checked before running).
 */
export async function rollbackFlow(app: App, ui: ReplicationUI, host: string, snapshot: string, destroyClones = false): Promise<FlowResult> {
  app.requireTrust('Roll Back to This Snapshot');
  const { plan, alternative } = await rollbackPlan(app, host, snapshot, destroyClones);
  const alternatives = rebaseAlternatives(app, ui, plan, snapshot, () => rollbackFlow(app, ui, host, snapshot));
  let extraDetail: string[] | undefined;
  if (alternative) {
    extraDetail = alternativeDestroys(DESTROY_CLONES, alternative);
    alternatives.push({ label: DESTROY_CLONES, run: () => rollbackFlow(app, ui, host, snapshot, true) });
  }
  return reviewAndRun(app, ui, plan, {
    replan: () => rollbackFlow(app, ui, host, snapshot, destroyClones),
    alternatives,
    ...(extraDetail ? { extraDetail, extraPreview: extraDetail.join('\n').trim() } : {}),
  });
}

/** Lines for a blocked prompt: everything an alternative plan (e.g. the rollback with -R) would destroy. */
export function alternativeDestroys(label: string, alt: Plan): string[] {
  const lines = destroyLines(alt.destroys);
  return ['', `"${label}" destroys ${lines.length} object${lines.length === 1 ? '' : 's'}:`, ...lines.map((s) => `  • ${s}`)];
}

/** Ask onto which older snapshot and whether to keep the data, then review the rebase plan. */
export async function rebaseFlow(app: App, ui: ReplicationUI, host: string, clone: string, suggestedOnto?: string): Promise<FlowResult | undefined> {
  app.requireTrust('Rebase Clone');
  const { onto, keepData } = await ui.rebaseTarget(await rebaseChoices(app, host, clone, suggestedOnto));
  return rebaseReview(app, ui, host, clone, onto, keepData);
}

export async function rebaseReview(app: App, ui: ReplicationUI, host: string, clone: string, onto: string, keepData: boolean): Promise<FlowResult> {
  const { plan, extraPreview, notes } = await rebasePlan(app, host, clone, onto, keepData);
  return reviewAndRun(app, ui, plan, {
    replan: () => rebaseReview(app, ui, host, clone, onto, keepData),
    extraPreview,
    extraDetail: notes.length ? ['', ...notes] : [],
  });
}

export interface DiagnoseResult extends DiagnoseRun {
  /** The report as the consumer showed it (a document's vscode.Uri in the extension). */
  report?: unknown;
  flow?: FlowResult;
}

export async function diagnoseFlow(
  app: App,
  ui: ReplicationUI,
  pair: ReplicationPair,
  options: { stalledAfterSeconds?: number } = {},
): Promise<DiagnoseResult> {
  const run = await diagnosePair(app, pair, options);
  const d = run.diagnosis;
  const { reviewFix, report } = await ui.diagnosis(pair, d, run.notes);
  const out: DiagnoseResult = { ...run, ...(report !== undefined ? { report } : {}) };
  if (!d.fix || !reviewFix) return out;
  app.requireTrust('The fix plan');
  const again = async () => (await diagnoseFlow(app, ui, pair, options)).flow;
  out.flow = await reviewAndRun(app, ui, d.fix, { pair, replan: again, diagnose: again });
  return out;
}
