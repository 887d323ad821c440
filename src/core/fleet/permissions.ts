/**
 * Permission audit: BEFORE a sync is tried, which delegated permissions (`zfs allow`) the users that
 * will run it lack, on which host, and the `zfs allow -u USER perms DATASET` that fixes it.
 *
 * Who runs what depends on the route (see pairs.ts):
 * - relay: the product's user on each host runs everything there;
 * - pull: the TARGET runs `ssh SOURCE zfs send | zfs recv`: `zfs send` runs as the user the target's
 *   ssh reaches the source as (`streamUser` of the source side), while the product's own commands on the
 *   source (snapshot, hold, release) run as the product's user there;
 * - push: the mirror image: `zfs recv` runs as the user the source's ssh reaches the target as.
 * Root (uid 0) needs no delegation.
 *
 * What each step needs, verified on OpenZFS 2.3.2 (the lab VM, test/lab/vm; zfs-2.3.2-2~bpo12+2,
 * kernel 6.12) as an unprivileged user with only the listed delegation; the scripts are
 * test/integration-vm/verify-permissions.sh (rerun it to re-check; results in test/integration-vm/README.md):
 *
 * Source
 * - `zfs send` (full, -i/-I, -R, -p, -t resume): `send`. It is checked on the SNAPSHOT, so a Local-only
 *   `send` on the filesystem is NOT enough (`warning: cannot send 'X@s': permission denied`); Descendent
 *   or Local+Descendent is. `send -R` as an operator delegated hold,send on the pool works.
 *   `send -nP` (estimate) needs no permission. 2.3.2 has no `send:raw`; `send` covers `-w`.
 * - `zfs snapshot` (and -r): `snapshot` alone, checked on the filesystem (Local works).
 * - `zfs hold`: `hold`; `zfs release`: `release` (each alone, on the filesystem). With hold but not
 *   release (`hold,send` only) the user places holds it cannot remove (`cannot release:
 *   permission denied`): they stay until root releases them. Reported as a warning, not required.
 * - `zfs bookmark`: `bookmark`.
 * Target
 * - `zfs recv` (full, -i/-I, `-s` and resumed `-t`, into an existing or a new filesystem):
 *   `receive,create,mount` all three; `receive` alone, `receive,create`, `receive,mount`,
 *   `create,mount` all fail with `permission denied`. For a NEW filesystem the check is on its PARENT
 *   (a Local-only grant on the parent lets the first full receive succeed, and the next incremental
 *   then fails: it is checked on the new dataset, where the parent's Local grants do not apply unless
 *   create-time permissions (`zfs allow -c`) gave them to the creator); for an existing one, on it.
 * - `receive:append` (present in 2.3.2, missing from `zfs allow`'s help list) replaces `receive` for
 *   full and incremental receives, but refuses `recv -F` (`cannot receive incremental stream:
 *   permission denied`); `recv -F` works with `receive,create,mount` (no rollback/destroy needed).
 * - Properties in the stream (`send -p`, `send -R`) or set by `recv -o`: the permission named like
 *   each property (`compression`, `mountpoint`, `recordsize`, ...; `userprop` for `a:b` user
 *   properties), checked on the received dataset. Missing ones print `cannot receive X property on
 *   D: permission denied` and the receive still exits 0 without the property. `recv -x X` does not
 *   avoid the message (it still exits 0, X not set).
 * - Mounting: non-root cannot mount on Linux, even with `mount`: `zfs recv` without `-u` receives the
 *   data, prints `cannot mount ...: failed to create mountpoint: Permission denied`, exits 0. Use `recv -u`.
 * - `zfs rollback` to the newest snapshot: `rollback` alone; `rollback -r` (destroys newer
 *   snapshots): `rollback,destroy,mount`.
 * - `zfs destroy` of a snapshot: `destroy,mount` (each alone fails), checked on the snapshot:
 *   Local-only grants on the filesystem do not count. `zfs recv -A` (abort a partial receive): the
 *   same, on the `%recv` child (incremental) or the dataset itself (first full receive).
 * - `zfs hold` / `zfs release` on the target: `hold` / `release`.
 * - Grants to the user's group (primary or supplementary) and to everyone count; permission sets
 *   (`@set`, also defined on an ancestor) count.
 */
