/**
 * The replication verbs of zfs-fleet: status, diagnose, plan, sync, rollback, rebase, history.
 * Without --yes a mutating verb prints its plan and changes nothing; with --yes it runs the plan
 * (preconditions re-checked right before) and records the result in the history.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { executePlan, type ExecEvent, type ExecResult } from '../core/execute/executor.js';
import { History } from '../core/execute/history.js';
import { parseEndpoint } from '../core/fleet/endpoint.js';
import type { Fleet } from '../core/fleet/fleet.js';
import { parsePair, type ReplicationPair, type Route } from '../core/fleet/pairs.js';
import { formatBytes } from '../core/format.js';
import type { Logger } from '../core/log.js';
import { localPropertiesCommand, type LocalProperty } from '../core/replication/cloneRebase.js';
import { diagnose, type Diagnosis, type DiagnoseOptions } from '../core/replication/diagnose.js';
import { planToShell, renderPlan, type Plan } from '../core/replication/plan.js';
import { mountUsersCommand, processListCommand, type MountUsers, type ProcessInfo } from '../core/replication/processes.js';
import { planRollback } from '../core/replication/rollback.js';
import { planCloneRebase } from '../core/replication/cloneRebase.js';
import { pairState } from '../core/replication/state.js';
import { gatherSyncFacts, planSync, type SyncFacts } from '../core/replication/sync.js';
import { auditPairPermissions, formatPermissionAudit, type SyncPlanFlags } from '../core/fleet/permissions.js';
import { sshArgvFor } from '../core/replication/argv.js';
import { safeText } from '../core/text.js';
import { baseLossLines, planBasesLost, type BaseLoss } from '../core/replication/baseGuard.js';
import type { HostListing } from '../core/fleet/listing.js';
import { fileEntries, PAIRS_FILE } from '../core/fleet/pairSpecs.js';
import { shellQuote } from '../core/zfs/quote.js';
import { UsageError } from './usage.js';
import * as fs from 'node:fs';

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
  keepData?: boolean;
  destroyClones: boolean;
  snapshot?: string;
  fix: boolean;
  stalledAfterSeconds?: number;
  zfs: string;
  historyFile?: string;
  /** sync: bookmark the newest snapshot sent (default: where the source has bookmarks and its user may). */
  bookmark?: boolean;
  /** The pairs whose bases a plan must not destroy unasked (default: ./.zfs-fleet.json when it exists). */
  pairsFile?: string;
  /** The dataset name the user typed to let a plan destroy a pair's newest common snapshot there. */
  confirmBase?: string;
}

export const REPLICATION_USAGE = `  status SRC DST [--route R]            the state of a replication pair (SRC and DST are HOST:DATASET)
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
  audit SRC DST [--route R]             which delegated permissions (zfs allow) the sync lacks, per host and
                                        user, with the zfs allow command that fixes each
  history                               what ran, when, and how it ended
  Without --yes, sync/rollback/rebase/diagnose --fix print the plan and change nothing. A plan that
  destroys the newest common snapshot of a pair (from --pairs FILE, default ./.zfs-fleet.json) says
  so and runs only with --confirm-base DATASET, the dataset's name typed.`;

type Out = (line: string) => void;

function pairOf(o: ReplicationOptions, i = 0): ReplicationPair {
  const [source, target] = o.positional.slice(i, i + 2);
  if (!source || !target) throw new UsageError('expected SRC DST (HOST:DATASET HOST:DATASET)');
  return parsePair({ source, target, route: o.route ?? 'relay' });
}

/** Fresh listings of the hosts, in the order given (a tuple: as many as asked for). */
async function listings<H extends string[]>(fleet: Fleet, ...hosts: H): Promise<{ [K in keyof H]: HostListing }> {
  return (await Promise.all(hosts.map((h) => fleet.host(h).refresh()))) as { [K in keyof H]: HostListing };
}

function historyOf(o: ReplicationOptions): History {
  const base = process.env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state');
  return new History(o.historyFile ?? path.join(base, 'zfs-fleet', 'history.jsonl'));
}

function printPlan(plan: Plan, o: ReplicationOptions, out: Out, losses: readonly BaseLoss[] = []): void {
  if (o.json) out(JSON.stringify({ plan, shell: Object.fromEntries(planToShell(plan).byHost), baseLosses: losses.map((l) => ({ pair: l.pair.id, host: l.host, dataset: l.dataset, destroyed: l.destroyed, nextBase: l.nextBase ?? null, message: l.message })) }, null, 2));
  else {
    out(renderPlan(plan));
    for (const line of baseLossLines(losses, '--yes', shellQuote)) out(line);
  }
}

