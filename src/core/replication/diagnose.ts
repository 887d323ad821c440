/**
 * Why a pair does not sync, as a chain of causes (the classic incident: a stalled `zfs recv` keeping the
 * replica busy; the last received snapshot pruned on the source, so the common base is an older
 * one; the replica modified; a clone of a snapshot newer than that base blocking the rollback to
 * it), and one ordered fix plan: stop the stalled processes, re-base the clones, roll back to the
 * base, sync. Every fix step is confirmed on its own.
 */
import type { HostListing } from '../fleet/listing.js';
import type { ReplicationPair } from '../fleet/pairs.js';
import type { ZfsObject } from '../zfs/types.js';
import { snapName } from './commonBase.js';
import { cloneRebasePart, localPropertiesCommand, type CloneUsage, type LocalProperty } from './cloneRebase.js';
import { makePlan, PlanError, StepIds, type InspectCommand, type Plan, type PlanStep, type Precondition } from './plan.js';
import {
  findZfsStreamProcesses,
  formatDuration,
  killArgv,
  mountUsersCommand,
  processListCommand,
  type MountUsers,
  type ProcessInfo,
  type ZfsStreamProcess,
} from './processes.js';
import { pairState, type PairState } from './state.js';
import { commandStep } from './steps.js';
import { syncPart, type RouteOptions } from './sync.js';

export type FindingKind =
  | 'source-missing'
  | 'stalled-process'
  | 'running-process'
  | 'no-common'
  | 'base-pruned'
  | 'target-newer'
  | 'target-modified'
  | 'target-modified-unknown'
  | 'clone-blocks-rollback'
  | 'busy-mount'
  | 'resume-token'
  | 'retention'
  | 'behind'
  | 'in-sync';

export interface Finding {
  kind: FindingKind;
  host: string;
  message: string;
  /** The objects concerned (process, snapshots, clone, ...). */
  process?: ZfsStreamProcess;
  snapshots?: string[];
  clone?: string;
  mountUsers?: ProcessInfo[];
}

export interface DiagnoseOptions {
  /** `ps` per host (processListCommand); hosts without an entry are listed in `needs`. */
  processes?: ReadonlyMap<string, readonly ProcessInfo[]>;
  /** Locally set properties of the clones to re-base (localPropertiesCommand), by clone name; required for the fix. */
  cloneProperties?: ReadonlyMap<string, readonly LocalProperty[]>;
  /** Who uses a clone's mountpoint (mountUsersCommand), by clone name. */
  mountUsers?: ReadonlyMap<string, MountUsers>;
  /** A zfs send/recv running at least this long is stalled (default 3600 s); younger ones are reported, not killed. */
  stalledAfterSeconds?: number;
  /** Keep the data of re-based clones in `<clone>-pre-rebase-<date>` (default true). */
  keepCloneData?: boolean;
  /** The target is known to be modified (a receive said so) although its host has no `written`: the fix rolls it back to the base. */
  targetModified?: boolean;
  /** For the pre-rebase names (default: `now` as YYYYMMDD-HHMM, UTC). */
  date?: string;
  zfs?: string;
  route?: RouteOptions;
  now?: Date;
  id?: string;
}

export interface Diagnosis {
  pairId: string;
  state: PairState;
  /** The causes, in the order they explain the failure. */
  findings: Finding[];
  /** The chain of causes and the fix, in words. */
  summary: string;
  /** One ordered plan that fixes the pair (absent when nothing needs fixing or no fix can be planned). */
  fix?: Plan;
  /** Why there is no fix plan, when something is wrong but cannot be fixed by a plan (yet). */
  fixUnavailable?: string;
  /** Read-only commands whose output would complete the diagnosis (pass the results back in the options). */
  needs: InspectCommand[];
  /** What uses the clones the fix re-bases. */
  cloneUsage: CloneUsage[];
}

