/**
 * Plans: what a mutating operation will do, as pure data (plan, preview,
 * confirm, execute). A plan lists its steps per host, everything it destroys, and preconditions
 * that are re-checked against fresh listings right before it runs; the same plan can be printed
 * as shell lines for the integrated terminal. Nothing here runs a command.
 */
import { randomUUID } from 'node:crypto';
import type { HostListing } from '../fleet/listing.js';
import type { Route } from '../fleet/pairs.js';
import { shellJoin } from '../zfs/quote.js';
import type { ProcessInfo } from './processes.js';
import type { ZfsObject } from '../zfs/types.js';

export type PlanKind =
  | 'sync'
  | 'rollback'
  | 'rebase'
  | 'diagnose-fix'
  | 'snapshot'
  | 'destroy'
  | 'hold'
  | 'release'
  | 'clone'
  | 'promote'
  | 'set'
  | 'rename'
  | 'roles'
  | 'expire'
  | 'failover'
  | 'takeover'
  | 'demote';

/** A ZFS object on a host (guid where known, so a re-created object with the same name is told apart). */
export interface HostObject {
  host: string;
  name: string;
  guid?: string;
  /** What it is, when its name does not say (`pool/fs/%recv`: "the partially received stream"). */
  what?: string;
}

export interface Destroys {
  snapshots: HostObject[];
  /** Bookmarks (`pool/fs#mark`): `zfs rollback -r` destroys the ones newer than its snapshot too. */
  bookmarks: HostObject[];
  clones: HostObject[];
  datasets: HostObject[];
}

export type StepOp =
  'snapshot' | 'hold' | 'release' | 'bookmark' | 'send' | 'estimate' | 'rollback' | 'destroy' | 'clone' | 'create' | 'kill' | 'promote' | 'set' | 'rename';

interface StepBase {
  /** Unique within the plan: s1, s2, ... */
  id: string;
  op: StepOp;
  description: string;
  /** What this step destroys (also merged into Plan.destroys). */
  destroys: Destroys;
  /** The step must be confirmed on its own (it destroys something, kills a process, or the plan asks for it). */
  confirm: boolean;
  /** A dry run for the preview (`zfs send -nvP`): changes nothing; run it before confirming, never as part of the plan. */
  estimate?: boolean;
  /** Cleanup: run this step when the step `cleanupOf` succeeded, even if steps in between failed (release a hold). */
  cleanupOf?: string;
  /** Its failure is reported (a warning of the run) but does not fail the plan: why it may fail (the bookmark after a send that succeeded). */
  mayFail?: string;
}

export interface CommandStep extends StepBase {
  type: 'command';
  host: string;
  argv: string[];
}

export interface PipeEnd {
  host: string;
  argv: string[];
}

/** How a pipe runs: relay (two commands joined by the extension), push/pull (one `sh -c` on one host), local (send and recv on the same host). */
export type PipeRoute = Route | 'local';

export interface PipeStep extends StepBase {
  type: 'pipe';
  route: PipeRoute;
  /** The sending command (`zfs send ...`) and where it runs logically. */
  from: PipeEnd;
  /** The receiving command (`zfs recv ...`). */
  to: PipeEnd;
  /** push, pull, local: the ONE command that runs the whole pipe (`sh -c '<send> | ssh <target> <recv>'`). Absent for relay. */
  exec?: PipeEnd;
  /** Relay: bytes per second the stream is paced to as it passes through this process (push and pull pace it in `exec`). */
  bwlimit?: number;
}

export type PlanStep = CommandStep | PipeStep;

interface PreBase {
  /** Checked right before this step runs (with listings refreshed after the earlier steps); absent: before the plan starts. */
  beforeStep?: string;
}