import type { Runner } from '../runner.js';
import {
  allowSections,
  datasetChain,
  effectivePermissions,
  zfsAllowCommand,
  type AllowSections,
  type CheckTarget,
  type DatasetAllow,
  type Principal,
} from '../zfs/allow.js';
import { classifyZfsError, ZfsError } from '../zfs/errors.js';
import { parentDataset } from '../zfs/names.js';
import { shellJoin } from '../zfs/quote.js';
import type { ZfsCapabilities } from '../zfs/types.js';
import { mapLimit } from './fleet.js';
import { splitExcluded } from './exclude.js';
import type { PairOptions, ReplicationPair, Route } from './pairs.js';

/** A user on a host as `id` reports it. */
export interface UserIdentity extends Principal {
  user: string;
  uid?: number;
  groups: string[];
  gids?: number[];
}

export function isRoot(u: UserIdentity): boolean {
  return u.uid === 0 || (u.uid === undefined && u.user === 'root');
}

/** The command whose output parseIdOutput reads (one `sh -c`, so one round trip). */
export const ID_COMMAND = 'id -un && id -u && id -Gn && id -G';

/** `id -un && id -u && id -Gn && id -G`: name, uid, group names, gids. */
export function parseIdOutput(stdout: string): UserIdentity {
  const lines = stdout.split('\n').map((l) => l.trim());
  const [user, uid, groups, gids] = lines;
  if (!user || !uid || !/^\d+$/.test(uid)) throw new Error(`unexpected output of \`${ID_COMMAND}\`: ${JSON.stringify(stdout.slice(0, 200))}`);
  return {
    user,
    uid: Number(uid),
    groups: (groups ?? '').split(/\s+/).filter(Boolean),
    gids: (gids ?? '').split(/\s+/).filter(Boolean).map(Number),
  };
}

/** What the plan will do besides send | recv. */
export interface SyncPlanFlags {
  /** The base snapshot is held (and released after) on both sides, where the host has holds. */
  holds: boolean;
  /** A new snapshot of the source is taken first. */
  snapshot: boolean;
  /** The target is rolled back (`zfs rollback -r`: destroys newer snapshots). */
  rollback: boolean;
  /** Snapshots (or a partial receive, `recv -A`) are destroyed on the target. */
  destroy: boolean;
  /** `zfs recv -s` (resumable), and resuming with `zfs send -t`: needs nothing more than a receive (verified). */
  resume: boolean;
  /** `zfs recv -F`: needs `receive` itself (`receive:append` refuses it). */
  force?: boolean;
  /** A bookmark of the sent snapshot is created on the source. */
  bookmark?: boolean;
}

/** The delegations read on one host. */
export interface HostDelegations {
  /** `zfs allow` sections by dataset. */
  sections: AllowSections;
  /** Datasets whose delegations are known: those `zfs allow` was run on, and their ancestors. */
  covered: ReadonlySet<string>;
  /** false: this zfs has no delegation (`zfs allow` unsupported). */
  supported: boolean;
}

export function hostDelegations(outputs: readonly { dataset: string; allow: DatasetAllow[] }[], supported = true): HostDelegations {
  const covered = new Set<string>();
  for (const o of outputs) for (const d of datasetChain(o.dataset)) covered.add(d);
  return { sections: allowSections(...outputs.map((o) => o.allow)), covered, supported };
}