function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}`;
}

const at = (o: { name: string } | string) => '@' + snapName(typeof o === 'string' ? o : o.name);

/** The listing as it will be after the clones are re-based onto `onto` (for planning what follows the rebase). */
export function withRebasedClones(listing: HostListing, rebases: readonly { clone: string; onto: string }[]): HostListing {
  const datasets = new Map(listing.datasets);
  const clones = new Map([...listing.clones].map(([k, v]) => [k, [...v]]));
  for (const r of rebases) {
    const e = datasets.get(r.clone);
    if (!e) continue;
    const old = e.object.origin;
    datasets.set(r.clone, { ...e, object: { ...e.object, origin: r.onto }, snapshots: [] });
    if (old)
      clones.set(
        old,
        (clones.get(old) ?? []).filter((c) => c !== r.clone),
      );
    clones.set(r.onto, [...(clones.get(r.onto) ?? []), r.clone]);
  }
  return { ...listing, datasets, clones };
}

/** What the checks and the fix builders of one diagnosis read, and the lists they add to. */
interface DiagnoseContext {
  pair: ReplicationPair;
  src: HostListing;
  dst: HostListing;
  options: DiagnoseOptions;
  now: Date;
  zfs: string;
  S: string;
  T: string;
  srcDs: string;
  dstDs: string;
  state: PairState;
  findings: Finding[];
  needs: InspectCommand[];
  cloneUsage: CloneUsage[];
}

type Incremental = NonNullable<NonNullable<PairState['comparison']>['incremental']>;

/** A clone of a snapshot newer than the base: it blocks the rollback to the base. */
interface BlockingClone {
  clone: string;
  snapshot: ZfsObject;
}

export function diagnose(pair: ReplicationPair, sourceListing: HostListing, targetListing: HostListing, options: DiagnoseOptions = {}): Diagnosis {
  const now = options.now ?? sourceListing.takenAt;
  const c: DiagnoseContext = {
    pair,
    src: sourceListing,
    dst: targetListing,
    options,
    now,
    zfs: options.zfs ?? 'zfs',
    S: pair.source.host,
    T: pair.target.host,
    srcDs: pair.source.name!.full,
    dstDs: pair.target.name!.full,
    state: pairState(pair, sourceListing, targetListing, { now: now.getTime() }),
    findings: [],
    needs: [],
    cloneUsage: [],
  };
  // 1. The causes: zfs send / recv processes of the pair, then what the listings say.
  const kills = processFindings(c);
  const { blocking, busy } = listingFindings(c, kills.length > 0);
  // 2. The fix: kill, rebase, (rollback +) sync.
  const { fix, fixUnavailable } = fixPlan(c, kills, blocking, busy);
  return {
    pairId: pair.id,
    state: c.state,
    findings: c.findings,
    summary: diagnosisSummary(c, fix, fixUnavailable),
    ...(fix ? { fix } : {}),
    ...(fixUnavailable ? { fixUnavailable } : {}),
    needs: c.needs,
    cloneUsage: c.cloneUsage,
  };
}

/** The pair's zfs send/recv processes: stalled ones (returned, to be killed) and running ones; hosts without `ps` go to `needs`. */
function processFindings(c: DiagnoseContext): ZfsStreamProcess[] {
  const stalledAfter = c.options.stalledAfterSeconds ?? 3600;
  const kills: ZfsStreamProcess[] = [];
  const hostsDone = new Set<string>();
  for (const [host, dataset, verb] of [
    [c.T, c.dstDs, 'recv'],
    [c.S, c.srcDs, 'send'],
  ] as const) {
    const list = c.options.processes?.get(host);
    if (!list) {
      if (!hostsDone.has(host)) c.needs.push({ host, purpose: 'processes', subject: host, argv: processListCommand().argv });
      hostsDone.add(host);
      continue;
    }
    for (const p of findZfsStreamProcesses(list, [dataset], [verb])) {
      const age = formatDuration(p.elapsedSeconds);
      if (p.elapsedSeconds < stalledAfter) {
        c.findings.push({
          kind: 'running-process',
          host,
          process: p,
          message: `${host}: \`${p.args}\` (pid ${p.pid}) started ${age} ago: a sync may be in progress; wait for it before fixing anything.`,
        });
        continue;
      }
      kills.push(p);
      c.findings.push({
        kind: 'stalled-process',
        host,
        process: p,
        message:
          `${host}: \`${p.args}\` (pid ${p.pid}) has been running for ${age}` +
          (verb === 'recv'
            ? `: a stalled receive keeps ${dataset} busy, so every new receive fails with "dataset is busy".`
            : `: a stalled send of ${dataset}; its receiver is gone or stuck.`),
      });
    }
  }
  return kills;
}

