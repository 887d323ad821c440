/**
 * The everyday ZFS operations (issue 12 §4, §5), once for every consumer: take a snapshot, destroy
 * snapshots, hold and release, clone, promote, set a property, rename. Each plans from a FRESH
 * listing (and the `zfs get -r` rows set and rename show in their preview), with the configured
 * pairs for the warnings, and goes through reviewAndRun like sync and rollback.
 * A destroy that would take the newest common snapshot of a configured pair is refused with the
 * pair named (roll back, or drop the pair, when that is really meant): what the replication needs
 * is never pruned by hand unasked.
 */
import { planClone, planHold, planPromote, planRelease, planRename, planSetProperty, RENAME_PROPERTIES } from '../core/ops/datasets.js';
import { planExpire, type ExpirePolicy } from '../core/ops/expire.js';
import { planRenameWithReplicas, renameMoves, type RenameMove } from '../core/ops/renameReplicas.js';
import { renameEndpoints } from '../core/fleet/editFile.js';
import { endKey, planRoles, ROLE_PROPERTIES, type RoleGroup } from '../core/ops/roles.js';
import { pairBases } from '../core/replication/baseGuard.js';
import { planDestroySnapshots, planSnapshot } from '../core/ops/snapshots.js';
import type { PropertyRow } from '../core/zfs/properties.js';
import { parentDataset } from '../core/zfs/names.js';
import { propertyRowsCommand } from '../core/zfs/properties.js';
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

/** One of the dataset operations, as the CLI and the extension ask for it. */
export type DatasetOp =
  | { op: 'hold' | 'release'; host: string; snapshot: string; tag: string; recursive?: boolean }
  | { op: 'clone'; host: string; snapshot: string; target: string; properties?: Record<string, string> }
  | { op: 'promote'; host: string; clone: string }
  | { op: 'set'; host: string; dataset: string; property: string; value: string }
  | { op: 'rename'; host: string; from: string; to: string; withReplicas?: boolean };

const OP_TITLES: Record<DatasetOp['op'], string> = {
  hold: 'Hold Snapshot',
  release: 'Release Hold',
  clone: 'Create Clone',
  promote: 'Promote Clone',
  set: 'Set Property',
  rename: 'Rename Dataset',
};

/** The plan of a dataset operation, from a fresh listing of its host (and the property rows its preview shows). */
export async function datasetOpPlan(app: App, a: DatasetOp): Promise<Plan> {
  const [l] = await app.freshListings([a.host]);
  const o = { zfs: app.zfs };
  switch (a.op) {
    case 'hold':
      return planHold(a.host, l!, a.snapshot, a.tag, { ...o, recursive: a.recursive === true });
    case 'release':
      return planRelease(a.host, l!, a.snapshot, a.tag, { ...o, recursive: a.recursive === true });
    case 'clone':
      return planClone(a.host, l!, a.snapshot, a.target, { ...o, pairs: await app.configuredPairs(), ...(a.properties ? { properties: a.properties } : {}) });
    case 'promote':
      return planPromote(a.host, l!, a.clone, { ...o, pairs: await app.configuredPairs() });
    case 'set': {
      // Asked of ZFS itself: a property it does not know is its error, said before anything changes.
      const rows = l!.datasets.has(a.dataset) ? await app.fleet.host(a.host).exec(propertyRowsCommand(app.zfs, [a.property], a.dataset)) : [];
      return planSetProperty(a.host, l!, a.dataset, a.property, a.value, rows, { ...o, pairs: await app.configuredPairs() });
    }
    case 'rename': {
      if (a.withReplicas) return (await renameWithReplicas(app, a)).plan;
      const parent = parentDataset(a.to);
      const host = app.fleet.host(a.host);
      const [rows, parentRows] = await Promise.all([
        l!.datasets.has(a.from) ? host.exec(propertyRowsCommand(app.zfs, RENAME_PROPERTIES, a.from)) : [],
        parent && l!.datasets.has(parent) ? host.exec(propertyRowsCommand(app.zfs, RENAME_PROPERTIES, parent, false)) : [],
      ]);
      return planRename(a.host, l!, a.from, a.to, rows, parentRows, { ...o, pairs: await app.configuredPairs() });
    }
  }
}

export async function datasetOpFlow(app: App, ui: Interaction, a: DatasetOp): Promise<FlowResult> {
  app.requireTrust(OP_TITLES[a.op]);
  if (a.op === 'rename' && a.withReplicas) {
    const { plan, moves, files } = await renameWithReplicas(app, a);
    return reviewAndRun(app, ui, plan, {
      replan: () => datasetOpFlow(app, ui, a),
      afterRun: async (r) => {
        if (r.outcome !== 'ok')
          return r.steps.some((x) => x.status === 'ok')
            ? [`not every rename ran: the fleet file is unchanged; edit the pairs of the datasets renamed by hand`]
            : [];
        const out: string[] = [];
        for (const file of files) {
          try {
            if (!app.editFleetFile) throw new Error('no way to write it here');
            await app.editFleetFile(file, (text) => renameEndpoints(text, moves));
            app.logger.info(`${file}: the pairs name the new paths`);
          } catch (e) {
            out.push(`${file} still names the old paths (${(e as Error).message}): edit it by hand`);
          }
        }
        return out;
      },
    });
  }
  const plan = await datasetOpPlan(app, a);
  return reviewAndRun(app, ui, plan, { replan: () => datasetOpFlow(app, ui, a) });
}