/** What is known about one side of the pair. */
export interface AuditSide {
  /** The product's user on the host (its own commands: snapshot, hold, release, rollback, destroy). */
  user: UserIdentity;
  /** pull (source) / push (target): the user the other host's ssh reaches this one as, who runs send / recv. Default: `user`. */
  streamUser?: UserIdentity;
  delegations: HostDelegations;
  /** Target: whether the dataset exists (default: whether a `zfs allow` section chain covers it). */
  exists?: boolean;
  /** Recursive pairs: the filesystems and volumes below the dataset (on the target: those that exist). */
  descendants?: string[];
  /** The host's zfs has holds (default true). */
  holds?: boolean;
}

export interface PermissionAuditInput {
  pair: Pick<ReplicationPair, 'route' | 'source' | 'target'> & { options: Pick<PairOptions, 'recursive' | 'properties' | 'raw' | 'exclude'> };
  plan: SyncPlanFlags;
  source: AuditSide;
  target: AuditSide;
  /**
   * Properties the stream carries (local and received ones of the source, for `send -p` or `-R`) plus
   * any `recv -o` ones. Undefined while properties are sent: `compression,mountpoint` are assumed (a common operator's delegation).
   */
  streamProperties?: string[];
  zfsPath?: string;
}

export interface LackingPermission {
  permission: string;
  /** The dataset the check is made on (for `descendants`, the filesystem whose snapshots or children are checked). */
  dataset: string;
  on: CheckTarget;
  /** The steps that need it. */
  why: string[];
}

export interface HostPermissionReport {
  side: 'source' | 'target';
  host: string;
  user: string;
  /** stream: runs zfs send / zfs recv; commands: the plan's own commands (snapshot, hold, rollback, ...). */
  roles: ('stream' | 'commands')[];
  root: boolean;
  /** The pair's dataset on this side. */
  dataset: string;
  /** Every permission this user needs here (sorted). */
  required: string[];
  /** Those it lacks (sorted); empty when all is well. */
  lacking: string[];
  details: LackingPermission[];
  /** What an admin runs (as root) to grant the lacking permissions. */
  fix?: { dataset: string; argv: string[]; command: string };
  warnings: string[];
  notes: string[];
}

export interface PermissionAudit {
  /** No report lacks anything (warnings may remain). */
  ok: boolean;
  reports: HostPermissionReport[];
}

/** Property permissions a typical delegated operator's target has, assumed when the stream's properties are not known. */
export const ASSUMED_STREAM_PROPERTIES = ['compression', 'mountpoint'];

/** The permission that lets a user receive or set a property: its own name, or `userprop` for user properties (`a:b`). */
export function propertyPermission(property: string): string {
  return property.includes(':') ? 'userprop' : property;
}

interface Requirement {
  permission: string;
  /** Any of these also satisfies it (receive:append for receive). */
  alternatives?: string[];
  dataset: string;
  on: CheckTarget;
  role: 'stream' | 'commands';
  why: string;
}