/** What the listings say, in the order it explains the failure; returns the clones blocking the rollback and what keeps them busy. */
function listingFindings(c: DiagnoseContext, stalled: boolean): { blocking: BlockingClone[]; busy: string[] } {
  const { state } = c;
  const inc = state.comparison?.incremental;
  if (state.status === 'source-missing') {
    c.findings.push({ kind: 'source-missing', host: c.S, message: state.summary });
    return { blocking: [], busy: [] };
  }
  if (!inc) {
    c.findings.push({ kind: 'no-common', host: c.T, message: `No common snapshot (${state.noCommon!.reason}): ${state.noCommon!.detail}.` });
    return { blocking: [], busy: [] };
  }
  newerOnTargetFindings(c, inc);
  modifiedFinding(c);
  const found = blockingCloneFindings(c, inc);
  replicationFindings(c, stalled);
  return found;
}

/** The target's snapshots newer than the base: pruned on the source by retention, or taken on the target. */
function newerOnTargetFindings(c: DiagnoseContext, inc: Incremental): void {
  const { S, T } = c;
  const cmp = c.state.comparison!;
  const newest = cmp.sourceSnapshots[cmp.sourceSnapshots.length - 1];
  const pruned = cmp.newerOnTarget.filter((t) => newest?.creation !== undefined && t.creation !== undefined && t.creation <= newest.creation);
  const own = cmp.newerOnTarget.filter((t) => !pruned.includes(t));
  if (pruned.length) {
    c.findings.push({
      kind: 'base-pruned',
      host: S,
      snapshots: pruned.map((s) => s.name),
      message:
        `${S}: the target's ${pruned.length === 1 ? 'snapshot' : 'snapshots'} ${pruned.map(at).join(', ')} no longer ${pruned.length === 1 ? 'exists' : 'exist'} on the source (pruned by retention)` +
        `, so the newest snapshot both sides still have is ${inc.kind === 'bookmark' ? inc.source.name : at(inc.source)}; an incremental send must start there.`,
    });
  }
  if (own.length) {
    c.findings.push({
      kind: 'target-newer',
      host: T,
      snapshots: own.map((s) => s.name),
      message: `${T}: ${c.dstDs} has ${own.length === 1 ? 'a snapshot' : 'snapshots'} ${own.map(at).join(', ')} taken after the source's newest: ${own.length === 1 ? 'it does' : 'they do'} not exist on the source.`,
    });
  }
}

function modifiedFinding(c: DiagnoseContext): void {
  const { T, dstDs, state } = c;
  if (state.targetModified === 'yes') {
    c.findings.push({
      kind: 'target-modified',
      host: T,
      message: `${T}: ${dstDs} was modified since its newest snapshot (${state.targetWrittenBytes} bytes written): a receive fails until it is rolled back.`,
    });
  } else if (state.targetModified === 'unknown') {
    c.findings.push({
      kind: 'target-modified-unknown',
      host: T,
      message: `${T}: whether ${dstDs} was modified since its newest snapshot is unknown (no \`written\` property on this host); a rollback to the base discards any such change.`,
    });
  }
}

/** Clones of snapshots newer than the base (they block the rollback), and what uses their mountpoints. */
function blockingCloneFindings(c: DiagnoseContext, inc: Incremental): { blocking: BlockingClone[]; busy: string[] } {
  const { T } = c;
  const blocking: BlockingClone[] = [];
  const busy: string[] = [];
  for (const s of c.state.comparison!.newerOnTarget) for (const clone of c.dst.clones.get(s.name) ?? []) blocking.push({ clone, snapshot: s });
  for (const b of blocking) {
    c.findings.push({
      kind: 'clone-blocks-rollback',
      host: T,
      clone: b.clone,
      snapshots: [b.snapshot.name],
      message: `${T}: ${b.clone} is a clone of ${b.snapshot.name}, newer than the base ${inc.target.name}: the rollback to the base fails ("clones of previous snapshots exist") until the clone is re-based onto the base.`,
    });
    const used = c.options.mountUsers?.get(b.clone);
    const mp = c.dst.datasets.get(b.clone)?.object.mountpoint;
    if (!used) {
      if (mp && mp.startsWith('/')) c.needs.push({ host: T, purpose: 'mount-users', subject: b.clone, argv: mountUsersCommand(mp).argv });
      continue;
    }
    if (!used.processes.length) continue;
    c.findings.push({
      kind: 'busy-mount',
      host: T,
      clone: b.clone,
      mountUsers: used.processes,
      message: `${T}: ${used.processes.length} process(es) use ${b.clone}${mp ? ` (${mp})` : ''}: ${used.processes.map((p) => `${p.pid} ${p.args}`).join('; ')}. Stop them before the rebase.`,
    });
    busy.push(`${T}: stop what uses ${b.clone} before the rebase: ${used.processes.map((p) => `pid ${p.pid} (${p.args})`).join(', ')}`);
  }
  return { blocking, busy };
}

