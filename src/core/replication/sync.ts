/**
 * The sync plan of a pair: a full send when the target does not exist; otherwise an incremental
 * send from the common base (a bookmark where the base snapshot was pruned on the source). `-F` is
 * never added: when the target has snapshots newer than the base, or was modified, the plan holds
 * an explicit rollback step that lists everything it destroys. The base itself is never destroyed.
 */
import type { DatasetEntry, HostListing } from '../fleet/listing.js';
import type { ReplicationPair } from '../fleet/pairs.js';
import { exclusionOf, missingChildren, type Exclusion } from '../fleet/exclude.js';
import { gatherPermissionFacts, isRoot, type AuditHost, type AuditSide, type GatheredFacts, type GatherOptions } from '../fleet/permissions.js';
import { effectivePermissions } from '../zfs/allow.js';
import { isValidName, parentDataset, validateSnapshotName } from '../zfs/names.js';
import { shellJoin } from '../zfs/quote.js';
import { formatBytes } from '../format.js';
import {
  abortRecvArgv,
  bookmarkArgv,
  effectiveSendFlags,
  estimateArgv,
  progressSendArgv,
  holdTagFor,
  recvArgv,
  resumeSendArgv,
  sendArgv,
  sshArgvFor,
  streamFeatures,
  syncBookmarkName,
  type IncrementalFlag,
} from './argv.js';
import { compareAge, compareSnapshots, snapName, type CommonBase } from './commonBase.js';
import type { ZfsObject } from '../zfs/types.js';
import {
  emptyDestroys,
  makePlan,
  PlanError,
  StepIds,
  type Destroys,
  type HostObject,
  type PipeEnd,
  type PipeStep,
  type Plan,
  type PlanStep,
  type Precondition,
} from './plan.js';
import { checkResumeToken } from './resumeToken.js';
import { rollbackPart } from './rollback.js';
import { pairState } from './state.js';
import { commandStep, pipeStep } from './steps.js';

export interface RouteOptions {
  /** push: the argv the SOURCE uses to reach the target (default `ssh -o BatchMode=yes [-p PORT] TARGET`). */
  sshFromSource?: string[];
  /** pull: the argv the TARGET uses to reach the source. */
  sshFromTarget?: string[];
}

export interface SyncOptions {
  /** Take this snapshot of the source first (the part after '@') and send up to it. */
  newSnapshotName?: string;
  /**
   * Send up to this existing source snapshot (full name or the part after '@') instead of the newest:
   * "sync up to here" from the timeline. Not with newSnapshotName.
   */
  upTo?: string;
  /** 'full' insists on a full send (only possible when the target does not exist). Default 'auto'. */
  incremental?: 'auto' | 'full';
  /** `-I` (all intermediate snapshots) or `-i`; default pair.options.intermediates. */
  intermediates?: boolean;
  zfs?: string;
  /** Hold tag for the base during the send (default: one per pair, `zfs-fleet-sync-XXXXXXXX`). */
  holdTag?: string;
  route?: RouteOptions;
  id?: string;
  now?: Date;
  /**
   * The target is known to be modified since the base although its host cannot say so (no `written`,
   * e.g. a receive just failed with "destination has been modified"): plan the rollback to the base.
   */
  targetModified?: boolean;
  /** Continue numbering steps from here (when the sync is part of a larger plan). */
  ids?: StepIds;
  /**
   * Who runs the plan (from the permission facts: syncFactsFrom). Without them the users are assumed
   * to be root-like: the receive mounts, the base is held on both sides, the bookmark is made.
   */
  facts?: SyncFacts;
  /**
   * After a send, bookmark the newest snapshot sent (`SRC#zfs-fleet-<snap>`), so that the next
   * incremental can start from the bookmark once the snapshot is pruned on the source (as syncoid's
   * --create-bookmark). Default: on where the source has bookmarks (not for recursive pairs: zfs
   * bookmark has no -r) and its user may bookmark. A failing bookmark does not fail the sync.
   */
  bookmark?: boolean;
}

/** A user that runs part of a plan, and the delegated permissions it has on the pair's dataset on that side. */
export interface SyncUser {
  user: string;
  root: boolean;
  /** Delegated permissions on the pair's dataset on this side (root needs none); undefined: not known. */
  permissions?: string[];
}

/** Who runs what (see permissions.ts for the routes): read with `id` and `zfs allow` before planning. */
export interface SyncFacts {
  /** The product's user on the source: snapshot, hold, release, bookmark. */
  source?: SyncUser;
  /** The product's user on the target: hold, release, rollback, recv -A. */
  target?: SyncUser;
  /** The user `zfs recv` runs as: relay and pull, the target's product user; push, the user the source's ssh reaches the target as. */
  receiver?: SyncUser;
}

function syncUser(a: AuditSide, user: AuditSide['user'], dataset: string): SyncUser {
  const root = isRoot(user);
  if (root) return { user: user.user, root };
  if (!a.delegations.supported) return { user: user.user, root, permissions: [] };
  return { user: user.user, root, permissions: [...effectivePermissions(a.delegations.sections, dataset, user, 'dataset')].sort() };
}

/** The planner's facts from what gatherPermissionFacts read (`id` of each user, `zfs allow` of each dataset). */
export function syncFactsFrom(g: Pick<GatheredFacts, 'source' | 'target'>, pair: ReplicationPair): SyncFacts {
  const S = pair.source.name!.full;
  const T = pair.target.name!.full;
  const receiver = pair.route === 'push' ? (g.target.streamUser ?? g.target.user) : g.target.user;
  return { source: syncUser(g.source, g.source.user, S), target: syncUser(g.target, g.target.user, T), receiver: syncUser(g.target, receiver, T) };
}

/**
 * Read who will run a sync of the pair (`id` on both hosts; for push, `id` through the source's ssh to
 * the target, the user zfs recv runs as; `zfs allow` of both datasets) and turn it into SyncFacts.
 * Read-only. Pass `sshFromSource` as the plan's push route uses it.
 */
export async function gatherSyncFacts(
  pair: ReplicationPair,
  hosts: { source: AuditHost; target: AuditHost },
  options: Pick<GatherOptions, 'zfsPath' | 'timeoutMs' | 'signal' | 'sshFromSource'> = {},
): Promise<SyncFacts> {
  const { sshFromSource, ...rest } = options;
  // Only the pair's own datasets matter here (not a recursive pair's descendants, nor the stream's properties).
  const g = await gatherPermissionFacts({ ...pair, options: { ...pair.options, recursive: false, properties: false } }, hosts, {
    ...rest,
    ...(pair.route === 'push' && pair.source.host !== pair.target.host ? { sshFromSource: sshFromSource ?? sshToTarget(pair) } : {}),
  });
  return syncFactsFrom(g, pair);
}