function requirements(
  input: PermissionAuditInput,
  targetExists: boolean,
): { source: Requirement[]; target: Requirement[]; notes: { source: string[]; target: string[] } } {
  const { pair, plan, source, target } = input;
  const S = pair.source.name!.full;
  const T = pair.target.name!.full;
  const recursive = pair.options.recursive;
  const src: Requirement[] = [];
  const dst: Requirement[] = [];
  const notes = { source: [] as string[], target: [] as string[] };
  const srcDatasets = recursive ? [S, ...(source.descendants ?? [])] : [S];
  const sendWhat = `zfs send${recursive ? ' -R' : ''}${pair.options.properties && !recursive ? ' -p' : ''}${pair.options.raw ? ' -w' : ''}${plan.resume ? ' (and send -t to resume)' : ''}`;
  for (const d of srcDatasets) src.push({ permission: 'send', dataset: d, on: 'descendants', role: 'stream', why: `${sendWhat} of ${d}@…` });
  if (plan.snapshot)
    for (const d of srcDatasets)
      src.push({ permission: 'snapshot', dataset: d, on: 'dataset', role: 'commands', why: `zfs snapshot${recursive ? ' -r' : ''} ${d}@…` });
  const srcHolds = plan.holds && source.holds !== false;
  if (srcHolds) for (const d of srcDatasets) src.push({ permission: 'hold', dataset: d, on: 'dataset', role: 'commands', why: `zfs hold of the base ${d}@…` });
  if (plan.bookmark) src.push({ permission: 'bookmark', dataset: S, on: 'dataset', role: 'commands', why: `zfs bookmark ${S}@… ${S}#…` });

  // The target: an existing dataset is checked on itself; a new one first on its parent (the first
  // receive), then on itself as created by the receiving user (every later sync).
  const parent = parentDataset(T) ?? T;
  const recvAlt = plan.force ? undefined : ['receive:append'];
  const recvWhat = `zfs recv${plan.force ? ' -F' : ''}${plan.resume ? ' -s' : ''} -u into ${T}`;
  const onT: { dataset: string; on: CheckTarget } = { dataset: T, on: targetExists ? 'dataset' : 'created' };
  const receivePerms = (dataset: string, on: CheckTarget, why: string) => {
    dst.push({ permission: 'receive', alternatives: recvAlt, dataset, on, role: 'stream', why });
    dst.push({ permission: 'create', dataset, on, role: 'stream', why });
    dst.push({ permission: 'mount', dataset, on, role: 'stream', why });
  };
  if (!targetExists) receivePerms(parent, 'dataset', `${recvWhat} (first, full receive: checked on the parent ${parent})`);
  receivePerms(T, targetExists ? 'dataset' : 'created', targetExists ? recvWhat : `${recvWhat} (every later incremental receive: checked on ${T} itself)`);
  if (recursive) for (const d of target.descendants ?? []) receivePerms(d, 'dataset', `zfs recv of the -R stream into ${d}`);
  if (pair.options.properties || recursive) {
    const props = input.streamProperties ?? ASSUMED_STREAM_PROPERTIES;
    if (input.streamProperties === undefined)
      notes.target.push(`The properties the stream carries are not known: ${ASSUMED_STREAM_PROPERTIES.join(', ')} assumed.`);
    const perms = [...new Set(props.map(propertyPermission))].sort();
    for (const p of perms) {
      const names = props.filter((x) => propertyPermission(x) === p).join(', ');
      dst.push({
        permission: p,
        ...onT,
        role: 'stream',
        why: `the stream's ${names} propert${names.includes(',') ? 'ies' : 'y'} (zfs send ${recursive ? '-R' : '-p'}; without it the receive prints "cannot receive ${p === 'userprop' ? names.split(', ')[0] : p} property" and leaves it unset)`,
      });
    }
  }
  if (plan.rollback) {
    dst.push({ permission: 'rollback', ...onT, role: 'commands', why: `zfs rollback -r on ${T}` });
    // Checked on the snapshots: even for a dataset the user created, its create-time (Local) grants do not reach them.
    for (const p of ['destroy', 'mount'])
      dst.push({ permission: p, dataset: T, on: 'descendants', role: 'commands', why: `zfs rollback -r on ${T} destroys the newer snapshots` });
  }
  if (plan.destroy)
    for (const p of ['destroy', 'mount'])
      dst.push({ permission: p, dataset: T, on: 'descendants', role: 'commands', why: `zfs destroy of snapshots of ${T} (or recv -A of a partial receive)` });
  const dstHolds = plan.holds && target.holds !== false;
  if (dstHolds) for (const p of ['hold', 'release']) dst.push({ permission: p, ...onT, role: 'commands', why: `zfs ${p} of the base on ${T}` });
  return { source: src, target: dst, notes };
}

const keyOf = (u: UserIdentity) => (u.uid !== undefined ? `#${u.uid}` : u.user);