/** A rename with its replicas: the moves, fresh listings of their hosts, the property rows each preview shows. */
async function renameWithReplicas(app: App, a: Extract<DatasetOp, { op: 'rename' }>): Promise<{ plan: Plan; moves: RenameMove[]; files: string[] }> {
  const pairs = await app.configuredPairs();
  const moves = renameMoves(a.host, a.from, a.to, pairs);
  const hosts = [...new Set(moves.map((m) => m.host))];
  const listings = new Map((await app.freshListings(hosts)).map((l, i) => [hosts[i]!, l]));
  const props = new Map<RenameMove, { rows: PropertyRow[]; parentRows: PropertyRow[] }>();
  await Promise.all(
    moves.map(async (m) => {
      const l = listings.get(m.host)!;
      const parent = parentDataset(m.to);
      const host = app.fleet.host(m.host);
      const [rows, parentRows] = await Promise.all([
        l.datasets.has(m.from) ? host.exec(propertyRowsCommand(app.zfs, RENAME_PROPERTIES, m.from)) : [],
        parent && l.datasets.has(parent) ? host.exec(propertyRowsCommand(app.zfs, RENAME_PROPERTIES, parent, false)) : [],
      ]);
      props.set(m, { rows, parentRows });
    }),
  );
  const files = [...new Set(moves.flatMap((m) => (m.pair?.file ? [m.pair.file] : [])))];
  const plan = planRenameWithReplicas(moves, listings, (m) => props.get(m)!, { zfs: app.zfs, pairs, ...(files.length === 1 ? { fleetFile: files[0] } : {}) });
  return { plan, moves, files };
}

/** A group of the fleet file as its pairs say it: the primary (every pair's source) and the replicas. */
export async function roleGroup(app: App, name: string): Promise<RoleGroup> {
  const pairs = (await app.configuredPairs()).filter((p) => p.group === name);
  if (!pairs.length) throw new PlanError('not-found', `no group '${name}' in the fleet file`);
  const end = (e: (typeof pairs)[number]['source']) => ({ host: e.host, dataset: e.name!.dataset });
  return { name, primary: end(pairs[0]!.source), replicas: pairs.map((p) => end(p.target)) };
}

/** The roles plan of a group: fresh listings of its hosts and `zfs get` of the role properties on each end that exists. */
export async function rolesPlan(app: App, name: string): Promise<Plan> {
  const group = await roleGroup(app, name);
  const ends = [group.primary, ...group.replicas];
  const hosts = [...new Set(ends.map((e) => e.host))];
  const listings = new Map((await app.freshListings(hosts)).map((l, i) => [hosts[i]!, l]));
  const rows = new Map<string, PropertyRow[]>();
  await Promise.all(
    ends.map(async (e) => {
      if (listings.get(e.host)?.datasets.has(e.dataset))
        rows.set(endKey(e), await app.fleet.host(e.host).exec(propertyRowsCommand(app.zfs, ROLE_PROPERTIES, e.dataset, false)));
    }),
  );
  return planRoles(group, listings, rows, { zfs: app.zfs });
}

export async function rolesFlow(app: App, ui: Interaction, name: string): Promise<FlowResult> {
  app.requireTrust('Set Roles');
  const plan = await rolesPlan(app, name);
  return reviewAndRun(app, ui, plan, { replan: () => rolesFlow(app, ui, name) });
}

/**
 * The expire plan of one dataset: the pairs with an end at it (from the fleet file) and fresh
 * listings of their hosts say which snapshots are their newest common bases, never destroyed.
 */
/**
 * What expire keeps: the newest `keep`, or (no `keep`) what the fleet file's retention policy of
 * the dataset keeps at sanoid's next run (refused, with why, when it has none).
 */
async function expireRule(app: App, host: string, dataset: string, keep: number | undefined): Promise<number | ExpirePolicy> {
  if (keep !== undefined) return keep;
  const r = await app.retentionPolicy?.(host, dataset);
  if (!r)
    throw new PlanError('invalid', `${host}:${dataset} has no retention policy in the fleet file ("policies", or zfs-fleet import sanoid): give --keep N`);
  return { policy: r.policy, dataset: r.dataset, now: Date.now() / 1000 };
}

export async function expirePlan(app: App, host: string, dataset: string, keep: number | undefined): Promise<Plan> {
  const rule = await expireRule(app, host, dataset, keep);
  const pairs = (await app.configuredPairs()).filter((p) => [p.source, p.target].some((e) => e.host === host && e.name?.dataset === dataset));
  const hosts = [...new Set([host, ...pairs.flatMap((p) => [p.source.host, p.target.host])])];
  const listings = new Map((await app.freshListings(hosts)).map((l, i) => [hosts[i]!, l]));
  return planExpire(
    host,
    listings.get(host)!,
    dataset,
    rule,
    pairBases(pairs, (h) => listings.get(h)),
    { zfs: app.zfs },
    { pairs, listing: (h) => listings.get(h) },
  );
}

export async function expireFlow(app: App, ui: Interaction, host: string, dataset: string, keep: number | undefined): Promise<FlowResult> {
  app.requireTrust('Expire Snapshots');
  const plan = await expirePlan(app, host, dataset, keep);
  return reviewAndRun(app, ui, plan, { replan: () => expireFlow(app, ui, host, dataset, keep) });
}
