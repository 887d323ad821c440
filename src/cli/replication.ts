/**
 * The replication verbs of zfs-fleet: status, diagnose, plan, sync, rollback, rebase, history.
 * Without --yes a mutating verb prints its plan and changes nothing; with --yes it runs the plan
 * (preconditions re-checked right before) and records the result in the history.
 */
import { reviewOf, type FlowResult, type Interaction, type Review } from '../app/flow.js';
import { defaultHistoryFile, History, type RunLog } from '../app/history.js';
import * as fs from 'node:fs';
import { StoreRunLog } from '../store/runLog.js';
import { datasetOpFlow, destroySnapshotsFlow, expireFlow, rolesFlow, roleGroup, snapshotFlow, type DatasetOp } from '../app/operations.js';
import { roleChangeFlow } from '../app/failover.js';
import { diagnoseFlow, rebasePlan, rebaseReview, rollbackFlow, rollbackPlan, syncFlow, syncPlan, type ReplicationUI } from '../app/replication.js';
import { fleetListings, type App } from '../app/services.js';
import type { ExecEvent } from '../core/execute/executor.js';
import { parseEndpoint } from '../core/fleet/endpoint.js';
import type { Fleet } from '../core/fleet/fleet.js';
import { parsePair, type ReplicationPair, type Route } from '../core/fleet/pairs.js';
import { describeOrigin, type ValidPair } from '../core/fleet/pairSpecs.js';
import { policyFor, withReach, withRetention } from '../core/fleet/definition.js';
import { auditPairPermissions, formatPermissionAudit, type SyncPlanFlags } from '../core/fleet/permissions.js';
import { formatBytes } from '../core/format.js';
import type { Logger } from '../core/log.js';
import { baseLossLines } from '../core/replication/baseGuard.js';
import type { Diagnosis } from '../core/replication/diagnose.js';
import { PlanError, planToShell, renderPlan, type Plan } from '../core/replication/plan.js';
import { pairState } from '../core/replication/state.js';
import { planSync, sshToSource, sshToTarget } from '../core/replication/sync.js';
import { formatGroupStatus, groupStatus } from '../core/replication/group.js';
import type { HostListing } from '../core/fleet/listing.js';
import { safeText } from '../core/text.js';
import { shellQuote } from '../core/zfs/quote.js';
import { fleetDefinition, writeFleetFile } from './fleetFile.js';
import { UsageError } from './usage.js';

/** What a sync plan needs permission for, read off its steps (a step that may fail, the bookmark, is not required). */
export function planFlags(plan: Plan): SyncPlanFlags {
  const ops = new Set(plan.steps.map((s) => s.op));
  const argvs = plan.steps.flatMap((s) => (s.type === 'command' ? [s.argv] : [s.to.argv]));
  return {
    holds: ops.has('hold'),
    snapshot: ops.has('snapshot'),
    rollback: ops.has('rollback'),
    destroy: ops.has('destroy'),
    resume: argvs.some((a) => a[1] === 'recv' && a.includes('-s')),
    force: argvs.some((a) => a[1] === 'recv' && a.includes('-F')),
  };
}

export interface ReplicationOptions {
  positional: string[];
  json: boolean;
  yes: boolean;
  route?: Route;
  onto?: string;
  /** failover, takeover: the replica that becomes the primary (HOST:DATASET). */
  to?: string;
  /** rename: the replicas of the pairs sending from the dataset too (and the fleet file). */
  withReplicas?: boolean;
  /** takeover: consent to discard a partially received stream on the new primary. */
  discardPartial?: boolean;
  keepData?: boolean;
  destroyClones: boolean;
  snapshot?: string;
  fix: boolean;
  stalledAfterSeconds?: number;
  zfs: string;
  /** A history.jsonl to record runs in instead of the fleet store. */
  historyFile?: string;
  /** The fleet store (default $XDG_STATE_HOME/zfs-fleet/fleet.db or $ZFS_FLEET_STORE). */
  store?: string;
  /** sync: bookmark the newest snapshot sent (default: where the source has bookmarks and its user may). */
  bookmark?: boolean;
  /** The pairs whose bases a plan must not destroy unasked (default: ./.zfs-fleet.json when it exists). */
  fleetFile?: string;
  /** The dataset name the user typed to let a plan destroy a pair's newest common snapshot there. */
  confirmBase?: string;
  /** status --all: every group and pair of the fleet file. */
  all?: boolean;
  /** snapshot, hold, release: the dataset's descendants too. */
  recursive?: boolean;
  /** clone: -o PROPERTY=VALUE, as zfs clone takes them. */
  properties?: string[];
  /** expire: how many of the newest snapshots are kept. */
  keep?: number;
  /** expire GROUP: the primary's snapshots too. */
  primary?: boolean;
}