/** Whether a user may run a delegated command: undefined when not known (no facts). */
function may(u: SyncUser | undefined, permission: string): boolean | undefined {
  if (!u) return undefined;
  if (u.root) return true;
  return u.permissions?.includes(permission);
}

/** The parts of a sync plan, for composition (diagnose). */
export interface SyncPart {
  title: string;
  summary: string;
  steps: PlanStep[];
  preconditions: Precondition[];
  warnings: string[];
  comparison: CommonBase;
  blockedBy?: Plan['blockedBy'];
  alternatives?: string[];
}

function ref(host: string, name: string, guid?: string): HostObject {
  return guid !== undefined ? { host, name, guid } : { host, name };
}

/** The ssh argv the source runs to reach the target (push): as the fleet file's host entry says, else the target's name. */
export function sshToTarget(pair: ReplicationPair): string[] {
  return sshArgvFor(pair.reach?.target ?? pair.target.host);
}

/** The ssh argv the target runs to reach the source (pull). */
export function sshToSource(pair: ReplicationPair): string[] {
  return sshArgvFor(pair.reach?.source ?? pair.source.host);
}

/**
 * The stage of a push or pull pipe that holds it to `bytesPerSecond` on the host that runs the pipe,
 * as syncoid does: `mbuffer -r`, else `pv -L`; where neither is installed the stream goes unlimited
 * and the pipe says so on its standard error (syncoid: "sync will continue without ... buffering").
 */
export function throttleStage(bytesPerSecond: number): string {
  const n = String(Math.floor(bytesPerSecond));
  return shellJoin([
    'sh',
    '-c',
    `if command -v mbuffer >/dev/null 2>&1; then exec mbuffer -q -s 128k -m 16M -r ${n}; ` +
      `elif command -v pv >/dev/null 2>&1; then exec pv -q -L ${n}; ` +
      `else echo "zfs-fleet: bwlimit ${n} B/s not applied: neither mbuffer nor pv on $(hostname)" >&2; exec cat; fi`,
  ]);
}

/** A send/recv pipe for the pair's route; push and pull with both sides on one host pipe there, without ssh (unless `route` gives the ssh argv). */
export function transferStep(pair: ReplicationPair, id: string, description: string, send: string[], recv: string[], route: RouteOptions = {}): PipeStep {
  const src = pair.source.host;
  const dst = pair.target.host;
  const limit = pair.options.bwlimit;
  // Push and pull: a stage of the pipe on its host; relay: paced in-process (the step's bwlimit).
  const via = limit ? ` | ${throttleStage(limit)}` : '';
  let exec: PipeEnd | undefined;
  try {
    // One host, no ssh argv asked for: the pipe runs there (a host need not reach itself).
    if (pair.route !== 'relay' && src === dst && (pair.route === 'push' ? route.sshFromSource : route.sshFromTarget) === undefined) {
      exec = { host: src, argv: ['sh', '-c', `${shellJoin(send)}${via} | ${shellJoin(recv)}`] };
    } else if (pair.route === 'push') {
      const ssh = route.sshFromSource ?? sshToTarget(pair);
      exec = { host: src, argv: ['sh', '-c', `${shellJoin(send)}${via} | ${shellJoin([...ssh, shellJoin(recv)])}`] };
    } else if (pair.route === 'pull') {
      const ssh = route.sshFromTarget ?? sshToSource(pair);
      exec = { host: dst, argv: ['sh', '-c', `${shellJoin([...ssh, shellJoin(send)])}${via} | ${shellJoin(recv)}`] };
    }
  } catch (e) {
    throw new PlanError('unsupported', `route ${pair.route}: ${(e as Error).message}`);
  }
  const limited = limit ? `${description} (at most ${formatBytes(limit)}/s)` : description;
  return pipeStep(id, pair.route, { host: src, argv: send }, { host: dst, argv: recv }, limited, exec, limit && !exec ? { bwlimit: limit } : {});
}

/** "Sync up to here": forget the source snapshots newer than `upTo`, so the plan sends up to it. */
function limitTo(cmp: CommonBase, upTo: string, withNew: boolean, host: string, srcDs: string): void {
  if (withNew) throw new PlanError('invalid', 'a sync either takes a new snapshot or goes up to an existing one, not both');
  const name = upTo.includes('@') ? upTo : `${srcDs}@${upTo}`;
  const snap = cmp.sourceSnapshots.find((s) => s.name === name);
  if (!snap) throw new PlanError('invalid', `${host}: ${name} is not a snapshot of the source ${srcDs}`);
  const inc = cmp.incremental;
  if (inc && compareAge(snap, inc.source) < 0) {
    throw new PlanError(
      'invalid',
      `${name} is older than the common base ${inc.source.name}: the target already has everything up to it (roll the target back to it instead)`,
    );
  }
  const keep = (s: ZfsObject) => compareAge(s, snap) <= 0;
  cmp.sourceSnapshots = cmp.sourceSnapshots.filter(keep);
  cmp.newerOnSource = cmp.newerOnSource.filter(keep);
}

/** What the sync is sent up to: a snapshot the plan takes first, or an existing one. */
interface SendTo {
  name: string;
  guid?: string;
  isNew: boolean;
}

/**
 * Everything the builders of one sync plan read (the pair, both listings, the flags), and what they
 * add to: the steps, the preconditions and the warnings, in order.
 */
interface SyncContext {
  pair: ReplicationPair;
  options: SyncOptions;
  zfs: string;
  ids: StepIds;
  S: string;
  T: string;
  srcDs: string;
  dstDs: string;
  src: HostListing;
  dst: HostListing;
  srcEntry: DatasetEntry;
  dstEntry: DatasetEntry | undefined;
  cmp: CommonBase;
  intermediates: boolean;
  recursive: boolean;
  flags: string[];
  srcFeat: ReturnType<typeof streamFeatures>;
  dstFeat: ReturnType<typeof streamFeatures>;
  recv: string[];
  /** Appended to each send's description (why the receive is unmounted). */
  recvNote: string;
  /** A recursive pair's children left out by its `exclude` patterns (sent with `-X`). */
  exclusion?: Exclusion;
  sendTo: SendTo;
  title: string;
  steps: PlanStep[];
  pre: Precondition[];
  warnings: string[];
}