function auditSide(
  side: 'source' | 'target',
  host: string,
  dataset: string,
  facts: AuditSide,
  reqs: Requirement[],
  route: Route,
  sideNotes: string[],
  fixDataset: string,
  /** Datasets known not to exist yet (the target before its first receive, missing parents): no delegations to read there. */
  missing: ReadonlySet<string>,
  zfsPath: string,
  extra: (user: UserIdentity, has: (perm: string, r: Requirement) => boolean) => { warnings: string[]; notes: string[] },
): HostPermissionReport[] {
  const streamRemote = (side === 'source' && route === 'pull') || (side === 'target' && route === 'push');
  const streamUser = streamRemote && facts.streamUser ? facts.streamUser : facts.user;
  const byUser = new Map<string, { user: UserIdentity; roles: Set<'stream' | 'commands'>; reqs: Requirement[] }>();
  for (const r of reqs) {
    const u = r.role === 'stream' ? streamUser : facts.user;
    let e = byUser.get(keyOf(u));
    if (!e) byUser.set(keyOf(u), (e = { user: u, roles: new Set(), reqs: [] }));
    e.roles.add(r.role);
    e.reqs.push(r);
  }
  if (byUser.size === 0) byUser.set(keyOf(facts.user), { user: facts.user, roles: new Set(['commands']), reqs: [] });
  const reports: HostPermissionReport[] = [];
  for (const { user, roles, reqs: rs } of byUser.values()) {
    const root = isRoot(user);
    const required = [...new Set(rs.map((r) => r.permission))].sort();
    const report: HostPermissionReport = {
      side,
      host,
      user: user.user,
      roles: [...roles].sort(),
      root,
      dataset,
      required,
      lacking: [],
      details: [],
      warnings: [],
      notes: [...sideNotes],
    };
    if (streamRemote && roles.has('stream') && !facts.streamUser)
      report.notes.push(
        `${route}: zfs ${side === 'source' ? 'send' : 'recv'} runs as the user the ${side === 'source' ? 'target' : 'source'} host's ssh reaches ${host} as; assumed to be ${user.user} (the product's user).`,
      );
    if (root) {
      report.notes.push('root needs no delegation.');
      reports.push(report);
      continue;
    }
    if (!facts.delegations.supported) {
      report.lacking = required;
      report.warnings.push(`${host}: this zfs has no delegation (zfs allow): only root can run these commands.`);
      reports.push(report);
      continue;
    }
    const cache = new Map<string, Set<string>>();
    // Create-time permissions go to the user who creates the dataset: the one running zfs recv.
    const creator = keyOf(user) === keyOf(streamUser);
    const permsFor = (r: Requirement): Set<string> => {
      const on: CheckTarget = r.on === 'created' && !creator ? 'dataset' : r.on;
      const k = `${on}\u0000${r.dataset}`;
      let s = cache.get(k);
      if (!s) cache.set(k, (s = effectivePermissions(facts.delegations.sections, r.dataset, user, on)));
      return s;
    };
    const has = (perm: string, r: Requirement) => {
      const s = permsFor({ ...r, permission: perm });
      return s.has(perm);
    };
    const unknown = new Set<string>();
    const details = new Map<string, LackingPermission>();
    for (const r of rs) {
      for (const d of datasetChain(r.dataset)) if (!missing.has(d) && !facts.delegations.covered.has(d)) unknown.add(d);
      const s = permsFor(r);
      if (s.has(r.permission) || (r.alternatives ?? []).some((a) => s.has(a))) continue;
      const k = `${r.permission}\u0000${r.dataset}\u0000${r.on}`;
      const e = details.get(k);
      if (e) {
        if (!e.why.includes(r.why)) e.why.push(r.why);
      } else details.set(k, { permission: r.permission, dataset: r.dataset, on: r.on, why: [r.why] });
    }
    if (unknown.size > 0) report.warnings.push(`The delegations on ${[...unknown].sort().join(', ')} were not read: the result may miss grants made there.`);
    report.details = [...details.values()];
    report.lacking = [...new Set(report.details.map((d) => d.permission))].sort();
    if (report.lacking.length > 0) {
      const argv = [zfsPath, 'allow', '-u', user.user, report.lacking.join(','), fixDataset];
      report.fix = { dataset: fixDataset, argv, command: shellJoin(argv) };
    }
    const more = extra(user, has);
    report.warnings.push(...more.warnings);
    report.notes.push(...more.notes);
    reports.push(report);
  }
  return reports;
}

