/**
 * The Queue view as plain data (no vscode): the jobs of the fleet store's queue (src/store/queue.ts,
 * the same rows `zfs-fleet queue ls` prints) grouped by state: Running, Available, Paused, Failed,
 * Cancelled, Success (the newest 50, collapsed); an empty group is not shown. A job's row says its
 * priority, size, attempts, worker and, running, how far it got; its tooltip says the rest, a failed
 * one's error included. Every text from the store is escaped here (a name or an error may carry what
 * a host printed), so the provider only maps a row to a TreeItem.
 */
import { formatAge, formatBytes, formatTime } from '../../core/format.js';
import { stateOf, type Job, type JobState } from '../../core/queue/job.js';
import { safeLine, safeText } from '../../core/text.js';
import type { TreeRow } from '../treeRow.js';

export type QueueNode =
  | { kind: 'queue.group'; id: string; state: JobState }
  | { kind: 'queue.job'; id: string; jobId: number; state: JobState }
  | { kind: 'queue.message'; id: string; text: string };

export type QueueRow = TreeRow<QueueNode>;

/** The groups, top to bottom: what runs now and what waits first, what finished last. */
export const GROUP_ORDER: readonly JobState[] = ['running', 'available', 'paused', 'failed', 'cancelled', 'success'];
/** The Success group shows this many of the newest successes. */
export const SUCCESS_SHOWN = 50;

const GROUP_LABEL: Record<JobState, string> = {
  running: 'Running',
  available: 'Available',
  paused: 'Paused',
  failed: 'Failed',
  cancelled: 'Cancelled',
  success: 'Success',
};

const ICON: Record<JobState, { icon: string; iconColor?: string }> = {
  running: { icon: 'sync', iconColor: 'charts.blue' },
  available: { icon: 'clock' },
  paused: { icon: 'debug-pause', iconColor: 'charts.yellow' },
  failed: { icon: 'error', iconColor: 'problemsErrorIcon.foreground' },
  cancelled: { icon: 'circle-slash' },
  success: { icon: 'pass', iconColor: 'testing.iconPassed' },
};