export function syncPart(pair: ReplicationPair, src: HostListing, dst: HostListing, options: SyncOptions = {}): SyncPart {
  const c = syncContext(pair, src, dst, options);
  const resume = resumePart(c);
  if (resume) return resume;
  if (!c.dstEntry || c.dstEntry.snapshots.length === 0) return fullSendPart(c, c.dstEntry);
  return incrementalPart(c, c.dstEntry);
}

/**
 * An encrypted source (issue 12 §6): sent raw (`-w`) unless the pair says `decrypt`, so the replica
 * holds the encrypted blocks and needs no key; a decrypted send only when asked, and said. Refused
 * where a raw stream cannot go (a host without it, a replica received decrypted before).
 */
function encryptionNotes(
  pair: ReplicationPair,
  S: string,
  srcDs: string,
  srcEntry: DatasetEntry,
  T: string,
  dstDs: string,
  dstEntry: DatasetEntry | undefined,
  raw: boolean,
): string[] {
  const what = `${S}:${srcDs} is encrypted (${srcEntry.object.encryption})`;
  if (pair.options.decrypt)
    return [
      `${what} and the pair says decrypt: it is sent decrypted (its key must be loaded on ${S}), and ${T}:${dstDs} stores the data unencrypted unless its parent is encrypted.`,
    ];
  if (!raw)
    throw new PlanError(
      'unsupported',
      `${what}, and a raw send (-w), which keeps it encrypted on the replica, is not possible between these hosts' zfs. Set "decrypt": true in the pair's options to send it decrypted (stored unencrypted on ${T}).`,
    );
  if (dstEntry && dstEntry.snapshots.length > 0 && dstEntry.object.encryption === undefined)
    throw new PlanError(
      'unsupported',
      `${what}, but ${T}:${dstDs} is not: it was received decrypted, and a raw incremental stream cannot be received onto it. Set "decrypt": true in the pair's options to go on sending decrypted, or send it again whole, raw, into a new target.`,
    );
  const key = dstEntry?.object.keystatus;
  return [
    `${what}: sent raw (-w), so ${T}:${dstDs} holds the encrypted data and needs no key: ${key === 'unavailable' ? 'its key not being loaded (keystatus unavailable) is expected, not a problem' : 'its key need not be loaded there'}.`,
  ];
}

/** The listings compared, the flags chosen, and what is sent up to (with its precondition). */
function syncContext(pair: ReplicationPair, src: HostListing, dst: HostListing, options: SyncOptions): SyncContext {
  const zfs = options.zfs ?? 'zfs';
  const S = pair.source.host;
  const T = pair.target.host;
  const srcDs = pair.source.name!.full;
  const dstDs = pair.target.name!.full;
  const srcEntry = src.datasets.get(srcDs);
  if (!srcEntry) throw new PlanError('source-missing', `${S}: the source ${srcDs} does not exist`);
  const dstEntry = dst.datasets.get(dstDs);
  const cmp = compareSnapshots(
    { dataset: srcDs, snapshots: srcEntry.snapshots, bookmarks: srcEntry.bookmarks },
    dstEntry ? { dataset: dstDs, snapshots: dstEntry.snapshots } : undefined,
    dstDs,
  );
  if (options.upTo !== undefined) limitTo(cmp, options.upTo, options.newSnapshotName !== undefined, S, srcDs);
  const encrypted = srcEntry.object.encryption !== undefined;
  const { flags, dropped } = effectiveSendFlags(
    encrypted && !pair.options.decrypt ? { ...pair.options, raw: true } : pair.options,
    src.capabilities,
    dst.capabilities,
  );
  const encryption = encrypted ? encryptionNotes(pair, S, srcDs, srcEntry, T, dstDs, dstEntry, flags.includes('-w')) : [];
  const excludeNotes: string[] = [];
  const exclusion = applyExclusion(pair, S, srcDs, src, T, dstDs, dst, flags, excludeNotes);
  const pre: Precondition[] = [{ kind: 'dataset-exists', host: S, dataset: srcDs, ...(srcEntry.object.guid ? { guid: srcEntry.object.guid } : {}) }];
  const receiver = options.facts?.receiver;
  const unmounted = receiver !== undefined && !receiver.root;
  return {
    pair,
    options,
    zfs,
    ids: options.ids ?? new StepIds(),
    S,
    T,
    srcDs,
    dstDs,
    src,
    dst,
    srcEntry,
    dstEntry,
    cmp,
    intermediates: options.intermediates ?? pair.options.intermediates,
    recursive: pair.options.recursive,
    flags,
    srcFeat: streamFeatures(src.capabilities),
    dstFeat: streamFeatures(dst.capabilities),
    recv: recvArgv(zfs, dstDs, dst.capabilities, { unmounted }),
    recvNote: unmounted
      ? `; received with -u (left unmounted): ${receiver.user} is not root, and on Linux only root can mount (without -u the data arrives, the mount fails and zfs still exits 0)`
      : '',
    ...(exclusion ? { exclusion } : {}),
    sendTo: sendTarget(options, S, srcDs, srcEntry, cmp, pre),
    title: `Sync ${S}:${srcDs} → ${T}:${dstDs}`,
    steps: [],
    pre,
    warnings: [...encryption, ...excludeNotes, ...dropped.map((d) => `send ${d}; left out`)],
  };
}

/** What is sent up to: a new snapshot (checked to be absent), or the source's newest (checked to exist). */
function sendTarget(options: SyncOptions, S: string, srcDs: string, srcEntry: DatasetEntry, cmp: CommonBase, pre: Precondition[]): SendTo {
  if (options.newSnapshotName !== undefined) {
    const name = options.newSnapshotName.includes('@') ? options.newSnapshotName : `${srcDs}@${options.newSnapshotName}`;
    try {
      validateSnapshotName(name);
    } catch (e) {
      throw new PlanError('invalid', (e as Error).message);
    }
    if (name.slice(0, name.indexOf('@')) !== srcDs) throw new PlanError('invalid', `${name} is not a snapshot of the source ${srcDs}`);
    if (srcEntry.snapshots.some((s) => s.name === name)) throw new PlanError('target-exists', `${S}: ${name} already exists`);
    pre.push({ kind: 'snapshot-absent', host: S, name });
    return { name, isNew: true };
  }
  const newest = cmp.sourceSnapshots[cmp.sourceSnapshots.length - 1];
  if (!newest) throw new PlanError('no-source-snapshot', `${S}: ${srcDs} has no snapshot to send; give a name for a new one`);
  pre.push({ kind: 'snapshot-exists', host: S, name: newest.name, guid: newest.guid ?? '' });
  return { name: newest.name, ...(newest.guid ? { guid: newest.guid } : {}), isNew: false };
}