export type Precondition = PreBase &
  /** A snapshot, or a bookmark (`pool/fs#mark`), with this guid. */
  (
    | { kind: 'snapshot-exists'; host: string; name: string; guid: string }
    | { kind: 'snapshot-absent'; host: string; name: string }
    /** guid null: the dataset has no snapshot. */
    | { kind: 'newest-snapshot'; host: string; dataset: string; guid: string | null; name?: string }
    /** Exactly these snapshots (oldest first), no more, no fewer. */
    | { kind: 'snapshots'; host: string; dataset: string; snapshots: { name: string; guid: string }[] }
    | { kind: 'no-clones'; host: string; snapshot: string }
    /** Exactly these clones of the snapshot (for plans that destroy them). */
    | { kind: 'clones'; host: string; snapshot: string; clones: string[] }
    | { kind: 'dataset-exists'; host: string; dataset: string; guid?: string }
    | { kind: 'dataset-absent'; host: string; dataset: string }
    | { kind: 'origin'; host: string; dataset: string; origin: string }
    /**
     * `dataset@snapshot` is the newest snapshot of both `host` and `other`, with the same guid (a
     * failover makes the replica writable only when it holds exactly what the old primary last had).
     */
    | { kind: 'same-snapshot'; host: string; dataset: string; snapshot: string; other: { host: string; dataset: string } }
    /** The partially received stream a resume plan continues. */
    | { kind: 'resume-token'; host: string; dataset: string; token: string }
    /**
     * Exactly these objects (sorted names) in `dataset`: its snapshots and bookmarks ('dataset'), or
     * everything at and under it, descendants with their snapshots and bookmarks ('subtree'). Put
     * before a `rollback -r` or `destroy -r`, so it destroys nothing the plan did not list.
     */
    | { kind: 'objects'; host: string; dataset: string; scope: 'dataset' | 'subtree'; names: string[] }
    /** A process still runs with the same command line (checked only when process lists are given; kill steps re-check by themselves). */
    | { kind: 'process'; host: string; pid: number; args: string }
  );

/** Read-only commands whose output completes a preview (what uses a clone, the locally set properties, processes). */
export interface InspectCommand {
  host: string;
  purpose: 'processes' | 'local-properties' | 'mount-users' | 'share-properties';
  /** The object inspected (a dataset or mountpoint). */
  subject: string;
  argv: string[];
}

export interface Plan {
  id: string;
  kind: PlanKind;
  title: string;
  summary: string;
  steps: PlanStep[];
  /** Everything the plan destroys (the union of its steps'). */
  destroys: Destroys;
  preconditions: Precondition[];
  warnings: string[];
  /** What changes besides the commands themselves (what inherits a value, the mountpoints that move, the snapshots a promote moves). */
  effects?: string[];
  /** The plan cannot run as it is (it has no steps); says why and what would unblock it. */
  blockedBy?: { reason: string; clones: HostObject[]; withDestroyClones?: Destroys };
  /** Other plans that reach the goal ('rebase': re-base the blocking clones first). */
  alternatives?: string[];
  /** Commands the executor runs to fill the preview (results are shown, not planned with). */
  inspect?: InspectCommand[];
  /** Plan-specific preview data. */
  preview?: Record<string, unknown>;
  /** Hosts touched, in order of appearance. */
  hosts: string[];
  createdAt: string;
}

export type PlanErrorCode =
  'source-missing' | 'no-source-snapshot' | 'no-common-base' | 'target-exists' | 'not-found' | 'not-a-clone' | 'unsupported' | 'invalid';

/** A plan cannot be made; `reason` says why in words an operator can act on. */
export class PlanError extends Error {
  constructor(
    readonly code: PlanErrorCode,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'PlanError';
  }
}

/** A listed object as a plan names it: its host, name and guid where known. */
export function hostObject(host: string, o: ZfsObject): HostObject {
  return o.guid !== undefined ? { host, name: o.name, guid: o.guid } : { host, name: o.name };
}

export function emptyDestroys(): Destroys {
  return { snapshots: [], bookmarks: [], clones: [], datasets: [] };
}

