/**
 * A group's primary moved to one of its replicas (issue 12 §2, zrep's failover and takeover), and
 * the old primary brought back as a replica (its split brain resolved). Pure: plans from the hosts'
 * listings and the `zfs get` rows of the role properties (roles.ts); the fleet file follows in the
 * application layer once the new primary is writable.
 *
 * - failover (the primary answers): the old primary is set read-only first (a write after the
 *   final snapshot would be lost), its final snapshot taken and sent, both sides' newest snapshot
 *   checked to be the same (guid) right before the replica is made writable, roles swapped. At no
 *   step are two datasets of the group writable.
 * - takeover (the primary is gone): the replica becomes writable as it is, at its newest complete
 *   snapshot (a partially received stream is discarded only with consent); the old primary is not
 *   touched, and says it is the primary when it comes back: split brain, until demoted.
 * - demote: the old primary made a replica of the new one: read-only, its divergent data copied
 *   aside when asked (as the rebase's keep-data), rolled back to the common base (listing what that
 *   destroys), synced from the new primary, marked a replica.
 */
import type { HostListing } from '../fleet/listing.js';
import type { ReplicationPair } from '../fleet/pairs.js';
import { abortRecvArgv } from '../replication/argv.js';
import { snapName } from '../replication/commonBase.js';
import { emptyDestroys, makePlan, PlanError, StepIds, type Plan, type PlanStep, type Precondition } from '../replication/plan.js';
import { pairState, type PairState } from '../replication/state.js';
import { commandStep, pipeStep } from '../replication/steps.js';
import { syncPart } from '../replication/sync.js';
import { shellJoin } from '../zfs/quote.js';
import type { PropertyRow } from '../zfs/properties.js';
import { currentRoleProps, endKey, endLabel, roleSetSteps, type GroupEnd, type RoleGroup } from './roles.js';
import type { OpOptions } from './snapshots.js';

export const FAILOVER_SNAPSHOT_PREFIX = 'zfs-fleet-failover-';
export const SPLIT_BRAIN_SNAPSHOT_PREFIX = 'zfs-fleet-splitbrain-';
export const DEMOTE_SNAPSHOT_PREFIX = 'zfs-fleet-demote-';

export interface RoleChangeOptions extends OpOptions {
  /** `YYYYMMDD-HHMMSS` in names the plan creates (default: from `now`). */
  stamp?: string;
  /** The fleet file whose group the application layer rewrites (named in the preview). */
  fleetFile?: string;
}

/** `YYYYMMDD-HHMMSS` (UTC). */
export function roleStamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

const label = endLabel;
const same = (a: GroupEnd, b: GroupEnd) => endKey(a) === endKey(b);

/** The group after `to` became its primary: the old primary takes `to`'s place among the replicas. */
export function promotedGroup(group: RoleGroup, to: GroupEnd): RoleGroup {
  return { ...group, primary: to, replicas: group.replicas.map((r) => (same(r, to) ? group.primary : r)) };
}

function replicaOf(group: RoleGroup, to: GroupEnd, verb: string): void {
  if (same(to, group.primary)) throw new PlanError('invalid', `${label(to)} is already the primary of group ${group.name}: nothing to ${verb}`);
  if (!group.replicas.some((r) => same(r, to)))
    throw new PlanError('invalid', `${label(to)} is not a replica of group ${group.name} (its replicas: ${group.replicas.map(label).join(', ')})`);
}

/** The listings of both ends' hosts (a PlanError naming the host that is not listed). */
function bothListed(listings: ReadonlyMap<string, HostListing>, a: GroupEnd, b: GroupEnd): [HostListing, HostListing] {
  const [la, lb] = [listings.get(a.host), listings.get(b.host)];
  if (!la || !lb) throw new PlanError('not-found', `${!la ? a.host : b.host}: not listed`);
  return [la, lb];
}

function entryOf(listings: ReadonlyMap<string, HostListing>, end: GroupEnd) {
  return listings.get(end.host)?.datasets.get(end.dataset);
}