function snapshotStep(c: SyncContext): PlanStep {
  const { recursive, sendTo } = c;
  return commandStep(
    c.ids.next(),
    'snapshot',
    c.S,
    [c.zfs, 'snapshot', ...(recursive ? ['-r'] : []), sendTo.name],
    `Snapshot the source${recursive ? ' and its descendants' : ''}: ${sendTo.name}`,
  );
}

/** The `send -nvP` dry run for the preview (not when the snapshot is yet to be taken). */
function estimateStep(c: SyncContext, send: string[], what: string): PlanStep | undefined {
  if (!c.srcFeat.estimate || c.sendTo.isNew) return undefined;
  return commandStep(c.ids.next(), 'estimate', c.S, estimateArgv(send), `Estimate the size of ${what}`, { estimate: true });
}

/** One send (after its estimate). */
function addSend(c: SyncContext, send: string[], what: string): void {
  const e = estimateStep(c, send, what);
  if (e) c.steps.push(e);
  // push/pull: the stream does not pass through us; `-v -P` prints its progress where we can read it.
  const sent = c.pair.route !== 'relay' && c.srcFeat.estimate ? progressSendArgv(send) : send;
  c.steps.push(transferStep(c.pair, c.ids.next(), what + c.recvNote, sent, c.recv, c.options.route));
}

/** After the sends: bookmark the newest snapshot sent, so a prune of it on the source does not lose the base. */
function bookmarkStep(c: SyncContext): PlanStep | undefined {
  const { options, sendTo, S } = c;
  if (!(options.bookmark ?? true) || c.recursive || !c.srcFeat.bookmarks) {
    if (options.bookmark && c.recursive) c.warnings.push('No bookmark of the sent snapshot: zfs bookmark has no -r (recursive pair).');
    else if (options.bookmark && !c.srcFeat.bookmarks) c.warnings.push(`No bookmark of the sent snapshot: ${S} has no bookmarks.`);
    return undefined;
  }
  const name = syncBookmarkName(sendTo.name);
  if (!isValidName(name, 'bookmark')) {
    c.warnings.push(`No bookmark of the sent snapshot: ${name} is not a valid bookmark name (too long?).`);
    return undefined;
  }
  if (c.srcEntry.bookmarks.some((b) => b.name === name || (sendTo.guid !== undefined && b.guid === sendTo.guid))) return undefined;
  if (may(options.facts?.source, 'bookmark') === false) {
    if (options.bookmark)
      c.warnings.push(
        `No bookmark of the sent snapshot: ${options.facts!.source!.user} may not bookmark on ${S} (zfs allow -u ${options.facts!.source!.user} bookmark ${c.srcDs}).`,
      );
    return undefined;
  }
  return commandStep(
    c.ids.next(),
    'bookmark',
    S,
    bookmarkArgv(c.zfs, sendTo.name, name),
    `Bookmark the sent snapshot on the source (${name}): the next sync can start from it after @${snapName(sendTo.name)} is pruned`,
    { mayFail: 'the data is sent: a missing bookmark only means the next sync needs @' + snapName(sendTo.name) + ' itself' },
  );
}

function addBookmark(c: SyncContext): void {
  const mark = bookmarkStep(c);
  if (mark) c.steps.push(mark);
}

function part(c: SyncContext, title: string, summary: string): SyncPart {
  const x = c.exclusion;
  const left = x?.roots.length ? ` Left out by the pair's exclude patterns (not sent, not counted): ${excludedList(x)}.` : '';
  return { title, summary: summary + left, steps: c.steps, preconditions: c.pre, warnings: c.warnings, comparison: c.cmp };
}

/** In a send's description: the excluded children it leaves out. */
function leftOut(c: SyncContext): string {
  const n = c.exclusion?.all.length ?? 0;
  return n ? ` except the ${n} excluded (-X)` : '';
}

/** `a/tmp (and 2 descendants), a/cache`: the excluded roots, each with how many below it go too. */
export function excludedList(x: Exclusion): string {
  return x.roots
    .map((r) => {
      const below = x.all.filter((d) => d.startsWith(`${r}/`)).length;
      return below ? `${r} (and ${below} descendant${below === 1 ? '' : 's'})` : r;
    })
    .join(', ');
}

/**
 * A recursive pair's `exclude` (issue 12 §6): the excluded children's topmost datasets go to
 * `zfs send -X`, which only OpenZFS 2.2+ has (refused elsewhere, never sent whole instead). A
 * child the target received before it was excluded stays as it is (zfs recv never gets -F here),
 * no longer updated: said.
 */
function applyExclusion(
  pair: ReplicationPair,
  S: string,
  srcDs: string,
  src: HostListing,
  T: string,
  dstDs: string,
  dst: HostListing,
  flags: string[],
  warnings: string[],
): Exclusion | undefined {
  const patterns = pair.options.exclude;
  if (!pair.options.recursive || !patterns?.length) return undefined;
  const x = exclusionOf(src, srcDs, patterns);
  if (x.roots.length === 0) {
    warnings.push(`The pair's exclude patterns (${patterns.join(', ')}) match no child of ${S}:${srcDs}: every descendant is sent.`);
    return x;
  }
  if (!streamFeatures(src.capabilities).exclude)
    throw new PlanError(
      'unsupported',
      `${S}:${srcDs}: the pair excludes ${excludedList(x)}, but ${S}'s zfs (${src.capabilities.versionText}) cannot leave children out of a recursive stream (zfs send -X needs OpenZFS 2.2 or later). Nothing is sent whole instead: upgrade it, or replicate the wanted children as pairs of their own.`,
    );
  flags.splice(flags.indexOf('-R') + 1, 0, '-X', x.roots.join(','));
  const stale = x.all.map((d) => `${dstDs}${d.slice(srcDs.length)}`).filter((d) => dst.datasets.has(d));
  if (stale.length)
    warnings.push(
      `${T} has ${stale.join(', ')}, received before ${stale.length === 1 ? 'it was' : 'they were'} excluded: left as ${stale.length === 1 ? 'it is' : 'they are'} (nothing is destroyed) and no longer updated. Destroy ${stale.length === 1 ? 'it' : 'them'} on ${T} if no longer wanted.`,
    );
  return x;
}

