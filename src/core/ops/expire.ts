/**
 * Expiry that never breaks replication (issue 12 §3): destroy a dataset's old snapshots, keeping
 * the newest `keep`, and never one that a pair's next sync starts from (the newest common snapshot
 * of any pair, on either side), a held one, or the origin of a clone. Pure: the plan is a destroy
 * plan of exactly the snapshots that may go (one `zfs destroy` each, re-checked right before it,
 * as planDestroySnapshots makes them), with every kept snapshot and why in its effects.
 */
import type { HostListing } from '../fleet/listing.js';
import type { ReplicationPair } from '../fleet/pairs.js';
import { oldestFirst, snapName } from '../replication/commonBase.js';
import { emptyDestroys, makePlan, mergeDestroys, PlanError, StepIds, type Plan, type PlanStep, type Precondition } from '../replication/plan.js';
import { commandStep } from '../replication/steps.js';
import { forecastRetention, type RetentionPolicy } from '../retention/forecast.js';
import { planDestroySnapshots, type OpOptions } from './snapshots.js';

/** The bookmarks a sync leaves on its source (`pool/fs#zfs-fleet-<snap>`: argv.ts syncBookmarkName). */
const SYNC_BOOKMARK = '#zfs-fleet-';

export interface BookmarkUse {
  /** The configured pairs whose source is the dataset expired. */
  pairs: readonly ReplicationPair[];
  /** Their targets' listings (undefined: that host could not be listed). */
  listing(host: string): HostListing | undefined;
}

/**
 * The `#zfs-fleet-*` bookmarks that may go: every one but, for each replica (a pair from this
 * dataset), the newest whose guid the replica has (what its next sync can start from once the
 * snapshot is pruned). Without a pair from here, or with a replica that cannot be listed, none goes.
 */
export function expireBookmarks(
  host: string,
  listing: HostListing,
  dataset: string,
  use: BookmarkUse,
): { doomed: string[]; kept: Map<string, string>; note?: string } {
  const e = listing.datasets.get(dataset);
  const ours = oldestFirst(e?.bookmarks ?? []).filter((b) => b.name.includes(SYNC_BOOKMARK));
  const kept = new Map<string, string>();
  if (ours.length === 0) return { doomed: [], kept };
  const pairs = use.pairs.filter((p) => p.source.host === host && p.source.name?.full === dataset);
  if (pairs.length === 0)
    return { doomed: [], kept, note: `The ${ours.length} #zfs-fleet-* bookmark(s) are kept: no pair of the fleet file sends from ${dataset}.` };
  for (const p of pairs) {
    const t = use.listing(p.target.host);
    if (!t)
      return { doomed: [], kept, note: `The #zfs-fleet-* bookmarks are kept: ${p.target.host} could not be listed, so what its replica needs is not known.` };
    const guids = new Set((t.datasets.get(p.target.name!.full)?.snapshots ?? []).map((x) => x.guid));
    const newest = [...ours].reverse().find((b) => b.guid !== undefined && guids.has(b.guid));
    if (newest)
      kept.set(newest.name, [kept.get(newest.name), `the newest sync bookmark ${p.target.host}:${p.target.name!.full} has`].filter(Boolean).join('; '));
  }
  return { doomed: ours.filter((b) => !kept.has(b.name)).map((b) => b.name), kept };
}

/** The retention policy of the fleet file (`policies`) that applies to the dataset, as of `now` (seconds). */
export interface ExpirePolicy {
  policy: RetentionPolicy;
  /** The dataset whose policy it is (an ancestor's, for a recursive one). */
  dataset: string;
  now: number;
}

const POLICY_KEEPS = 'kept by the policy of';

