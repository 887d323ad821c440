/**
 * The Queue view's commands: Pause, Resume, Retry, Cancel… and Change Priority… of the jobs selected
 * (a group row: the jobs it shows; from the palette: jobs picked from those the action applies to),
 * and Refresh. Each calls the store's JobQueue, the same calls as `zfs-fleet queue pause|resume|
 * retry|cancel|prio`, and refreshes the view; the store's refusal ("cannot pause job 3: it is
 * running; …") is the error the command wrapper shows. They return what the store changed.
 */
import type { Job } from '../../core/queue/job.js';
import { safeLine } from '../../core/text.js';
import type { JobQueue } from '../../store/queue.js';
import type { Command, FleetContext } from '../context.js';
import { ACTION_STATES, cancelConfirmation, selectedJobIds, type QueueAction } from '../queue/rows.js';
import { queueViewOf } from '../queue/view.js';
import { selection } from '../selection.js';
import { pick, UserCancelled } from '../userInput.js';

const VERB: Record<QueueAction, string> = { pause: 'pause', resume: 'resume', retry: 'retry', cancel: 'cancel', prioritize: 'reprioritize' };

/** The jobs to act on: those selected in the view, else (the palette) those picked among the jobs the action applies to. */
async function jobIds(ctx: FleetContext, action: QueueAction, node: unknown, nodes: unknown): Promise<number[]> {
  const view = queueViewOf(ctx);
  const chosen = selectedJobIds(selection<unknown>(node, Array.isArray(nodes) ? nodes : undefined), (g) => view.getChildren(g));
  if (chosen.length) return chosen;
  await view.refresh();
  const states: readonly string[] = ACTION_STATES[action];
  const candidates = view.jobs().filter((j) => states.includes(j.state));
  if (!candidates.length) {
    await ctx.input.info(`No ${states.join(' or ')} job to ${VERB[action]} in the queue.`);
    throw new UserCancelled();
  }
  const labels = candidates.map((j) => safeLine(`#${j.id} ${j.name} (${j.state}, priority ${j.priority})`));
  const picked = await ctx.input.pickMany(labels, { title: `Jobs to ${VERB[action]}`, placeHolder: 'Choose jobs' });
  if (!picked?.length) throw new UserCancelled();
  return candidates.filter((_, i) => picked.includes(labels[i]!)).map((j) => j.id);
}

/** Runs `change` on the queue, then refreshes the view (also after a refusal: the view shows the jobs as they are). */
async function act(ctx: FleetContext, change: (q: JobQueue) => Promise<Job[]>): Promise<Job[]> {
  const view = queueViewOf(ctx);
  try {
    return await change(await view.queue());
  } finally {
    await view.refresh();
  }
}

export const refreshQueue: Command = (ctx) => queueViewOf(ctx).refresh();

export const pauseJobs: Command = async (ctx, node, nodes) => {
  const ids = await jobIds(ctx, 'pause', node, nodes);
  return act(ctx, (q) => q.pause(ids));
};

export const resumeJobs: Command = async (ctx, node, nodes) => {
  const ids = await jobIds(ctx, 'resume', node, nodes);
  return act(ctx, (q) => q.resume(ids));
};

export const retryJobs: Command = async (ctx, node, nodes) => {
  const ids = await jobIds(ctx, 'retry', node, nodes);
  return act(ctx, (q) => q.retry(ids));
};

/** Cancel…: a modal names each job and what happens to it (a running one is stopped, its target stays at its previous snapshot). */
export const cancelJobs: Command = async (ctx, node, nodes) => {
  const ids = await jobIds(ctx, 'cancel', node, nodes);
  const queue = await queueViewOf(ctx).queue();
  // The jobs as they are now, not as the last read showed them.
  const jobs = await Promise.all(ids.map((id) => queue.get(id)));
  const c = cancelConfirmation(jobs);
  if ((await ctx.input.warnModal(c.message, c.detail, c.button)) !== c.button) throw new UserCancelled();
  return act(ctx, (q) => q.cancel(ids));
};

/** Change Priority…: 1 (first) to 10 (last) for every job selected. */
export const prioritizeJobs: Command = async (ctx, node, nodes) => {
  const ids = await jobIds(ctx, 'prioritize', node, nodes);
  const view = queueViewOf(ctx);
  const current = new Set(ids.map((id) => view.job(id)?.priority));
  const now = current.size === 1 ? [...current][0] : undefined;
  const what = (p: number) => [p === 1 ? 'first' : p === 5 ? 'default' : p === 10 ? 'last' : '', p === now ? 'current' : ''].filter(Boolean).join(', ');
  const picked = await pick(
    ctx.input,
    Array.from({ length: 10 }, (_, i) => ({ label: String(i + 1), description: what(i + 1), p: i + 1 })),
    {
      title: ids.length === 1 ? `Priority of job ${ids[0]}` : `Priority of ${ids.length} jobs`,
      placeHolder: 'Jobs are claimed by priority (1 first, 10 last), then smallest first',
    },
  );
  return act(ctx, async (q) => {
    const changed: Job[] = [];
    for (const id of ids) changed.push(await q.prioritize(id, picked.p));
    return changed;
  });
};