/** The pairs of --pairs FILE (or ./.zfs-fleet.json); invalid entries are said on stderr by the caller's logger. */
function configuredPairs(o: ReplicationOptions, logger: Logger): ReplicationPair[] {
  const file = o.pairsFile ?? (fs.existsSync(PAIRS_FILE) ? PAIRS_FILE : undefined);
  if (file === undefined) return [];
  let text: string | undefined;
  let error: string | undefined;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    error = (e as Error).message;
  }
  const entries = fileEntries({ file, ...(text !== undefined ? { text } : {}), ...(error !== undefined ? { error } : {}) });
  for (const e of entries) if (!e.ok) logger.warn(`${file}: ${e.reason}`);
  if (o.pairsFile !== undefined && error !== undefined) throw new Error(`${file}: ${error}`);
  return entries.flatMap((e) => (e.ok ? [e.pair] : []));
}

/** The pairs (configured, and the one the command names) whose newest common base the plan destroys. */
function baseLossesOf(plan: Plan, fleet: Fleet, o: ReplicationOptions, logger: Logger, named?: ReplicationPair): Promise<BaseLoss[]> {
  if (plan.destroys.snapshots.length + plan.destroys.bookmarks.length === 0) return Promise.resolve([]);
  return planBasesLost(plan, [...configuredPairs(o, logger), ...(named ? [named] : [])], (h) => fleet.host(h).listing(), (h, e) => logger.warn(`${h}: not listed, so its pairs are not checked for a lost base: ${e.message}`));
}