export const REPLICATION_USAGE = `  status SRC DST [--route R]            the state of a replication pair (SRC and DST are HOST:DATASET)
  status group NAME | status --all      a group's replicas against its primary (--all: every group and
                                        pair of the fleet file): level, behind, conflicts, what to run
  plan group NAME                       the sync plan of each replica of a group
  sync group NAME [--yes]               sync each replica of a group in turn (each plan shown, as sync)
  diagnose SRC DST [--fix [--yes]] [--stalled-after SECONDS]
                                        why a pair fails, and one ordered fix plan (a zfs send/recv
                                        running longer than --stalled-after, default 3600, is stalled)
  plan sync SRC DST | plan rollback HOST:DS@SNAP | plan rebase HOST:CLONE --onto HOST:DS@SNAP
                                        print a plan (commands per host, what it destroys)
  sync SRC DST [--route relay|push|pull] [--snapshot NAME] [--no-bookmark] [--yes]
                                        (after the send, the newest snapshot sent is bookmarked on the
                                        source where it can be, so pruning it keeps the base: --no-bookmark)
  rollback HOST:DS@SNAP [--destroy-clones] [--yes] [--confirm-base DATASET]
  rebase HOST:CLONE --onto HOST:DS@SNAP [--keep-data|--drop-data] [--yes]
  snapshot HOST:DS@NAME [--recursive] [--yes]
                                        take a snapshot (with --recursive: of every descendant too)
  destroy HOST:DS@SNAP[,SNAP|FIRST%LAST...] [--yes]
                                        destroy snapshots (names and ranges as zfs destroy takes them);
                                        one with clones or holds, or a pair's newest common snapshot, is refused
  hold|release HOST:DS@SNAP TAG [--recursive] [--yes]
                                        put or release a user hold (a held snapshot is not destroyed)
  clone HOST:DS@SNAP NEWDATASET [-o PROPERTY=VALUE ...] [--yes]
  promote HOST:CLONE [--yes]            the preview lists the snapshots that move to the clone
  set HOST:DATASET PROPERTY=VALUE [--yes]
                                        the preview lists every descendant that inherits the value
  rename HOST:DATASET NEWNAME [--with-replicas] [--yes]
                                        within its pool; the preview lists what moves, the mountpoints
                                        and shares that change, and the pairs that name the old path
                                        (--with-replicas: their replicas renamed the same way, and the
                                        fleet file, so replication goes on incrementally)
  expire HOST:DATASET|GROUP [--keep N] [--primary] [--yes]
                                        destroy old snapshots, keeping the newest N (without --keep:
                                        what the fleet file's retention policy keeps), and never a pair's
                                        newest common snapshot, a held one or a clone's origin (GROUP:
                                        each replica; --primary: the primary too)
  roles GROUP [--yes]                   mark the group's datasets with their role (zfs-fleet:role, :group,
                                        :primary user properties) and make its replicas read-only
  failover GROUP --to HOST:DATASET [--yes]
                                        planned: the primary read-only, a final snapshot sent, the guids
                                        compared, the replica writable, roles and the fleet file swapped
  takeover GROUP --to HOST:DATASET [--discard-partial] [--yes]
                                        the primary is lost: the replica becomes the primary at its newest
                                        complete snapshot (refused while the primary answers: failover)
  demote GROUP HOST:DATASET [--keep-data] [--yes]
                                        an old primary back after a takeover (split brain): read-only,
                                        its divergent data copied aside (--keep-data), rolled back to the
                                        common snapshot, synced from the primary, marked a replica
  audit SRC DST [--route R]             which delegated permissions (zfs allow) the sync lacks, per host and
                                        user, with the zfs allow command that fixes each
  history                               what ran, when, and how it ended
  Without --yes, sync/rollback/rebase/diagnose --fix and the dataset operations print the plan and change nothing. A plan that
  destroys the newest common snapshot of a pair (from the fleet file: --fleet FILE, default ./.zfs-fleet.json) says
  so and runs only with --confirm-base DATASET, the dataset's name typed.`;

type Out = (line: string) => void;

function pairOf(o: ReplicationOptions, i = 0): ReplicationPair {
  const [source, target] = o.positional.slice(i, i + 2);
  if (!source || !target) throw new UsageError('expected SRC DST (HOST:DATASET HOST:DATASET)');
  return fleetPair(source, target, o.route, o.fleetFile);
}

/** The pair SRC -> DST as the fleet file defines it (its route, options, group, how its hosts reach each other); `route` wins. */
export function fleetPair(source: string, target: string, route: Route | undefined, fleetFile: string | undefined): ReplicationPair {
  const o = { route, fleetFile };
  const named = parsePair({ source, target, route: o.route ?? 'relay' });
  const def = fleetDefinition(o.fleetFile);
  const known = def.entries.find((e): e is ValidPair => e.ok && e.pair.id === named.id);
  if (known) return o.route ? { ...known.pair, route: o.route } : known.pair;
  // A pair not in the file still has its source's policy there, for the retention forecast.
  return withRetention(withReach(named, new Map(def.hosts.map((h) => [h.name, h]))), new Map(def.policies.map((p) => [p.dataset, p])));
}

