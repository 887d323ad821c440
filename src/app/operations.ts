/**
 * The everyday ZFS operations (issue 12 §4), once for every consumer: take a snapshot, destroy
 * snapshots. Each plans from a FRESH listing and goes through reviewAndRun like sync and rollback.
 * A destroy that would take the newest common snapshot of a configured pair is refused with the
 * pair named (roll back, or drop the pair, when that is really meant): what the replication needs
 * is never pruned by hand unasked.
 */
import { planDestroySnapshots, planSnapshot } from '../core/ops/snapshots.js';
import { PlanError, type Plan } from '../core/replication/plan.js';
import { reviewAndRun, reviewOf, type FlowResult, type Interaction } from './flow.js';
import type { App } from './services.js';

export async function snapshotPlan(app: App, host: string, snapshot: string, recursive = false): Promise<Plan> {
  const [l] = await app.freshListings([host]);
  return planSnapshot(host, l!, snapshot, { zfs: app.zfs, recursive });
}

/** The destroy plan, refused (PlanError) when it takes a configured pair's newest common snapshot. */
export async function destroySnapshotsPlan(app: App, host: string, dataset: string, spec: string): Promise<Plan> {
  const [l] = await app.freshListings([host]);
  const plan = planDestroySnapshots(host, l!, dataset, spec, { zfs: app.zfs });
  const { losses } = await reviewOf(app, plan);
  if (losses.length)
    throw new PlanError(
      'invalid',
      `not destroyed: ${losses.map((x) => x.message).join(' ')} Leave it out of the list (it goes when a newer snapshot has been sent), or remove the pair from the fleet file if it is no longer replicated.`,
    );
  return plan;
}

export async function snapshotFlow(app: App, ui: Interaction, host: string, snapshot: string, recursive = false): Promise<FlowResult> {
  app.requireTrust('Take Snapshot');
  const plan = await snapshotPlan(app, host, snapshot, recursive);
  return reviewAndRun(app, ui, plan, { replan: () => snapshotFlow(app, ui, host, snapshot, recursive) });
}

export async function destroySnapshotsFlow(app: App, ui: Interaction, host: string, dataset: string, spec: string): Promise<FlowResult> {
  app.requireTrust('Destroy Snapshots');
  const plan = await destroySnapshotsPlan(app, host, dataset, spec);
  return reviewAndRun(app, ui, plan, { replan: () => destroySnapshotsFlow(app, ui, host, dataset, spec) });
}