/** A partial receive, retention, how far behind the target is; or that the pair is in sync. */
function replicationFindings(c: DiagnoseContext, stalled: boolean): void {
  const { S, T, dstDs, state } = c;
  if (state.resumeToken) {
    c.findings.push({
      kind: 'resume-token',
      host: T,
      message: state.resume?.stale
        ? `${T}: ${dstDs} holds a partially received stream that can never be resumed: its resume token is stale (${state.resume.stale}). Nothing else can be received until it is discarded (zfs recv -A).`
        : `${T}: ${dstDs} holds a partially received stream (receive_resume_token).`,
    });
  }
  if (state.retentionWarning) c.findings.push({ kind: 'retention', host: S, message: state.retentionWarning });
  if (state.behind) {
    c.findings.push({
      kind: 'behind',
      host: T,
      snapshots: state.behind.snapshots,
      message: `${T}: the target is behind by ${state.behind.count} snapshot(s), the newest unsent being ${at(state.behind.newestUnsent)}.`,
    });
  }
  if (state.status === 'in-sync' && !stalled && !state.retentionWarning) c.findings.push({ kind: 'in-sync', host: T, message: state.summary });
}

/** The fix being built: its steps, preconditions and warnings, the words of its summary, or why there is none. */
interface FixDraft {
  ids: StepIds;
  steps: PlanStep[];
  pre: Precondition[];
  warnings: string[];
  words: string[];
  unavailable?: string;
}

/** One ordered plan: stop the stalled processes, re-base the blocking clones, then the sync (with its rollback). */
function fixPlan(
  c: DiagnoseContext,
  kills: readonly ZfsStreamProcess[],
  blocking: readonly BlockingClone[],
  busy: readonly string[],
): { fix?: Plan; fixUnavailable?: string } {
  const f: FixDraft = { ids: new StepIds(), steps: [], pre: [], warnings: [...busy], words: [] };
  const running = c.findings.filter((x) => x.kind === 'running-process');
  if (running.length) {
    f.unavailable = `a send or receive of the pair is running (${running.map((x) => `pid ${x.process!.pid} on ${x.host}, ${formatDuration(x.process!.elapsedSeconds)}`).join('; ')}): wait for it to end, or diagnose again with a lower stalledAfterSeconds to plan stopping it`;
  }
  killSteps(c, f, kills);
  const inc = c.state.comparison?.incremental;
  const rebases = inc && blocking.length ? rebaseSteps(c, f, inc, blocking) : [];
  if (c.state.status !== 'source-missing' && f.unavailable === undefined) syncSteps(c, f, rebases);
  for (const s of f.steps) s.confirm = true;

  if (f.steps.length && f.unavailable === undefined) {
    const fix = makePlan({
      kind: 'diagnose-fix',
      id: c.options.id,
      now: c.now,
      title: `Fix ${c.S}:${c.srcDs} → ${c.T}:${c.dstDs}`,
      summary: `In order, each step confirmed on its own: ${f.words.map((w, i) => `${i + 1}) ${w}`).join('; ')}.`,
      steps: f.steps,
      preconditions: f.pre,
      warnings: f.warnings,
      ...(c.cloneUsage.length ? { preview: { cloneUsage: c.cloneUsage } } : {}),
    });
    return { fix };
  }
  const unfixable = (x: Finding) => x.kind === 'no-common' || x.kind === 'source-missing';
  if (f.steps.length === 0 && f.unavailable === undefined && c.findings.some(unfixable)) return { fixUnavailable: c.findings.find(unfixable)!.message };
  return f.unavailable !== undefined ? { fixUnavailable: f.unavailable } : {};
}

/** Stop each stalled process (its command line re-checked before the kill). */
function killSteps(c: DiagnoseContext, f: FixDraft, kills: readonly ZfsStreamProcess[]): void {
  for (const p of kills) {
    const host = p.verb === 'recv' ? c.T : c.S;
    f.steps.push(
      commandStep(
        f.ids.next(),
        'kill',
        host,
        killArgv(p.pid, p.args),
        `Stop the stalled \`${p.args}\` (pid ${p.pid}, running for ${formatDuration(p.elapsedSeconds)}) on ${host}`,
        { confirm: true },
      ),
    );
    f.pre.push({ kind: 'process', host, pid: p.pid, args: p.args });
    f.words.push(`stop the stalled ${p.verb === 'recv' ? 'receive' : 'send'} (pid ${p.pid} on ${host})`);
  }
}