/** Which delegated permissions each (non-root) user of a sync lacks, per host, with the fix. Pure: no command runs. */
export function auditPermissions(input: PermissionAuditInput): PermissionAudit {
  const { pair, plan } = input;
  const zfsPath = input.zfsPath ?? 'zfs';
  const S = pair.source.name!.full;
  const T = pair.target.name!.full;
  const targetExists = input.target.exists ?? input.target.delegations.covered.has(T);
  const { source, target, notes } = requirements(input, targetExists);
  // The fix grants Local+Descendent on the source dataset, and on the target dataset, or, before the
  // first receive, on its nearest existing ancestor (the parent, where the first receive is checked).
  // `covered` holds only datasets that exist (those `zfs allow` answered for, and their ancestors).
  const parent = parentDataset(T);
  let targetFix = T;
  const missing = new Set<string>();
  if (!targetExists) {
    targetFix = parent ?? T;
    const between = [T];
    for (let d: string | undefined = parent; d !== undefined; d = parentDataset(d)) {
      if (input.target.delegations.covered.has(d)) {
        targetFix = d;
        for (const m of between) missing.add(m);
        break;
      }
      between.push(d);
    }
  }
  if (!targetExists && parent !== undefined && targetFix !== parent)
    notes.target.push(
      `${parent} does not exist: zfs recv needs the parent of ${T}; create it first (zfs create -u -p, as root or a user with create,mount on ${targetFix}).`,
    );
  const srcHolds = plan.holds && input.source.holds !== false;
  const reports = [
    ...auditSide('source', pair.source.host, S, input.source, source, pair.route, notes.source, S, new Set(), zfsPath, (user, has) => {
      const warnings: string[] = [];
      if (srcHolds && !isRoot(user)) {
        const r: Requirement = { permission: 'release', dataset: S, on: 'dataset', role: 'commands', why: '' };
        if (has('hold', r) && !has('release', r))
          warnings.push(
            `${user.user} may hold snapshots of ${S} but not release them: the holds this sync places stay until root releases them (\`zfs holds -r ${S}\`), and snapshots with holds cannot be destroyed. To let it release: ${shellJoin([zfsPath, 'allow', '-u', user.user, 'release', S])}`,
          );
      }
      return { warnings, notes: [] };
    }),
    ...auditSide('target', pair.target.host, T, input.target, target, pair.route, notes.target, targetFix, missing, zfsPath, (user, has) => {
      const out = { warnings: [] as string[], notes: [] as string[] };
      if (isRoot(user)) return out;
      out.notes.push(
        'Non-root cannot mount on Linux: receive with `zfs recv -u` (without it the data is received, the mount fails and zfs still exits 0); the replica stays unmounted.',
      );
      if (!plan.force) {
        const r: Requirement = { permission: 'receive', dataset: targetExists ? T : (parent ?? T), on: 'dataset', role: 'stream', why: '' };
        if (!has('receive', r) && has('receive:append', r)) out.notes.push('receive:append (not receive) is delegated: zfs recv -F will be refused.');
      }
      return out;
    }),
  ];
  return { ok: reports.every((r) => r.lacking.length === 0), reports };
}

// ---------------------------------------------------------------------------------------------
// Gathering the facts from the hosts

/** A host as the gatherer needs it; ZfsHost fits. */
export interface AuditHost {
  readonly name: string;
  readonly runner: Runner;
  capabilities?(): Promise<ZfsCapabilities>;
}

export interface GatherOptions {
  zfsPath?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** pull: the argv the target uses to reach the source (`ssh -o BatchMode=yes [-p P] [user@]host`); the identity zfs send runs as is read through it. */
  sshFromTarget?: string[];
  /** push: the argv the source uses to reach the target. */
  sshFromSource?: string[];
  /** How many `zfs allow` run at once per host (recursive pairs). Default 4. */
  concurrency?: number;
}

