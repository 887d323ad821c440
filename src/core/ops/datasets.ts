/**
 * The everyday dataset operations as plans (issue 12 §4, §5): hold and release a snapshot, clone it,
 * promote a clone, set a property, rename a dataset. Pure: each plan is made from a host's listing
 * (and, for set and rename, the `zfs get -r` rows of the properties they change), with what changes
 * besides the command itself in `effects` (what inherits the value, the mountpoints that move, the
 * snapshots a promote moves) and, in `warnings`, what it means for the configured pairs. Run by the
 * same executor as sync and rollback, previewed and confirmed by the same flow (src/app/flow.ts).
 *
 * Every name is validated before a plan exists (a typo is an error naming it, nothing runs); what
 * ZFS itself would refuse and the listing can tell (renaming onto an existing dataset, a clone into
 * another pool, a promote whose snapshot names collide) is refused with the reason.
 */
import { within } from '../fleet/exclude.js';
import type { HostListing } from '../fleet/listing.js';
import type { ReplicationPair } from '../fleet/pairs.js';
import { oldestFirst, snapName } from '../replication/commonBase.js';
import { makePlan, PlanError, StepIds, type Plan, type PlanKind, type Precondition, type StepOp } from '../replication/plan.js';
import { descendants } from '../replication/rollback.js';
import { commandStep } from '../replication/steps.js';
import { parentDataset, validateName, type ZfsName, type ZfsNameKind } from '../zfs/names.js';
import { NOT_INHERITED, propertyNameProblem, propertyValueProblem, sourceText, type PropertyRow } from '../zfs/properties.js';
import { hasControl, safeLine } from '../text.js';
import type { OpOptions } from './snapshots.js';

/** At most this many lines of a long list (descendants, moved datasets) in a preview; the rest counted. */
const LIST_MAX = 40;

function name(input: string, kind: ZfsNameKind, what: string): ZfsName {
  try {
    return validateName(input, kind);
  } catch (e) {
    throw new PlanError('invalid', `${what}: ${(e as Error).message}`);
  }
}

function mustExist(host: string, listing: HostListing, dataset: string) {
  const e = listing.datasets.get(dataset);
  if (!e) throw new PlanError('not-found', `${host}: ${dataset} does not exist`);
  return e;
}

function snapshotOf(host: string, listing: HostListing, snapshot: string) {
  const n = name(snapshot, 'snapshot', 'the snapshot');
  const s = mustExist(host, listing, n.dataset).snapshots.find((x) => x.name === n.full);
  if (!s) throw new PlanError('not-found', `${host}: ${n.full} does not exist`);
  return s;
}

function capped(lines: string[]): string[] {
  return lines.length <= LIST_MAX ? lines : [...lines.slice(0, LIST_MAX), `... and ${lines.length - LIST_MAX} more`];
}

const plural = (n: number, one: string, many = one + 's') => `${n} ${n === 1 ? one : many}`;

/** The pairs with an end on `host` at or under `dataset`, or above it (recursive pairs): which end, and the dataset it names. */
export function pairsTouching(
  pairs: readonly ReplicationPair[],
  host: string,
  dataset: string,
): { pair: ReplicationPair; end: 'source' | 'target'; dataset: string; relation: 'at' | 'under' | 'above' }[] {
  const out: ReturnType<typeof pairsTouching> = [];
  for (const pair of pairs)
    for (const end of ['source', 'target'] as const) {
      const ep = pair[end];
      const ds = ep.name?.dataset;
      if (ep.host !== host || !ds) continue;
      // Above the dataset only counts for a recursive pair (its tree holds the dataset).
      const relation =
        ds === dataset ? 'at' : ds.startsWith(dataset + '/') ? 'under' : dataset.startsWith(ds + '/') && pair.options.recursive ? 'above' : undefined;
      if (relation) out.push({ pair, end, dataset: ds, relation });
    }
  return out;
}

