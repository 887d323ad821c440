/**
 * Rollback of a dataset to one of its snapshots. The plan lists exactly the snapshots destroyed
 * (every snapshot newer than the target one); when clones of those snapshots exist the plan is
 * BLOCKED: it names the clones, says what `-R` would destroy with them (their dependants,
 * recursively), and offers the clone rebase instead. `-R` is produced only on request.
 */
import type { DatasetEntry, HostListing } from '../fleet/listing.js';
import type { ZfsObject } from '../zfs/types.js';
import { oldestFirst, snapName } from './commonBase.js';
import {
  emptyDestroys,
  hostObject,
  makePlan,
  mergeDestroys,
  objectNames,
  PlanError,
  StepIds,
  type Destroys,
  type HostObject,
  type Plan,
  type PlanStep,
  type Precondition,
} from './plan.js';
import { commandStep } from './steps.js';

export interface RollbackOptions {
  /** Destroy the clones of the destroyed snapshots too (`zfs rollback -R`); every destroyed clone is listed. */
  destroyClones?: boolean;
  zfs?: string;
  id?: string;
  now?: Date;
}

/** The descendants of a dataset (children, grandchildren, ...), parents before children. */
export function descendants(listing: HostListing, dataset: string): DatasetEntry[] {
  const out: DatasetEntry[] = [];
  const walk = (name: string) => {
    for (const c of listing.datasets.get(name)?.children ?? []) {
      const e = listing.datasets.get(c);
      if (!e) continue;
      out.push(e);
      walk(c);
    }
  };
  walk(dataset);
  return out;
}

/** A clone that depends on destroyed snapshots, with everything `zfs destroy -r` of it takes (its descendants and all their snapshots). */
export interface DependantGroup {
  clone: HostObject;
  destroys: Destroys;
}

/**
 * What destroying these snapshots takes with it (what `-R` would destroy): their clones, the
 * clones' descendants, the snapshots of all of those, and the clones of THOSE snapshots,
 * recursively. Groups come in discovery order: a group depends on earlier ones, so they are
 * destroyed in reverse order.
 */
export function dependantGroups(host: string, listing: HostListing, snapshots: readonly string[]): DependantGroup[] {
  const groups: DependantGroup[] = [];
  const seen = new Set<string>();
  const queue = [...snapshots];
  while (queue.length) {
    const snap = queue.shift()!;
    for (const clone of listing.clones.get(snap) ?? []) {
      if (seen.has(clone)) continue;
      seen.add(clone);
      const e = listing.datasets.get(clone);
      if (!e) continue;
      const d = emptyDestroys();
      d.clones.push(hostObject(host, e.object));
      for (const x of [e, ...descendants(listing, clone)]) {
        if (x !== e) {
          if (seen.has(x.object.name)) continue;
          seen.add(x.object.name);
          (x.object.origin ? d.clones : d.datasets).push(hostObject(host, x.object));
        }
        for (const s of oldestFirst(x.snapshots)) {
          d.snapshots.push(hostObject(host, s));
          queue.push(s.name);
        }
        for (const b of x.bookmarks) d.bookmarks.push(hostObject(host, b));
      }
      groups.push({ clone: hostObject(host, e.object), destroys: d });
    }
  }
  return groups;
}

/** Everything the dependant groups destroy, merged. */
export function dependants(host: string, listing: HostListing, snapshots: readonly string[]): Destroys {
  return mergeDestroys(...dependantGroups(host, listing, snapshots).map((g) => g.destroys));
}

/** The snapshots of a dataset newer than `snapshot` (oldest first), by createtxg, else creation, else listing order. */
export function snapshotsNewerThan(entry: DatasetEntry, snapshot: string): ZfsObject[] {
  const all = oldestFirst(entry.snapshots);
  const i = all.findIndex((s) => s.name === snapshot);
  if (i < 0) throw new PlanError('not-found', `${snapshot} does not exist`);
  return all.slice(i + 1);
}

/**
 * The rollback steps (and preconditions) for a dataset, shared with the sync planner. With
 * destroyClones, the clones in the way are destroyed first by explicit `zfs destroy -r` steps, the
 * clones of their snapshots before them; then `zfs rollback -r`. (Not `zfs rollback -R`: zfs-fuse
 * then unmounts and re-mounts the clones and fails with "dataset is busy" every time; and each
 * destroyed object is in a step of its own.)
 */