export interface GatheredFacts {
  source: AuditSide;
  target: AuditSide;
  streamProperties?: string[];
  /** Every command run, per host, for the log. */
  commands: { host: string; argv: string[]; exitCode: number | null }[];
}

/**
 * Read what the audit needs from both hosts: `id` of each user (through the other host's ssh for the
 * stream user of a pull or push, when its argv is given), `zfs allow` of each dataset (each output
 * holds the ancestors too; a missing target is asked about through its nearest existing ancestor),
 * the descendants for recursive pairs, and the properties the stream will carry.
 */
export async function gatherPermissionFacts(
  pair: PermissionAuditInput['pair'],
  hosts: { source: AuditHost; target: AuditHost },
  opts: GatherOptions = {},
): Promise<GatheredFacts> {
  const zfs = opts.zfsPath ?? 'zfs';
  const commands: GatheredFacts['commands'] = [];
  const run = async (h: AuditHost, argv: string[]) => {
    const res = await h.runner.run(argv, { timeoutMs: opts.timeoutMs ?? 60_000, signal: opts.signal });
    commands.push({ host: h.name, argv, exitCode: res.exitCode });
    return res;
  };
  const identity = async (h: AuditHost, via?: string[]): Promise<UserIdentity> => {
    const argv = via ? [...via, ID_COMMAND] : ['sh', '-c', ID_COMMAND];
    const res = await run(h, argv);
    if (res.exitCode !== 0) throw new ZfsError(h.name, argv, res.exitCode, res.stderr);
    return parseIdOutput(res.stdout);
  };
  let allowSupported = { source: true, target: true };
  /** `zfs allow D`, walking up while D does not exist; returns the dataset asked about and whether the first one existed. */
  const allowOf = async (side: 'source' | 'target', h: AuditHost, dataset: string): Promise<{ asked: string; exists: boolean; allow: DatasetAllow[] }> => {
    let d: string | undefined = dataset;
    let exists = true;
    while (d !== undefined) {
      const cmd = zfsAllowCommand(zfs, d);
      const res = await run(h, cmd.argv);
      if (res.exitCode === 0) return { asked: d, exists, allow: cmd.parse(res.stdout) };
      const kind = classifyZfsError(res.stderr, res.exitCode);
      if (kind === 'not-found') {
        exists = false;
        d = parentDataset(d);
        continue;
      }
      if (kind === 'unsupported') {
        allowSupported = { ...allowSupported, [side]: false };
        return { asked: d, exists, allow: [] };
      }
      throw new ZfsError(h.name, cmd.argv, res.exitCode, res.stderr);
    }
    throw new ZfsError(h.name, [zfs, 'allow', dataset], 1, `cannot open '${dataset}': no ancestor of it exists`, 'not-found');
  };
  const children = async (h: AuditHost, dataset: string): Promise<string[]> => {
    const argv = [zfs, 'list', '-H', '-o', 'name', '-r', '-t', 'filesystem,volume', dataset];
    const res = await run(h, argv);
    if (res.exitCode !== 0) throw new ZfsError(h.name, argv, res.exitCode, res.stderr);
    // A recursive pair's excluded children are not sent nor received: no permission is needed on them.
    return splitExcluded(
      dataset,
      res.stdout.split('\n').filter((n) => n !== '' && n !== dataset),
      pair.options.exclude,
    ).sent;
  };
  const S = pair.source.name!.full;
  const T = pair.target.name!.full;
  const recursive = pair.options.recursive;
  const streamVia = {
    source: pair.route === 'pull' && opts.sshFromTarget ? { host: hosts.target, argv: opts.sshFromTarget } : undefined,
    target: pair.route === 'push' && opts.sshFromSource ? { host: hosts.source, argv: opts.sshFromSource } : undefined,
  };
  const side = async (which: 'source' | 'target', h: AuditHost, dataset: string) => {
    const [user, streamUser, main, caps] = await Promise.all([
      identity(h),
      streamVia[which] ? identity(streamVia[which]!.host, streamVia[which]!.argv) : Promise.resolve(undefined),
      allowOf(which, h, dataset),
      h.capabilities ? h.capabilities() : Promise.resolve(undefined),
    ]);
    if (which === 'source' && !main.exists)
      throw new ZfsError(h.name, [zfs, 'allow', dataset], 1, `cannot open '${dataset}': dataset does not exist (the source of the pair)`, 'not-found');
    const outputs = [{ dataset: main.asked, allow: main.allow }];
    let descendants: string[] | undefined;
    if (recursive && main.exists && allowSupported[which]) {
      descendants = await children(h, dataset);
      const more = await mapLimit(descendants, opts.concurrency ?? 4, (d) => allowOf(which, h, d));
      for (const r of more) {
        if (r.status === 'rejected') throw r.reason;
        outputs.push({ dataset: r.value.asked, allow: r.value.allow });
      }
    }
    const facts: AuditSide = { user, delegations: hostDelegations(outputs, allowSupported[which]), exists: main.exists };
    if (streamUser) facts.streamUser = streamUser;
    if (descendants) facts.descendants = descendants;
    if (caps) facts.holds = caps.holds;
    return facts;
  };
  const propsOf = async (): Promise<string[] | undefined> => {
    if (!pair.options.properties && !recursive) return undefined;
    const argv = [zfs, 'get', '-H', ...(recursive ? ['-r'] : []), '-s', 'local,received', '-o', 'property', 'all', S];
    const res = await run(hosts.source, argv);
    if (res.exitCode !== 0) throw new ZfsError(hosts.source.name, argv, res.exitCode, res.stderr);
    return [...new Set(res.stdout.split('\n').filter(Boolean))].sort();
  };
  const [source, target, streamProperties] = await Promise.all([side('source', hosts.source, S), side('target', hosts.target, T), propsOf()]);
  const out: GatheredFacts = { source, target, commands };
  if (streamProperties !== undefined) out.streamProperties = streamProperties;
  return out;
}