function onePlan(
  kind: PlanKind,
  o: OpOptions,
  op: StepOp,
  host: string,
  argv: string[],
  p: { title: string; summary: string; description: string; preconditions: Precondition[]; warnings?: string[]; effects?: string[] },
): Plan {
  const step = commandStep(new StepIds().next(), op, host, argv, p.description);
  return makePlan({
    kind,
    ...(o.id ? { id: o.id } : {}),
    ...(o.now ? { now: o.now } : {}),
    title: p.title,
    summary: p.summary,
    steps: [step],
    preconditions: p.preconditions,
    warnings: p.warnings ?? [],
    ...(p.effects?.length ? { effects: p.effects } : {}),
  });
}

/** A hold's tag: what `zfs hold` takes, and nothing that reads as an option or breaks a line. */
export function holdTagProblem(tag: string): string | undefined {
  if (!tag) return 'an empty hold tag';
  if (tag.startsWith('-')) return `the hold tag '${tag}' begins with '-' (it would read as an option)`;
  if (hasControl(tag)) return 'the hold tag holds control characters';
  if (Buffer.byteLength(tag, 'utf8') > 255) return 'the hold tag is over 255 bytes';
  return undefined;
}

function holdTargets(listing: HostListing, snapshot: string, recursive: boolean): string[] {
  const n = name(snapshot, 'snapshot', 'the snapshot');
  if (!recursive) return [n.full];
  return [n.full, ...descendants(listing, n.dataset).flatMap((e) => e.snapshots.filter((s) => s.name === `${e.object.name}@${n.snapshot}`).map((s) => s.name))];
}

/** `zfs hold [-r] TAG SNAPSHOT`: the snapshot (with -r, the same-named snapshot of each descendant) cannot be destroyed while held. */
export function planHold(host: string, listing: HostListing, snapshot: string, tag: string, o: OpOptions & { recursive?: boolean } = {}): Plan {
  const problem = holdTagProblem(tag);
  if (problem) throw new PlanError('invalid', problem);
  if (!listing.capabilities.holds) throw new PlanError('unsupported', `${host}: this ZFS has no user holds (zfs hold)`);
  const s = snapshotOf(host, listing, snapshot);
  const held = holdTargets(listing, snapshot, o.recursive === true);
  const zfs = o.zfs ?? 'zfs';
  return onePlan('hold', o, 'hold', host, [zfs, 'hold', ...(o.recursive ? ['-r'] : []), tag, s.name], {
    title: `Hold ${s.name} (${safeLine(tag)})`,
    summary: `Put the hold '${safeLine(tag)}' on ${host}:${s.name}${held.length > 1 ? ` and ${plural(held.length - 1, 'same-named snapshot')} of its descendants` : ''}. Nothing is destroyed.`,
    description: `Hold ${s.name}${held.length > 1 ? ` and ${held.length - 1} more` : ''} with tag ${safeLine(tag)}`,
    preconditions: [{ kind: 'snapshot-exists', host, name: s.name, guid: s.guid ?? '' }],
    effects: [
      `Held: ${held.join(', ')}.`,
      `While held, zfs destroy of ${held.length === 1 ? 'it' : 'them'} fails (dataset is busy) and retention (sanoid, zfs-fleet expire) keeps ${held.length === 1 ? 'it' : 'them'}; zfs release ${safeLine(tag)} ends the hold.`,
    ],
  });
}