/** Role steps for every listed end of `next` (the group as it will be); `have` overrides what a step of the plan itself sets first. */
function roleSteps(
  next: RoleGroup,
  listings: ReadonlyMap<string, HostListing>,
  rows: ReadonlyMap<string, readonly PropertyRow[]>,
  ids: StepIds,
  zfs: string,
  already: ReadonlyMap<string, Record<string, string>>,
): { steps: PlanStep[]; effects: string[]; unreachable: GroupEnd[] } {
  const steps: PlanStep[] = [];
  const effects: string[] = [];
  const unreachable: GroupEnd[] = [];
  for (const end of [next.primary, ...next.replicas]) {
    const l = listings.get(end.host);
    if (!l || !l.datasets.has(end.dataset) || !rows.has(endKey(end))) {
      unreachable.push(end);
      continue;
    }
    const have = currentRoleProps(rows.get(endKey(end))!, l, end);
    for (const [p, v] of Object.entries(already.get(endKey(end)) ?? {})) have.set(p, v);
    const part = roleSetSteps(next, end, have, ids, zfs);
    steps.push(...part.steps);
    effects.push(...part.effects);
  }
  return { steps, effects, unreachable };
}

function fleetFileEffect(group: RoleGroup, to: GroupEnd, o: RoleChangeOptions): string {
  return (
    `The fleet file${o.fleetFile ? ` ${o.fleetFile}` : ''}: group ${group.name}'s primary becomes ${label(to)} and ${label(group.primary)} takes its place among the replicas, ` +
    `so every pair of the group sends from ${label(to)} (written once ${label(to)} is writable).`
  );
}

/** Why a replica is not in step with its primary, or undefined when it only lacks newer snapshots. */
function divergence(s: PairState): string | undefined {
  if (s.nameClashes.length) return `@${snapName(s.nameClashes[0]!.target.name)} is on both sides with different guids`;
  if (s.targetNewer.length) return `it has ${s.targetNewer.length} snapshot(s) the primary lacks (${s.targetNewer.map((n) => `@${snapName(n)}`).join(', ')})`;
  if (s.targetModified === 'yes') return 'it was written since its newest snapshot';
  return undefined;
}

/**
 * Planned failover of `group` to its replica `to`; `pair`: the configured pair primary -> to.
 * `listings` of every reachable host of the group (the primary's and `to`'s at least), `rows` the
 * role properties of each end (by endKey).
 */
export function planFailover(
  group: RoleGroup,
  to: GroupEnd,
  pair: ReplicationPair,
  listings: ReadonlyMap<string, HostListing>,
  rows: ReadonlyMap<string, readonly PropertyRow[]>,
  o: RoleChangeOptions = {},
): Plan {
  const zfs = o.zfs ?? 'zfs';
  replicaOf(group, to, 'fail over to');
  const P = group.primary;
  const [src, dst] = bothListed(listings, P, to);
  if (!src.datasets.has(P.dataset))
    throw new PlanError(
      'source-missing',
      `the primary ${label(P)} does not exist: a failover needs it; take over instead (zfs-fleet takeover ${group.name} --to ${label(to)})`,
    );
  if (!dst.datasets.has(to.dataset)) throw new PlanError('invalid', `${label(to)} does not exist: it has never received group ${group.name}; sync it first`);
  const state = pairState(pair, src, dst);
  if (state.noCommon) throw new PlanError('no-common-base', `${label(to)} has no snapshot in common with ${label(P)}: ${state.noCommon.detail}`);
  const why = divergence(state);
  if (why)
    throw new PlanError(
      'invalid',
      `${label(to)} is not a copy of ${label(P)}: ${why}. A failover would lose that; bring it level first (zfs-fleet diagnose ${label(P)} ${label(to)}).`,
    );
  const stamp = o.stamp ?? roleStamp(o.now ?? new Date());
  const finalName = `${FAILOVER_SNAPSHOT_PREFIX}${stamp}`;
  const ids = new StepIds();
  const steps: PlanStep[] = [];
  const warnings: string[] = [];
  const preconditions: Precondition[] = [];
  const pHave = currentRoleProps(rows.get(endKey(P)) ?? [], src, P);
  if (pHave.get('readonly') === 'on') warnings.push(`${label(P)} is already read-only (readonly=on): a failover that stopped after its first step, run again`);
  else
    steps.push(
      commandStep(
        ids.next(),
        'set',
        P.host,
        [zfs, 'set', 'readonly=on', P.dataset],
        `Set the old primary ${label(P)} read-only: no write after its final snapshot is lost`,
      ),
    );
  const part = syncPart(pair, src, dst, { zfs, ids, newSnapshotName: finalName });
  if (part.blockedBy) throw new PlanError('invalid', `the final sync cannot run: ${part.blockedBy.reason}`);
  steps.push(...part.steps);
  preconditions.push(...part.preconditions);
  warnings.push(...part.warnings);
  const writable = commandStep(
    ids.next(),
    'set',
    to.host,
    [zfs, 'set', 'readonly=off', to.dataset],
    `Make ${label(to)} writable: the new primary of group ${group.name}`,
  );
  steps.push(writable);
  // Right before the replica is made writable: it holds exactly what the old primary last had.
  preconditions.push({
    kind: 'same-snapshot',
    host: P.host,
    dataset: P.dataset,
    snapshot: finalName,
    other: { host: to.host, dataset: to.dataset },
    beforeStep: writable.id,
  });
  const next = promotedGroup(group, to);
  const roles = roleSteps(
    next,
    listings,
    rows,
    ids,
    zfs,
    new Map([
      [endKey(P), { readonly: 'on' }],
      [endKey(to), { readonly: 'off' }],
    ]),
  );
  steps.push(...roles.steps);
  const others = roles.unreachable.filter((e) => !same(e, P) && !same(e, to));
  const effects = [
    `${label(P)} becomes read-only, then its final snapshot @${finalName} is sent to ${label(to)}${state.base ? ` (incremental from @${snapName(state.base.source)})` : ''}.`,
    `Right before ${label(to)} is made writable, @${finalName} is checked to be the newest snapshot on both, with the same guid.`,
    ...roles.effects,
    ...(others.length ? [`Not reachable or not received yet, its role left for zfs-fleet roles ${group.name}: ${others.map(label).join(', ')}.`] : []),
    fleetFileEffect(group, to, o),
    `If a step fails the run stops there: until ${label(to)} is made writable, no dataset of the group is writable (zfs-fleet set ${label(P)} readonly=off goes back; or run the failover again); after it, only ${label(to)} is.`,
  ];
  return makePlan({
    kind: 'failover',
    ...(o.id ? { id: o.id } : {}),
    ...(o.now ? { now: o.now } : {}),
    title: `Fail over group ${group.name} to ${label(to)}`,
    summary: `Make ${label(to)} the primary of group ${group.name} after a final sync from ${label(P)}, which becomes its read-only replica. Nothing is destroyed.`,
    steps,
    preconditions,
    warnings,
    effects,
  });
}

