/**
 * `zfs allow DATASET` (OpenZFS 2.x) as data, and what a user may do on a dataset given those
 * delegations. The output (recorded from 2.3.2 in test/fixtures/openzfs-2.3/root_zfs_allow_shapes*)
 * holds one section per dataset, the asked one first, then each ANCESTOR that has delegations:
 *
 *     ---- Permissions on tank/zfs-fleet-allow -----------------------------
 *     Permission sets:
 *     	@recv create,mount,receive
 *     Create time permissions:
 *     	create,mount,receive
 *     Local permissions:
 *     	user operator create,mount
 *     Descendent permissions:
 *     	everyone bookmark
 *     Local+Descendent permissions:
 *     	user (unknown: 4242) send
 *     	group operator snapshot
 *
 * A user or group that does not resolve on the host prints as `(unknown: ID)`. A missing dataset
 * makes `zfs allow` exit 255 with `cannot open 'X': dataset does not exist`.
 *
 * How the kernel decides (module/zfs/dsl_deleg.c, dsl_deleg_access_impl; each rule below checked on
 * the 2.3.2 lab VM, see src/core/fleet/permissions.ts):
 * - A check on a filesystem or volume D walks D, then its parent, up to the pool: on D itself the
 *   Local and Local+Descendent grants apply; on every ancestor the Descendent and Local+Descendent ones.
 * - A check on a SNAPSHOT of D (send, destroy of a snapshot) or on a child of D (the `%recv` clone)
 *   counts D as an ancestor: only Descendent and Local+Descendent grants apply, Local grants on D do not.
 * - A grant matches the user by uid, its primary group, each supplementary group, or everyone.
 * - `@set` grants expand to the set's definition found on the level of the grant or the nearest
 *   ancestor defining it; a set may contain sets.
 * - Create-time permissions of every ancestor are granted, as Local, to the user who creates a dataset
 *   (also by `zfs recv` of a new filesystem).
 */
import { ZfsParseError } from './errors.js';
import type { ZfsCommand } from './commands.js';
import { parentDataset } from './names.js';

export type AllowScope = 'local' | 'descendent' | 'local+descendent';

export type GranteeKind = 'user' | 'group' | 'everyone';

export interface Grantee {
  kind: GranteeKind;
  /** The user or group name as printed; absent for everyone and for ids that do not resolve. */
  name?: string;
  /** The numeric id, when the host printed `(unknown: ID)`. */
  id?: number;
}

export interface AllowGrant {
  grantee: Grantee;
  scope: AllowScope;
  /** Permission names and `@set` names, as printed. */
  permissions: string[];
}

/** The delegations set ON one dataset (not inherited ones: those are in the ancestors' sections). */
export interface DatasetAllow {
  dataset: string;
  /** Permission sets defined here: `@name` -> its permissions and sets. */
  sets: Record<string, string[]>;
  /** Create-time permissions (and sets) defined here. */
  createTime: string[];
  grants: AllowGrant[];
}

const HEADER = /^---- Permissions on (.+) -*$/;
const SECTIONS: Record<string, 'sets' | 'create' | AllowScope> = {
  'Permission sets:': 'sets',
  'Create time permissions:': 'create',
  'Local permissions:': 'local',
  'Descendent permissions:': 'descendent',
  'Local+Descendent permissions:': 'local+descendent',
};

function grantee(kind: 'user' | 'group', who: string): Grantee {
  const unknown = /^\(unknown: (\d+)\)$/.exec(who);
  return unknown ? { kind, id: Number(unknown[1]) } : { kind, name: who };
}

const list = (s: string) => s.split(',').filter((p) => p !== '');

/** Parse `zfs allow DATASET`: one entry per section, in output order (the dataset, then its ancestors with delegations). */
export function parseZfsAllow(stdout: string, command = 'zfs allow'): DatasetAllow[] {
  const out: DatasetAllow[] = [];
  let current: DatasetAllow | undefined;
  let section: 'sets' | 'create' | AllowScope | undefined;
  const lines = stdout.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const fail = (reason: string) => new ZfsParseError(command, i + 1, line, reason);
    const header = HEADER.exec(line);
    if (header) {
      current = { dataset: header[1]!, sets: {}, createTime: [], grants: [] };
      out.push(current);
      section = undefined;
      continue;
    }
    if (!current) throw fail("expected '---- Permissions on DATASET ----'");
    if (line in SECTIONS) {
      section = SECTIONS[line];
      continue;
    }
    if (!line.startsWith('\t')) throw fail('unknown section heading');
    if (!section) throw fail('an entry before any section heading');
    const body = line.slice(1);
    if (section === 'sets') {
      const m = /^(@\S+) (\S+)$/.exec(body);
      if (!m) throw fail('expected "@set perm,..."');
      current.sets[m[1]!] = list(m[2]!);
    } else if (section === 'create') {
      if (!/^\S+$/.test(body)) throw fail('expected "perm,..."');
      current.createTime.push(...list(body));
    } else {
      const everyone = /^everyone (\S+)$/.exec(body);
      if (everyone) {
        current.grants.push({ grantee: { kind: 'everyone' }, scope: section, permissions: list(everyone[1]!) });
        continue;
      }
      // The name may contain spaces ("(unknown: 4242)"); the permissions never do.
      const m = /^(user|group) (.+) (\S+)$/.exec(body);
      if (!m) throw fail('expected "user NAME perm,...", "group NAME perm,..." or "everyone perm,..."');
      current.grants.push({ grantee: grantee(m[1] as 'user' | 'group', m[2]!), scope: section, permissions: list(m[3]!) });
    }
  }
  return out;
}

