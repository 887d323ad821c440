/**
 * Re-base a clone onto another (usually older) snapshot of its origin, as an operator does by hand when a clone on the replica blocks a rollback:
 * a clone of a snapshot newer than the common base blocks the rollback of the replica to the base.
 * The clone is destroyed and re-created from the new snapshot under the same name, with its
 * locally set properties (so the same mountpoint and shares); with keepData its current content is
 * first copied to `<clone>-pre-rebase-<date>` by a local send/recv.
 */
import type { HostListing } from '../fleet/listing.js';
import type { ZfsCommand } from '../zfs/commands.js';
import { ZfsParseError } from '../zfs/errors.js';
import { validateDatasetName, validateSnapshotName } from '../zfs/names.js';
import { shellJoin } from '../zfs/quote.js';
import { hasControl, safeLine } from '../text.js';
import { oldestFirst, snapName } from './commonBase.js';
import { mountUsersCommand, type ProcessInfo } from './processes.js';
import {
  makePlan,
  objectNames,
  PlanError,
  StepIds,
  type Destroys,
  type HostObject,
  type InspectCommand,
  type Plan,
  type PlanStep,
  type Precondition,
} from './plan.js';
import { commandStep, pipeStep } from './steps.js';
import { dependants, descendants } from './rollback.js';

export interface LocalProperty {
  property: string;
  value: string;
}

/**
 * The properties set locally on a dataset: `zfs get -H -p -s local -o property,value,source all DS`.
 * zfs-fuse 0.7 and OpenZFS both accept `-s local`; the source column is printed too and checked, so a
 * host that ignored `-s` would still give only the local ones.
 */
export function localPropertiesCommand(zfs: string, dataset: string): ZfsCommand<LocalProperty[]> {
  const argv = [zfs, 'get', '-H', '-p', '-s', 'local', '-o', 'property,value,source', 'all', dataset];
  return { argv, parse: (out) => parseLocalProperties(out, argv.join(' ')) };
}

export function parseLocalProperties(stdout: string, command = 'zfs get -s local'): LocalProperty[] {
  const out: LocalProperty[] = [];
  stdout.split('\n').forEach((line, i) => {
    if (line === '') return;
    const t1 = line.indexOf('\t');
    const t2 = line.lastIndexOf('\t');
    if (t1 <= 0) throw new ZfsParseError(command, i + 1, line, 'expected property<TAB>value[<TAB>source]');
    if (t2 > t1) {
      if (line.slice(t2 + 1) !== 'local') return;
      out.push({ property: line.slice(0, t1), value: line.slice(t1 + 1, t2) });
    } else {
      out.push({ property: line.slice(0, t1), value: line.slice(t1 + 1) });
    }
  });
  return out;
}

/** `zfs get -H -p -o property,value,source mountpoint,sharenfs,sharesmb,mounted DS` (what exposes a clone). */
export function shareCommand(zfs: string, dataset: string): ZfsCommand<Record<string, string>> {
  const argv = [zfs, 'get', '-H', '-p', '-o', 'property,value,source', 'mountpoint,sharenfs,sharesmb,mounted', dataset];
  return {
    argv,
    parse: (out) => {
      const r: Record<string, string> = {};
      for (const line of out.split('\n')) {
        const f = line.split('\t');
        if (f.length >= 2) r[f[0]!] = f[1]!;
      }
      return r;
    },
  };
}

/** What uses a clone: the planner fills what the listing knows; the executor fills the rest from `inspect`. */
export interface CloneUsage {
  host: string;
  clone: string;
  mounted?: boolean;
  mountpoint?: string;
  sharenfs?: string;
  sharesmb?: string;
  /** Processes with files open under the mountpoint (from mountUsersCommand); undefined until inspected. */
  processes?: ProcessInfo[];
  /** Clones of the clone's snapshots, recursively (a rebase is blocked while they exist). */
  dependants: string[];
}

/** Properties a clone takes from its origin; `zfs clone -o` refuses them. */
const NOT_SETTABLE_ON_CLONE = new Set([
  'encryption',
  'keyformat',
  'keylocation',
  'pbkdf2iters',
  'casesensitivity',
  'normalization',
  'utf8only',
  'volblocksize',
]);

export interface CloneRebaseOptions {
  /** Copy the clone's current data to `<clone>-pre-rebase-<date>` first (send/recv on the same host). */
  keepData: boolean;
  /** Part of the copy's and the snapshot's names, e.g. "20230610-0900" (letters, digits, '-', '_', '.', ':'). */
  date: string;
  /** The clone's locally set properties (localPropertiesCommand), re-applied with `zfs clone -o`. */
  localProperties: readonly LocalProperty[];
  zfs?: string;
  id?: string;
  now?: Date;
  /** Step ids to continue from (when the rebase is part of a larger plan). */
  ids?: StepIds;
}

export interface CloneRebasePart {
  steps: PlanStep[];
  preconditions: Precondition[];
  warnings: string[];
  usage: CloneUsage;
  inspect: InspectCommand[];
  copy?: string;
  blockedBy?: { reason: string; clones: HostObject[]; withDestroyClones?: Destroys };
}