/** `zfs release [-r] TAG SNAPSHOT`. Releasing the hold zfs-fleet put on a pair's base is said in the warnings. */
export function planRelease(host: string, listing: HostListing, snapshot: string, tag: string, o: OpOptions & { recursive?: boolean } = {}): Plan {
  const problem = holdTagProblem(tag);
  if (problem) throw new PlanError('invalid', problem);
  if (!listing.capabilities.holds) throw new PlanError('unsupported', `${host}: this ZFS has no user holds (zfs release)`);
  const s = snapshotOf(host, listing, snapshot);
  if (s.userrefs === 0) throw new PlanError('invalid', `${host}: ${s.name} has no holds (zfs holds lists none)`);
  const zfs = o.zfs ?? 'zfs';
  const warnings: string[] = [];
  if (tag.startsWith('zfs-fleet-sync-'))
    warnings.push(`'${tag}' is the hold zfs-fleet puts on a pair's common base while it syncs: released, retention may destroy the base the next sync needs`);
  const left = s.userrefs !== undefined ? s.userrefs - 1 : undefined;
  return onePlan('release', o, 'release', host, [zfs, 'release', ...(o.recursive ? ['-r'] : []), tag, s.name], {
    title: `Release ${s.name} (${safeLine(tag)})`,
    summary: `Release the hold '${safeLine(tag)}' on ${host}:${s.name}${o.recursive ? ' and the same-named snapshots of its descendants' : ''}. Nothing is destroyed.`,
    description: `Release the hold ${safeLine(tag)} on ${s.name}`,
    preconditions: [{ kind: 'snapshot-exists', host, name: s.name, guid: s.guid ?? '' }],
    warnings,
    effects:
      left === 0
        ? [`${s.name} has no other hold: once released, it can be destroyed (by hand or by retention).`]
        : left !== undefined
          ? [`${s.name} keeps ${plural(left, 'other hold')}.`]
          : [],
  });
}

/** `zfs clone [-o P=V]... SNAPSHOT TARGET` in the snapshot's pool, under an existing parent. */
export function planClone(
  host: string,
  listing: HostListing,
  snapshot: string,
  target: string,
  o: OpOptions & { properties?: Record<string, string>; pairs?: readonly ReplicationPair[] } = {},
): Plan {
  const s = snapshotOf(host, listing, snapshot);
  const t = name(target, 'dataset', 'the clone');
  const src = name(s.name, 'snapshot', 'the snapshot');
  if (t.kind === 'pool') throw new PlanError('invalid', `the clone must be below a pool's root (${t.full} is a pool)`);
  if (t.pool !== src.pool) throw new PlanError('invalid', `a clone stays in its snapshot's pool: ${t.full} is in ${t.pool}, ${s.name} in ${src.pool}`);
  if (listing.datasets.has(t.full)) throw new PlanError('target-exists', `${host}: ${t.full} already exists`);
  const parent = parentDataset(t.full)!;
  const pe = listing.datasets.get(parent);
  if (!pe) throw new PlanError('not-found', `${host}: ${parent} (the clone's parent) does not exist; create it first`);
  const props = Object.entries(o.properties ?? {});
  for (const [k, v] of props) {
    const p = propertyNameProblem(k) ?? propertyValueProblem(v);
    if (p) throw new PlanError('invalid', `-o ${safeLine(k)}: ${p}`);
  }
  const zfs = o.zfs ?? 'zfs';
  const mp =
    props.find(([k]) => k === 'mountpoint')?.[1] ??
    (pe.object.mountpoint?.startsWith('/') ? `${pe.object.mountpoint}/${t.full.slice(parent.length + 1)}` : undefined);
  const warnings = pairsTouching(o.pairs ?? [], host, src.dataset)
    .filter((x) => x.end === 'target' && x.relation !== 'under')
    .map(
      (x) =>
        `${src.dataset} is a replica (pair ${x.pair.id}): while the clone exists, a sync that must roll the replica back past ${snapName(s.name)} is blocked by it (re-base or destroy the clone then)`,
    );
  return onePlan('clone', o, 'clone', host, [zfs, 'clone', ...props.flatMap(([k, v]) => ['-o', `${k}=${v}`]), s.name, t.full], {
    title: `Clone ${s.name} as ${t.full}`,
    summary: `Create ${host}:${t.full} as a clone of ${s.name}. Nothing is destroyed.`,
    description: `Clone ${s.name} as ${t.full}`,
    preconditions: [
      { kind: 'snapshot-exists', host, name: s.name, guid: s.guid ?? '' },
      { kind: 'dataset-absent', host, dataset: t.full },
      { kind: 'dataset-exists', host, dataset: parent, ...(pe.object.guid ? { guid: pe.object.guid } : {}) },
    ],
    warnings,
    effects: [
      ...(mp ? [`${t.full} is mounted at ${safeLine(mp)}.`] : []),
      ...props.map(([k, v]) => `${t.full}: ${k}=${safeLine(v)} (local)`),
      `While the clone exists, ${s.name} cannot be destroyed (promote the clone, or destroy it, first).`,
    ],
  });
}