/** A Queue view node (a command may get one from the view, or something else from the palette). */
export function isQueueNode(x: unknown): x is QueueNode {
  return !!x && typeof x === 'object' && typeof (x as QueueNode).kind === 'string' && (x as QueueNode).kind.startsWith('queue.');
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const size = (j: Job) => (j.blocks == null ? 'size unknown' : formatBytes(j.blocks * 1024));
const firstLine = (s: string) => s.split('\n')[0]!.trim();

/** `1.2 GiB of 4.0 GiB (30%)`, `1.2 GiB`: a running job's progress; undefined before it reported any. */
export function progressText(j: Pick<Job, 'bytesDone' | 'bytesTotal'>): string | undefined {
  if (j.bytesDone == null) return undefined;
  if (!j.bytesTotal) return `${formatBytes(j.bytesDone)} done`;
  const pct = Math.min(100, Math.floor((j.bytesDone / j.bytesTotal) * 100));
  return `${formatBytes(j.bytesDone)} of ${formatBytes(j.bytesTotal)} (${pct}%)`;
}

/** The row's description: `#3 · P5 · 1.2 GiB · 2 attempts · on w1 · 300 MiB of 1.2 GiB (25%)`. */
export function jobDescription(j: Job): string {
  const parts = [`#${j.id}`, `P${j.priority}`, size(j)];
  if (j.attempts > 0) parts.push(plural(j.attempts, 'attempt'));
  if (j.state === 'running') {
    if (j.worker) parts.push(`on ${j.worker}`);
    if (j.cancelRequested) parts.push('cancelling');
    const p = progressText(j);
    if (p) parts.push(p);
  } else if (j.worker && (j.state === 'success' || j.state === 'failed' || j.state === 'cancelled')) parts.push(`by ${j.worker}`);
  if (j.state === 'failed') parts.push(`exit ${j.sync}${j.error ? `: ${firstLine(j.error)}` : ''}`);
  if (j.waitsFor) parts.push(`after #${j.waitsFor}`);
  return safeLine(parts.join(' · '));
}

const when = (iso: string | null, now: number): string | undefined =>
  iso === null ? undefined : `${formatTime(Date.parse(iso) / 1000)} (${formatAge(Date.parse(iso) / 1000, now)})`;

function jobTooltip(j: Job, now: number): [string, string][] {
  const t: [string, string][] = [
    ['Job', `${j.id}: ${safeLine(j.name)}`],
    ['State', `${j.state}${j.cancelRequested && j.state === 'running' ? ', cancel requested (its worker stops the run)' : ''} (sync ${j.sync})`],
    ['Source', safeLine(j.spec.source)],
    ['Target', safeLine(j.spec.target)],
  ];
  if (j.spec.route) t.push(['Route', j.spec.route]);
  if (j.spec.group) t.push(['Group', safeLine(j.spec.group)]);
  if (j.kind !== 'sync') t.push(['Kind', safeLine(j.kind)]);
  if (j.after) t.push(['After', `job ${j.after} (claimed once that one succeeded)`]);
  t.push(['Priority', `${j.priority} (1 first, 10 last)`]);
  t.push(['Size', j.blocks == null ? 'unknown' : `${formatBytes(j.blocks * 1024)}${j.files != null ? `, ${j.files} files` : ''}`]);
  t.push(['Attempts', String(j.attempts)]);
  if (j.worker) t.push(['Worker', safeLine(j.worker)]);
  const progress = j.state === 'running' || j.state === 'success' ? progressText(j) : undefined;
  if (progress) t.push(['Progress', progress]);
  const lease = j.state === 'running' ? when(j.leaseUntil, now) : undefined;
  if (lease) t.push(['Lease until', lease]);
  for (const [k, v] of [
    ['Queued', j.createdAt],
    ['Started', j.startedAt],
    ['Finished', j.finishedAt],
  ] as const) {
    const w = when(v, now);
    if (w) t.push([k, w]);
  }
  // A failed or cancelled job's error in full; an available one's is why it went back (a worker that stopped).
  if (j.error) t.push([j.state === 'failed' ? 'Error' : 'Note', safeText(j.error)]);
  if (j.runPlanId) t.push(['Run', safeLine(j.runPlanId)]);
  return t;
}

export function jobRow(j: Job, now = Date.now()): QueueRow {
  const state = j.state ?? stateOf(j.sync);
  const running = state === 'running';
  return {
    node: { kind: 'queue.job', id: `queue/job/${j.id}`, jobId: j.id, state },
    label: safeLine(j.name),
    description: jobDescription(j),
    icon: running ? 'sync~spin' : ICON[state].icon,
    ...(ICON[state].iconColor ? { iconColor: ICON[state].iconColor } : {}),
    contextValue: `zfs.queue.job.${state}${running && j.cancelRequested ? '.cancelling' : ''}`,
    tooltip: jobTooltip(j, now),
  };
}

/** What the view reads: the jobs of each state, and how many there are in all (the Success group shows only the newest). */
export interface QueueSnapshot {
  jobs: Job[];
  /** Jobs per state in the store (`JobQueue.summary()`); a state missing: the jobs given are all. */
  totals?: Partial<Record<JobState, number>>;
}

/** What the view reads from the store: the jobs per state (the Success group: the newest only) and the totals. */
export async function readQueue(q: {
  summary(): Promise<{ state: JobState; jobs: number }[]>;
  list(o: { state: JobState; limit?: number }): Promise<Job[]>;
}): Promise<QueueSnapshot> {
  const totals: Partial<Record<JobState, number>> = {};
  for (const s of await q.summary()) totals[s.state] = s.jobs;
  const jobs: Job[] = [];
  for (const state of GROUP_ORDER) if (totals[state]) jobs.push(...(await q.list({ state, ...(state === 'success' ? { limit: SUCCESS_SHOWN } : {}) })));
  return { jobs, totals };
}

function groupDescription(state: JobState, shown: readonly Job[], total: number): string {
  const parts = [total > shown.length ? `${shown.length} newest of ${total}` : String(total)];
  if (state === 'available' || state === 'paused' || state === 'running') {
    const known = shown.filter((j) => j.blocks != null);
    if (known.length) parts.push(formatBytes(known.reduce((n, j) => n + j.blocks! * 1024, 0)) + (known.length < shown.length ? '+' : ''));
  }
  return parts.join(' · ');
}

/** Newest finished first (the ones without a finish time, from an older schema or a hand edit, last). */
const newestFirst = (a: Job, b: Job) => (b.finishedAt ?? '').localeCompare(a.finishedAt ?? '') || b.id - a.id;

/** The view's rows: one group per state that has jobs, in GROUP_ORDER; the jobs in the order given (the store's claim order), successes newest first. */
export function queueRows(s: QueueSnapshot, o: { now?: number; successShown?: number } = {}): QueueRow[] {
  const now = o.now ?? Date.now();
  const byState = new Map<JobState, Job[]>();
  for (const j of s.jobs) byState.set(j.state, [...(byState.get(j.state) ?? []), j]);
  const rows: QueueRow[] = [];
  for (const state of GROUP_ORDER) {
    let jobs = byState.get(state) ?? [];
    if (state === 'success') jobs = [...jobs].sort(newestFirst).slice(0, o.successShown ?? SUCCESS_SHOWN);
    const total = Math.max(s.totals?.[state] ?? 0, byState.get(state)?.length ?? 0);
    if (!jobs.length) continue;
    rows.push({
      node: { kind: 'queue.group', id: `queue/group/${state}`, state },
      label: GROUP_LABEL[state],
      description: groupDescription(state, jobs, total),
      ...ICON[state],
      contextValue: `zfs.queue.group.${state}`,
      tooltip: [[GROUP_LABEL[state], `${plural(total, 'job')}${total > jobs.length ? `, the newest ${jobs.length} shown` : ''}`]],
      children: jobs.map((j) => jobRow(j, now)),
      expanded: state !== 'success',
    });
  }
  return rows;
}

/** The view's description: `1 running · 4 waiting · 2 failed` (what is left and what needs a look). */
export function queueSummary(totals: Partial<Record<JobState, number>>): string {
  const n = (s: JobState) => totals[s] ?? 0;
  const parts: string[] = [];
  if (n('running')) parts.push(`${n('running')} running`);
  if (n('available')) parts.push(`${n('available')} waiting`);
  if (n('paused')) parts.push(`${n('paused')} paused`);
  if (n('failed')) parts.push(`${n('failed')} failed`);
  return parts.join(' · ');
}

/** A row that only says something (the first read under way, a store that cannot be read); `text` is escaped here. */
export function messageRow(id: string, text: string, icon: string, iconColor?: string): QueueRow {
  return {
    node: { kind: 'queue.message', id: `queue/message/${id}`, text },
    label: safeLine(text),
    icon,
    ...(iconColor ? { iconColor } : {}),
    contextValue: 'zfs.queue.message',
    tooltip: [['', safeText(text)]],
  };
}

// ---- what the commands act on ----

/** The states each action applies to (the store checks again and says why not). */
export const ACTION_STATES = {
  pause: ['available'],
  resume: ['paused'],
  retry: ['failed', 'cancelled'],
  cancel: ['available', 'paused', 'running'],
  prioritize: ['available', 'paused'],
} as const satisfies Record<string, readonly JobState[]>;
export type QueueAction = keyof typeof ACTION_STATES;

/**
 * The job ids a command acts on: the job rows selected (a group row: the jobs it shows), each once,
 * in the order selected. `children` gives a group's job rows.
 */
export function selectedJobIds(nodes: readonly unknown[], children: (group: QueueNode) => readonly QueueNode[]): number[] {
  const ids: number[] = [];
  const add = (id: number) => {
    if (!ids.includes(id)) ids.push(id);
  };
  for (const n of nodes) {
    if (typeof n === 'number' && Number.isInteger(n)) add(n);
    else if (!isQueueNode(n)) continue;
    else if (n.kind === 'queue.job') add(n.jobId);
    else if (n.kind === 'queue.group') for (const c of children(n)) if (c.kind === 'queue.job') add(c.jobId);
  }
  return ids;
}

/** The modal that confirms a cancel: what happens to each job (a running one is stopped; its target keeps its previous snapshot). */
export function cancelConfirmation(jobs: readonly Job[]): { message: string; detail: string; button: string } {
  const what = (j: Job) => {
    switch (j.state) {
      case 'running':
        return j.cancelRequested ? 'running, already cancelling' : `running${j.worker ? ` on ${j.worker}` : ''}: the run is stopped`;
      case 'available':
      case 'paused':
        return `${j.state}: it will not run`;
      default:
        return `${j.state}: cannot be cancelled`;
    }
  };
  const lines = jobs.map((j) => safeLine(`#${j.id} ${j.name} (${what(j)})`));
  const running = jobs.some((j) => j.state === 'running' && !j.cancelRequested);
  const detail = [
    ...lines,
    '',
    running
      ? "A running job is stopped at its worker's next lease renewal (a third of the lease, 20 s by default), as Ctrl-C stops a sync: the receive is killed and the target stays at its previous snapshot. Retry queues it again."
      : 'Retry queues a cancelled job again.',
  ].join('\n');
  return {
    message: jobs.length === 1 ? `Cancel job ${jobs[0]!.id}?` : `Cancel ${jobs.length} jobs?`,
    detail,
    button: jobs.length === 1 ? 'Cancel Job' : `Cancel ${jobs.length} Jobs`,
  };
}