function targetExists(c: SyncContext, dstEntry: DatasetEntry): Precondition {
  return { kind: 'dataset-exists', host: c.T, dataset: c.dstDs, ...(dstEntry.object.guid ? { guid: dstEntry.object.guid } : {}) };
}

/**
 * A partially received stream on the target: resume it (the next sync plans from there), or, when
 * the source no longer has what it sends (a stale token), discard it, once confirmed. Undefined: nothing to resume.
 */
function resumePart(c: SyncContext): SyncPart | undefined {
  const { T, dstDs, dstEntry } = c;
  const token = dstEntry?.object.receiveResumeToken;
  if (!dstEntry || !token || !c.srcFeat.resume || !c.dstFeat.resume) return undefined;
  const check = checkResumeToken(token, c.src, c.srcDs, c.recursive);
  c.pre.push(targetExists(c, dstEntry));
  c.pre.push({ kind: 'resume-token', host: T, dataset: dstDs, token });
  if (check.stale) return discardStalePart(c, dstEntry, check.stale, check.info?.bytes);
  if (check.sending) {
    // Re-checked right before the resume: the snapshot it sends still exists with the same guid.
    c.pre.push({ kind: 'snapshot-exists', host: c.S, name: check.sending.name, guid: check.sending.guid ?? '' });
    if (check.from) c.pre.push({ kind: 'snapshot-exists', host: c.S, name: check.from.name, guid: check.from.guid ?? '' });
  } else if (check.unreadable) {
    c.warnings.push(
      `The resume token of ${dstDs} could not be read (${check.unreadable}): whether the source still has what it sends is known only when the resume runs.`,
    );
  }
  addSend(
    c,
    resumeSendArgv(c.zfs, token),
    `Resume the interrupted receive into ${dstDs}${check.sending ? ` (@${snapName(check.sending.name)}${check.info?.bytes !== undefined ? `, ${check.info.bytes} bytes already received` : ''})` : ''}`,
  );
  c.warnings.push(`${T}: ${dstDs} holds a partially received stream; this plan only resumes it. Plan the sync again afterwards to send what remains.`);
  return part(c, `Resume ${c.S}:${c.srcDs} → ${T}:${dstDs}`, `Resume the interrupted receive into ${T}:${dstDs} (receive_resume_token).`);
}

/** A stale resume token: discard the partial stream (zfs recv -A, confirmed); the sync is planned again afterwards. */
function discardStalePart(c: SyncContext, dstEntry: DatasetEntry, stale: string, receivedBytes: number | undefined): SyncPart {
  const { T, dstDs } = c;
  const first = dstEntry.snapshots.length === 0;
  const partial: HostObject = first
    ? {
        host: T,
        name: dstDs,
        ...(dstEntry.object.guid ? { guid: dstEntry.object.guid } : {}),
        what: 'its first receive was cut: it holds only the partially received stream, no snapshot',
      }
    : { host: T, name: `${dstDs}/%recv`, what: 'the partially received stream' };
  c.steps.push(
    commandStep(
      c.ids.next(),
      'destroy',
      T,
      abortRecvArgv(c.zfs, dstDs),
      `Discard the partially received stream in ${dstDs} (zfs recv -A): it cannot be resumed, ${stale}`,
      {
        destroys: { ...emptyDestroys(), datasets: [partial] },
        confirm: true,
      },
    ),
  );
  if (!first) c.pre.push({ kind: 'snapshots', host: T, dataset: dstDs, snapshots: c.cmp.targetSnapshots.map((x) => ({ name: x.name, guid: x.guid ?? '' })) });
  c.warnings.push(
    `${T}: the resume token of ${dstDs} is stale: ${stale}. ${first ? `${dstDs} received nothing complete yet: discarding the stream destroys the dataset (${dstEntry.object.referenced ?? '?'} bytes referenced).` : `Its snapshots are kept; only the partial stream (${receivedBytes ?? '?'} bytes received) is destroyed.`} Plan the sync again afterwards.`,
  );
  return part(
    c,
    `Discard the stale partial receive ${T}:${dstDs}`,
    `The partially received stream in ${T}:${dstDs} cannot be resumed: resume token is stale: ${stale}. Discard it with zfs recv -A (confirmed), then sync again.`,
  );
}

/** Nothing received yet: a full send (after making room for it), then the bookmark. */
function fullSendPart(c: SyncContext, dstEntry: DatasetEntry | undefined): SyncPart {
  const { S, T, srcDs, dstDs, sendTo, recursive, intermediates, cmp } = c;
  if (dstEntry) destroyEmptyTarget(c, dstEntry);
  else createTargetParent(c);
  if (recursive) recursiveStreamChecks(c, undefined);
  if (sendTo.isNew) c.steps.push(snapshotStep(c));
  fullSends(c);
  addBookmark(c);
  markGroupReplica(c);
  const n = recursive || !intermediates ? 1 : cmp.sourceSnapshots.length + (sendTo.isNew ? 1 : 0);
  return part(
    c,
    c.title,
    `${T}:${dstDs} ${dstEntry ? 'has no snapshot' : 'does not exist'}: a full send creates it from ${S}:${srcDs} (${n} snapshot${n === 1 ? '' : 's'}, up to @${snapName(sendTo.name)}).`,
  );
}

/**
 * A group's replica is born read-only and says what it is (issue 12 §1): after its first receive,
 * readonly=on and its role properties, one `zfs set` each (zfs-fuse's takes one). The data has
 * arrived by then, so a set the receiving user may not do (no `readonly` or `userprop` permission)
 * is reported and does not fail the sync.
 */
function markGroupReplica(c: SyncContext): void {
  const group = c.pair.group;
  if (group === undefined) return;
  const { T, dstDs } = c;
  const props: [string, string][] = [
    ['readonly', 'on'],
    ['zfs-fleet:role', 'replica'],
    ['zfs-fleet:group', group],
    ['zfs-fleet:primary', `${c.S}:${c.srcDs}`],
  ];
  for (const [p, v] of props)
    c.steps.push(
      commandStep(c.ids.next(), 'set', T, [c.zfs, 'set', `${p}=${v}`, dstDs], `Mark the new replica of group ${group}: ${p}=${v}`, {
        mayFail: `the data is received; zfs-fleet roles ${group} sets it later (the receiving user may lack the ${p === 'readonly' ? 'readonly' : 'userprop'} permission)`,
      }),
    );
}

