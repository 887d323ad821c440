/**
 * Jobs of the queue: what a worker plans and runs later, the states in the `sync` column (the
 * codes of the syncrestore queue people already query), the claim order, and how a finished run
 * becomes a state. Pure: the store (src/store/queue.ts) keeps them, the worker (src/app/worker.ts)
 * runs them through the same flow as the CLI and the extension.
 */
import type { PairSpec, Route } from '../fleet/pairs.js';
import { safeLine, safeText } from '../text.js';
export { isDue } from './schedule.js';

/** The `sync` column: -1 available, -2 running, 0 success, > 0 failed (the exit code), -10 paused. */
export const AVAILABLE = -1;
export const RUNNING = -2;
export const SUCCESS = 0;
export const PAUSED = -10;
/** Exit codes of a job that failed, as `sync` records them (and as `zfs-fleet worker --once` exits). */
export const EXIT = {
  /** A step failed (the run's error says which and why). */
  failed: 1,
  /** No plan could be made, or the plan is blocked (a clone in the way, no common base). */
  cannotPlan: 2,
  /** The plan destroys data or needs a step confirmed: a queued job never does that unattended. */
  needsOperator: 3,
  /** The job gave up: its worker stopped answering too many times. */
  gaveUp: 4,
  /** Cancelled (`queue cancel`): the exit code of a Ctrl-C'd command, 128 + SIGINT. */
  cancelled: 130,
} as const;

const MEANING: Record<number, string> = {
  [EXIT.failed]: 'a step failed',
  [EXIT.cannotPlan]: 'no plan could be made',
  [EXIT.needsOperator]: 'the plan needs an operator',
  [EXIT.gaveUp]: 'its worker stopped answering too often',
  [EXIT.cancelled]: 'cancelled',
};

/** What a failed job's exit code means, in words (`check`, `onFailure`'s report). */
export function failureMeaning(sync: number): string {
  return MEANING[sync] ?? 'failed';
}

/** The report of a failed job: `onFailure`'s stdin (a mail's body). Untrusted text (the error) with its controls escaped. */
export function failureReport(j: Job, worker: string): string {
  return [
    `zfs-fleet worker ${safeLine(worker)}: job ${j.id} failed`,
    `job:      ${j.id} ${safeLine(j.name)}`,
    `exit:     ${j.sync} (${failureMeaning(j.sync)})`,
    `attempt:  ${j.attempts}`,
    ...(j.finishedAt ? [`finished: ${j.finishedAt}`] : []),
    `retry:    zfs-fleet queue retry ${j.id}`,
    '',
    safeText(j.error ?? '(no error recorded)'),
    '',
  ].join('\n');
}

export type JobState = 'available' | 'running' | 'success' | 'failed' | 'paused' | 'cancelled';
export const JOB_STATES: readonly JobState[] = ['available', 'running', 'paused', 'failed', 'cancelled', 'success'];

export function stateOf(sync: number): JobState {
  if (sync === AVAILABLE) return 'available';
  if (sync === RUNNING) return 'running';
  if (sync === PAUSED) return 'paused';
  if (sync === SUCCESS) return 'success';
  if (sync === EXIT.cancelled) return 'cancelled';
  return 'failed';
}

/** The `sync` values of a state, for `queue ls --state S` (failed: every code > 0 but the cancel's). */
export function syncCodesOf(state: JobState): { eq?: number; failed?: true } {
  switch (state) {
    case 'available':
      return { eq: AVAILABLE };
    case 'running':
      return { eq: RUNNING };
    case 'paused':
      return { eq: PAUSED };
    case 'success':
      return { eq: SUCCESS };
    case 'cancelled':
      return { eq: EXIT.cancelled };
    case 'failed':
      return { failed: true };
  }
}

/** What a job runs. v1: a sync of one pair (a group's replica is a pair carrying the group). */
export interface SyncJobSpec {
  kind: 'sync';
  source: string;
  target: string;
  route?: Route;
  group?: string;
}
export type JobSpec = SyncJobSpec;

export const DEFAULT_PRIORITY = 5;
/**
 * Per-file cost in KB for the claim order `blocks + files * penalty` (the syncrestore rule, whose
 * figure for rsync was 3000). A ZFS send reads blocks, not files: measured by bench/sendFileCost.ts
 * at 5-19 KB-equivalent per small file (medians, warm and cold ARC, zfs-fuse and OpenZFS 2.3), so
 * the default is 32, about twice the cold figures (bench/README.md). Configurable per worker
 * (`--penalty`; higher for spinning disks read cold); 0 orders by size alone.
 */
export const DEFAULT_FILE_PENALTY = 32;
/** How long a claimed job is a worker's without it renewing the lease (renewed every third of it). */
export const DEFAULT_LEASE_SECONDS = 60;
/** A job whose worker stopped answering this many times is failed (EXIT.gaveUp), not retried forever. */
export const MAX_ATTEMPTS = 10;

