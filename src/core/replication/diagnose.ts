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
import { emptyDestroys, makePlan, PlanError, StepIds, type InspectCommand, type Plan, type PlanStep, type Precondition } from './plan.js';
import { findZfsStreamProcesses, formatDuration, killArgv, mountUsersCommand, processListCommand, type MountUsers, type ProcessInfo, type ZfsStreamProcess } from './processes.js';
import { pairState, type PairState } from './state.js';
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
    if (old) clones.set(old, (clones.get(old) ?? []).filter((c) => c !== r.clone));
    clones.set(r.onto, [...(clones.get(r.onto) ?? []), r.clone]);
  }
  return { ...listing, datasets, clones };
}

export function diagnose(pair: ReplicationPair, sourceListing: HostListing, targetListing: HostListing, options: DiagnoseOptions = {}): Diagnosis {
  const now = options.now ?? sourceListing.takenAt;
  const zfs = options.zfs ?? 'zfs';
  const S = pair.source.host;
  const T = pair.target.host;
  const srcDs = pair.source.name!.full;
  const dstDs = pair.target.name!.full;
  const state = pairState(pair, sourceListing, targetListing, { now: now.getTime() });
  const findings: Finding[] = [];
  const needs: InspectCommand[] = [];
  const cloneUsage: CloneUsage[] = [];
  const stalledAfter = options.stalledAfterSeconds ?? 3600;
  const kills: ZfsStreamProcess[] = [];
  const hostsDone = new Set<string>();

  // 1. zfs send / recv processes of the pair.
  for (const [host, dataset, verb] of [
    [T, dstDs, 'recv'],
    [S, srcDs, 'send'],
  ] as const) {
    const list = options.processes?.get(host);
    if (!list) {
      if (!hostsDone.has(host)) needs.push({ host, purpose: 'processes', subject: host, argv: processListCommand().argv });
      hostsDone.add(host);
      continue;
    }
    for (const p of findZfsStreamProcesses(list, [dataset], [verb])) {
      const age = formatDuration(p.elapsedSeconds);
      if (p.elapsedSeconds >= stalledAfter) {
        kills.push(p);
        findings.push({
          kind: 'stalled-process',
          host,
          process: p,
          message:
            `${host}: \`${p.args}\` (pid ${p.pid}) has been running for ${age}` +
            (verb === 'recv' ? `: a stalled receive keeps ${dataset} busy, so every new receive fails with "dataset is busy".` : `: a stalled send of ${dataset}; its receiver is gone or stuck.`),
        });
      } else {
        findings.push({ kind: 'running-process', host, process: p, message: `${host}: \`${p.args}\` (pid ${p.pid}) started ${age} ago: a sync may be in progress; wait for it before fixing anything.` });
      }
    }
  }

  const cmp = state.comparison;
  const inc = cmp?.incremental;
  const blocking: { clone: string; snapshot: ZfsObject }[] = [];
  const busy: string[] = [];
  if (state.status === 'source-missing') {
    findings.push({ kind: 'source-missing', host: S, message: state.summary });
  } else if (!inc) {
    findings.push({ kind: 'no-common', host: T, message: `No common snapshot (${state.noCommon!.reason}): ${state.noCommon!.detail}.` });
  } else {
    const newest = cmp!.sourceSnapshots[cmp!.sourceSnapshots.length - 1];
    const pruned = cmp!.newerOnTarget.filter((t) => newest?.creation !== undefined && t.creation !== undefined && t.creation <= newest.creation);
    const own = cmp!.newerOnTarget.filter((t) => !pruned.includes(t));
    if (pruned.length) {
      findings.push({
        kind: 'base-pruned',
        host: S,
        snapshots: pruned.map((s) => s.name),
        message:
          `${S}: the target's ${pruned.length === 1 ? 'snapshot' : 'snapshots'} ${pruned.map(at).join(', ')} no longer ${pruned.length === 1 ? 'exists' : 'exist'} on the source (pruned by retention)` +
          `, so the newest snapshot both sides still have is ${inc.kind === 'bookmark' ? inc.source.name : at(inc.source)}; an incremental send must start there.`,
      });
    }
    if (own.length) {
      findings.push({
        kind: 'target-newer',
        host: T,
        snapshots: own.map((s) => s.name),
        message: `${T}: ${dstDs} has ${own.length === 1 ? 'a snapshot' : 'snapshots'} ${own.map(at).join(', ')} taken after the source's newest: ${own.length === 1 ? 'it does' : 'they do'} not exist on the source.`,
      });
    }
    if (state.targetModified === 'yes') {
      findings.push({ kind: 'target-modified', host: T, message: `${T}: ${dstDs} was modified since its newest snapshot (${state.targetWrittenBytes} bytes written): a receive fails until it is rolled back.` });
    } else if (state.targetModified === 'unknown') {
      findings.push({
        kind: 'target-modified-unknown',
        host: T,
        message: `${T}: whether ${dstDs} was modified since its newest snapshot is unknown (no \`written\` property on this host); a rollback to the base discards any such change.`,
      });
    }
    for (const s of cmp!.newerOnTarget) for (const c of targetListing.clones.get(s.name) ?? []) blocking.push({ clone: c, snapshot: s });
    for (const b of blocking) {
      findings.push({
        kind: 'clone-blocks-rollback',
        host: T,
        clone: b.clone,
        snapshots: [b.snapshot.name],
        message: `${T}: ${b.clone} is a clone of ${b.snapshot.name}, newer than the base ${inc.target.name}: the rollback to the base fails ("clones of previous snapshots exist") until the clone is re-based onto the base.`,
      });
      const used = options.mountUsers?.get(b.clone);
      const mp = targetListing.datasets.get(b.clone)?.object.mountpoint;
      if (used) {
        if (used.processes.length) {
          findings.push({
            kind: 'busy-mount',
            host: T,
            clone: b.clone,
            mountUsers: used.processes,
            message: `${T}: ${used.processes.length} process(es) use ${b.clone}${mp ? ` (${mp})` : ''}: ${used.processes.map((p) => `${p.pid} ${p.args}`).join('; ')}. Stop them before the rebase.`,
          });
          busy.push(`${T}: stop what uses ${b.clone} before the rebase: ${used.processes.map((p) => `pid ${p.pid} (${p.args})`).join(', ')}`);
        }
      } else if (mp && mp.startsWith('/')) {
        needs.push({ host: T, purpose: 'mount-users', subject: b.clone, argv: mountUsersCommand(mp).argv });
      }
    }
    if (state.resumeToken) {
      findings.push({
        kind: 'resume-token',
        host: T,
        message: state.resume?.stale
          ? `${T}: ${dstDs} holds a partially received stream that can never be resumed: its resume token is stale (${state.resume.stale}). Nothing else can be received until it is discarded (zfs recv -A).`
          : `${T}: ${dstDs} holds a partially received stream (receive_resume_token).`,
      });
    }
    if (state.retentionWarning) findings.push({ kind: 'retention', host: S, message: state.retentionWarning });
    if (state.behind) {
      findings.push({ kind: 'behind', host: T, snapshots: state.behind.snapshots, message: `${T}: the target is behind by ${state.behind.count} snapshot(s), the newest unsent being ${at(state.behind.newestUnsent)}.` });
    }
    if (state.status === 'in-sync' && !kills.length && !state.retentionWarning) findings.push({ kind: 'in-sync', host: T, message: state.summary });
  }

  // 2. The fix: kill, rebase, (rollback +) sync.
  const ids = new StepIds();
  const steps: PlanStep[] = [];
  const pre: Precondition[] = [];
  const warnings: string[] = [...busy];
  const words: string[] = [];
  let fixUnavailable: string | undefined;
  const running = findings.filter((f) => f.kind === 'running-process');
  if (running.length) {
    fixUnavailable = `a send or receive of the pair is running (${running.map((f) => `pid ${f.process!.pid} on ${f.host}, ${formatDuration(f.process!.elapsedSeconds)}`).join('; ')}): wait for it to end, or diagnose again with a lower stalledAfterSeconds to plan stopping it`;
  }
  for (const p of kills) {
    const host = p.verb === 'recv' ? T : S;
    steps.push({
      id: ids.next(),
      type: 'command',
      op: 'kill',
      host,
      argv: killArgv(p.pid, p.args),
      description: `Stop the stalled \`${p.args}\` (pid ${p.pid}, running for ${formatDuration(p.elapsedSeconds)}) on ${host}`,
      destroys: emptyDestroys(),
      confirm: true,
    });
    pre.push({ kind: 'process', host, pid: p.pid, args: p.args });
    words.push(`stop the stalled ${p.verb === 'recv' ? 'receive' : 'send'} (pid ${p.pid} on ${host})`);
  }
  const rebases: { clone: string; onto: string }[] = [];
  if (inc && blocking.length) {
    const date = options.date ?? stamp(now);
    for (const b of blocking) {
      if (rebases.some((r) => r.clone === b.clone)) continue;
      const props = options.cloneProperties?.get(b.clone);
      if (!props) {
        needs.push({ host: T, purpose: 'local-properties', subject: b.clone, argv: localPropertiesCommand(zfs, b.clone).argv });
        fixUnavailable ??= `the locally set properties of ${b.clone} were not read (run the local-properties command in \`needs\` and pass them as cloneProperties): re-creating the clone without them would lose its settings`;
        continue;
      }
      try {
        const part = cloneRebasePart(T, targetListing, b.clone, inc.target.name, { keepData: options.keepCloneData ?? true, date, localProperties: props, zfs, ids });
        cloneUsage.push(part.usage);
        if (part.blockedBy) {
          fixUnavailable ??= part.blockedBy.reason;
          continue;
        }
        steps.push(...part.steps);
        pre.push(...part.preconditions);
        warnings.push(...part.warnings);
        rebases.push({ clone: b.clone, onto: inc.target.name });
        words.push(`re-base the clone ${b.clone} onto ${inc.target.name}${part.copy ? ` (its data kept in ${part.copy})` : ''}`);
      } catch (e) {
        if (!(e instanceof PlanError)) throw e;
        fixUnavailable ??= e.reason;
      }
    }
  }
  let syncSteps: PlanStep[] = [];
  if (state.status !== 'source-missing' && fixUnavailable === undefined) {
    try {
      const part = syncPart(pair, sourceListing, rebases.length ? withRebasedClones(targetListing, rebases) : targetListing, { zfs, ids, ...(options.route ? { route: options.route } : {}), ...(options.targetModified ? { targetModified: true } : {}) });
      syncSteps = part.steps;
      if (part.blockedBy) fixUnavailable = part.blockedBy.reason;
      else if (syncSteps.length) {
        const first = syncSteps[0]!.id;
        // Checked with fresh listings once the earlier fix steps have run (the rebase changes what the sync sees).
        pre.push(...part.preconditions.map((p) => (steps.length ? { ...p, beforeStep: p.beforeStep ?? first } : p)));
        steps.push(...syncSteps);
        warnings.push(...part.warnings);
        const rb = syncSteps.find((s) => s.op === 'rollback');
        if (rb) words.push(`roll ${dstDs} back to ${inc!.target.name} (destroying ${rb.destroys.snapshots.map((s) => at(s.name)).join(', ')})`);
        words.push(part.summary.charAt(0).toLowerCase() + part.summary.slice(1).replace(/, after rolling the target back.*$|\.$/, ''));
      }
    } catch (e) {
      if (!(e instanceof PlanError)) throw e;
      fixUnavailable = e.reason;
    }
  }
  for (const s of steps) s.confirm = true;

  let fix: Plan | undefined;
  if (steps.length && fixUnavailable === undefined) {
    fix = makePlan({
      kind: 'diagnose-fix',
      id: options.id,
      now,
      title: `Fix ${S}:${srcDs} → ${T}:${dstDs}`,
      summary: `In order, each step confirmed on its own: ${words.map((w, i) => `${i + 1}) ${w}`).join('; ')}.`,
      steps,
      preconditions: pre,
      warnings,
      ...(cloneUsage.length ? { preview: { cloneUsage } } : {}),
    });
  } else if (steps.length === 0 && fixUnavailable === undefined && findings.some((f) => f.kind === 'no-common' || f.kind === 'source-missing')) {
    fixUnavailable = findings.find((f) => f.kind === 'no-common' || f.kind === 'source-missing')!.message;
  }
  // The paragraph: causes in order, then the fix.
  const causes = findings.filter((f) => f.kind !== 'in-sync').map((f) => f.message);
  const summary =
    (causes.length ? causes.join(' ') : state.summary) +
    (fix ? ` Fix: ${fix.summary.replace(/^In order, each step confirmed on its own: /, '')}` : fixUnavailable ? ` No fix can be planned: ${fixUnavailable}` : ' Nothing to fix.');
  return { pairId: pair.id, state, findings, summary, ...(fix ? { fix } : {}), ...(fixUnavailable ? { fixUnavailable } : {}), needs, cloneUsage };
}