export function rollbackPart(
  host: string,
  listing: HostListing,
  snapshot: string,
  ids: StepIds,
  opts: { zfs: string; destroyClones?: boolean; why?: string },
): { steps: PlanStep[]; preconditions: Precondition[]; destroys: Destroys; blockingClones: HostObject[]; withR: Destroys; warnings: string[] } {
  const dataset = snapshot.slice(0, snapshot.indexOf('@'));
  const entry = listing.datasets.get(dataset);
  if (!entry) throw new PlanError('not-found', `${host}: ${dataset} does not exist`);
  const snap = entry.snapshots.find((s) => s.name === snapshot);
  if (!snap) throw new PlanError('not-found', `${host}: ${snapshot} does not exist`);
  const newer = snapshotsNewerThan(entry, snapshot);
  const groups = dependantGroups(
    host,
    listing,
    newer.map((s) => s.name),
  );
  const withR = mergeDestroys(...groups.map((g) => g.destroys));
  const blockingClones = newer.flatMap((s) =>
    (listing.clones.get(s.name) ?? []).map((c) => ({
      host,
      name: c,
      ...(listing.datasets.get(c)?.object.guid ? { guid: listing.datasets.get(c)!.object.guid! } : {}),
    })),
  );
  const warnings: string[] = [];
  const preconditions: Precondition[] = [
    { kind: 'dataset-exists', host, dataset, ...(entry.object.guid ? { guid: entry.object.guid } : {}) },
    { kind: 'snapshot-exists', host, name: snapshot, guid: snap.guid ?? '' },
    { kind: 'snapshots', host, dataset, snapshots: oldestFirst(entry.snapshots).map((s) => ({ name: s.name, guid: s.guid ?? '' })) },
  ];
  for (const s of newer) {
    const c = listing.clones.get(s.name) ?? [];
    if (opts.destroyClones && c.length) preconditions.push({ kind: 'clones', host, snapshot: s.name, clones: [...c] });
    else preconditions.push({ kind: 'no-clones', host, snapshot: s.name });
  }
  if (opts.destroyClones) {
    // The clones' own snapshots must not have gained clones either.
    for (const s of withR.snapshots) {
      const c = listing.clones.get(s.name) ?? [];
      preconditions.push(c.length ? { kind: 'clones', host, snapshot: s.name, clones: [...c] } : { kind: 'no-clones', host, snapshot: s.name });
    }
  }
  for (const s of [
    ...newer,
    ...(opts.destroyClones
      ? withR.snapshots.map((o) => listing.datasets.get(o.name.slice(0, o.name.indexOf('@')))?.snapshots.find((x) => x.name === o.name))
      : []),
  ]) {
    if (s && (s.userrefs ?? 0) > 0)
      warnings.push(
        `${host}: ${s.name} has ${s.userrefs} user hold${s.userrefs === 1 ? '' : 's'}: the rollback fails until ${s.userrefs === 1 ? 'it is' : 'they are'} released (zfs holds / zfs release)`,
      );
  }
  const written = entry.object.written;
  const discard =
    written === undefined
      ? `changes made to ${dataset} since @${snapName(snapshot)} (if any: this host cannot tell) are discarded`
      : written > 0
        ? `${written} bytes written to ${dataset} since its newest snapshot are discarded`
        : '';
  if (blockingClones.length && !opts.destroyClones) {
    return { steps: [], preconditions, destroys: emptyDestroys(), blockingClones, withR, warnings };
  }
  const steps: PlanStep[] = [];
  const destroyedBefore = new Set<string>();
  for (const g of [...groups].reverse()) {
    const others = [...g.destroys.clones.slice(1), ...g.destroys.datasets].map((o) => o.name);
    const id = ids.next();
    // Right before this `destroy -r` (after its confirmation): exactly what it was listed to take.
    preconditions.push({
      kind: 'objects',
      host,
      dataset: g.clone.name,
      scope: 'subtree',
      names: objectNames(listing, g.clone.name, 'subtree').filter((n) => !destroyedBefore.has(n)),
      beforeStep: id,
    });
    for (const k of ['snapshots', 'bookmarks', 'clones', 'datasets'] as const) for (const o of g.destroys[k]) destroyedBefore.add(o.name);
    steps.push(
      commandStep(
        id,
        'destroy',
        host,
        [opts.zfs, 'destroy', '-r', g.clone.name],
        `Destroy the clone ${g.clone.name} (it depends on a snapshot the rollback destroys)` +
          (others.length ? `, with ${others.join(', ')}` : '') +
          (g.destroys.snapshots.length ? ` and ${g.destroys.snapshots.length} snapshot${g.destroys.snapshots.length === 1 ? '' : 's'}` : ''),
        { destroys: g.destroys, confirm: true },
      ),
    );
  }
  if (groups.length)
    warnings.push(
      `${host}: ${groups.length} clone${groups.length === 1 ? ' is' : 's are'} destroyed with everything in ${groups.length === 1 ? 'it' : 'them'}; anything using ${groups.length === 1 ? 'it' : 'them'} loses ${groups.length === 1 ? 'it' : 'them'}`,
    );
  // `zfs rollback -r` destroys the bookmarks newer than the snapshot too.
  const newerMarks = snap.createtxg === undefined ? [] : entry.bookmarks.filter((b) => b.createtxg !== undefined && b.createtxg > snap.createtxg!);
  const destroys: Destroys = { ...emptyDestroys(), snapshots: newer.map((s) => hostObject(host, s)), bookmarks: newerMarks.map((b) => hostObject(host, b)) };
  for (const b of newerMarks.filter((x) => x.name.includes('#zfs-fleet-')))
    warnings.push(
      `${host}: the rollback destroys ${b.name}, the bookmark a sync keeps as its incremental base: if no common snapshot is left either, the next sync of this pair is a full send`,
    );
  const what =
    newer.length === 0
      ? `Roll back ${dataset} to @${snapName(snapshot)}`
      : `Roll back ${dataset} to @${snapName(snapshot)}, destroying ${newer.length} newer snapshot${newer.length === 1 ? '' : 's'} (${newer.map((s) => '@' + snapName(s.name)).join(', ')})`;
  if (discard) warnings.push(`${host}: ${discard}`);
  const rollbackId = ids.next();
  // Right before the rollback (after its confirmation): the dataset's snapshots and bookmarks are those listed.
  preconditions.push({ kind: 'objects', host, dataset, scope: 'dataset', names: objectNames(listing, dataset, 'dataset'), beforeStep: rollbackId });
  steps.push(
    commandStep(
      rollbackId,
      'rollback',
      host,
      [opts.zfs, 'rollback', ...(newer.length || newerMarks.length ? ['-r'] : []), snapshot],
      what + (opts.why ? ` (${opts.why})` : ''),
      { destroys, confirm: true },
    ),
  );
  return { steps, preconditions, destroys: mergeDestroys(...steps.map((x) => x.destroys)), blockingClones, withR, warnings };
}