/**
 * `zfs promote CLONE`: the origin's snapshots up to and including the clone's origin move to the
 * clone, and the origin dataset becomes a clone of it. Refused when a moving snapshot's name is one
 * the clone already has (ZFS refuses it too); the pairs of the origin dataset are warned about.
 */
export function planPromote(host: string, listing: HostListing, clone: string, o: OpOptions & { pairs?: readonly ReplicationPair[] } = {}): Plan {
  const c = name(clone, 'dataset', 'the clone');
  const e = mustExist(host, listing, c.full);
  const origin = e.object.origin;
  if (!origin) throw new PlanError('not-a-clone', `${host}: ${c.full} is not a clone (its origin is -); nothing to promote`);
  const originDs = origin.slice(0, origin.indexOf('@'));
  const oe = mustExist(host, listing, originDs);
  const all = oldestFirst(oe.snapshots);
  const i = all.findIndex((s) => s.name === origin);
  if (i < 0) throw new PlanError('not-found', `${host}: ${origin} (the origin of ${c.full}) is not in the listing`);
  const moved = all.slice(0, i + 1);
  const own = new Set(e.snapshots.map((s) => snapName(s.name)));
  const clash = moved.filter((s) => own.has(snapName(s.name)));
  if (clash.length)
    throw new PlanError(
      'invalid',
      `${host}: ${c.full} already has snapshot${clash.length > 1 ? 's' : ''} named ${clash.map((s) => '@' + snapName(s.name)).join(', ')}, which the promote would move from ${originDs}: rename or destroy ${clash.length > 1 ? 'them' : 'it'} first`,
    );
  const kept = all.length - moved.length;
  const zfs = o.zfs ?? 'zfs';
  const warnings = pairsTouching(o.pairs ?? [], host, originDs)
    .filter((x) => x.relation !== 'under')
    .map(
      (x) =>
        `${originDs} is the ${x.end} of pair ${x.pair.id}: its snapshots up to @${snapName(origin)} move to ${c.full}; if the pair's common base is among them, its next sync finds no base on ${originDs}${kept === 0 ? ` (${originDs} keeps no snapshot at all)` : ''}`,
    );
  const otherClones = moved.flatMap((s) => (listing.clones.get(s.name) ?? []).filter((x) => x !== c.full).map((x) => `${x} (of @${snapName(s.name)})`));
  return onePlan('promote', o, 'promote', host, [zfs, 'promote', c.full], {
    title: `Promote ${c.full}`,
    summary: `Promote ${host}:${c.full}: ${plural(moved.length, 'snapshot')} of ${originDs} move to it and ${originDs} becomes its clone. Nothing is destroyed.`,
    description: `Promote ${c.full}`,
    preconditions: [
      { kind: 'origin', host, dataset: c.full, origin },
      ...moved.map((s) => ({ kind: 'snapshot-exists' as const, host, name: s.name, guid: s.guid ?? '' })),
    ],
    warnings,
    effects: [
      `Moved from ${originDs} to ${c.full}: ${moved.map((s) => '@' + snapName(s.name)).join(', ')}.`,
      `${originDs} becomes a clone of ${c.full}@${snapName(origin)} and keeps ${plural(kept, 'snapshot')}.`,
      ...(otherClones.length ? [`Clones of the moved snapshots now depend on ${c.full}: ${otherClones.join(', ')}.`] : []),
    ],
  });
}

/** The filesystems and volumes of a subtree in `rows` (snapshots left out), by name. */
function byDataset(rows: readonly PropertyRow[], property: string): Map<string, PropertyRow> {
  return new Map(rows.filter((r) => r.property === property && !r.name.includes('@')).map((r) => [r.name, r]));
}

const setHere = (r: PropertyRow | undefined) => r?.source.kind === 'local' || r?.source.kind === 'received';