/** The target exists without snapshots: destroy it (confirmed), unless it has children. */
function destroyEmptyTarget(c: SyncContext, dstEntry: DatasetEntry): void {
  const { T, dstDs } = c;
  if (dstEntry.children.length)
    throw new PlanError(
      'target-exists',
      `${T}: ${dstDs} exists with child datasets and no snapshot; it cannot receive a full stream. Choose another target or remove it yourself.`,
    );
  c.steps.push(
    commandStep(
      c.ids.next(),
      'destroy',
      T,
      [c.zfs, 'destroy', dstDs],
      `Destroy the empty target ${dstDs} (it exists without snapshots; a full stream needs a new dataset)`,
      {
        destroys: { ...emptyDestroys(), datasets: [ref(T, dstDs, dstEntry.object.guid)] },
        confirm: true,
      },
    ),
  );
  c.warnings.push(
    `${T}: ${dstDs} exists but has no snapshot; the plan destroys it (with any files in it${dstEntry.object.referenced !== undefined ? `: ${dstEntry.object.referenced} bytes referenced` : ''}) before the full receive.`,
  );
  c.pre.push(targetExists(c, dstEntry));
  c.pre.push({ kind: 'snapshots', host: T, dataset: dstDs, snapshots: [] });
}

/** The target does not exist: create its parent when that is missing too. */
function createTargetParent(c: SyncContext): void {
  const { T, dstDs } = c;
  c.pre.push({ kind: 'dataset-absent', host: T, dataset: dstDs });
  const parent = parentDataset(dstDs);
  if (parent === undefined || c.dst.datasets.has(parent)) return;
  c.steps.push(commandStep(c.ids.next(), 'create', T, [c.zfs, 'create', '-p', parent], `Create the target's parent ${parent}`));
  c.pre.push({ kind: 'dataset-absent', host: T, dataset: parent });
}

/** One full send of everything (-R, -i, one snapshot), or the oldest snapshot in full and then -I up to the newest. */
function fullSends(c: SyncContext): void {
  const { zfs, flags, sendTo, T, dstDs, recursive } = c;
  const oldest = c.cmp.sourceSnapshots[0];
  if (recursive || !c.intermediates || !oldest || oldest.name === sendTo.name) {
    addSend(
      c,
      sendArgv(zfs, flags, sendTo.name),
      `Full send of ${sendTo.name}${recursive ? ` with its descendants${leftOut(c)} and all their snapshots (-R)` : ''} to ${T}:${dstDs}`,
    );
    return;
  }
  c.pre.push({ kind: 'snapshot-exists', host: c.S, name: oldest.name, guid: oldest.guid ?? '' });
  addSend(c, sendArgv(zfs, flags, oldest.name), `Full send of the oldest snapshot ${oldest.name} to ${T}:${dstDs}`);
  addSend(
    c,
    sendArgv(zfs, flags, sendTo.name, { flag: '-I', name: oldest.name }),
    `Incremental send of every snapshot after @${snapName(oldest.name)} up to @${snapName(sendTo.name)} (-I)`,
  );
}

/** The target has snapshots: hold the base, roll back if needed, send from the base, bookmark, release. */
function incrementalPart(c: SyncContext, dstEntry: DatasetEntry): SyncPart {
  const { S, T, srcDs, dstDs, cmp, sendTo } = c;
  const inc = incrementalBase(c);
  const written = dstEntry.object.written;
  const modified = c.options.targetModified ? 'yes' : written === undefined ? 'unknown' : written > 0 ? 'yes' : 'no';
  const needsRollback = cmp.newerOnTarget.length > 0 || modified === 'yes';
  if (c.recursive && needsRollback) {
    throw new PlanError(
      'unsupported',
      `${T}: ${dstDs} has snapshots newer than the base or was modified; rolling back a recursive target (every descendant) is not planned yet: roll back each dataset first.`,
    );
  }
  const baseLabel = inc.kind === 'bookmark' ? inc.source.name : `@${snapName(inc.source.name)}`;
  if (!sendTo.isNew && cmp.newerOnSource.length === 0) return nothingToSendPart(c, dstEntry, baseLabel);

  if (c.recursive) recursiveStreamChecks(c, inc);
  c.pre.push({ kind: 'snapshot-exists', host: S, name: inc.source.name, guid: inc.guid });
  if (sendTo.isNew) c.steps.push(snapshotStep(c));
  const releases = holdSteps(c, inc);
  let destroyed = 0;
  if (needsRollback) {
    const rb = rollbackBeforeReceive(c, inc, written);
    if ('blocked' in rb) return rb.blocked;
    destroyed = rb.destroys.snapshots.length;
  } else {
    keepTargetAsIs(c, dstEntry, inc, modified === 'unknown');
  }
  incrementalSends(c, inc);
  addBookmark(c);
  c.steps.push(...releases());
  if (cmp.sourceSnapshots.length > 1 && inc.kind === 'snapshot' && cmp.sourceSnapshots[0] === inc.source) {
    c.warnings.push(
      `The base @${snapName(inc.source.name)} is the source's oldest snapshot: had ${S} pruned it, no common snapshot would remain. Keep more snapshots on the source (never delete the last one sent).`,
    );
  }
  const count = cmp.newerOnSource.length + (sendTo.isNew ? 1 : 0);
  const sends = c.intermediates ? count : 1;
  return part(
    c,
    c.title,
    `Send ${sends} snapshot${sends === 1 ? '' : 's'} from ${S}:${srcDs} to ${T}:${dstDs}, from the common base ${baseLabel} up to @${snapName(sendTo.name)}` +
      (needsRollback ? `, after rolling the target back to the base (destroying ${destroyed} snapshot${destroyed === 1 ? '' : 's'})` : '') +
      '.',
  );
}

type Incremental = NonNullable<CommonBase['incremental']>;

/**
 * What a recursive stream needs of the tree (as OpenZFS 2.3 behaves, recorded on the lab VM): every
 * descendant that existed when the snapshot was taken has it, excluded ones too, or the send fails
 * ("cannot send X@s recursively: snapshot Y@s does not exist"); and the target has every sent child
 * the source had at the base, or the receive stops half done ("destination ... does not exist"), or
 * the child's increment lands in another dataset of the target's pool that holds the same snapshot.
 */