/** Roll `snapshot`'s dataset on `host` back to it. */
export function planRollback(host: string, listing: HostListing, snapshot: string, options: RollbackOptions = {}): Plan {
  const zfs = options.zfs ?? 'zfs';
  if (!snapshot.includes('@')) throw new PlanError('invalid', `${snapshot} is not a snapshot name (pool/fs@snap)`);
  const dataset = snapshot.slice(0, snapshot.indexOf('@'));
  const ids = new StepIds();
  const part = rollbackPart(host, listing, snapshot, ids, { zfs, destroyClones: options.destroyClones === true });
  const common = { kind: 'rollback' as const, id: options.id, now: options.now, preconditions: part.preconditions };
  if (part.steps.length === 0) {
    const clones = part.blockingClones.map((c) => c.name);
    const withR = [...part.withR.clones, ...part.withR.datasets].map((c) => c.name);
    const reason =
      `${host}: ${dataset} cannot be rolled back to @${snapName(snapshot)}: clone${clones.length > 1 ? 's' : ''} ${clones.join(', ')} ` +
      `depend${clones.length > 1 ? '' : 's'} on snapshots the rollback would destroy (zfs: "clones of previous snapshots exist").`;
    return makePlan({
      ...common,
      title: `Roll back ${dataset} to @${snapName(snapshot)} (blocked)`,
      summary:
        `${reason} Re-base ${clones.length > 1 ? 'them' : 'it'} onto @${snapName(snapshot)} or an older snapshot first (keeping ${clones.length > 1 ? 'their' : 'its'} data), ` +
        `or plan the rollback with destroyClones, which destroys ${withR.join(', ')} and ${part.withR.snapshots.length} snapshot(s) of ${withR.length > 1 ? 'them' : 'it'} (what zfs rollback -R would).`,
      steps: [],
      warnings: part.warnings,
      blockedBy: { reason, clones: part.blockingClones, withDestroyClones: part.withR },
      alternatives: ['rebase'],
    });
  }
  const d = part.destroys;
  const count = d.snapshots.length + d.clones.length + d.datasets.length;
  return makePlan({
    ...common,
    title: `Roll back ${dataset} to @${snapName(snapshot)}`,
    summary:
      count === 0
        ? `Roll back ${host}:${dataset} to @${snapName(snapshot)}, its newest snapshot: no snapshot is destroyed; changes since it are discarded.`
        : `Roll back ${host}:${dataset} to @${snapName(snapshot)}. This destroys ${destroySummary(d)}; changes since @${snapName(snapshot)} are discarded.`,
    steps: part.steps,
    warnings: part.warnings,
  });
}

export function destroySummary(d: Destroys): string {
  const parts: string[] = [];
  if (d.snapshots.length) parts.push(`${d.snapshots.length} snapshot${d.snapshots.length === 1 ? '' : 's'}`);
  if (d.clones.length) parts.push(`${d.clones.length} clone${d.clones.length === 1 ? '' : 's'} (${d.clones.map((c) => c.name).join(', ')})`);
  if (d.datasets.length) parts.push(`${d.datasets.length} dataset${d.datasets.length === 1 ? '' : 's'} (${d.datasets.map((c) => c.name).join(', ')})`);
  return parts.join(', ') || 'nothing';
}