/** Why a snapshot is kept, by full name: `protect` is the pairs' bases on this host (pairBases). */
export function expireKeeps(
  host: string,
  listing: HostListing,
  dataset: string,
  keep: number | ExpirePolicy,
  protect: ReadonlyMap<string, { label: string }>,
): Map<string, string> {
  const e = listing.datasets.get(dataset);
  if (!e) throw new PlanError('not-found', `${host}: ${dataset} does not exist`);
  const all = oldestFirst(e.snapshots);
  const why = new Map<string, string>();
  const byPolicy = typeof keep === 'number' ? undefined : new Map(forecastRetention(keep.policy, all, { now: keep.now }).snapshots.map((f) => [f.name, f]));
  all.forEach((s, i) => {
    const reasons: string[] = [];
    if (typeof keep === 'number') {
      if (i >= all.length - keep) reasons.push(`one of the newest ${keep}`);
    } else {
      const f = byPolicy!.get(s.name);
      if (!f || f.kept) reasons.push(`${POLICY_KEEPS} ${keep.dataset}: ${f?.reason ?? 'not forecast'}`);
    }
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
  keep: number | ExpirePolicy,
  protect: ReadonlyMap<string, { label: string }>,
  o: OpOptions = {},
  /** The pairs sending from this dataset and their replicas' listings: old `#zfs-fleet-*` bookmarks go too. */
  bookmarks?: BookmarkUse,
): Plan {
  if (typeof keep === 'number' && (!Number.isInteger(keep) || keep < 0)) throw new PlanError('invalid', `--keep takes a whole number (${keep})`);
  const why = expireKeeps(host, listing, dataset, keep, protect);
  const all = oldestFirst(listing.datasets.get(dataset)!.snapshots);
  const doomed = all.filter((s) => !why.has(s.name));
  const rule = typeof keep === 'number' ? `the newest ${keep}` : `what the policy of ${keep.dataset} keeps`;
  const keptByRule = typeof keep === 'number' ? `the newest ${keep} kept` : `kept by the policy of ${keep.dataset}`;
  // Kept for another reason than the rule (a pair's base, a hold, a clone): listed with why.
  const byRule = (w: string) => w.startsWith(typeof keep === 'number' ? `one of the newest ${keep}` : POLICY_KEEPS);
  const kept = all.filter((s) => why.has(s.name) && !byRule(why.get(s.name)!));
  const effects: string[] = [
    ...(typeof keep === 'number' && all.length <= keep
      ? [`${dataset} has ${all.length} snapshot${all.length === 1 ? '' : 's'}, no more than the ${keep} kept.`]
      : []),
    ...kept.map((s) => `Kept: @${snapName(s.name)}: ${why.get(s.name)}`),
  ];
  const marks = bookmarks ? expireBookmarks(host, listing, dataset, bookmarks) : { doomed: [], kept: new Map<string, string>() };
  effects.push(...[...marks.kept].map(([n, w]) => `Kept: ${n.slice(n.indexOf('#'))}: ${w}`), ...(marks.note ? [marks.note] : []));
  const bmSteps = bookmarkSteps(host, listing, dataset, marks.doomed, o.zfs ?? 'zfs');
  if (doomed.length === 0 && bmSteps.steps.length === 0)
    return makePlan({
      kind: 'expire',
      ...(o.id ? { id: o.id } : {}),
      ...(o.now ? { now: o.now } : {}),
      title: `Expire snapshots of ${dataset}`,
      summary: `${host}:${dataset}: nothing to expire (${all.length} snapshot${all.length === 1 ? '' : 's'}, ${keptByRule}${kept.length ? `, ${kept.length} more kept for the reasons listed` : ''}).`,
      steps: [],
      preconditions: [],
      warnings: [],
      ...(effects.length ? { effects } : {}),
    });
  const plan = doomed.length
    ? planDestroySnapshots(host, listing, dataset, doomed.map((s) => snapName(s.name)).join(','), o)
    : makePlan({ kind: 'destroy', title: '', summary: '', steps: [], preconditions: [], warnings: [] });
  const n = marks.doomed.length;
  const steps = [...plan.steps, ...bmSteps.steps];
  return {
    ...plan,
    kind: 'expire',
    steps,
    destroys: mergeDestroys(...steps.map((x) => x.destroys)),
    hosts: [host],
    preconditions: [...plan.preconditions, ...bmSteps.preconditions],
    title: `Expire ${doomed.length} snapshot${doomed.length === 1 ? '' : 's'}${n ? ` and ${n} bookmark${n === 1 ? '' : 's'}` : ''} of ${dataset}`,
    summary:
      `Destroy the ${doomed.length} ${typeof keep === 'number' ? 'oldest ' : ''}snapshot${doomed.length === 1 ? '' : 's'} of ${host}:${dataset} that nothing needs; keep ${rule}${kept.length ? ` and ${kept.length} more (listed, with why)` : ''}.` +
      (n ? ` Destroy ${n} old #zfs-fleet-* bookmark${n === 1 ? '' : 's'}, keeping the newest each replica has.` : ''),
    ...(effects.length ? { effects } : {}),
  };
}

/** One `zfs destroy pool/fs#mark` per bookmark, each re-checked (same guid) right before it. */
function bookmarkSteps(
  host: string,
  listing: HostListing,
  dataset: string,
  names: readonly string[],
  zfs: string,
): { steps: PlanStep[]; preconditions: Precondition[] } {
  const ids = new StepIds('b');
  const steps: PlanStep[] = [];
  const preconditions: Precondition[] = [];
  const all = listing.datasets.get(dataset)?.bookmarks ?? [];
  for (const name of names) {
    const b = all.find((x) => x.name === name)!;
    const id = ids.next();
    const object = { host, name, ...(b.guid ? { guid: b.guid } : {}) };
    steps.push(
      commandStep(id, 'destroy', host, [zfs, 'destroy', name], `Destroy the sync bookmark ${name}`, { destroys: { ...emptyDestroys(), bookmarks: [object] } }),
    );
    preconditions.push({ kind: 'snapshot-exists', host, name, guid: b.guid ?? '', beforeStep: id });
  }
  return { steps, preconditions };
}