function recursiveStreamChecks(c: SyncContext, inc: Incremental | undefined): void {
  const { S, T, srcDs, dstDs, sendTo } = c;
  if (!sendTo.isNew) {
    const snap = snapName(sendTo.name);
    const top = c.srcEntry.snapshots.find((x) => x.name === sendTo.name);
    const lacking = exclusionOf(c.src, srcDs, undefined).sent.filter((d) => {
      const e = c.src.datasets.get(d)!;
      if (e.snapshots.some((x) => x.name === `${d}@${snap}`)) return false;
      // A child created after the snapshot is skipped by zfs send -R (said in its output).
      const [born, taken] =
        e.object.createtxg !== undefined && top?.createtxg !== undefined ? [e.object.createtxg, top.createtxg] : [e.object.creation, top?.creation];
      return born === undefined || taken === undefined || born <= taken;
    });
    if (lacking.length)
      throw new PlanError(
        'no-source-snapshot',
        `${S}: a recursive send of @${snap} needs it on every descendant (excluded ones too), and ${lacking.join(', ')} lack${lacking.length === 1 ? 's' : ''} it. Snapshot ${lacking.length === 1 ? 'it' : 'them'} (zfs snapshot ${lacking[0]}@${snap}), or sync with a new snapshot (taken recursively).`,
      );
  }
  if (!inc || inc.kind !== 'snapshot') return;
  const { lost } = missingChildren(c.src, srcDs, c.dst, dstDs, exclusionOf(c.src, srcDs, c.pair.options.exclude).sent, snapName(inc.source.name));
  if (lost.length)
    throw new PlanError(
      'unsupported',
      `${T}: ${dstDs} lacks ${lost.map((d) => `${dstDs}${d.slice(srcDs.length)}`).join(', ')}, which ${S} had at the common base @${snapName(inc.source.name)}: an incremental recursive stream cannot be received there (the receive stops half done: "destination does not exist"), or the child's changes land in another dataset of ${T} holding that snapshot. Replicate ${lost.length === 1 ? 'it' : 'each'} on its own first (a pair ${lost[0]} → ${dstDs}${lost[0]!.slice(srcDs.length)}), or add ${lost.length === 1 ? 'it' : 'them'} to the pair's exclude.`,
    );
}

/** The common base an incremental send starts from; a full send over existing snapshots or no common base is refused. */
function incrementalBase(c: SyncContext): Incremental {
  const { S, T, srcDs, dstDs, cmp } = c;
  if (c.options.incremental === 'full') {
    throw new PlanError(
      'target-exists',
      `${T}: ${dstDs} already has snapshots; a full send needs a target that does not exist (destroy or rename it yourself, or send incrementally).`,
    );
  }
  if (cmp.incremental) return cmp.incremental;
  const st = pairState(c.pair, c.src, c.dst);
  throw new PlanError(
    'no-common-base',
    `${T}:${dstDs} and ${S}:${srcDs} have no snapshot in common (${st.noCommon?.reason ?? 'unrelated'}): ${st.noCommon?.detail ?? ''}. ` +
      `An incremental send is impossible and a full send would have to destroy the target's ${cmp.targetSnapshots.length} snapshot(s); ` +
      `ZFS Fleet does not plan that. Rename or destroy the target yourself, or replicate to a new target.`,
  );
}

/** The target already has the snapshot sent up to: no steps; the plan guards the target's newest snapshot. */
function nothingToSendPart(c: SyncContext, dstEntry: DatasetEntry, baseLabel: string): SyncPart {
  const newer = c.cmp.newerOnTarget;
  const extra = newer.length
    ? ` The target has ${newer.length} snapshot(s) newer than the base (${newer.map((s) => '@' + snapName(s.name)).join(', ')}); nothing is destroyed since there is nothing to send.`
    : '';
  if (extra) c.warnings.push(extra.trim());
  c.pre.push({ kind: 'newest-snapshot', host: c.T, dataset: c.dstDs, guid: dstEntry.snapshots[0]?.guid ?? null, name: dstEntry.snapshots[0]?.name });
  return { ...part(c, c.title, `Nothing to send: the target already has the source's newest snapshot ${baseLabel}.${extra}`), steps: [] };
}

/**
 * A hold is placed only where its user may also release it: a hold that cannot be released would
 * stay until root releases it (and keep the snapshot from being destroyed). False: warned why not.
 */
function mayHold(c: SyncContext, side: 'source' | 'target', host: string, ds: string): boolean {
  const u = c.options.facts?.[side];
  const hold = may(u, 'hold');
  const release = may(u, 'release');
  if (hold !== false && release !== false) return true;
  const fix = shellJoin([c.zfs, 'allow', '-u', u!.user, [hold === false ? 'hold' : '', release === false ? 'release' : ''].filter(Boolean).join(','), ds]);
  c.warnings.push(
    hold === false
      ? `The base is not held on the ${side} during the send: ${u!.user} may not hold snapshots of ${host}:${ds}. To have it held: ${fix}`
      : `The base is not held on the ${side} during the send: ${u!.user} may hold snapshots of ${host}:${ds} but not release them, and a hold it placed would stay until root releases it. To have it held: ${fix}`,
  );
  return false;
}

/**
 * Hold the base on both sides during the send (where both hosts have holds and the users may).
 * Returns the builder of the release steps (cleanups of the holds, in reverse order), numbered when called.
 */
function holdSteps(c: SyncContext, inc: Incremental): () => PlanStep[] {
  const { zfs, S, T } = c;
  const tag = c.options.holdTag ?? holdTagFor(c.pair.id);
  const r = c.recursive ? ['-r'] : [];
  const held: { host: string; snap: string; holdId: string }[] = [];
  if (c.srcFeat.holds && c.dstFeat.holds) {
    const hold = (host: string, snap: string, side: string) => {
      const h = commandStep(
        c.ids.next(),
        'hold',
        host,
        [zfs, 'hold', ...r, tag, snap],
        `Hold the base on the ${side} (${snap}, tag ${tag}) so nothing prunes it during the send`,
      );
      c.steps.push(h);
      held.unshift({ host, snap, holdId: h.id });
    };
    if (inc.kind === 'snapshot' && mayHold(c, 'source', S, c.srcDs)) hold(S, inc.source.name, 'source');
    if (mayHold(c, 'target', T, c.dstDs)) hold(T, inc.target.name, 'target');
  } else {
    c.warnings.push(`The base is not held during the send: ${!c.srcFeat.holds ? S : T} has no zfs hold.`);
  }
  return () =>
    held.map((x) =>
      commandStep(c.ids.next(), 'release', x.host, [zfs, 'release', ...r, tag, x.snap], `Release the hold ${tag} on ${x.snap}`, { cleanupOf: x.holdId }),
    );
}

