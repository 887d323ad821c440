/**
 * The everyday snapshot operations as plans (issue 12 §4): take a snapshot, destroy snapshots. Pure:
 * a plan from a host's listing, run by the same executor as sync and rollback, previewed and
 * confirmed by the same flow (src/app/flow.ts).
 *
 * Destroy takes what `zfs destroy` takes after the `@`: names, comma-separated, and inclusive ranges
 * `a%b` (either end left out: the oldest, the newest snapshot). Every snapshot it would destroy is
 * listed; a snapshot that has clones or user holds is refused with the reason (ZFS would refuse it
 * too, "snapshot has dependent clones" / "dataset is busy"), before anything runs. Each snapshot is
 * destroyed by a step of its own, re-checked right before it (still there with the same guid, no
 * clone since): `zfs destroy` with `,` and `%` is not in every ZFS (zfs-fuse lacks both).
 */
import type { DatasetEntry, HostListing } from '../fleet/listing.js';
import { oldestFirst, snapName } from '../replication/commonBase.js';
import { emptyDestroys, hostObject, makePlan, PlanError, StepIds, type Plan, type PlanStep, type Precondition } from '../replication/plan.js';
import { descendants } from '../replication/rollback.js';
import { commandStep } from '../replication/steps.js';
import { validateName } from '../zfs/names.js';
import type { ZfsObject } from '../zfs/types.js';

export interface OpOptions {
  zfs?: string;
  id?: string;
  now?: Date;
}

function entryOf(host: string, listing: HostListing, dataset: string): DatasetEntry {
  const e = listing.datasets.get(dataset);
  if (!e) throw new PlanError('not-found', `${host}: ${dataset} does not exist`);
  return e;
}

/** `zfs snapshot [-r] DATASET@NAME`: the dataset (and with `recursive` each descendant) gets the snapshot. */
export function planSnapshot(host: string, listing: HostListing, snapshot: string, o: OpOptions & { recursive?: boolean } = {}): Plan {
  const zfs = o.zfs ?? 'zfs';
  let name;
  try {
    name = validateName(snapshot, 'snapshot');
  } catch (e) {
    throw new PlanError('invalid', (e as Error).message);
  }
  const dataset = snapshot.slice(0, snapshot.indexOf('@'));
  const short = snapName(name.full);
  const entry = entryOf(host, listing, dataset);
  const covered = [dataset, ...(o.recursive ? descendants(listing, dataset).map((e) => e.object.name) : [])];
  const taken = covered.filter((d) => listing.datasets.get(d)?.snapshots.some((s) => s.name === `${d}@${short}`));
  if (taken.length) throw new PlanError('invalid', `${host}: ${taken.map((d) => `${d}@${short}`).join(', ')} already exist${taken.length === 1 ? 's' : ''}`);
  const preconditions: Precondition[] = [
    { kind: 'dataset-exists', host, dataset, ...(entry.object.guid ? { guid: entry.object.guid } : {}) },
    ...covered.map((d) => ({ kind: 'snapshot-absent' as const, host, name: `${d}@${short}` })),
  ];
  const what = o.recursive && covered.length > 1 ? ` and its ${covered.length - 1} descendant${covered.length === 2 ? '' : 's'}` : '';
  const step = commandStep(
    new StepIds().next(),
    'snapshot',
    host,
    [zfs, 'snapshot', ...(o.recursive ? ['-r'] : []), name.full],
    `Snapshot ${dataset}${what} as @${short}`,
  );
  return makePlan({
    kind: 'snapshot',
    ...(o.id ? { id: o.id } : {}),
    ...(o.now ? { now: o.now } : {}),
    title: `Snapshot ${dataset}${o.recursive ? ' (recursive)' : ''} as @${short}`,
    summary: `Take the snapshot @${short} of ${host}:${dataset}${what}. Nothing is destroyed.`,
    steps: [step],
    preconditions,
    warnings: [],
  });
}

/**
 * The snapshots of `entry` that a `zfs destroy DATASET@SPEC` names, oldest first: SPEC is a comma list
 * of short names and inclusive ranges `a%b` (`%b`: from the oldest, `a%`: to the newest).
 */