/** A plan that destroys a pair's base runs only when --confirm-base names each such dataset. */
function requireBaseConfirmed(losses: readonly BaseLoss[], o: ReplicationOptions): void {
  const missing = losses.filter((l) => o.confirmBase !== l.dataset);
  if (missing.length) throw new Error(`refused: ${missing.map((l) => l.message).join(' ')} To run it anyway, add --confirm-base ${missing[0]!.dataset}`);
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

/** Run a confirmed plan (the user said --yes), record it, and print the outcome. */
async function run(plan: Plan, fleet: Fleet, o: ReplicationOptions, out: Out, logger: Logger, pair?: string, losses: readonly BaseLoss[] = []): Promise<number> {
  if (plan.blockedBy) {
    printPlan(plan, o, out, losses);
    throw new Error(`the plan is blocked: ${plan.blockedBy.reason}`);
  }
  if (plan.steps.length === 0) {
    out(o.json ? JSON.stringify({ outcome: 'ok', summary: plan.summary }) : plan.summary);
    return 0;
  }
  requireBaseConfirmed(losses, o);
  const ac = new AbortController();
  const onSigint = () => ac.abort();
  process.once('SIGINT', onSigint);
  let result: ExecResult;
  try {
    result = await executePlan(plan, { runner: (h) => fleet.host(h).runner, freshListing: (h) => fleet.host(h).refresh(), logger }, { signal: ac.signal, onEvent: progressPrinter(), confirmStep: async () => true });
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
  await historyOf(o).append({ ...result, pair, commands: Object.fromEntries(planToShell(plan).byHost) });
  if (o.json) out(JSON.stringify(result, null, 2));
  else {
    out(`${plan.title}: ${result.outcome}${result.bytes ? `, ${formatBytes(result.bytes)} sent` : ''} in ${(result.durationMs / 1000).toFixed(1)} s`);
    if (result.changes) for (const c of result.changes) out(`  changed: ${c}`);
    for (const w of result.warnings ?? []) out(`  warning: ${w}`);
  }
  if (result.outcome !== 'ok') throw new Error(result.error ?? result.outcome);
  return 0;
}

/** Diagnose with the read-only facts it asks for (processes, clone properties, who uses the clone). */
async function fullDiagnosis(fleet: Fleet, pair: ReplicationPair, o: ReplicationOptions): Promise<Diagnosis> {
  const [src, dst] = await listings(fleet, pair.source.host, pair.target.host);
  const processes = new Map<string, ProcessInfo[]>();
  const cloneProperties = new Map<string, LocalProperty[]>();
  const mountUsers = new Map<string, MountUsers>();
  const opts = (): DiagnoseOptions => ({ processes, cloneProperties, mountUsers, zfs: o.zfs, stalledAfterSeconds: o.stalledAfterSeconds });
  for (const h of new Set([pair.source.host, pair.target.host])) processes.set(h, await fleet.host(h).exec(processListCommand()));
  let d = diagnose(pair, src, dst, opts());
  for (let round = 0; round < 3 && d.needs.length > 0; round++) {
    for (const need of d.needs) {
      const host = fleet.host(need.host);
      if (need.purpose === 'processes') processes.set(need.host, await host.exec(processListCommand()));
      else if (need.purpose === 'local-properties') cloneProperties.set(need.subject, await host.exec(localPropertiesCommand(o.zfs, need.subject)));
      else if (need.purpose === 'mount-users') mountUsers.set(need.subject, await host.exec(mountUsersCommand(need.subject)));
    }
    const before = d.needs.length;
    d = diagnose(pair, src, dst, opts());
    if (d.needs.length >= before && round > 0) break;
  }
  return d;
}

export async function replicationCommand(command: string, fleet: Fleet, o: ReplicationOptions, out: Out, logger: Logger): Promise<number> {
  switch (command) {
    case 'status': {
      const pair = pairOf(o);
      fleet.setHosts([pair.source.host, pair.target.host]);
      const [src, dst] = await listings(fleet, pair.source.host, pair.target.host);
      const st = pairState(pair, src, dst);
      if (o.json) out(JSON.stringify({ ...st, comparison: undefined }, null, 2));
      else out(`${pair.id}: ${st.status}\n${st.summary}`);
      return 0;
    }
    case 'diagnose': {
      const pair = pairOf(o);
      fleet.setHosts([pair.source.host, pair.target.host]);
      const d = await fullDiagnosis(fleet, pair, o);
      if (o.json && !(o.fix && o.yes)) out(JSON.stringify({ ...d, state: { ...d.state, comparison: undefined } }, null, 2));
      else if (!o.json) {
        out(d.summary);
        for (const f of d.findings) out(`  - ${f.message}`);
        if (d.fix) out('\nFix plan:\n' + renderPlan(d.fix));
        else if (d.fixUnavailable) out(`\nNo fix plan: ${d.fixUnavailable}`);
      }
      if (o.fix && d.fix) {
        const losses = await baseLossesOf(d.fix, fleet, o, logger, pair);
        if (!o.yes) {
          if (!o.json) for (const line of baseLossLines(losses, '--fix --yes', shellQuote)) out(line);
          if (!o.json) out('\n(nothing changed: run again with --fix --yes to run the fix plan)');
          return 0;
        }
        return run(d.fix, fleet, o, out, logger, pair.id, losses);
      }
      return 0;
    }
    case 'plan': {
      const what = o.positional[0];
      const rest = { ...o, positional: o.positional.slice(1) };
      const plan = await buildPlan(what ?? '', fleet, rest, logger);
      printPlan(plan, o, out, await baseLossesOf(plan, fleet, o, logger, what === 'sync' ? pairOf(rest) : undefined));
      return 0;
    }
    case 'sync':
    case 'rollback':
    case 'rebase': {
      const plan = await buildPlan(command, fleet, o, logger);
      const losses = await baseLossesOf(plan, fleet, o, logger, command === 'sync' ? pairOf(o) : undefined);
      if (!o.yes) {
        printPlan(plan, o, out, losses);
        if (!o.json) out('\n(nothing changed: run again with --yes to run this plan)');
        return 0;
      }
      return run(plan, fleet, o, out, logger, command === 'sync' ? pairOf(o).id : undefined, losses);
    }
    case 'audit': {
      const pair = pairOf(o);
      fleet.setHosts([pair.source.host, pair.target.host]);
      const [src, dst] = await listings(fleet, pair.source.host, pair.target.host);
      let flags: SyncPlanFlags;
      try {
        flags = planFlags(planSync(pair, src, dst, { zfs: o.zfs }));
      } catch {
        // No plan can be made yet (e.g. no common base): audit a plain sync with holds where the hosts have them.
        flags = { holds: src.capabilities.holds && dst.capabilities.holds, snapshot: false, rollback: false, destroy: false, resume: dst.capabilities.resumeTokens };
      }
      const host = (name: string) => ({ name, runner: fleet.host(name).runner, capabilities: () => fleet.host(name).capabilities() });
      const audit = await auditPairPermissions(pair, { source: host(pair.source.host), target: host(pair.target.host) }, flags, {
        zfsPath: o.zfs,
        sshFromTarget: pair.route === 'pull' ? sshArgvFor(pair.source.host) : undefined,
        sshFromSource: pair.route === 'push' ? sshArgvFor(pair.target.host) : undefined,
      });
      const { facts: _facts, ...report } = audit;
      if (o.json) out(JSON.stringify(report, null, 2));
      else out(formatPermissionAudit(audit));
      return report.ok ? 0 : 1;
    }
    case 'history': {
      const { entries, unreadable } = await historyOf(o).read();
      if (o.json) out(JSON.stringify(entries, null, 2));
      else {
        for (const e of entries) out(`${e.finishedAt}  ${e.outcome.padEnd(9)} ${e.title}${e.bytes ? ` (${formatBytes(e.bytes)})` : ''}${e.error ? ` — ${e.error.split('\n')[0]}` : ''}`);
        if (unreadable) out(`(${unreadable} unreadable line(s) skipped)`);
      }
      return 0;
    }
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

/**
 * Who will run the sync (`id`, and `zfs allow` of both datasets; for push, `id` through the source's
 * ssh to the target, the user zfs recv runs as), so the plan adds `recv -u` for a non-root receiver and
 * places no hold its user could not release. Read-only; when it cannot be read, the plan is made
 * without (as for root) and the log says why.
 */
async function userFacts(fleet: Fleet, pair: ReplicationPair, o: ReplicationOptions, logger: Logger): Promise<SyncFacts | undefined> {
  const host = (name: string) => ({ name, runner: fleet.host(name).runner, capabilities: () => fleet.host(name).capabilities() });
  try {
    return await gatherSyncFacts(pair, { source: host(pair.source.host), target: host(pair.target.host) }, { zfsPath: o.zfs });
  } catch (e) {
    logger.warn(`the users that run the sync could not be read (${(e as Error).message}); planning as for root`);
    return undefined;
  }
}

async function buildPlan(what: string, fleet: Fleet, o: ReplicationOptions, logger: Logger): Promise<Plan> {
  switch (what) {
    case 'sync': {
      const pair = pairOf(o);
      fleet.setHosts([pair.source.host, pair.target.host]);
      const [[src, dst], facts] = await Promise.all([listings(fleet, pair.source.host, pair.target.host), userFacts(fleet, pair, o, logger)]);
      return planSync(pair, src, dst, { newSnapshotName: o.snapshot, zfs: o.zfs, ...(facts ? { facts } : {}), ...(o.bookmark !== undefined ? { bookmark: o.bookmark } : {}) });
    }
    case 'rollback': {
      const ep = parseEndpoint(o.positional[0] ?? '');
      if (ep.name?.kind !== 'snapshot') throw new UsageError('rollback takes HOST:DATASET@SNAPSHOT');
      fleet.setHosts([ep.host]);
      const [l] = await listings(fleet, ep.host);
      return planRollback(ep.host, l!, ep.name.full, { destroyClones: o.destroyClones, zfs: o.zfs });
    }
    case 'rebase': {
      const ep = parseEndpoint(o.positional[0] ?? '');
      if (!ep.name || ep.name.kind === 'snapshot' || ep.name.kind === 'bookmark') throw new UsageError('rebase takes HOST:CLONE --onto HOST:DATASET@SNAPSHOT');
      if (!o.onto) throw new UsageError('rebase needs --onto HOST:DATASET@SNAPSHOT');
      const onto = parseEndpoint(o.onto);
      if (onto.name?.kind !== 'snapshot') throw new UsageError('--onto takes HOST:DATASET@SNAPSHOT');
      if (onto.host !== ep.host) throw new UsageError(`the clone and the snapshot must be on the same host (${ep.host} vs ${onto.host})`);
      if (o.keepData === undefined) throw new UsageError('rebase destroys the clone: say --keep-data (copy its data first) or --drop-data');
      fleet.setHosts([ep.host]);
      const host = fleet.host(ep.host);
      const [l, props] = await Promise.all([host.refresh(), host.exec(localPropertiesCommand(o.zfs, ep.name.full))]);
      const d = new Date();
      const p = (n: number) => String(n).padStart(2, '0');
      const date = `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}`;
      return planCloneRebase(ep.host, l, ep.name.full, onto.name.full, { keepData: o.keepData, date, localProperties: props, zfs: o.zfs });
    }
    default:
      throw new UsageError(`plan what? sync, rollback or rebase (got '${what}')`);
  }
}