/** `zfs allow DATASET`: the dataset's delegations and its ancestors'. */
export function zfsAllowCommand(zfsPath: string, dataset: string): ZfsCommand<DatasetAllow[]> {
  const argv = [zfsPath, 'allow', dataset];
  return { argv, parse: (out) => parseZfsAllow(out, argv.join(' ')) };
}

/** Who asks: the user name and ids, and every group (primary and supplementary) by name and id, as `id` prints them. */
export interface Principal {
  user: string;
  uid?: number;
  groups: readonly string[];
  gids?: readonly number[];
}

function matches(g: Grantee, who: Principal): boolean {
  switch (g.kind) {
    case 'everyone':
      return true;
    case 'user':
      return (g.name !== undefined && g.name === who.user) || (g.id !== undefined && g.id === who.uid);
    case 'group':
      return (g.name !== undefined && who.groups.includes(g.name)) || (g.id !== undefined && (who.gids ?? []).includes(g.id));
  }
}

/**
 * What a check is made on:
 * - `dataset`: the filesystem or volume itself (zfs recv into it, snapshot, hold, release, rollback, bookmark, properties);
 * - `descendants`: a snapshot of it or a child (zfs send, destroy of a snapshot, the `%recv` clone): Local grants on it do not count;
 * - `created`: a dataset the principal creates (a first `zfs recv`): the ancestors' Descendent grants plus their create-time permissions.
 */
export type CheckTarget = 'dataset' | 'descendants' | 'created';

/** The delegation sections of one host, by dataset; several `zfs allow` outputs merge (each repeats the ancestors). */
export type AllowSections = ReadonlyMap<string, DatasetAllow>;

export function allowSections(...outputs: readonly DatasetAllow[][]): Map<string, DatasetAllow> {
  const m = new Map<string, DatasetAllow>();
  for (const o of outputs) for (const s of o) m.set(s.dataset, s);
  return m;
}

/** The dataset and its ancestors, nearest first. */
export function datasetChain(dataset: string): string[] {
  const out: string[] = [];
  for (let d: string | undefined = dataset; d !== undefined; d = parentDataset(d)) out.push(d);
  return out;
}

/**
 * Expand `@set` names granted at `chain[level]` into permissions: each set's definition is the one on
 * that level or the nearest ancestor defining it; the sets it contains resolve from the defining level.
 */
function expand(entries: readonly string[], level: number, chain: readonly string[], sections: AllowSections, out: Set<string>, seen: Set<string>): void {
  for (const e of entries) {
    if (!e.startsWith('@')) {
      out.add(e);
      continue;
    }
    for (let l = level; l < chain.length; l++) {
      const def = sections.get(chain[l]!)?.sets[e];
      if (!def) continue;
      const key = `${e}\u0000${l}`;
      if (!seen.has(key)) {
        seen.add(key);
        expand(def, l, chain, sections, out, seen);
      }
      break;
    }
  }
}

/**
 * Every permission `who` holds for a check on `dataset` (see CheckTarget), from the sections of the
 * dataset and its ancestors. For `created`, `dataset` is the name the new dataset will have.
 * Root is not special here (the caller decides: root needs no delegation).
 */
export function effectivePermissions(sections: AllowSections, dataset: string, who: Principal, on: CheckTarget = 'dataset'): Set<string> {
  const chain = datasetChain(dataset);
  const out = new Set<string>();
  const seen = new Set<string>();
  chain.forEach((name, level) => {
    const s = sections.get(name);
    if (!s) return;
    const own = level === 0 && on === 'dataset';
    for (const g of s.grants) {
      const applies = g.scope === 'local+descendent' || (own ? g.scope === 'local' : g.scope === 'descendent');
      if (applies && matches(g.grantee, who)) expand(g.permissions, level, chain, sections, out, seen);
    }
  });
  if (on === 'created') {
    // dsl_deleg_set_create_perms: the create-time permissions (and sets) of every ancestor, granted Local to the creator.
    for (let level = 1; level < chain.length; level++) {
      const s = sections.get(chain[level]!);
      if (s && s.createTime.length > 0) expand(s.createTime, 0, chain, sections, out, seen);
    }
  }
  return out;
}