export function selectSnapshots(host: string, entry: DatasetEntry, spec: string): ZfsObject[] {
  const dataset = entry.object.name;
  const all = oldestFirst(entry.snapshots);
  const index = (short: string) => {
    const i = all.findIndex((s) => s.name === `${dataset}@${short}`);
    if (i < 0) throw new PlanError('not-found', `${host}: ${dataset}@${short} does not exist`);
    return i;
  };
  const picked = new Set<number>();
  const parts = spec.split(',');
  for (const part of parts) {
    if (!part) throw new PlanError('invalid', `an empty snapshot name in '${spec}' (names and ranges a%b, separated by commas)`);
    const pct = part.indexOf('%');
    if (pct < 0) {
      picked.add(index(part));
      continue;
    }
    if (part.indexOf('%', pct + 1) >= 0) throw new PlanError('invalid', `'${part}' is not a range (one %: first%last)`);
    const [a, b] = [part.slice(0, pct), part.slice(pct + 1)];
    if (!all.length) throw new PlanError('not-found', `${host}: ${dataset} has no snapshots`);
    const from = a ? index(a) : 0;
    const to = b ? index(b) : all.length - 1;
    if (from > to) throw new PlanError('invalid', `${host}: in ${dataset}@${part}, @${a} is newer than @${b} (a range goes from the older to the newer)`);
    for (let i = from; i <= to; i++) picked.add(i);
  }
  return [...picked].sort((x, y) => x - y).map((i) => all[i]!);
}

/** Destroy snapshots of one dataset (`spec` as `zfs destroy` takes it after the `@`). */
export function planDestroySnapshots(host: string, listing: HostListing, dataset: string, spec: string, o: OpOptions = {}): Plan {
  const zfs = o.zfs ?? 'zfs';
  const entry = entryOf(host, listing, dataset);
  const doomed = selectSnapshots(host, entry, spec);
  const refused: string[] = [];
  for (const s of doomed) {
    const clones = listing.clones.get(s.name) ?? [];
    if (clones.length)
      refused.push(`${s.name} has clone${clones.length > 1 ? 's' : ''} ${clones.join(', ')} (promote or destroy ${clones.length > 1 ? 'them' : 'it'} first)`);
    if ((s.userrefs ?? 0) > 0)
      refused.push(`${s.name} has ${s.userrefs} user hold${s.userrefs === 1 ? '' : 's'} (see zfs holds; release ${s.userrefs === 1 ? 'it' : 'them'} first)`);
  }
  if (refused.length) throw new PlanError('invalid', `${host}: not destroyed: ${refused.join('; ')}`);
  const ids = new StepIds();
  const preconditions: Precondition[] = [{ kind: 'dataset-exists', host, dataset, ...(entry.object.guid ? { guid: entry.object.guid } : {}) }];
  const steps: PlanStep[] = doomed.map((s) => {
    const id = ids.next();
    // Right before this step: the very snapshot listed (same guid), and still no clone of it.
    preconditions.push(
      { kind: 'snapshot-exists', host, name: s.name, guid: s.guid ?? '', beforeStep: id },
      { kind: 'no-clones', host, snapshot: s.name, beforeStep: id },
    );
    return commandStep(id, 'destroy', host, [zfs, 'destroy', s.name], `Destroy ${s.name}`, {
      destroys: { ...emptyDestroys(), snapshots: [hostObject(host, s)] },
    });
  });
  const kept = entry.snapshots.length - doomed.length;
  const newest = entry.snapshots[0];
  const warnings: string[] = [];
  if (newest && doomed.some((s) => s.name === newest.name))
    warnings.push(
      `${host}: @${snapName(newest.name)} is ${dataset}'s newest snapshot: what was written since the snapshot before it is then only in the live dataset`,
    );
  if (kept === 0) warnings.push(`${host}: ${dataset} keeps no snapshot: the next sync of a pair from it is a full send unless a bookmark is its base`);
  const names = doomed.map((s) => '@' + snapName(s.name));
  return makePlan({
    kind: 'destroy',
    ...(o.id ? { id: o.id } : {}),
    ...(o.now ? { now: o.now } : {}),
    title: `Destroy ${doomed.length} snapshot${doomed.length === 1 ? '' : 's'} of ${dataset}`,
    summary: `Destroy ${doomed.length} snapshot${doomed.length === 1 ? '' : 's'} of ${host}:${dataset} (${names.join(', ')}); ${kept} kept.`,
    steps,
    preconditions,
    warnings,
  });
}