/** The pairs of the fleet file (--fleet FILE, ./.zfs-fleet.json, ~/.config/zfs-fleet/fleet.json), whose newest common bases a plan must not destroy unasked; invalid entries are said on stderr. */
export function configuredPairs(o: ReplicationOptions, logger: Logger): ReplicationPair[] {
  const def = fleetDefinition(o.fleetFile);
  if (o.fleetFile !== undefined && def.error !== undefined) throw new Error(`${def.file}: ${def.error}`);
  for (const e of def.entries) if (!e.ok) logger.warn(`${describeOrigin(e.origin)}: ${e.reason}`);
  return def.entries.flatMap((e) => (e.ok ? [e.pair] : []));
}

/**
 * Where runs are recorded: the fleet store (an older history.jsonl imported into it once), unless a
 * history file is named (`$ZFS_FLEET_HISTORY`): then that file, as before the store.
 */
export function runLogOf(o: { historyFile?: string; store?: string }, env: NodeJS.ProcessEnv = process.env): RunLog {
  const file = o.historyFile ?? env.ZFS_FLEET_HISTORY;
  return file ? new History(file) : new StoreRunLog(o.store, [defaultHistoryFile(env)]);
}

/** The application layer's services for one CLI invocation. */
export function cliApp(fleet: Fleet, o: ReplicationOptions, logger: Logger): App {
  return {
    fleet,
    zfs: o.zfs,
    logger,
    history: runLogOf(o),
    freshListings: fleetListings(fleet),
    configuredPairs: async () => configuredPairs(o, logger),
    requireTrust: () => undefined,
    retentionPolicy: async (host, dataset) => {
      const def = fleetDefinition(o.fleetFile);
      return policyFor(new Map(def.policies.map((p) => [p.dataset, p])), host, dataset);
    },
    editFleetFile: async (file, edit) => writeFleetFile(file, edit(fs.readFileSync(file, 'utf8'))),
  };
}

function printPlan(r: Review, o: ReplicationOptions, out: Out, rerun: string): void {
  if (o.json) {
    const losses = r.losses.map((l) => ({
      pair: l.pair.id,
      host: l.host,
      dataset: l.dataset,
      destroyed: l.destroyed,
      nextBase: l.nextBase ?? null,
      message: l.message,
    }));
    out(JSON.stringify({ plan: r.plan, shell: Object.fromEntries(planToShell(r.plan).byHost), baseLosses: losses }, null, 2));
    return;
  }
  out(renderPlan(r.plan));
  if (r.extraPreview) out('\n' + r.extraPreview);
  for (const line of baseLossLines(r.losses, rerun, shellQuote)) out(line);
}

function progressPrinter(): (e: ExecEvent) => void {
  const tty = process.stderr.isTTY;
  let last = 0;
  return (e) => {
    if (e.type === 'step-start') process.stderr.write(safeText(`[${e.index + 1}/${e.total}] ${e.step.description}\n`));
    else if (e.type === 'step-failed') process.stderr.write(safeText(`    failed: ${e.error}\n`));
    else if (e.type === 'progress' && Date.now() - last > (tty ? 250 : 5000)) {
      last = Date.now();
      const left = e.secondsLeft !== undefined ? `, ${Math.ceil(e.secondsLeft)} s left` : '';
      const total = e.totalBytes ? ` of ${formatBytes(e.totalBytes)}` : '';
      process.stderr.write(`${tty ? '\r' : ''}    ${formatBytes(e.bytes)}${total} at ${formatBytes(e.bytesPerSecond)}/s${left}${tty ? '   ' : '\n'}`);
    }
  };
}

/**
 * How the CLI shows, asks and reports: the plan on stdout (text or --json) when it is not run; `--yes`
 * is the confirmation, `--confirm-base DATASET` the typed name of a pair's base; progress on stderr;
 * Ctrl-C cancels the run. `rerun` is what the user adds to run the plan (`--yes`, `--fix --yes`).
 */