export interface TakeoverOptions extends RoleChangeOptions {
  /** Why the primary could not be reached (said in the preview). */
  primaryError?: string;
  /** Consent to discard a partially received stream on the replica. */
  discardPartial?: boolean;
}

/**
 * Unplanned takeover: `to` becomes the primary as it is (its newest complete snapshot), the old
 * primary unreachable (absent from `listings`) or without its dataset.
 */
export function planTakeover(
  group: RoleGroup,
  to: GroupEnd,
  listings: ReadonlyMap<string, HostListing>,
  rows: ReadonlyMap<string, readonly PropertyRow[]>,
  o: TakeoverOptions = {},
): Plan {
  const zfs = o.zfs ?? 'zfs';
  replicaOf(group, to, 'take over');
  const P = group.primary;
  if (entryOf(listings, P))
    throw new PlanError(
      'invalid',
      `the primary ${label(P)} answers: a takeover is for a primary that cannot be reached. Use zfs-fleet failover ${group.name} --to ${label(to)}, which sends its last writes first.`,
    );
  const dst = listings.get(to.host);
  if (!dst) throw new PlanError('not-found', `${to.host}: not listed`);
  const e = dst.datasets.get(to.dataset);
  if (!e) throw new PlanError('invalid', `${label(to)} does not exist: it has never received group ${group.name}`);
  const newest = e.snapshots[0];
  if (!newest) throw new PlanError('invalid', `${label(to)} has no complete snapshot: nothing was ever received whole`);
  const ids = new StepIds();
  const steps: PlanStep[] = [];
  const warnings: string[] = [];
  const effects: string[] = [];
  const preconditions: Precondition[] = [{ kind: 'newest-snapshot', host: to.host, dataset: to.dataset, guid: newest.guid ?? null, name: newest.name }];
  if (e.object.receiveResumeToken) {
    if (!o.discardPartial)
      throw new PlanError(
        'invalid',
        `${label(to)} holds a partially received stream (an interrupted receive after @${snapName(newest.name)}): taking over discards it, and ${label(to)} becomes the primary at @${snapName(newest.name)}. Run again with --discard-partial to agree.`,
      );
    steps.push(
      commandStep(ids.next(), 'destroy', to.host, abortRecvArgv(zfs, to.dataset), `Discard the partially received stream in ${label(to)} (zfs recv -A)`, {
        destroys: { ...emptyDestroys(), datasets: [{ host: to.host, name: `${to.dataset}/%recv`, what: 'the partially received stream' }] },
        confirm: true,
      }),
    );
  }
  if (e.object.written !== undefined && e.object.written > 0)
    warnings.push(`${label(to)} was written since @${snapName(newest.name)} (${e.object.written} bytes): it becomes the primary with those writes`);
  steps.push(
    commandStep(ids.next(), 'set', to.host, [zfs, 'set', 'readonly=off', to.dataset], `Make ${label(to)} writable: the new primary of group ${group.name}`),
  );
  const next = promotedGroup(group, to);
  const roles = roleSteps(next, listings, rows, ids, zfs, new Map([[endKey(to), { readonly: 'off' }]]));
  steps.push(...roles.steps);
  const others = roles.unreachable.filter((x) => !same(x, P) && !same(x, to));
  effects.push(
    `${label(to)} becomes the primary at its newest complete snapshot @${snapName(newest.name)}.`,
    ...roles.effects,
    `${label(P)} cannot be reached${o.primaryError ? ` (${o.primaryError.split('\n')[0]})` : ''}: it is not changed. When it comes back it still says it is the primary: zfs-fleet status group ${group.name} shows it as split brain, and zfs-fleet demote ${group.name} ${label(P)} [--keep-data] makes it a replica of ${label(to)}.`,
    ...(others.length ? [`Not reachable, its role left for zfs-fleet roles ${group.name}: ${others.map(label).join(', ')}.`] : []),
    fleetFileEffect(group, to, o),
  );
  return makePlan({
    kind: 'takeover',
    ...(o.id ? { id: o.id } : {}),
    ...(o.now ? { now: o.now } : {}),
    title: `Take over group ${group.name} on ${label(to)}`,
    summary: `Make ${label(to)} the primary of group ${group.name} at @${snapName(newest.name)}, without its primary ${label(P)}.${steps.some((s) => s.confirm) ? ' The partially received stream is discarded.' : ' Nothing is destroyed.'}`,
    steps,
    preconditions,
    warnings,
    effects,
  });
}

