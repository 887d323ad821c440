/**
 * Expiry that never breaks replication (issue 12 §3): destroy a dataset's old snapshots, keeping
 * the newest `keep`, and never one that a pair's next sync starts from (the newest common snapshot
 * of any pair, on either side), a held one, or the origin of a clone. Pure: the plan is a destroy
 * plan of exactly the snapshots that may go (one `zfs destroy` each, re-checked right before it,
 * as planDestroySnapshots makes them), with every kept snapshot and why in its effects.
 */
import type { HostListing } from '../fleet/listing.js';
import { oldestFirst, snapName } from '../replication/commonBase.js';
import { makePlan, PlanError, type Plan } from '../replication/plan.js';
import { planDestroySnapshots, type OpOptions } from './snapshots.js';

/** Why a snapshot is kept, by full name: `protect` is the pairs' bases on this host (pairBases). */
export function expireKeeps(
  host: string,
  listing: HostListing,
  dataset: string,
  keep: number,
  protect: ReadonlyMap<string, { label: string }>,
): Map<string, string> {
  const e = listing.datasets.get(dataset);
  if (!e) throw new PlanError('not-found', `${host}: ${dataset} does not exist`);
  const all = oldestFirst(e.snapshots);
  const why = new Map<string, string>();
  all.forEach((s, i) => {
    const reasons: string[] = [];
    if (i >= all.length - keep) reasons.push(`one of the newest ${keep}`);
    const base = protect.get(`${host}\0${s.name}`);
    if (base) reasons.push(`the newest common snapshot of the pair ${base.label}`);
    if ((s.userrefs ?? 0) > 0) reasons.push(`held (${s.userrefs} user hold${s.userrefs === 1 ? '' : 's'})`);
    const clones = listing.clones.get(s.name) ?? [];
    if (clones.length) reasons.push(`the origin of ${clones.join(', ')}`);
    if (reasons.length) why.set(s.name, reasons.join('; '));
  });
  return why;
}

export function planExpire(
  host: string,
  listing: HostListing,
  dataset: string,
  keep: number,
  protect: ReadonlyMap<string, { label: string }>,
  o: OpOptions = {},
): Plan {
  if (!Number.isInteger(keep) || keep < 0) throw new PlanError('invalid', `--keep takes a whole number (${keep})`);
  const why = expireKeeps(host, listing, dataset, keep, protect);
  const all = oldestFirst(listing.datasets.get(dataset)!.snapshots);
  const doomed = all.filter((s) => !why.has(s.name));
  const kept = all.filter((s) => why.has(s.name) && !why.get(s.name)!.startsWith(`one of the newest ${keep}`));
  const effects = [
    ...(all.length > keep ? [] : [`${dataset} has ${all.length} snapshot${all.length === 1 ? '' : 's'}, no more than the ${keep} kept.`]),
    ...kept.map((s) => `Kept: @${snapName(s.name)}: ${why.get(s.name)}`),
  ];
  if (doomed.length === 0)
    return makePlan({
      kind: 'expire',
      ...(o.id ? { id: o.id } : {}),
      ...(o.now ? { now: o.now } : {}),
      title: `Expire snapshots of ${dataset}`,
      summary: `${host}:${dataset}: nothing to expire (${all.length} snapshot${all.length === 1 ? '' : 's'}, the newest ${keep} kept${kept.length ? `, ${kept.length} more kept for the reasons listed` : ''}).`,
      steps: [],
      preconditions: [],
      warnings: [],
      ...(effects.length ? { effects } : {}),
    });
  const plan = planDestroySnapshots(host, listing, dataset, doomed.map((s) => snapName(s.name)).join(','), o);
  return {
    ...plan,
    kind: 'expire',
    title: `Expire ${doomed.length} snapshot${doomed.length === 1 ? '' : 's'} of ${dataset}`,
    summary: `Destroy the ${doomed.length} oldest snapshot${doomed.length === 1 ? '' : 's'} of ${host}:${dataset} that nothing needs; keep the newest ${keep}${kept.length ? ` and ${kept.length} more (listed, with why)` : ''}.`,
    ...(effects.length ? { effects } : {}),
  };
}