/** The steps of a rebase (shared with diagnose). Throws PlanError for what no plan can do. */
export function cloneRebasePart(host: string, listing: HostListing, clone: string, onto: string, options: CloneRebaseOptions): CloneRebasePart {
  const zfs = options.zfs ?? 'zfs';
  const ids = options.ids ?? new StepIds();
  const entry = listing.datasets.get(clone);
  if (!entry) throw new PlanError('not-found', `${host}: ${clone} does not exist`);
  const origin = entry.object.origin;
  if (!origin) throw new PlanError('not-a-clone', `${host}: ${clone} is not a clone (it has no origin)`);
  if (origin === onto) throw new PlanError('invalid', `${host}: ${clone} is already a clone of ${onto}`);
  const ontoDataset = onto.slice(0, onto.indexOf('@'));
  const ontoSnap = listing.datasets.get(ontoDataset)?.snapshots.find((s) => s.name === onto);
  if (!onto.includes('@') || !ontoSnap) throw new PlanError('not-found', `${host}: snapshot ${onto} does not exist`);
  if (ontoDataset.split('/')[0] !== clone.split('/')[0])
    throw new PlanError('invalid', `${host}: ${onto} is in another pool than ${clone}; a clone must be in its origin's pool`);
  const children = descendants(listing, clone);
  if (children.length) {
    throw new PlanError(
      'unsupported',
      `${host}: ${clone} has child datasets (${children.map((c) => c.object.name).join(', ')}); re-basing a clone with children is not supported: move them first`,
    );
  }
  if (!/^[A-Za-z0-9_.:-]+$/.test(options.date))
    throw new PlanError('invalid', `the date "${options.date}" must be made of letters, digits, '-', '_', '.', ':'`);
  const tag = `pre-rebase-${options.date}`;
  const copy = `${clone}-${tag}`;
  const tagSnap = `${clone}@${tag}`;
  try {
    validateDatasetName(copy);
    validateSnapshotName(tagSnap);
  } catch (e) {
    throw new PlanError('invalid', `the names for the copy are not valid: ${(e as Error).message}`);
  }
  if (options.keepData && listing.datasets.has(copy)) throw new PlanError('target-exists', `${host}: ${copy} already exists; choose another date`);
  if (entry.snapshots.some((s) => s.name === tagSnap)) throw new PlanError('target-exists', `${host}: ${tagSnap} already exists; choose another date`);

  const snaps = oldestFirst(entry.snapshots);
  const deps = dependants(
    host,
    listing,
    snaps.map((s) => s.name),
  );
  const usage: CloneUsage = {
    host,
    clone,
    ...(entry.object.mounted !== undefined ? { mounted: entry.object.mounted } : {}),
    ...(entry.object.mountpoint !== undefined ? { mountpoint: entry.object.mountpoint } : {}),
    dependants: [...deps.clones, ...deps.datasets].map((d) => d.name),
  };
  const local = new Map(options.localProperties.map((p) => [p.property, p.value]));
  if (local.has('sharenfs')) usage.sharenfs = local.get('sharenfs')!;
  if (local.has('sharesmb')) usage.sharesmb = local.get('sharesmb')!;
  const inspect: InspectCommand[] = [{ host, purpose: 'share-properties', subject: clone, argv: shareCommand(zfs, clone).argv }];
  if (usage.mountpoint && usage.mountpoint.startsWith('/'))
    inspect.push({ host, purpose: 'mount-users', subject: usage.mountpoint, argv: mountUsersCommand(usage.mountpoint).argv });

  const preconditions: Precondition[] = [
    { kind: 'origin', host, dataset: clone, origin },
    { kind: 'dataset-exists', host, dataset: clone, ...(entry.object.guid ? { guid: entry.object.guid } : {}) },
    { kind: 'snapshots', host, dataset: clone, snapshots: snaps.map((s) => ({ name: s.name, guid: s.guid ?? '' })) },
    { kind: 'snapshot-exists', host, name: onto, guid: ontoSnap.guid ?? '' },
    { kind: 'snapshot-absent', host, name: tagSnap },
    ...(options.keepData ? [{ kind: 'dataset-absent' as const, host, dataset: copy }] : []),
    ...snaps.map((s) => ({ kind: 'no-clones' as const, host, snapshot: s.name })),
  ];
  const warnings: string[] = [];
  if (deps.clones.length) {
    const reason = `${host}: ${clone} cannot be destroyed and re-created: ${deps.clones.map((c) => c.name).join(', ')} ${deps.clones.length > 1 ? 'are clones' : 'is a clone'} of its snapshots.`;
    return { steps: [], preconditions, warnings, usage, inspect, blockedBy: { reason, clones: deps.clones, withDestroyClones: deps } };
  }

  const steps: PlanStep[] = [];
  if (options.keepData) {
    steps.push(commandStep(ids.next(), 'snapshot', host, [zfs, 'snapshot', tagSnap], `Snapshot the clone's current data: ${tagSnap}`));
    const send = [zfs, 'send', tagSnap];
    const recv = [zfs, 'recv', copy];
    const exec = { host, argv: ['sh', '-c', `${shellJoin(send)} | ${shellJoin(recv)}`] };
    steps.push(pipeStep(ids.next(), 'local', { host, argv: send }, { host, argv: recv }, `Copy the clone's data to ${copy} (full send/recv on ${host})`, exec));
  }
  const destroyed: Destroys = {
    snapshots: [...snaps.map((s) => ({ host, name: s.name, ...(s.guid ? { guid: s.guid } : {}) })), ...(options.keepData ? [{ host, name: tagSnap }] : [])],
    bookmarks: entry.bookmarks.map((b) => ({ host, name: b.name, ...(b.guid ? { guid: b.guid } : {}) })),
    clones: [{ host, name: clone, ...(entry.object.guid ? { guid: entry.object.guid } : {}) }],
    datasets: [],
  };
  const destroyId = ids.next();
  // Right before the destroy (after its confirmation): the clone holds exactly what is listed, no child, no new snapshot.
  preconditions.push({
    kind: 'objects',
    host,
    dataset: clone,
    scope: 'subtree',
    names: [...objectNames(listing, clone, 'subtree'), ...(options.keepData ? [tagSnap] : [])].sort(),
    beforeStep: destroyId,
  });
  const hasSnaps = destroyed.snapshots.length > 0;
  steps.push(
    commandStep(
      destroyId,
      'destroy',
      host,
      [zfs, 'destroy', ...(hasSnaps || destroyed.bookmarks.length ? ['-r'] : []), clone],
      `Destroy the clone ${clone} (of ${origin})${hasSnaps ? ` and its snapshot${destroyed.snapshots.length > 1 ? 's' : ''} ${destroyed.snapshots.map((s) => '@' + snapName(s.name)).join(', ')}` : ''}`,
      { destroys: destroyed, confirm: true },
    ),
  );
  const props: string[] = [];
  for (const p of options.localProperties) {
    if (NOT_SETTABLE_ON_CLONE.has(p.property)) {
      warnings.push(`${host}: the local property ${p.property}=${safeLine(p.value)} of ${clone} is inherited from the origin by a clone and is not set again`);
      continue;
    }
    // A value is host text: one with control characters (or a line break, which no remote shell can
    // take quoted) is not copied into a command; the plan says so, escaped.
    if (hasControl(p.property + p.value)) {
      warnings.push(
        `${host}: the local property ${safeLine(p.property)} of ${clone} is not set again: its value has control characters (${safeLine(p.value).slice(0, 120)}); set it by hand after the rebase if it is yours`,
      );
      continue;
    }
    props.push('-o', `${p.property}=${p.value}`);
  }
  steps.push(
    commandStep(
      ids.next(),
      'clone',
      host,
      [zfs, 'clone', ...props, onto, clone],
      `Re-create ${clone} as a clone of ${onto}${
        props.length
          ? ` with its local properties (${options.localProperties
              .filter((p) => !NOT_SETTABLE_ON_CLONE.has(p.property))
              .map((p) => p.property)
              .join(', ')})`
          : ''
      }`,
    ),
  );
  warnings.push(
    `${host}: ${clone} is destroyed and re-created: whatever uses it (mounted at ${usage.mountpoint ?? '?'}${usage.sharenfs && usage.sharenfs !== 'off' ? `, NFS share ${usage.sharenfs}` : ''}${usage.sharesmb && usage.sharesmb !== 'off' ? `, SMB share ${usage.sharesmb}` : ''}) must be stopped first and restarted after.`,
    `${host}: after the rebase ${clone} holds the data of ${onto}, not its current data` +
      (options.keepData ? `; the current data is kept in ${copy}.` : ' (which is lost: keepData is off).'),
  );
  return { steps, preconditions, warnings, usage, inspect, ...(options.keepData ? { copy } : {}) };
}

/** Re-base `clone` onto `onto` on one host. */
export function planCloneRebase(host: string, listing: HostListing, clone: string, onto: string, options: CloneRebaseOptions): Plan {
  const part = cloneRebasePart(host, listing, clone, onto, options);
  const base = {
    kind: 'rebase' as const,
    id: options.id,
    now: options.now,
    preconditions: part.preconditions,
    inspect: part.inspect,
    preview: { cloneUsage: part.usage },
  };
  if (part.blockedBy) {
    return makePlan({
      ...base,
      title: `Re-base ${clone} onto ${onto} (blocked)`,
      summary: `${part.blockedBy.reason} Re-base or destroy those first.`,
      steps: [],
      warnings: part.warnings,
      blockedBy: part.blockedBy,
    });
  }
  return makePlan({
    ...base,
    title: `Re-base ${clone} onto ${onto}`,
    summary:
      `On ${host}, ${clone} (a clone of ${listing.datasets.get(clone)!.object.origin}) is ` +
      (options.keepData ? `copied to ${part.copy}, then ` : '') +
      `destroyed and re-created as a clone of ${onto} with the same name and locally set properties.`,
    steps: part.steps,
    warnings: part.warnings,
  });
}