/** Gather from the hosts, then audit: the one call the CLI and the extension make. */
export async function auditPairPermissions(
  pair: PermissionAuditInput['pair'],
  hosts: { source: AuditHost; target: AuditHost },
  plan: SyncPlanFlags,
  opts: GatherOptions = {},
): Promise<PermissionAudit & { facts: GatheredFacts }> {
  const facts = await gatherPermissionFacts(pair, hosts, opts);
  const input: PermissionAuditInput = { pair, plan, source: facts.source, target: facts.target };
  if (facts.streamProperties !== undefined) input.streamProperties = facts.streamProperties;
  if (opts.zfsPath !== undefined) input.zfsPath = opts.zfsPath;
  return { ...auditPermissions(input), facts };
}

/** A plain-text rendering (CLI, log): one block per host and user. */
export function formatPermissionAudit(audit: PermissionAudit): string {
  const out: string[] = [];
  for (const r of audit.reports) {
    const head = `${r.side} ${r.host}:${r.dataset} as ${r.user}${r.root ? ' (root)' : ''} [${r.roles.join(', ')}]`;
    out.push(r.lacking.length === 0 ? `${head}: ok${r.required.length > 0 ? ` (${r.required.join(',')})` : ''}` : `${head}: lacks ${r.lacking.join(',')}`);
    for (const d of r.details)
      out.push(
        `  - ${d.permission} on ${d.dataset}${d.on === 'descendants' ? ' (its snapshots)' : d.on === 'created' ? ' (once created)' : ''}: ${d.why.join('; ')}`,
      );
    if (r.fix) out.push(`  fix (as root on ${r.host}): ${r.fix.command}`);
    for (const w of r.warnings) out.push(`  warning: ${w}`);
    for (const n of r.notes) out.push(`  note: ${n}`);
  }
  return out.join('\n');
}