/** A job as the store returns it. */
export interface Job {
  id: number;
  name: string;
  kind: string;
  priority: number;
  sync: number;
  state: JobState;
  /** KB the job moves (estimate); null: unknown. */
  blocks: number | null;
  files: number | null;
  spec: JobSpec;
  pairId: string | null;
  sourceHost: string | null;
  targetHost: string | null;
  attempts: number;
  worker: string | null;
  leaseUntil: string | null;
  cancelRequested: boolean;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  bytesDone: number | null;
  bytesTotal: number | null;
  error: string | null;
  /** The plan id of the last run (its record in the runs table). */
  runPlanId: string | null;
  /** A job this one waits for: it is claimed only once that one succeeded (a migration's parent dataset before its children). */
  after: number | null;
  /** Set by `list()` on an available or paused job whose `after` job has not succeeded yet: it still waits. */
  waitsFor?: number;
}

/** A job to add: what `queue add`, a schedule and VS Code's **Queue** button hand the store. */
export interface NewJob {
  name: string;
  /** `sync` (a pair, a group's replica) or `migrate` (one dataset of a migration); default: the spec's kind. */
  kind?: string;
  spec: JobSpec;
  priority?: number;
  blocks?: number | null;
  files?: number | null;
  pairId?: string | null;
  sourceHost?: string | null;
  targetHost?: string | null;
  bytesTotal?: number | null;
  after?: number | null;
}

export class JobSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobSpecError';
  }
}

/** A spec read back from the store (untrusted: another version or a hand-edited row may have written it). */
export function parseJobSpec(v: unknown): JobSpec {
  const o = (typeof v === 'string' ? JSON.parse(v) : v) as Record<string, unknown> | null;
  if (!o || typeof o !== 'object') throw new JobSpecError('the job has no spec');
  if (o.kind !== 'sync') throw new JobSpecError(`unknown job kind ${JSON.stringify(o.kind)}`);
  if (typeof o.source !== 'string' || typeof o.target !== 'string') throw new JobSpecError('a sync job needs source and target (HOST:DATASET)');
  if (o.route !== undefined && o.route !== 'relay' && o.route !== 'push' && o.route !== 'pull')
    throw new JobSpecError(`unknown route ${JSON.stringify(o.route)}`);
  if (o.group !== undefined && typeof o.group !== 'string') throw new JobSpecError('group must be a name');
  return {
    kind: 'sync',
    source: o.source,
    target: o.target,
    ...(o.route ? { route: o.route as Route } : {}),
    ...(o.group ? { group: o.group as string } : {}),
  };
}

export function pairSpecOf(spec: SyncJobSpec): PairSpec {
  return { source: spec.source, target: spec.target, ...(spec.route ? { route: spec.route } : {}) };
}

export function validPriority(p: number): boolean {
  return Number.isInteger(p) && p >= 1 && p <= 10;
}

/** The claim order's key: smaller first (within a priority). Unknown sizes count as 0. */
export function orderKey(j: { blocks: number | null; files: number | null }, penalty = DEFAULT_FILE_PENALTY): number {
  return (j.blocks ?? 0) + (j.files ?? 0) * penalty;
}

/** How a flow ended, as the job's `sync` code and error. */
export function jobOutcome(r: {
  outcome?: 'ok' | 'failed' | 'cancelled' | 'changed' | 'declined' | 'nothing';
  error?: string;
  refused?: string;
  cannotPlan?: string;
}): { sync: number; error: string | null } {
  if (r.refused) return { sync: EXIT.needsOperator, error: r.refused };
  if (r.cannotPlan) return { sync: EXIT.cannotPlan, error: r.cannotPlan };
  switch (r.outcome) {
    case 'ok':
    case 'nothing':
      return { sync: SUCCESS, error: null };
    case 'cancelled':
      return { sync: EXIT.cancelled, error: r.error ?? 'cancelled' };
    case 'declined':
      return { sync: EXIT.needsOperator, error: r.error ?? 'a step needs to be confirmed by an operator' };
    default:
      return { sync: EXIT.failed, error: r.error ?? r.outcome ?? 'failed' };
  }
}

/**
 * What a sync of the pair moves, in bytes, from the two listings: the `written` of each snapshot the
 * target lacks (an incremental), or the newest snapshot's `referenced` (a first full send), else the
 * dataset's `used`. Undefined when the source dataset is not listed.
 */
export function syncSizeBytes(
  state: { base?: { source: string }; behind?: { snapshots: string[] } },
  source: { object: { used?: number; written?: number }; snapshots: { name: string; referenced?: number; written?: number }[] } | undefined,
): number | undefined {
  if (!source) return undefined;
  if (state.base) {
    const unsent = new Set(state.behind?.snapshots ?? []);
    const written = source.snapshots.filter((s) => unsent.has(s.name)).map((s) => s.written);
    if (written.every((w) => w !== undefined)) return written.reduce<number>((a, w) => a + w!, 0);
  } else {
    // Snapshots are listed newest first.
    const newest = source.snapshots[0];
    if (newest?.referenced !== undefined) return newest.referenced;
  }
  return source.object.used;
}