/** The names `objects` preconditions compare: a dataset's snapshots and bookmarks, or all at and under it. */
export function objectNames(listing: HostListing, dataset: string, scope: 'dataset' | 'subtree'): string[] {
  const out: string[] = [];
  const visit = (name: string, self: boolean) => {
    const e = listing.datasets.get(name);
    if (!e) return;
    if (!self) out.push(name);
    for (const s of e.snapshots) out.push(s.name);
    for (const b of e.bookmarks) out.push(b.name);
    if (scope === 'subtree') for (const c of e.children) visit(c, false);
  };
  visit(dataset, true);
  return out.sort();
}

function key(o: HostObject): string {
  return `${o.host}\0${o.name}`;
}

/** Union of destroy lists, without duplicates, in order of first appearance. */
export function mergeDestroys(...lists: Destroys[]): Destroys {
  const out = emptyDestroys();
  const seen = new Set<string>();
  for (const d of lists) {
    for (const k of ['snapshots', 'bookmarks', 'clones', 'datasets'] as const) {
      for (const o of d[k]) {
        const id = `${k}\0${key(o)}`;
        if (seen.has(id)) continue;
        seen.add(id);
        out[k].push(o);
      }
    }
  }
  return out;
}

export function isEmptyDestroys(d: Destroys): boolean {
  return d.snapshots.length + d.bookmarks.length + d.clones.length + d.datasets.length === 0;
}

/** Every destroyed object as one line `host: name`, datasets and clones first (for the confirmation dialog). */
export function destroyLines(d: Destroys): string[] {
  const what = (o: HostObject, kind?: string) => (o.what ? ` (${kind ? `${kind}: ` : ''}${o.what})` : kind ? ` (${kind})` : '');
  return [
    ...d.datasets.map((o) => `${o.host}: ${o.name}${what(o, 'dataset')}`),
    ...d.clones.map((o) => `${o.host}: ${o.name}${what(o, 'clone')}`),
    ...d.snapshots.map((o) => `${o.host}: ${o.name}${what(o)}`),
    ...d.bookmarks.map((o) => `${o.host}: ${o.name}${what(o, 'bookmark')}`),
  ];
}

/** Assembles a plan: numbers nothing (steps come numbered), merges the destroy lists, collects the hosts. */
export function makePlan(p: Omit<Plan, 'id' | 'destroys' | 'hosts' | 'createdAt'> & { id?: string; now?: Date }): Plan {
  const hosts: string[] = [];
  const addHost = (h: string) => {
    if (!hosts.includes(h)) hosts.push(h);
  };
  for (const s of p.steps) {
    if (s.type === 'command') addHost(s.host);
    else {
      addHost(s.from.host);
      addHost(s.to.host);
    }
  }
  const ids = new Set<string>();
  for (const s of p.steps) {
    if (ids.has(s.id)) throw new Error(`internal: duplicate step id ${s.id}`);
    ids.add(s.id);
  }
  const { id, now, ...rest } = p;
  return {
    id: id ?? randomUUID(),
    ...rest,
    destroys: mergeDestroys(...p.steps.map((s) => s.destroys)),
    hosts,
    createdAt: (now ?? new Date()).toISOString(),
  };
}

/** Step ids s1, s2, ... handed out in order. */
export class StepIds {
  private n = 0;
  constructor(private readonly prefix = 's') {}
  next(): string {
    return `${this.prefix}${++this.n}`;
  }
}

// -------------------------------------------------------------------------------------------
// Re-checking preconditions

export interface Change {
  precondition: Precondition;
  host: string;
  /** In words, e.g. "ovh3: rpool/off/products has a new snapshot @x since the plan was made". */
  message: string;
}

function at(name: string): string {
  const i = name.indexOf('@');
  return i < 0 ? name : name.slice(i);
}