/** Roll the target back to the base before the receive (never `recv -F`); blocked by clones of newer snapshots. */
function rollbackBeforeReceive(c: SyncContext, inc: Incremental, written: number | undefined): { destroys: Destroys } | { blocked: SyncPart } {
  const { T, dstDs, cmp } = c;
  const why = cmp.newerOnTarget.length ? 'the target must be exactly at the base to receive an incremental stream' : 'the target was modified since the base';
  const rb = rollbackPart(T, c.dst, inc.target.name, c.ids, { zfs: c.zfs, why });
  c.pre.push(...rb.preconditions);
  c.warnings.push(...rb.warnings);
  if (rb.steps.length === 0) {
    const clones = rb.blockingClones.map((x) => x.name);
    const reason = `${T}: ${dstDs} must be rolled back to ${inc.target.name} to receive, but clone${clones.length > 1 ? 's' : ''} ${clones.join(', ')} of ${clones.length > 1 ? 'snapshots' : 'a snapshot'} newer than the base block${clones.length > 1 ? '' : 's'} the rollback.`;
    return {
      blocked: {
        ...part(c, `${c.title} (blocked)`, `${reason} Re-base ${clones.length > 1 ? 'them' : 'it'} onto ${inc.target.name} first (see diagnose), then sync.`),
        steps: [],
        blockedBy: { reason, clones: rb.blockingClones, withDestroyClones: rb.withR },
        alternatives: ['rebase'],
      },
    };
  }
  c.steps.push(...rb.steps);
  c.warnings.push(
    cmp.newerOnTarget.length
      ? `${T}: the target has ${cmp.newerOnTarget.length} snapshot(s) newer than the base; the plan rolls it back to ${inc.target.name}, destroying ${cmp.newerOnTarget.map((s) => '@' + snapName(s.name)).join(', ')} (zfs recv -F is never used).`
      : `${T}: the target was modified since ${inc.target.name} (${written !== undefined ? `${written} bytes written` : 'as told'}); the plan rolls it back, discarding those changes (zfs recv -F is never used).`,
  );
  return { destroys: rb.destroys };
}

/** No rollback: the target must stay exactly as listed (same dataset, same snapshots). */
function keepTargetAsIs(c: SyncContext, dstEntry: DatasetEntry, inc: Incremental, modifiedUnknown: boolean): void {
  const { T, dstDs } = c;
  c.pre.push(targetExists(c, dstEntry), {
    kind: 'snapshots',
    host: T,
    dataset: dstDs,
    snapshots: c.cmp.targetSnapshots.map((s) => ({ name: s.name, guid: s.guid ?? '' })),
  });
  if (modifiedUnknown) {
    c.warnings.push(
      `${T} cannot tell whether ${dstDs} was modified since ${inc.target.name} (no \`written\` property); if it was, the receive fails with "destination has been modified since most recent snapshot": then plan a rollback to ${inc.target.name}.`,
    );
  }
}

/** The sends from the base: from a bookmark (-i first: a bookmark cannot start -I), or from the base snapshot. */
function incrementalSends(c: SyncContext, inc: Incremental): void {
  const { zfs, flags, sendTo, cmp, recursive, intermediates } = c;
  if (inc.kind === 'bookmark') {
    const first = cmp.newerOnSource[0];
    if (intermediates && !recursive && first && first.name !== sendTo.name) {
      addSend(
        c,
        sendArgv(zfs, flags, first.name, { flag: '-i', name: inc.source.name }),
        `Incremental send from the bookmark ${inc.source.name} to @${snapName(first.name)} (-i: a bookmark cannot start -I)`,
      );
      addSend(
        c,
        sendArgv(zfs, flags, sendTo.name, { flag: '-I', name: first.name }),
        `Incremental send of every snapshot after @${snapName(first.name)} up to @${snapName(sendTo.name)} (-I)`,
      );
    } else {
      addSend(
        c,
        sendArgv(zfs, flags, sendTo.name, { flag: '-i', name: inc.source.name }),
        `Incremental send from the bookmark ${inc.source.name} to @${snapName(sendTo.name)}`,
      );
    }
    c.warnings.push(`The base snapshot was pruned on ${c.S}; its bookmark ${inc.source.name} is the incremental source.`);
    return;
  }
  const incFlag: IncrementalFlag = intermediates ? '-I' : '-i';
  const skipped = intermediates ? 0 : cmp.newerOnSource.filter((s) => s.name !== sendTo.name).length;
  addSend(
    c,
    sendArgv(zfs, flags, sendTo.name, { flag: incFlag, name: inc.source.name }),
    `Incremental send from @${snapName(inc.source.name)} to @${snapName(sendTo.name)} (${incFlag}${incFlag === '-I' ? ': every snapshot in between' : ''})${recursive ? ` with descendants${leftOut(c)} (-R)` : ''}`,
  );
  if (skipped) c.warnings.push(`-i sends only @${snapName(sendTo.name)}: the ${skipped} snapshot(s) in between are not replicated.`);
}

export function planSync(pair: ReplicationPair, sourceListing: HostListing, targetListing: HostListing, options: SyncOptions = {}): Plan {
  const part = syncPart(pair, sourceListing, targetListing, options);
  const plan = makePlan({
    kind: 'sync',
    id: options.id,
    now: options.now,
    title: part.title,
    summary: part.summary,
    steps: part.steps,
    preconditions: part.preconditions,
    warnings: part.warnings,
    ...(part.blockedBy ? { blockedBy: part.blockedBy } : {}),
    ...(part.alternatives ? { alternatives: part.alternatives } : {}),
  });
  assertBaseKept(plan, part.comparison, pair);
  return plan;
}

/** The invariant: no plan destroys the last common snapshot, on either side. */
export function assertBaseKept(plan: Plan, cmp: CommonBase, pair: ReplicationPair): void {
  const inc = cmp.incremental;
  if (!inc) return;
  const base = new Set([`${pair.source.host}\0${inc.source.name}`, `${pair.target.host}\0${inc.target.name}`]);
  for (const s of plan.destroys.snapshots) {
    if (base.has(`${s.host}\0${s.name}`)) throw new Error(`internal: the plan would destroy the common base ${s.host}:${s.name}`);
  }
}