export interface DemoteOptions extends RoleChangeOptions {
  /** Copy the divergent data aside (`DATASET-splitbrain-STAMP`) before the rollback destroys it. */
  keepData?: boolean;
}

/** The copy of a demoted dataset's divergent data. */
export function splitBrainCopy(dataset: string, stamp: string): string {
  return `${dataset}-splitbrain-${stamp}`;
}

/**
 * Make `end` (an old primary, now a replica of `group` in the fleet file) a replica again; `pair`:
 * the configured pair group.primary -> end.
 */
export function planDemote(
  group: RoleGroup,
  end: GroupEnd,
  pair: ReplicationPair,
  listings: ReadonlyMap<string, HostListing>,
  rows: ReadonlyMap<string, readonly PropertyRow[]>,
  o: DemoteOptions = {},
): Plan {
  const zfs = o.zfs ?? 'zfs';
  replicaOf(group, end, 'demote');
  const T = group.primary;
  const [src, dst] = bothListed(listings, T, end);
  const entry = dst.datasets.get(end.dataset);
  if (!entry) throw new PlanError('not-found', `${label(end)} does not exist: its next sync receives it whole (zfs-fleet sync ${label(T)} ${label(end)})`);
  const state = pairState(pair, src, dst);
  if (state.noCommon)
    throw new PlanError(
      'no-common-base',
      `${label(end)} has no snapshot in common with the primary ${label(T)}: ${state.noCommon.detail}; rename it aside and sync it whole`,
    );
  const stamp = o.stamp ?? roleStamp(o.now ?? new Date());
  const ids = new StepIds();
  const steps: PlanStep[] = [];
  const preconditions: Precondition[] = [];
  const effects: string[] = [];
  const have = currentRoleProps(rows.get(endKey(end)) ?? [], dst, end);
  if (have.get('readonly') !== 'on')
    steps.push(
      commandStep(ids.next(), 'set', end.host, [zfs, 'set', 'readonly=on', end.dataset], `Set ${label(end)} read-only: nothing more is written to it`),
    );
  // Unknown (no `written` on the host): a primary was writable, so assume written and roll back to the base.
  const modified = state.targetModified !== 'no';
  const diverged = state.targetNewer.length > 0 || modified;
  const tagSnap = `${end.dataset}@${SPLIT_BRAIN_SNAPSHOT_PREFIX}${stamp}`;
  const copy = splitBrainCopy(end.dataset, stamp);
  const keep = o.keepData === true && diverged;
  if (keep) {
    if (dst.datasets.has(copy)) throw new PlanError('target-exists', `${end.host}: ${copy} already exists`);
    preconditions.push({ kind: 'dataset-absent', host: end.host, dataset: copy });
    steps.push(commandStep(ids.next(), 'snapshot', end.host, [zfs, 'snapshot', tagSnap], `Snapshot ${label(end)}'s divergent data: ${tagSnap}`));
    const send = [zfs, 'send', tagSnap];
    const recv = [zfs, 'recv', '-u', copy];
    const exec = { host: end.host, argv: ['sh', '-c', `${shellJoin(send)} | ${shellJoin(recv)}`] };
    steps.push(
      pipeStep(
        ids.next(),
        'local',
        { host: end.host, argv: send },
        { host: end.host, argv: recv },
        `Copy ${label(end)}'s divergent data to ${copy} (full send/recv on ${end.host})`,
        exec,
      ),
    );
  }
  // Up to a snapshot of the primary taken now: the demoted replica ends level with it, and a rollback is planned even when the primary has nothing newer.
  const part = syncPart(pair, src, dst, { zfs, ids, newSnapshotName: `${DEMOTE_SNAPSHOT_PREFIX}${stamp}`, ...(modified ? { targetModified: true } : {}) });
  if (part.blockedBy) throw new PlanError('invalid', `${label(end)} cannot be rolled back: ${part.blockedBy.reason}`);
  const syncSteps = part.steps;
  if (keep) {
    // The snapshot this plan takes first is there when the rollback runs, and the rollback destroys it.
    for (const p of part.preconditions) {
      if (p.host !== end.host || p.beforeStep === undefined) continue;
      if (p.kind === 'snapshots' && p.dataset === end.dataset) p.snapshots = [{ name: tagSnap, guid: '' }, ...p.snapshots];
      if (p.kind === 'objects' && p.dataset === end.dataset) p.names = [...p.names, tagSnap].sort();
    }
    const rb = syncSteps.find((s) => s.op === 'rollback');
    if (rb) rb.destroys = { ...rb.destroys, snapshots: [...rb.destroys.snapshots, { host: end.host, name: tagSnap }] };
  }
  steps.push(...syncSteps);
  preconditions.push(...part.preconditions);
  have.set('readonly', 'on');
  const roles = roleSetSteps(group, end, have, ids, zfs);
  steps.push(...roles.steps);
  effects.push(
    diverged
      ? `${label(end)} diverged from ${label(T)} since their common snapshot @${snapName(state.base!.target)}${state.targetNewer.length ? ` (${state.targetNewer.length} snapshot(s) of its own)` : ''}${state.targetModified === 'unknown' ? ' (or may have: its host cannot say what was written)' : ''}: it is rolled back to @${snapName(state.base!.target)}.`
      : `${label(end)} has nothing of its own since @${snapName(state.base!.target)}.`,
    ...(keep
      ? [`Its data as it is now is kept in ${end.host}:${copy} (a full copy, unmounted; the snapshots of its own are not copied, only their newest state).`]
      : diverged
        ? [`What it has of its own is lost (--keep-data copies it aside first).`]
        : []),
    `Then it receives from ${label(T)} up to a snapshot taken now (@${DEMOTE_SNAPSHOT_PREFIX}${stamp}) and is marked its read-only replica.`,
    ...roles.effects,
  );
  return makePlan({
    kind: 'demote',
    ...(o.id ? { id: o.id } : {}),
    ...(o.now ? { now: o.now } : {}),
    title: `Demote ${label(end)} to a replica of ${label(T)}`,
    summary: `Make ${label(end)} a read-only replica of group ${group.name}'s primary ${label(T)} again${diverged ? `, rolled back to the common snapshot @${snapName(state.base!.target)}${keep ? ` after a copy of its data to ${copy}` : ''}` : ''}.`,
    steps,
    preconditions,
    warnings: part.warnings,
    effects,
  });
}