function datasetOf(name: string): string {
  const i = name.search(/[@#]/);
  return i < 0 ? name : name.slice(0, i);
}

/** A snapshot (`@`) or bookmark (`#`) by full name. */
function findSnapshot(listing: HostListing, name: string) {
  const e = listing.datasets.get(datasetOf(name));
  return (name.includes('#') ? e?.bookmarks : e?.snapshots)?.find((s) => s.name === name);
}

function checkOne(pre: Precondition, listings: ReadonlyMap<string, HostListing>, processes: ReadonlyMap<string, readonly ProcessInfo[]> | undefined): string[] {
  const h = pre.host;
  const l = listings.get(h);
  if (pre.kind === 'process') {
    const list = processes?.get(h);
    if (!list) return []; // not re-checkable from listings; the kill step verifies the command line itself
    const p = list.find((x) => x.pid === pre.pid);
    if (!p) return [`${h}: process ${pre.pid} (${pre.args}) is no longer running`];
    if (p.args !== pre.args) return [`${h}: process ${pre.pid} is now \`${p.args}\`, not \`${pre.args}\``];
    return [];
  }
  if (!l) return [`${h}: no fresh listing of ${h} to re-check the plan against`];
  switch (pre.kind) {
    case 'snapshot-exists': {
      const s = findSnapshot(l, pre.name);
      if (!s) return [`${h}: ${pre.name} no longer exists`];
      if (s.guid !== pre.guid) return [`${h}: ${pre.name} was re-created (guid ${s.guid}, was ${pre.guid})`];
      return [];
    }
    case 'snapshot-absent':
      return findSnapshot(l, pre.name) ? [`${h}: ${pre.name} exists now (the plan creates it)`] : [];
    case 'newest-snapshot': {
      const e = l.datasets.get(pre.dataset);
      if (!e) return [`${h}: ${pre.dataset} no longer exists`];
      const newest = e.snapshots[0];
      if ((newest?.guid ?? null) === pre.guid) return [];
      if (!newest) return [`${h}: ${pre.dataset} has no snapshot any more (its newest was ${pre.name ? at(pre.name) : pre.guid})`];
      return [`${h}: ${pre.dataset} has a new snapshot ${at(newest.name)} since the plan was made`];
    }
    case 'snapshots': {
      const e = l.datasets.get(pre.dataset);
      if (!e) return [`${h}: ${pre.dataset} no longer exists`];
      const now = new Map(e.snapshots.map((s) => [s.guid, s]));
      const then = new Set(pre.snapshots.map((s) => s.guid));
      const out: string[] = [];
      for (const s of [...e.snapshots].reverse())
        if (!then.has(s.guid ?? '')) out.push(`${h}: ${pre.dataset} has a new snapshot ${at(s.name)} since the plan was made`);
      for (const s of pre.snapshots) if (!now.has(s.guid)) out.push(`${h}: snapshot ${at(s.name)} of ${pre.dataset} was destroyed since the plan was made`);
      return out;
    }
    case 'no-clones': {
      const c = l.clones.get(pre.snapshot) ?? [];
      return c.length ? [`${h}: ${pre.snapshot} now has clone${c.length > 1 ? 's' : ''} ${c.join(', ')}`] : [];
    }
    case 'clones': {
      const c = l.clones.get(pre.snapshot) ?? [];
      const added = c.filter((x) => !pre.clones.includes(x));
      const gone = pre.clones.filter((x) => !c.includes(x));
      return [...added.map((x) => `${h}: ${pre.snapshot} has a new clone ${x}`), ...gone.map((x) => `${h}: ${x} is no longer a clone of ${pre.snapshot}`)];
    }
    case 'dataset-exists': {
      const e = l.datasets.get(pre.dataset);
      if (!e) return [`${h}: ${pre.dataset} no longer exists`];
      if (pre.guid !== undefined && e.object.guid !== pre.guid) return [`${h}: ${pre.dataset} was re-created (guid ${e.object.guid}, was ${pre.guid})`];
      return [];
    }
    case 'dataset-absent':
      return l.datasets.has(pre.dataset) ? [`${h}: ${pre.dataset} exists now (the plan creates it)`] : [];
    case 'resume-token': {
      const e = l.datasets.get(pre.dataset);
      if (!e) return [`${h}: ${pre.dataset} no longer exists`];
      if (e.object.receiveResumeToken !== pre.token)
        return [
          `${h}: the partial receive into ${pre.dataset} ${e.object.receiveResumeToken ? 'has another resume token' : 'is gone (resumed or aborted)'} since the plan was made`,
        ];
      return [];
    }
    case 'objects': {
      if (!l.datasets.has(pre.dataset)) return [`${h}: ${pre.dataset} no longer exists`];
      const now = objectNames(l, pre.dataset, pre.scope);
      const then = new Set(pre.names);
      const nowSet = new Set(now);
      return [
        ...now.filter((n) => !then.has(n)).map((n) => `${h}: ${n} is new since the plan was made (the step would destroy it without having listed it)`),
        ...pre.names.filter((n) => !nowSet.has(n)).map((n) => `${h}: ${n} is gone since the plan was made`),
      ];
    }
    case 'same-snapshot': {
      const ends = [
        { host: h, dataset: pre.dataset, l },
        { host: pre.other.host, dataset: pre.other.dataset, l: listings.get(pre.other.host) },
      ];
      const found = [];
      for (const end of ends) {
        if (!end.l) return [`${end.host}: no fresh listing of ${end.host} to re-check the plan against`];
        const newest = end.l.datasets.get(end.dataset)?.snapshots[0];
        if (!newest) return [`${end.host}: ${end.dataset} has no snapshot`];
        if (at(newest.name) !== `@${pre.snapshot}`) return [`${end.host}: the newest snapshot of ${end.dataset} is ${at(newest.name)}, not @${pre.snapshot}`];
        found.push(newest.guid);
      }
      if (!found[0] || found[0] !== found[1])
        return [
          `${h}:${pre.dataset}@${pre.snapshot} and ${pre.other.host}:${pre.other.dataset}@${pre.snapshot} differ (guid ${found[0] ?? '?'} and ${found[1] ?? '?'})`,
        ];
      return [];
    }
    case 'origin': {
      const e = l.datasets.get(pre.dataset);
      if (!e) return [`${h}: ${pre.dataset} no longer exists`];
      if (e.object.origin !== pre.origin)
        return [`${h}: ${pre.dataset} is now ${e.object.origin ? `a clone of ${e.object.origin}` : 'not a clone'} (was a clone of ${pre.origin})`];
      return [];
    }
  }
}

export interface CheckOptions {
  /** Check the preconditions attached to this step (default: those checked before the plan starts). */
  beforeStep?: string;
  /** Fresh `ps` results per host, to re-check process preconditions. */
  processes?: ReadonlyMap<string, readonly ProcessInfo[]>;
}

/** Empty when the plan is still valid against these fresh listings; otherwise every change, in words. */
export function checkPreconditions(plan: Plan, listings: ReadonlyMap<string, HostListing>, options: CheckOptions = {}): Change[] {
  const out: Change[] = [];
  for (const pre of plan.preconditions) {
    if (pre.beforeStep !== options.beforeStep) continue;
    for (const message of checkOne(pre, listings, options.processes)) out.push({ precondition: pre, host: pre.host, message });
  }
  return out;
}

// -------------------------------------------------------------------------------------------
// Shell lines for the integrated terminal

export interface ShellLine {
  stepId: string;
  /** Where to type the line: a fleet host, or 'local' (the operator's machine, for relay pipes that join two ssh commands). */
  runOn: string;
  line: string;
  description: string;
  /** The step destroys something or kills: never send it with Enter. */
  destructive: boolean;
}

export interface ShellOptions {
  /** argv of the operator's ssh to a host (relay lines), e.g. with `-F config`; default `ssh HOST`. */
  ssh?: (host: string) => string[];
  /** Include the `zfs send -nvP` estimate steps (default false). */
  includeEstimates?: boolean;
}

/** For push/pull/local pipes, the pipeline the one `sh -c` runs: the same text typed at the host's shell. */
export function pipeShellLine(step: PipeStep): string | undefined {
  const a = step.exec?.argv;
  if (a && a.length === 3 && a[0] === 'sh' && a[1] === '-c') return a[2];
  return a ? shellJoin(a) : undefined;
}

/** The plan as exact command lines: in order, each with the host it runs on; and grouped per host. */
export function planToShell(plan: Plan, options: ShellOptions = {}): { lines: ShellLine[]; byHost: Map<string, string[]> } {
  const ssh = options.ssh ?? ((h: string) => ['ssh', h]);
  const lines: ShellLine[] = [];
  for (const s of plan.steps) {
    if (s.estimate && !options.includeEstimates) continue;
    const destructive = !isEmptyDestroys(s.destroys) || s.op === 'kill' || s.op === 'rollback' || s.op === 'destroy';
    if (s.type === 'command') {
      lines.push({ stepId: s.id, runOn: s.host, line: shellJoin(s.argv), description: s.description, destructive });
    } else if (s.exec) {
      lines.push({ stepId: s.id, runOn: s.exec.host, line: pipeShellLine(s)!, description: s.description, destructive });
    } else {
      // `local` is this machine: its side of the relay runs here, not through ssh.
      const side = (host: string, argv: readonly string[]) => (host === 'local' ? shellJoin(argv) : shellJoin([...ssh(host), shellJoin(argv)]));
      const line = `${side(s.from.host, s.from.argv)} | ${side(s.to.host, s.to.argv)}`;
      lines.push({ stepId: s.id, runOn: 'local', line, description: s.description, destructive });
    }
  }
  const byHost = new Map<string, string[]>();
  for (const l of lines) {
    const list = byHost.get(l.runOn) ?? [];
    list.push(l.line);
    byHost.set(l.runOn, list);
  }
  return { lines, byHost };
}

/** The plan as plain text (CLI preview, logs): steps, what is destroyed, warnings. */
export function renderPlan(plan: Plan): string {
  const out: string[] = [`${plan.title}`, '', plan.summary, ''];
  if (plan.blockedBy) out.push(`BLOCKED: ${plan.blockedBy.reason}`, '');
  const { lines } = planToShell(plan, { includeEstimates: true });
  const byStep = new Map(lines.map((l) => [l.stepId, l]));
  plan.steps.forEach((s, i) => {
    const l = byStep.get(s.id)!;
    const marks = [
      s.confirm ? 'confirm' : '',
      s.estimate ? 'estimate' : '',
      s.cleanupOf ? `cleanup of ${s.cleanupOf}` : '',
      s.mayFail ? 'may fail' : '',
    ].filter(Boolean);
    out.push(`${i + 1}. ${s.description}${marks.length ? ` [${marks.join(', ')}]` : ''}`);
    out.push(`   ${l.runOn}$ ${l.line}`);
    for (const d of destroyLines(s.destroys)) out.push(`   destroys ${d}`);
  });
  if (plan.effects?.length) {
    out.push('', 'What changes:');
    for (const e of plan.effects) out.push(`  - ${e}`);
  }
  if (!isEmptyDestroys(plan.destroys)) {
    out.push('', 'Destroys:');
    for (const d of destroyLines(plan.destroys)) out.push(`  - ${d}`);
  }
  if (plan.warnings.length) {
    out.push('', 'Warnings:');
    for (const w of plan.warnings) out.push(`  - ${w}`);
  }
  return out.join('\n');
}