function cliUI(o: ReplicationOptions, out: Out, rerun: string, diagnosing = false): ReplicationUI {
  const ui: Interaction = {
    // Nothing to do: the summary (in sync, ...); a --json preview still prints the plan, as for any plan.
    nothing: (plan) =>
      o.json && !o.yes ? printPlan({ plan, losses: [] }, o, out, rerun) : out(o.json ? JSON.stringify({ outcome: 'ok', summary: plan.summary }) : plan.summary),
    preview: async (r) => {
      if (o.yes && !r.plan.blockedBy) return {};
      if (diagnosing) {
        // The diagnosis printed the fix plan (in its JSON, or as text): what is left is the bases it loses.
        if (!o.json) for (const line of baseLossLines(r.losses, rerun, shellQuote)) out(line);
        return {};
      }
      printPlan(r, o, out, rerun);
      return {};
    },
    confirm: async () => {
      if (o.yes) return { choice: 'run' };
      if (!o.json) out(`\n(nothing changed: run again with ${rerun} to run this plan)`);
      return { choice: 'cancelled' };
    },
    chooseAlternative: async () => ({}),
    confirmTyped: async (q) => {
      if (q.kind !== 'base') return true; // --yes after a preview that listed the clone or dataset
      if (o.confirmBase === q.loss.dataset) return true;
      throw new Error(`refused: ${q.loss.message} To run it anyway, add --confirm-base ${shellQuote(q.loss.dataset)}`);
    },
    confirmStep: async () => true,
    running: async (_plan, run) => {
      const ac = new AbortController();
      const onSigint = () => ac.abort();
      process.once('SIGINT', onSigint);
      try {
        return await run(progressPrinter(), ac.signal);
      } finally {
        process.removeListener('SIGINT', onSigint);
      }
    },
    outcome: async (plan, result) => {
      if (o.json) out(JSON.stringify(result, null, 2));
      else {
        out(`${plan.title}: ${result.outcome}${result.bytes ? `, ${formatBytes(result.bytes)} sent` : ''} in ${(result.durationMs / 1000).toFixed(1)} s`);
        for (const c of result.changes ?? []) out(`  changed: ${c}`);
        for (const w of result.warnings ?? []) out(`  warning: ${w}`);
      }
      return undefined;
    },
  };
  return {
    ...ui,
    cannotPlan: (what, reason) => {
      throw new Error(`${what}: ${reason}`);
    },
    rebaseTarget: () => Promise.reject(new UsageError('rebase takes --onto HOST:DATASET@SNAPSHOT')),
    diagnosis: async (_pair, d, notes) => {
      printDiagnosis(d, notes, o, out);
      return { reviewFix: o.fix };
    },
  };
}

function printDiagnosis(d: Diagnosis, notes: string[], o: ReplicationOptions, out: Out): void {
  if (o.json) {
    if (!(o.fix && o.yes)) out(JSON.stringify({ ...d, state: { ...d.state, comparison: undefined }, notes }, null, 2));
    return;
  }
  out(d.summary);
  for (const f of d.findings) out(`  - ${f.message}`);
  for (const n of notes) out(`  (not read: ${n})`);
  if (d.fix) out('\nFix plan:\n' + renderPlan(d.fix));
  else if (!d.fix && d.fixUnavailable) out(`\nNo fix plan: ${d.fixUnavailable}`);
}

/** The exit code of a flow: a blocked plan asked to run, or a run that did not end well, is an error. */
function exitOf(r: FlowResult | undefined, o: ReplicationOptions, out: Out): number {
  if (!r) return 0;
  if (r.choice === 'blocked') {
    if (o.yes) throw new Error(`the plan is blocked: ${r.plan.blockedBy?.reason ?? ''}`);
    if (!o.json) out('\n(nothing changed: the plan is blocked, see above)');
    return 0;
  }
  if (r.choice === 'run' && r.result && r.result.outcome !== 'ok') throw new Error(r.result.error ?? r.result.outcome);
  return 0;
}

function snapshotArg(o: ReplicationOptions): { host: string; snapshot: string } {
  const ep = parseEndpoint(o.positional[0] ?? '');
  if (ep.name?.kind !== 'snapshot') throw new UsageError('rollback takes HOST:DATASET@SNAPSHOT');
  return { host: ep.host, snapshot: ep.name.full };
}

/** HOST:DATASET@WHAT, the dataset a valid name; WHAT is checked by the planner (a destroy's list and ranges are not one snapshot name). */
function opArg(o: ReplicationOptions, usage: string): { host: string; dataset: string; what: string } {
  const arg = o.positional[0] ?? '';
  if (o.positional.length !== 1) throw new UsageError(usage);
  const at = arg.indexOf('@');
  if (at < 0 || at === arg.length - 1) throw new UsageError(usage);
  const ep = parseEndpoint(arg.slice(0, at));
  if (!ep.name || ep.name.kind === 'snapshot' || ep.name.kind === 'bookmark') throw new UsageError(usage);
  return { host: ep.host, dataset: ep.name.full, what: arg.slice(at + 1) };
}