/** Re-base each blocking clone onto the base (its local properties must have been read); returns the rebases planned. */
function rebaseSteps(c: DiagnoseContext, f: FixDraft, inc: Incremental, blocking: readonly BlockingClone[]): { clone: string; onto: string }[] {
  const { T, options } = c;
  const date = options.date ?? stamp(c.now);
  const rebases: { clone: string; onto: string }[] = [];
  for (const b of blocking) {
    if (rebases.some((r) => r.clone === b.clone)) continue;
    const props = options.cloneProperties?.get(b.clone);
    if (!props) {
      c.needs.push({ host: T, purpose: 'local-properties', subject: b.clone, argv: localPropertiesCommand(c.zfs, b.clone).argv });
      f.unavailable ??= `the locally set properties of ${b.clone} were not read (run the local-properties command in \`needs\` and pass them as cloneProperties): re-creating the clone without them would lose its settings`;
      continue;
    }
    try {
      const part = cloneRebasePart(T, c.dst, b.clone, inc.target.name, {
        keepData: options.keepCloneData ?? true,
        date,
        localProperties: props,
        zfs: c.zfs,
        ids: f.ids,
      });
      c.cloneUsage.push(part.usage);
      if (part.blockedBy) {
        f.unavailable ??= part.blockedBy.reason;
        continue;
      }
      f.steps.push(...part.steps);
      f.pre.push(...part.preconditions);
      f.warnings.push(...part.warnings);
      rebases.push({ clone: b.clone, onto: inc.target.name });
      f.words.push(`re-base the clone ${b.clone} onto ${inc.target.name}${part.copy ? ` (its data kept in ${part.copy})` : ''}`);
    } catch (e) {
      if (!(e instanceof PlanError)) throw e;
      f.unavailable ??= e.reason;
    }
  }
  return rebases;
}

/** The sync (with its rollback), planned against the target as it will be after the rebases. */
function syncSteps(c: DiagnoseContext, f: FixDraft, rebases: readonly { clone: string; onto: string }[]): void {
  const { options } = c;
  try {
    const part = syncPart(c.pair, c.src, rebases.length ? withRebasedClones(c.dst, rebases) : c.dst, {
      zfs: c.zfs,
      ids: f.ids,
      ...(options.route ? { route: options.route } : {}),
      ...(options.targetModified ? { targetModified: true } : {}),
    });
    const steps = part.steps;
    if (part.blockedBy) {
      f.unavailable = part.blockedBy.reason;
      return;
    }
    if (!steps.length) return;
    const first = steps[0]!.id;
    // Checked with fresh listings once the earlier fix steps have run (the rebase changes what the sync sees).
    f.pre.push(...part.preconditions.map((p) => (f.steps.length ? { ...p, beforeStep: p.beforeStep ?? first } : p)));
    f.steps.push(...steps);
    f.warnings.push(...part.warnings);
    const rb = steps.find((s) => s.op === 'rollback');
    if (rb)
      f.words.push(
        `roll ${c.dstDs} back to ${c.state.comparison!.incremental!.target.name} (destroying ${rb.destroys.snapshots.map((s) => at(s.name)).join(', ')})`,
      );
    f.words.push(part.summary.charAt(0).toLowerCase() + part.summary.slice(1).replace(/, after rolling the target back.*$|\.$/, ''));
  } catch (e) {
    if (!(e instanceof PlanError)) throw e;
    f.unavailable = e.reason;
  }
}

/** The paragraph: causes in order, then the fix. */
function diagnosisSummary(c: DiagnoseContext, fix: Plan | undefined, fixUnavailable: string | undefined): string {
  const causes = c.findings.filter((f) => f.kind !== 'in-sync').map((f) => f.message);
  return (
    (causes.length ? causes.join(' ') : c.state.summary) +
    (fix
      ? ` Fix: ${fix.summary.replace(/^In order, each step confirmed on its own: /, '')}`
      : fixUnavailable
        ? ` No fix can be planned: ${fixUnavailable}`
        : ' Nothing to fix.')
  );
}
