/**
 * Failover, takeover and demotion of a group's primary (issue 12 §2), once for every consumer: the
 * group and its pairs from the fleet file, fresh listings of every host that answers (one replica
 * down does not stop a failover; the primary down is what a takeover is for), the role properties
 * of each end, the plan of core/ops/failover.ts through reviewAndRun; then the fleet file follows
 * (the group's primary swapped with the replica) once the new primary is writable.
 */
import type { HostListing } from '../core/fleet/listing.js';
import type { ReplicationPair } from '../core/fleet/pairs.js';
import { swapGroupPrimary } from '../core/fleet/editFile.js';
import type { ExecResult } from '../core/execute/executor.js';
import { planDemote, planFailover, planTakeover } from '../core/ops/failover.js';
import { endKey, endLabel, ROLE_PROPERTIES, type GroupEnd, type RoleGroup } from '../core/ops/roles.js';
import { PlanError, type Plan } from '../core/replication/plan.js';
import { propertyRowsCommand, type PropertyRow } from '../core/zfs/properties.js';
import { reviewAndRun, type FlowResult, type Interaction } from './flow.js';
import { roleGroup } from './operations.js';
import type { App } from './services.js';

export type RoleChange = 'failover' | 'takeover' | 'demote';

interface GroupContext {
  group: RoleGroup;
  /** The configured pair primary -> `end`. */
  pair: ReplicationPair;
  listings: Map<string, HostListing>;
  /** Why a host could not be listed. */
  unreachable: Map<string, string>;
  rows: Map<string, PropertyRow[]>;
}

const sameEnd = (p: ReplicationPair['target'], e: GroupEnd) => p.host === e.host && p.name?.dataset === e.dataset;

/** The group, the pair to `end`, and what every host of the group answers. */
async function groupContext(app: App, name: string, end: GroupEnd): Promise<GroupContext> {
  const group = await roleGroup(app, name);
  const pair = (await app.configuredPairs()).find((p) => p.group === name && sameEnd(p.target, end));
  if (!pair) throw new PlanError('invalid', `${endLabel(end)} is not a replica of group ${name} (its replicas: ${group.replicas.map(endLabel).join(', ')})`);
  const hosts = [...new Set([group.primary, ...group.replicas].map((e) => e.host))];
  const settled = await Promise.allSettled(hosts.map(async (h) => (await app.freshListings([h]))[0]!));
  const listings = new Map<string, HostListing>();
  const unreachable = new Map<string, string>();
  settled.forEach((r, i) => {
    if (r.status === 'fulfilled') listings.set(hosts[i]!, r.value);
    else unreachable.set(hosts[i]!, ((r.reason as Error).message ?? String(r.reason)).split('\n')[0]!);
  });
  const rows = new Map<string, PropertyRow[]>();
  await Promise.all(
    [group.primary, ...group.replicas].map(async (e) => {
      if (!listings.get(e.host)?.datasets.has(e.dataset)) return;
      try {
        rows.set(endKey(e), await app.fleet.host(e.host).exec(propertyRowsCommand(app.zfs, ROLE_PROPERTIES, e.dataset, false)));
      } catch (err) {
        app.logger.warn(`${endLabel(e)}: its role properties could not be read: ${(err as Error).message}`);
      }
    }),
  );
  return { group, pair, listings, unreachable, rows };
}

/** The plan of `change` from what the group's hosts answered. */
function planOf(app: App, change: RoleChange, name: string, end: GroupEnd, o: { keepData?: boolean; discardPartial?: boolean }, c: GroupContext): Plan {
  const file = c.pair.groupAt?.file;
  const common = { zfs: app.zfs, ...(file ? { fleetFile: file } : {}) };
  if (change === 'failover') {
    for (const h of [c.group.primary.host, end.host])
      if (c.unreachable.has(h))
        throw new PlanError(
          'not-found',
          `${h} cannot be reached (${c.unreachable.get(h)})${h === c.group.primary.host ? `: a failover needs the primary; if it is lost, take over (zfs-fleet takeover ${name} --to ${endLabel(end)})` : ''}`,
        );
    return planFailover(c.group, end, c.pair, c.listings, c.rows, common);
  }
  if (change === 'takeover') {
    if (c.unreachable.has(end.host)) throw new PlanError('not-found', `${end.host} cannot be reached (${c.unreachable.get(end.host)})`);
    const primaryError = c.unreachable.get(c.group.primary.host) ?? `${endLabel(c.group.primary)} does not exist`;
    return planTakeover(c.group, end, c.listings, c.rows, { ...common, primaryError, ...(o.discardPartial ? { discardPartial: true } : {}) });
  }
  for (const h of [c.group.primary.host, end.host])
    if (c.unreachable.has(h)) throw new PlanError('not-found', `${h} cannot be reached (${c.unreachable.get(h)})`);
  return planDemote(c.group, end, c.pair, c.listings, c.rows, { ...common, ...(o.keepData ? { keepData: true } : {}) });
}

const TITLES: Record<RoleChange, string> = { failover: 'Fail Over', takeover: 'Take Over', demote: 'Demote to Replica' };

/**
 * Fail over or take over to `end`, or demote `end` (plan, preview, confirm, run). After a failover
 * or takeover whose "make writable" step ran, the fleet file names `end` as the group's primary.
 */
export async function roleChangeFlow(
  app: App,
  ui: Interaction,
  change: RoleChange,
  name: string,
  end: GroupEnd,
  o: { keepData?: boolean; discardPartial?: boolean } = {},
): Promise<FlowResult> {
  app.requireTrust(TITLES[change]);
  const c = await groupContext(app, name, end);
  const plan = planOf(app, change, name, end, o, c);
  const swap = change === 'demote' ? undefined : c.pair.groupAt;
  return reviewAndRun(app, ui, plan, {
    replan: () => roleChangeFlow(app, ui, change, name, end, o),
    ...(change === 'demote' ? {} : { afterRun: (r) => followInFleetFile(app, plan, r, name, end, swap) }),
  });
}

/** The group's primary swapped in the fleet file, once the new primary was made writable. */
async function followInFleetFile(app: App, plan: Plan, result: ExecResult, name: string, end: GroupEnd, at: ReplicationPair['groupAt']): Promise<string[]> {
  const writable = plan.steps.find((s) => s.type === 'command' && s.argv.includes('readonly=off'));
  if (!writable || result.steps.find((s) => s.id === writable.id)?.status !== 'ok') return [];
  const by = `group ${name} in the fleet file still names its old primary: make ${endLabel(end)} its primary there by hand`;
  if (!at) return [`${by} (the group is not in a fleet file)`];
  if (!app.editFleetFile) return [`${by} (${at.file})`];
  try {
    await app.editFleetFile(at.file, (text) => swapGroupPrimary(text, name, at.index, at.replica));
    app.logger.info(`${at.file}: group ${name}'s primary is now ${endLabel(end)}`);
    return [];
  } catch (e) {
    return [`${by} (${at.file}: ${(e as Error).message})`];
  }
}