/** HOST:NAME of the kind a verb takes (a snapshot, or a dataset), else its usage. */
function hostName(arg: string | undefined, kind: 'snapshot' | 'dataset', usage: string): { host: string; name: string } {
  const ep = parseEndpoint(arg ?? '');
  const ok = kind === 'snapshot' ? ep.name?.kind === 'snapshot' : ep.name !== undefined && ep.name.kind !== 'snapshot' && ep.name.kind !== 'bookmark';
  if (!ok) throw new UsageError(usage);
  return { host: ep.host, name: ep.name!.full };
}

/** A second name on the same host: NAME, or HOST:NAME with the first argument's host. */
function sameHostName(arg: string | undefined, host: string, usage: string): string {
  if (!arg) throw new UsageError(usage);
  if (!arg.includes(':') || /^[^:/]+\//.test(arg)) return arg;
  const ep = parseEndpoint(arg);
  if (ep.host !== host) throw new UsageError(`both names are on one host (${host}, not ${ep.host})`);
  if (!ep.name) throw new UsageError(usage);
  return ep.name.full;
}

/** The dataset operation a verb's arguments ask for (names are validated by the planner, which says what is wrong). */
export function datasetOpArgs(command: string, o: ReplicationOptions): DatasetOp {
  const p = o.positional;
  const usage = `usage: zfs-fleet ${DATASET_OP_USAGE[command as DatasetOp['op']]}`;
  switch (command) {
    case 'hold':
    case 'release': {
      if (p.length !== 2) throw new UsageError(usage);
      const { host, name } = hostName(p[0], 'snapshot', usage);
      return { op: command, host, snapshot: name, tag: p[1]!, recursive: o.recursive === true };
    }
    case 'clone': {
      if (p.length !== 2) throw new UsageError(usage);
      const { host, name } = hostName(p[0], 'snapshot', usage);
      const properties: Record<string, string> = {};
      for (const kv of o.properties ?? []) {
        const eq = kv.indexOf('=');
        if (eq <= 0) throw new UsageError(`-o takes PROPERTY=VALUE, not '${kv}'`);
        properties[kv.slice(0, eq)] = kv.slice(eq + 1);
      }
      return { op: 'clone', host, snapshot: name, target: sameHostName(p[1], host, usage), ...(o.properties?.length ? { properties } : {}) };
    }
    case 'promote': {
      if (p.length !== 1) throw new UsageError(usage);
      const { host, name } = hostName(p[0], 'dataset', usage);
      return { op: 'promote', host, clone: name };
    }
    case 'set': {
      if (p.length !== 2) throw new UsageError(usage);
      const { host, name } = hostName(p[0], 'dataset', usage);
      const eq = p[1]!.indexOf('=');
      if (eq <= 0) throw new UsageError(`set takes PROPERTY=VALUE, not '${p[1]}'`);
      return { op: 'set', host, dataset: name, property: p[1]!.slice(0, eq), value: p[1]!.slice(eq + 1) };
    }
    default: {
      if (p.length !== 2) throw new UsageError(usage);
      const { host, name } = hostName(p[0], 'dataset', usage);
      return { op: 'rename', host, from: name, to: sameHostName(p[1], host, usage), ...(o.withReplicas ? { withReplicas: true } : {}) };
    }
  }
}

/** The dataset operations' usage lines (the CLI's verb table uses them too). */
export const DATASET_OP_USAGE: Record<DatasetOp['op'], string> = {
  hold: 'hold HOST:DS@SNAP TAG [--recursive] [--yes]',
  release: 'release HOST:DS@SNAP TAG [--recursive] [--yes]',
  clone: 'clone HOST:DS@SNAP NEWDATASET [-o PROPERTY=VALUE ...] [--yes]',
  promote: 'promote HOST:CLONE [--yes]',
  set: 'set HOST:DATASET PROPERTY=VALUE [--yes]',
  rename: 'rename HOST:DATASET NEWNAME [--with-replicas] [--yes]',
};

function rebaseArgs(o: ReplicationOptions): { host: string; clone: string; onto: string; keepData: boolean } {
  const ep = parseEndpoint(o.positional[0] ?? '');
  if (!ep.name || ep.name.kind === 'snapshot' || ep.name.kind === 'bookmark') throw new UsageError('rebase takes HOST:CLONE --onto HOST:DATASET@SNAPSHOT');
  if (!o.onto) throw new UsageError('rebase needs --onto HOST:DATASET@SNAPSHOT');
  const onto = parseEndpoint(o.onto);
  if (onto.name?.kind !== 'snapshot') throw new UsageError('--onto takes HOST:DATASET@SNAPSHOT');
  if (onto.host !== ep.host) throw new UsageError(`the clone and the snapshot must be on the same host (${ep.host} vs ${onto.host})`);
  if (o.keepData === undefined) throw new UsageError('rebase destroys the clone: say --keep-data (copy its data first) or --drop-data');
  return { host: ep.host, clone: ep.name.full, onto: onto.name.full, keepData: o.keepData };
}

/** `plan sync|rollback|rebase`: the plan as the flow would preview it, nothing asked or run. */
async function planOnly(app: App, o: ReplicationOptions, out: Out): Promise<number> {
  const what = o.positional[0];
  const rest = { ...o, positional: o.positional.slice(1) };
  let plan: Plan;
  let pair: ReplicationPair | undefined;
  let extraPreview: string | undefined;
  switch (what) {
    case 'group': {
      const pairs = await groupPairs(app, o, rest.positional[0]);
      app.fleet.setHosts([...new Set(pairs.flatMap((p) => [p.source.host, p.target.host]))]);
      for (const [i, p] of pairs.entries()) {
        if (!o.json) out(`${i ? '\n' : ''}=== ${p.id}`);
        const review = await reviewOf(app, (await syncPlan(app, p, syncOptions(rest))).plan, { pair: p });
        printPlan(review, o, out, '--yes');
      }
      return 0;
    }
    case 'sync':
      pair = pairOf(rest);
      app.fleet.setHosts([pair.source.host, pair.target.host]);
      plan = (await syncPlan(app, pair, syncOptions(rest))).plan;
      break;
    case 'rollback': {
      const { host, snapshot } = snapshotArg(rest);
      app.fleet.setHosts([host]);
      plan = (await rollbackPlan(app, host, snapshot, o.destroyClones)).plan;
      break;
    }
    case 'rebase': {
      const a = rebaseArgs(rest);
      app.fleet.setHosts([a.host]);
      ({ plan, extraPreview } = await rebasePlan(app, a.host, a.clone, a.onto, a.keepData));
      break;
    }
    default:
      throw new UsageError(`plan what? sync, group, rollback or rebase (got '${what ?? ''}')`);
  }
  const review = await reviewOf(app, plan, { ...(pair ? { pair } : {}), ...(extraPreview ? { extraPreview } : {}) });
  printPlan(review, o, out, '--yes');
  return 0;
}

/** The pairs of a group of the fleet file (one per replica); a usage error naming the groups there are otherwise. */
async function groupPairs(app: App, o: ReplicationOptions, name: string | undefined): Promise<ReplicationPair[]> {
  if (!name) throw new UsageError('expected a group name (group NAME)');
  const all = await app.configuredPairs();
  const pairs = all.filter((p) => p.group === name);
  if (pairs.length === 0) {
    const groups = [...new Set(all.flatMap((p) => (p.group ? [p.group] : [])))];
    throw new UsageError(`no group ${name} in the fleet file${o.fleetFile ? ` ${o.fleetFile}` : ''} (${groups.join(', ') || 'none defined'})`);
  }
  return pairs;
}

/** Every host's listing, or why it could not be listed (one host down does not hide the others). */
async function listingsOf(app: App, hosts: readonly string[]): Promise<Map<string, HostListing | { error: string }>> {
  const unique = [...new Set(hosts)];
  app.fleet.setHosts(unique);
  const settled = await Promise.allSettled(unique.map(async (h) => (await app.freshListings([h]))[0]!));
  return new Map(
    unique.map((h, i) => {
      const r = settled[i]!;
      return [h, r.status === 'fulfilled' ? r.value : { error: safeText(((r.reason as Error).message ?? String(r.reason)).split('\n')[0]!) }];
    }),
  );
}

/** `status group NAME` / `status --all`: each group's replicas (a pair outside groups is a group of one, named by its id). */
async function groupsStatus(app: App, o: ReplicationOptions, out: Out): Promise<number> {
  const pairs = o.all ? await app.configuredPairs() : await groupPairs(app, o, o.positional[1]);
  if (pairs.length === 0) throw new UsageError('the fleet file has no groups or pairs (--fleet FILE, default ./.zfs-fleet.json)');
  const byGroup = new Map<string, ReplicationPair[]>();
  for (const p of pairs) byGroup.set(p.group ?? `\0${p.id}`, [...(byGroup.get(p.group ?? `\0${p.id}`) ?? []), p]);
  const listings = await listingsOf(
    app,
    pairs.flatMap((p) => [p.source.host, p.target.host]),
  );
  // A pair outside groups is a group of one, named by its label or id.
  const statuses = [...byGroup].map(([key, ps]) =>
    key.startsWith('\0') ? groupStatus(ps[0]!.label ?? ps[0]!.id, ps, listings, undefined, 'pair') : groupStatus(key, ps, listings),
  );
  if (o.json)
    out(
      JSON.stringify(
        statuses.map((g) => ({
          ...g,
          replicas: g.replicas.map(({ pair, state, ...r }) => ({ pair: pair.id, ...r, ...(state ? { status: state.status, base: state.base } : {}) })),
        })),
        null,
        2,
      ),
    );
  else out(statuses.map(formatGroupStatus).join('\n\n'));
  // Like status: the state is the output; 1 only when a host could not be listed.
  return [...listings.values()].some((l) => 'error' in l) ? 1 : 0;
}

/** `sync group NAME`: each replica's sync flow in turn (each plan shown, each run with --yes); a failed replica does not stop the others. */
async function syncGroup(app: App, o: ReplicationOptions, out: Out): Promise<number> {
  const pairs = await groupPairs(app, o, o.positional[1]);
  app.fleet.setHosts([...new Set(pairs.flatMap((p) => [p.source.host, p.target.host]))]);
  const failed: string[] = [];
  for (const [i, pair] of pairs.entries()) {
    if (!o.json) out(`\n=== ${pair.id}`);
    // --snapshot NAME: taken once, by the first replica's sync; the others are synced up to it.
    const options = i > 0 && o.snapshot !== undefined ? { ...syncOptions({ ...o, snapshot: undefined }), upTo: o.snapshot } : syncOptions(o);
    try {
      exitOf(await syncFlow(app, cliUI(o, out, '--yes'), pair, options), o, out);
    } catch (e) {
      failed.push(pair.id);
      process.stderr.write(`zfs-fleet: ${pair.id}: ${safeText((e as Error).message)}\n`);
    }
  }
  if (failed.length) throw new Error(`${failed.length} of ${pairs.length} replica(s) failed: ${failed.join(', ')}`);
  return 0;
}

function syncOptions(o: ReplicationOptions) {
  return { ...(o.snapshot !== undefined ? { newSnapshotName: o.snapshot } : {}), ...(o.bookmark !== undefined ? { bookmark: o.bookmark } : {}) };
}

export async function replicationCommand(command: string, fleet: Fleet, o: ReplicationOptions, out: Out, logger: Logger): Promise<number> {
  const app = cliApp(fleet, o, logger);
  try {
    return await verb(command, app, o, out);
  } finally {
    await app.history.close?.();
  }
}

async function verb(command: string, app: App, o: ReplicationOptions, out: Out): Promise<number> {
  const fleet = app.fleet;
  switch (command) {
    case 'status': {
      if (o.all || o.positional[0] === 'group') return groupsStatus(app, o, out);
      const pair = pairOf(o);
      fleet.setHosts([pair.source.host, pair.target.host]);
      const [src, dst] = await app.freshListings([pair.source.host, pair.target.host]);
      const st = pairState(pair, src!, dst!);
      if (o.json) out(JSON.stringify({ ...st, comparison: undefined }, null, 2));
      else out(`${pair.id}: ${st.status}\n${st.summary}`);
      return 0;
    }
    case 'diagnose': {
      const pair = pairOf(o);
      fleet.setHosts([pair.source.host, pair.target.host]);
      const r = await diagnoseFlow(
        app,
        cliUI(o, out, '--fix --yes', true),
        pair,
        o.stalledAfterSeconds !== undefined ? { stalledAfterSeconds: o.stalledAfterSeconds } : {},
      );
      return exitOf(r.flow, o, out);
    }
    case 'plan':
      return planOnly(app, o, out);
    case 'sync': {
      if (o.positional[0] === 'group') return syncGroup(app, o, out);
      const pair = pairOf(o);
      fleet.setHosts([pair.source.host, pair.target.host]);
      return exitOf(await syncFlow(app, cliUI(o, out, '--yes'), pair, syncOptions(o)), o, out);
    }
    case 'rollback': {
      const { host, snapshot } = snapshotArg(o);
      fleet.setHosts([host]);
      return exitOf(await rollbackFlow(app, cliUI(o, out, '--yes'), host, snapshot, o.destroyClones), o, out);
    }
    case 'rebase': {
      const a = rebaseArgs(o);
      fleet.setHosts([a.host]);
      return exitOf(await rebaseReview(app, cliUI(o, out, '--yes'), a.host, a.clone, a.onto, a.keepData), o, out);
    }
    case 'snapshot': {
      const { host, dataset, what } = opArg(o, 'snapshot takes HOST:DATASET@NAME');
      fleet.setHosts([host]);
      return exitOf(await snapshotFlow(app, cliUI(o, out, '--yes'), host, `${dataset}@${what}`, o.recursive === true), o, out);
    }
    case 'destroy': {
      const { host, dataset, what } = opArg(o, 'destroy takes HOST:DATASET@SNAPSHOTS (names and ranges FIRST%LAST, separated by commas)');
      fleet.setHosts([host]);
      return exitOf(await destroySnapshotsFlow(app, cliUI(o, out, '--yes'), host, dataset, what), o, out);
    }
    case 'hold':
    case 'release':
    case 'clone':
    case 'promote':
    case 'set':
    case 'rename': {
      const a = datasetOpArgs(command, o);
      fleet.setHosts([a.host]);
      return exitOf(await datasetOpFlow(app, cliUI(o, out, '--yes'), a), o, out);
    }
    case 'expire': {
      if (o.positional.length !== 1)
        throw new UsageError('expire takes HOST:DATASET or a group of the fleet file, and --keep N (else the policy of the fleet file)');
      const arg = o.positional[0]!;
      // A group's name has no ':' (HOST:DATASET always has one).
      if (!arg.includes(':')) {
        const group = await roleGroup(app, arg);
        const ends = [...(o.primary ? [group.primary] : []), ...group.replicas];
        fleet.setHosts([...new Set([group.primary, ...group.replicas].map((e) => e.host))]);
        let code = 0;
        for (const e of ends) {
          if (!o.json) out(`== ${e.host}:${e.dataset}`);
          try {
            code = Math.max(code, exitOf(await expireFlow(app, cliUI(o, out, '--yes'), e.host, e.dataset, o.keep), o, out));
          } catch (err) {
            if (!(err instanceof PlanError)) throw err;
            out(`${e.host}:${e.dataset}: ${err.reason}`);
            code = 1;
          }
        }
        return code;
      }
      const { host, name } = hostName(
        arg,
        'dataset',
        'expire takes HOST:DATASET or a group of the fleet file, and --keep N (else the policy of the fleet file)',
      );
      fleet.setHosts([host]);
      return exitOf(await expireFlow(app, cliUI(o, out, '--yes'), host, name, o.keep), o, out);
    }
    case 'roles': {
      if (o.positional.length !== 1) throw new UsageError('roles takes the name of a group of the fleet file');
      const group = await roleGroup(app, o.positional[0]!);
      fleet.setHosts([...new Set([group.primary, ...group.replicas].map((e) => e.host))]);
      return exitOf(await rolesFlow(app, cliUI(o, out, '--yes'), group.name), o, out);
    }
    case 'failover':
    case 'takeover':
    case 'demote': {
      const usage =
        command === 'demote' ? 'demote takes a group of the fleet file and HOST:DATASET' : `${command} takes a group of the fleet file and --to HOST:DATASET`;
      const [groupName, endArg] = command === 'demote' ? [o.positional[0], o.positional[1]] : [o.positional[0], o.to];
      if (!groupName || !endArg || o.positional.length !== (command === 'demote' ? 2 : 1)) throw new UsageError(usage);
      const { host, name } = hostName(endArg, 'dataset', usage);
      const opts = { ...(o.keepData ? { keepData: true } : {}), ...(o.discardPartial ? { discardPartial: true } : {}) };
      return exitOf(await roleChangeFlow(app, cliUI(o, out, '--yes'), command, groupName, { host, dataset: name }, opts), o, out);
    }
    case 'audit': {
      const pair = pairOf(o);
      fleet.setHosts([pair.source.host, pair.target.host]);
      const [src, dst] = await app.freshListings([pair.source.host, pair.target.host]);
      let flags: SyncPlanFlags;
      try {
        flags = planFlags(planSync(pair, src!, dst!, { zfs: o.zfs }));
      } catch {
        // No plan can be made yet (e.g. no common base): audit a plain sync with holds where the hosts have them.
        flags = {
          holds: src!.capabilities.holds && dst!.capabilities.holds,
          snapshot: false,
          rollback: false,
          destroy: false,
          resume: dst!.capabilities.resumeTokens,
        };
      }
      const host = (name: string) => ({ name, runner: fleet.host(name).runner, capabilities: () => fleet.host(name).capabilities() });
      const oneHost = pair.source.host === pair.target.host;
      const audit = await auditPairPermissions(pair, { source: host(pair.source.host), target: host(pair.target.host) }, flags, {
        zfsPath: o.zfs,
        // Both sides on one host: the pipe runs there, no ssh between them to audit.
        sshFromTarget: pair.route === 'pull' && !oneHost ? sshToSource(pair) : undefined,
        sshFromSource: pair.route === 'push' && !oneHost ? sshToTarget(pair) : undefined,
      });
      const { facts: _facts, ...report } = audit;
      if (o.json) out(JSON.stringify(report, null, 2));
      else out(formatPermissionAudit(audit));
      return report.ok ? 0 : 1;
    }
    case 'history': {
      const { entries, unreadable } = await app.history.read();
      if (o.json) out(JSON.stringify(entries, null, 2));
      else {
        for (const e of entries)
          out(
            `${e.finishedAt}  ${e.outcome.padEnd(9)} ${e.title}${e.bytes ? ` (${formatBytes(e.bytes)})` : ''}${e.error ? ` — ${e.error.split('\n')[0]}` : ''}`,
          );
        if (unreadable) out(`(${unreadable} unreadable line(s) skipped)`);
      }
      return 0;
    }
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}