/** The descendants of `dataset` whose value of the property comes through `dataset` (none set it in between). */
function inheritors(dataset: string, rows: Map<string, PropertyRow>): PropertyRow[] {
  const out: PropertyRow[] = [];
  for (const [n, r] of rows) {
    if (!n.startsWith(dataset + '/')) continue;
    let through = true;
    for (let d: string | undefined = n; d && d !== dataset; d = parentDataset(d))
      if (setHere(rows.get(d))) {
        through = false;
        break;
      }
    if (through) out.push(r);
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** A descendant's mountpoint when its ancestor `at` is mounted at `mp` (and it inherits through it). */
function mountBelow(mp: string, at: string, dataset: string): string {
  if (!mp.startsWith('/')) return mp;
  return (mp === '/' ? '' : mp) + dataset.slice(at.length);
}

/**
 * `zfs set PROPERTY=VALUE DATASET`. `rows`: `zfs get -r` of that property under the dataset. The
 * effects list the dataset's value before and after and every descendant that inherits the new
 * value (a new mountpoint each, for mountpoint); setting the value it already has locally is a plan
 * with nothing to do.
 */
export function planSetProperty(
  host: string,
  listing: HostListing,
  dataset: string,
  property: string,
  value: string,
  rows: readonly PropertyRow[],
  o: OpOptions & { pairs?: readonly ReplicationPair[] } = {},
): Plan {
  const d = name(dataset, 'dataset', 'the dataset');
  const problem = propertyNameProblem(property) ?? propertyValueProblem(value);
  if (problem) throw new PlanError('invalid', problem);
  const e = mustExist(host, listing, d.full);
  const map = byDataset(rows, property);
  const now = map.get(d.full);
  const zfs = o.zfs ?? 'zfs';
  const base = { kind: 'set' as const, ...(o.id ? { id: o.id } : {}), ...(o.now ? { now: o.now } : {}) };
  if (now && now.value === value && now.source.kind === 'local')
    return makePlan({
      ...base,
      title: `Set ${property} on ${d.full}`,
      summary: `${host}:${d.full} has ${property}=${safeLine(value)} set already.`,
      steps: [],
      preconditions: [],
      warnings: [],
    });
  const heirs = NOT_INHERITED.has(property) || (now?.source.kind === 'none' && !property.includes(':')) ? [] : inheritors(d.full, map);
  const changing = heirs.filter((r) => (property === 'mountpoint' ? r.value !== mountBelow(value, d.full, r.name) : r.value !== value));
  const heirLine = (r: PropertyRow) =>
    `${r.name}: ${safeLine(r.value)} -> ${safeLine(property === 'mountpoint' ? mountBelow(value, d.full, r.name) : value)} (inherited)`;
  const kept = [...map.values()].filter((r) => r.name.startsWith(d.full + '/') && setHere(r));
  const effects = [
    `${d.full}: ${property} ${now ? `${safeLine(now.value)} (${sourceText(now.source)})` : '(not set)'} -> ${safeLine(value)} (local)`,
    ...(changing.length
      ? [`${plural(changing.length, 'descendant')} inherit${changing.length === 1 ? 's' : ''} the new value:`, ...capped(changing.map(heirLine))]
      : []),
    ...(kept.length
      ? [`Kept (set on ${kept.length === 1 ? 'itself' : 'themselves'}): ${capped(kept.map((r) => `${r.name}=${safeLine(r.value)}`)).join(', ')}`]
      : []),
  ];
  const warnings: string[] = [];
  for (const x of pairsTouching(o.pairs ?? [], host, d.full)) {
    if (x.end !== 'target') continue;
    if (property === 'readonly' && value === 'off')
      warnings.push(
        `${x.dataset} is a replica (pair ${x.pair.id}): written to, its next incremental receive must roll it back first, and what was written there is lost`,
      );
  }
  if (property === 'mountpoint' && e.object.mounted === true)
    warnings.push(
      `${d.full}${changing.length ? ` and ${plural(changing.length, 'descendant')} are` : ' is'} unmounted and mounted again: a process with a file open there fails the set`,
    );
  return onePlan('set', o, 'set', host, [zfs, 'set', `${property}=${value}`, d.full], {
    title: `Set ${property} on ${d.full}`,
    summary: `Set ${property}=${safeLine(value)} on ${host}:${d.full}${changing.length ? ` (${plural(changing.length, 'descendant')} inherit${changing.length === 1 ? 's' : ''} it)` : ''}. Nothing is destroyed.`,
    description: `Set ${property}=${safeLine(value)} on ${d.full}`,
    preconditions: [{ kind: 'dataset-exists', host, dataset: d.full, ...(e.object.guid ? { guid: e.object.guid } : {}) }],
    warnings,
    effects,
  });
}

/**
 * Clones a rename puts inside a tree a recursive pair replicates (its source or its target) on this
 * host, where they were not before: seed 001's staging clones under `rpool/off`, which `syncoid
 * --recursive` received into and sanoid snapshotted recursively, kept being unmounted; they were
 * moved out. Said in the preview, not refused (the operator may mean it).
 */
function clonesIntoRecursiveTrees(
  host: string,
  listing: HostListing,
  moved: readonly string[],
  renamed: (n: string) => string,
  pairs: readonly ReplicationPair[],
): string[] {
  const out: string[] = [];
  for (const n of moved) {
    const origin = listing.datasets.get(n)?.object.origin;
    if (!origin) continue;
    for (const pair of pairs) {
      if (!pair.options.recursive) continue;
      for (const end of ['source', 'target'] as const) {
        const ep = pair[end];
        const ds = ep.name?.full;
        if (ep.host !== host || !ds || within(n, ds) || !within(renamed(n), ds)) continue;
        out.push(
          `${renamed(n)} is a clone (of ${origin}) and ends inside ${ds}, which pair ${pair.id} replicates recursively (its ${end}): ${end === 'target' ? "each recursive receive there reaches it, and clones inside a replica's tree get unmounted or block its rollback" : 'a recursive send carries it as a clone and needs its origin in the same stream'}. Keep clones outside replicated trees.`,
        );
      }
    }
  }
  return out;
}

/** The properties whose inherited value a rename under another parent can change. */
export const RENAME_PROPERTIES = ['mountpoint', 'sharenfs', 'sharesmb'];

/**
 * `zfs rename OLD NEW` within a pool, under an existing parent. `rows`: `zfs get -r` of
 * RENAME_PROPERTIES under OLD; `parentRows`: the same, not recursive, of NEW's parent. The effects
 * list every dataset that moves (old -> new name), the mountpoints that change and the shares that
 * a new parent's value turns on or off (seed 001's NFS shares); the warnings name the pairs that
 * name the old path (the fleet file is left as it is: edit it).
 */
export function planRename(
  host: string,
  listing: HostListing,
  from: string,
  to: string,
  rows: readonly PropertyRow[],
  parentRows: readonly PropertyRow[],
  o: OpOptions & { pairs?: readonly ReplicationPair[] } = {},
): Plan {
  const f = name(from, 'dataset', 'the dataset');
  const t = name(to, 'dataset', 'the new name');
  if (f.kind === 'pool' || t.kind === 'pool') throw new PlanError('invalid', `a pool's root dataset is not renamed (zpool export/import renames a pool)`);
  if (f.pool !== t.pool)
    throw new PlanError('invalid', `a rename stays in the pool: ${f.full} is in ${f.pool}, ${t.full} in ${t.pool} (send and receive to move it across pools)`);
  if (f.full === t.full) throw new PlanError('invalid', `${f.full} is already its name`);
  if (t.full.startsWith(f.full + '/')) throw new PlanError('invalid', `${t.full} is inside ${f.full}: a dataset cannot move below itself`);
  const e = mustExist(host, listing, f.full);
  if (listing.datasets.has(t.full))
    throw new PlanError('target-exists', `${host}: ${t.full} already exists (choose another name, or rename or destroy it first)`);
  const parent = parentDataset(t.full)!;
  const pe = listing.datasets.get(parent);
  if (!pe) throw new PlanError('not-found', `${host}: ${parent} (the new parent) does not exist; create it first`);
  const moved = [e, ...descendants(listing, f.full)].map((x) => x.object.name);
  const renamed = (n: string) => t.full + n.slice(f.full.length);
  const effects: string[] = [];
  if (moved.length > 1) effects.push(`${plural(moved.length, 'dataset')} move:`, ...capped(moved.map((n) => `${n} -> ${renamed(n)}`)));
  let remounted = 0;
  for (const prop of RENAME_PROPERTIES) {
    const map = byDataset(rows, prop);
    const pr = byDataset(parentRows, prop).get(parent);
    if (!pr) continue;
    const lines: string[] = [];
    for (const n of moved) {
      const r = map.get(n);
      if (!r) continue;
      // Set inside the moved tree (on it or between): the value goes with it.
      let inside = false;
      for (let d: string | undefined = n; d && (d === f.full || d.startsWith(f.full + '/')); d = parentDataset(d)) if (setHere(map.get(d))) inside = true;
      if (inside) continue;
      const next = prop === 'mountpoint' ? mountBelow(pr.value, parent, renamed(n)) : pr.value;
      if (next !== r.value)
        lines.push(`${renamed(n)}: ${prop} ${safeLine(r.value)} -> ${safeLine(next)} (${prop === 'mountpoint' ? 'inherited' : `inherited from ${parent}`})`);
    }
    effects.push(...capped(lines));
    if (prop === 'mountpoint') remounted = lines.length;
  }
  const outside = moved.flatMap((n) =>
    (listing.datasets.get(n)?.snapshots ?? []).flatMap((s) =>
      (listing.clones.get(s.name) ?? [])
        .filter((c) => !moved.includes(c))
        .map((c) => `${c} (of ${renamed(s.name.slice(0, s.name.indexOf('@')))}@${snapName(s.name)})`),
    ),
  );
  if (outside.length) effects.push(`Clones elsewhere keep their data; their origin is renamed: ${outside.join(', ')}.`);
  const warnings = pairsTouching(o.pairs ?? [], host, f.full).map((x) =>
    x.relation === 'above'
      ? `pair ${x.pair.id} replicates ${x.dataset} recursively: ${f.full} ${t.full.startsWith(x.dataset + '/') ? 'stays in it under its new name' : 'leaves it'}; the replica keeps the old name until the next sync`
      : `pair ${x.pair.id} names ${host}:${x.dataset} as its ${x.end}: after the rename, edit the fleet file to ${host}:${renamed(x.dataset)}${x.end === 'source' ? ' (the replica keeps its guids, so the next sync is incremental)' : ''}`,
  );
  if (remounted && e.object.mounted === true)
    warnings.push(
      `${plural(remounted, 'dataset')} ${remounted === 1 ? 'is' : 'are'} unmounted and mounted at the new path: a process with a file open there fails the rename`,
    );
  warnings.push(...clonesIntoRecursiveTrees(host, listing, moved, renamed, o.pairs ?? []));
  const receiving = moved.filter((n) => listing.datasets.get(n)?.object.receiveResumeToken);
  if (receiving.length) warnings.push(`a resumable receive is pending in ${receiving.join(', ')}: resume it under the new name, or abort it first`);
  const zfs = o.zfs ?? 'zfs';
  return onePlan('rename', o, 'rename', host, [zfs, 'rename', f.full, t.full], {
    title: `Rename ${f.full} to ${t.full}`,
    summary: `Rename ${host}:${f.full} to ${t.full}${moved.length > 1 ? ` with its ${plural(moved.length - 1, 'descendant')}` : ''}; snapshots and guids are unchanged. Nothing is destroyed.`,
    description: `Rename ${f.full} to ${t.full}`,
    preconditions: [
      { kind: 'dataset-exists', host, dataset: f.full, ...(e.object.guid ? { guid: e.object.guid } : {}) },
      { kind: 'dataset-absent', host, dataset: t.full },
      { kind: 'dataset-exists', host, dataset: parent, ...(pe.object.guid ? { guid: pe.object.guid } : {}) },
    ],
    warnings,
    effects,
  });
}
