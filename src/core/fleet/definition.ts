/**
 * The fleet definition, `.zfs-fleet.json`: `hosts` (how the operator and the other hosts reach each
 * host, labels), `groups` (one primary dataset replicated to several replicas, with their limits)
 * and `pairs` (a pair is a group with one replica). One reader for the CLI and the extension: every
 * entry ends up valid or as an invalid entry naming where it is and why; nothing is dropped.
 *
 * How hosts reach each other: a push runs `ssh TARGET` on the source and a pull `ssh SOURCE` on the
 * target. The names in the file are the operator's (an ssh-config alias the other hosts usually
 * cannot resolve), so a host entry says how others reach it: `address`, `user`, `port`, and per
 * reaching host under `from` where that differs (`"from": {"ovh3": {"user": "ovh3operator"}}`).
 */
import { parseSchedule, type Schedule } from '../queue/schedule.js';
import { EndpointError, parseEndpoint, validateHostSpec } from './endpoint.js';
import { SNAPSHOT_PERIODS, type SnapshotPeriod } from './import/types.js';
import type { RetentionPolicy } from '../retention/forecast.js';
import { parseDuration } from '../monitor/duration.js';
import type { PairOptions, ReplicationPair, Route } from './pairs.js';
import { checkEntry, describeOrigin, type PairEntry, type PairOrigin, type PairsFile, type ValidPair } from './pairSpecs.js';

/** How one host is reached (any field may be left to the host's name). */
export interface HostAddress {
  address?: string;
  user?: string;
  port?: number;
}

export interface FleetHost {
  /** The name pairs and groups use (`HOST:DATASET`): an ssh-config alias or `[user@]host[:port]`. */
  name: string;
  labels: string[];
  /** How the other hosts reach it, unless `from` says otherwise for one of them. */
  reach: HostAddress;
  /** Per reaching host (by its name in this file). */
  from: Record<string, HostAddress>;
  origin: PairOrigin;
}

export interface FleetGroup {
  name: string;
  /** `HOST:DATASET`. */
  primary: string;
  replicas: string[];
  route: Route;
  options: Partial<PairOptions>;
  /** Alert when the primary's newest snapshot is older than this (seconds). */
  staleAfterSeconds?: number;
  /** Alert when a replica lags the primary by more than this (seconds). */
  maxLagSeconds?: number;
  /** When the agent queues the group's syncs (`every 1h`, or cron `15 * * * *`). */
  schedule?: Schedule;
  origin: PairOrigin;
}

/** A dataset's retention policy (`policies`: `{"HOST:DATASET": {...}}`, as `import sanoid` writes it or by hand). */
export interface FleetPolicy {
  /** `HOST:DATASET`. */
  dataset: string;
  host: string;
  path: string;
  policy: RetentionPolicy;
  /** sanoid's `recursive`: the policy applies to the children too. */
  recursive: 'yes' | 'zfs' | false;
  origin: PairOrigin;
}

export interface FleetDefinition {
  hosts: FleetHost[];
  groups: FleetGroup[];
  policies: FleetPolicy[];
  /** `onFailure`: a shell command a worker runs when a job fails (the job in its environment, the report on its stdin). */
  onFailure?: string;
  /** The pairs (groups' replicas first, then `pairs`), and every invalid entry of the file (hosts and groups included). */
  entries: PairEntry[];
}

const ADDRESS_KEYS = ['address', 'user', 'port'];
const POLICY_KEYS = ['templates', 'recursive', 'processChildrenOnly', 'autosnap', 'autoprune', 'retention', 'monitor', 'freshness', 'from'];
/** A period the policy leaves out keeps sanoid's default (sanoid.defaults.conf), as sanoid itself would. */
const SANOID_DEFAULT_RETENTION: Record<SnapshotPeriod, number> = { frequently: 0, hourly: 48, daily: 90, weekly: 0, monthly: 6, yearly: 0 };
const GROUP_KEYS = ['name', 'primary', 'replicas', 'route', 'options', 'staleAfter', 'maxLag', 'label', 'schedule'];

type Bad = { reason: string };
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function checkAddress(v: unknown, what: string): HostAddress | Bad {
  if (!isObject(v)) return { reason: `${what} must be an object {"address"?, "user"?, "port"?}` };
  for (const k of Object.keys(v)) if (!ADDRESS_KEYS.includes(k)) return { reason: `${what}: unknown key "${k}" (expected address, user, port)` };
  const out: HostAddress = {};
  if (v.address !== undefined) {
    if (typeof v.address !== 'string' || !/^(?:[A-Za-z0-9._%+-]+|\[?[0-9A-Fa-f:.]+\]?)$/.test(v.address))
      return { reason: `${what}: "address" must be a host name or an IP address (got ${JSON.stringify(v.address)})` };
    out.address = v.address;
  }
  if (v.user !== undefined) {
    if (typeof v.user !== 'string' || !/^[A-Za-z0-9._-]+$/.test(v.user))
      return { reason: `${what}: "user" must be a user name (got ${JSON.stringify(v.user)})` };
    out.user = v.user;
  }
  if (v.port !== undefined) {
    if (typeof v.port !== 'number' || !Number.isInteger(v.port) || v.port < 1 || v.port > 65535)
      return { reason: `${what}: "port" must be a number 1-65535 (got ${JSON.stringify(v.port)})` };
    out.port = v.port;
  }
  return out;
}

function checkHost(name: string, v: unknown, origin: PairOrigin): FleetHost | Bad {
  try {
    validateHostSpec(name);
  } catch (e) {
    return { reason: (e as EndpointError).message };
  }
  if (name === 'local') return { reason: '"local" is this machine: it needs no entry' };
  if (!isObject(v)) return { reason: 'a host entry must be an object {"address"?, "user"?, "port"?, "labels"?, "from"?}' };
  const { labels, from, ...addr } = v;
  const reach = checkAddress(addr, `host ${name}`);
  if ('reason' in reach) return reach;
  if (labels !== undefined && (!Array.isArray(labels) || labels.some((l) => typeof l !== 'string' || l.trim() === '')))
    return { reason: `host ${name}: "labels" must be an array of non-empty strings` };
  const byFrom: Record<string, HostAddress> = {};
  if (from !== undefined) {
    if (!isObject(from)) return { reason: `host ${name}: "from" must be an object keyed by the reaching host` };
    for (const [h, a] of Object.entries(from)) {
      const r = checkAddress(a, `host ${name}, from ${h}`);
      if ('reason' in r) return r;
      byFrom[h] = r;
    }
  }
  return { name, labels: (labels as string[] | undefined) ?? [], reach, from: byFrom, origin };
}

function checkGroup(v: unknown, origin: PairOrigin): FleetGroup | Bad {
  if (!isObject(v)) return { reason: 'a group must be an object {"name", "primary": "HOST:DATASET", "replicas": ["HOST:DATASET", ...]}' };
  for (const k of Object.keys(v)) if (!GROUP_KEYS.includes(k)) return { reason: `unknown key "${k}" (expected ${GROUP_KEYS.join(', ')})` };
  if (typeof v.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(v.name))
    return { reason: '"name" must be a word (letters, digits, . _ -), e.g. "products"' };
  if (typeof v.primary !== 'string' || v.primary.trim() === '') return { reason: `group ${v.name}: "primary" is missing (HOST:DATASET)` };
  if (!Array.isArray(v.replicas) || v.replicas.length === 0 || v.replicas.some((r) => typeof r !== 'string' || r.trim() === ''))
    return { reason: `group ${v.name}: "replicas" must be a non-empty array of HOST:DATASET` };
  const limits: Pick<FleetGroup, 'staleAfterSeconds' | 'maxLagSeconds'> = {};
  for (const [key, field] of [
    ['staleAfter', 'staleAfterSeconds'],
    ['maxLag', 'maxLagSeconds'],
  ] as const) {
    const d = v[key];
    if (d === undefined) continue;
    try {
      limits[field] = typeof d === 'number' ? d : parseDuration(String(d));
    } catch (e) {
      return { reason: `group ${v.name}: "${key}": ${(e as Error).message}` };
    }
  }
  let schedule: Schedule | undefined;
  if (v.schedule !== undefined) {
    if (typeof v.schedule !== 'string') return { reason: `group ${v.name}: "schedule" must be a string ("every 1h" or a cron expression)` };
    try {
      schedule = parseSchedule(v.schedule);
    } catch (e) {
      return { reason: `group ${v.name}: "schedule": ${(e as Error).message}` };
    }
  }
  return {
    name: v.name,
    primary: v.primary.trim(),
    replicas: (v.replicas as string[]).map((r) => r.trim()),
    route: (v.route as Route | undefined) ?? 'relay',
    options: (v.options as Partial<PairOptions> | undefined) ?? {},
    ...limits,
    ...(schedule ? { schedule } : {}),
    origin,
  };
}

function checkPolicy(key: string, v: unknown, origin: PairOrigin): FleetPolicy | Bad {
  let host: string;
  let path: string;
  try {
    const e = parseEndpoint(key);
    if (!e.name || e.name.kind === 'snapshot' || e.name.kind === 'bookmark') return { reason: `policy ${key}: the key must be HOST:DATASET` };
    host = e.host;
    path = e.name.full;
  } catch (e) {
    return { reason: `policy ${key}: ${(e as Error).message}` };
  }
  const what = `policy ${key}`;
  if (!isObject(v)) return { reason: `${what} must be an object {"retention": {"hourly": 24, "daily": 7, ...}, "autoprune"?, "autosnap"?, "recursive"?}` };
  for (const k of Object.keys(v)) if (!POLICY_KEYS.includes(k)) return { reason: `${what}: unknown key "${k}" (expected ${POLICY_KEYS.join(', ')})` };
  for (const k of ['processChildrenOnly', 'autosnap', 'autoprune', 'monitor'])
    if (v[k] !== undefined && typeof v[k] !== 'boolean') return { reason: `${what}: "${k}" must be true or false (got ${JSON.stringify(v[k])})` };
  if (v.recursive !== undefined && v.recursive !== 'yes' && v.recursive !== 'zfs' && v.recursive !== false)
    return { reason: `${what}: "recursive" must be "yes", "zfs" or false (got ${JSON.stringify(v.recursive)})` };
  if (v.templates !== undefined && (!Array.isArray(v.templates) || v.templates.some((t) => typeof t !== 'string')))
    return { reason: `${what}: "templates" must be an array of template names` };
  if (v.from !== undefined && typeof v.from !== 'string') return { reason: `${what}: "from" must be a string (FILE:LINE)` };
  if (v.freshness !== undefined && !isObject(v.freshness)) return { reason: `${what}: "freshness" must be an object keyed by period` };
  const retention = { ...SANOID_DEFAULT_RETENTION };
  if (v.retention === undefined) return { reason: `${what}: "retention" is missing (snapshots kept per period: {"hourly": 24, "daily": 7, ...})` };
  if (!isObject(v.retention)) return { reason: `${what}: "retention" must be an object keyed by period (${SNAPSHOT_PERIODS.join(', ')})` };
  for (const [p, n] of Object.entries(v.retention)) {
    if (!(SNAPSHOT_PERIODS as readonly string[]).includes(p))
      return { reason: `${what}: retention: unknown period "${p}" (expected ${SNAPSHOT_PERIODS.join(', ')})` };
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0)
      return { reason: `${what}: retention: "${p}" must be a number of snapshots, 0 or more (got ${JSON.stringify(n)})` };
    retention[p as SnapshotPeriod] = n;
  }
  return {
    dataset: `${host}:${path}`,
    host,
    path,
    policy: {
      autoprune: v.autoprune !== false,
      autosnap: v.autosnap !== false,
      retention,
      ...(v.processChildrenOnly === true ? { processChildrenOnly: true } : {}),
    },
    recursive: (v.recursive as FleetPolicy['recursive'] | undefined) ?? false,
    origin,
  };
}

/**
 * The policy sanoid applies to a dataset: its own, else the nearest ancestor's with `recursive`
 * (sanoid's init copies the section's settings to each child, process_children_only aside).
 */
export function policyFor(policies: ReadonlyMap<string, FleetPolicy>, host: string, dataset: string): ReplicationPair['retention'] {
  const own = policies.get(`${host}:${dataset}`);
  if (own) return { policy: own.policy, dataset: own.dataset };
  for (let d = dataset; d.includes('/');) {
    d = d.slice(0, d.lastIndexOf('/'));
    const p = policies.get(`${host}:${d}`);
    if (!p) continue;
    if (!p.recursive) return undefined;
    const { processChildrenOnly: _children, ...inherited } = p.policy;
    return { policy: inherited, dataset: p.dataset };
  }
  return undefined;
}

/** The pair with its source dataset's retention policy, if the fleet has one. */
export function withRetention(pair: ReplicationPair, policies: ReadonlyMap<string, FleetPolicy>): ReplicationPair {
  const r = policyFor(policies, pair.source.host, pair.source.name!.full);
  const { retention: _old, ...rest } = pair;
  return r ? { ...rest, retention: r } : rest;
}

/** The `[user@]address[:port]` another host reaches HOST with, from the fleet's host entries; undefined: its name as written. */
export function reachSpec(hosts: ReadonlyMap<string, FleetHost>, host: string, from: string): string | undefined {
  const h = hosts.get(host);
  if (!h) return undefined;
  const a = { ...h.reach, ...h.from[from] };
  if (a.address === undefined && a.user === undefined && a.port === undefined) return undefined;
  // The host's own name supplies what the entry leaves out (`user@name:port` -> its parts).
  const m = /^(?:([^@]+)@)?(.*?)(?::(\d+))?$/.exec(host)!;
  const user = a.user ?? m[1];
  const address = a.address ?? m[2]!;
  const port = a.port ?? (m[3] !== undefined ? Number(m[3]) : undefined);
  const addr = address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
  return validateHostSpec(`${user ? `${user}@` : ''}${addr}${port !== undefined ? `:${port}` : ''}`);
}

/** The pair with how its hosts reach each other (for push and pull), from the fleet's host entries. */
export function withReach(pair: ReplicationPair, hosts: ReadonlyMap<string, FleetHost>): ReplicationPair {
  const target = reachSpec(hosts, pair.target.host, pair.source.host);
  const source = reachSpec(hosts, pair.source.host, pair.target.host);
  if (target === undefined && source === undefined) return pair;
  return { ...pair, reach: { ...(target !== undefined ? { target } : {}), ...(source !== undefined ? { source } : {}) } };
}

/** Read a fleet file: its hosts, groups and pairs (groups' replicas expanded to pairs), each invalid entry with its place. */
export function readFleetDefinition(f: PairsFile): FleetDefinition {
  const out: FleetDefinition = { hosts: [], groups: [], policies: [], entries: [] };
  const invalid = (origin: PairOrigin, entry: unknown, reason: string) => out.entries.push({ ok: false, origin, entry, reason });
  const whole = (reason: string) => (invalid({ kind: 'file', file: f.file, index: -1 }, undefined, reason), out);
  if (f.text === undefined) return whole(`cannot be read: ${f.error ?? 'unknown error'}`);
  let json: unknown;
  try {
    json = JSON.parse(f.text);
  } catch (e) {
    return whole(`is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(json)) return whole('must be an object {"hosts": {...}, "groups": [...], "pairs": [...]}');
  // Other top-level keys (a "comment", a reader's own section) are left to their readers; the JSON Schema flags typos in the editor.
  if (json.onFailure !== undefined) {
    if (typeof json.onFailure !== 'string' || json.onFailure.trim() === '' || json.onFailure.includes('\0'))
      invalid({ kind: 'file', file: f.file, index: -1 }, json.onFailure, '"onFailure" must be a shell command (a non-empty string)');
    else out.onFailure = json.onFailure;
  }

  const hosts = new Map<string, FleetHost>();
  if (json.hosts !== undefined) {
    if (!isObject(json.hosts)) invalid({ kind: 'file', file: f.file, index: -1, section: 'hosts' }, json.hosts, '"hosts" must be an object keyed by host name');
    else
      Object.entries(json.hosts).forEach(([name, v], index) => {
        const origin: PairOrigin = { kind: 'file', file: f.file, index, section: 'hosts', name };
        const h = checkHost(name, v, origin);
        if ('reason' in h) invalid(origin, v, h.reason);
        else hosts.set(name, h);
      });
  }
  out.hosts = [...hosts.values()];

  const policies = new Map<string, FleetPolicy>();
  if (json.policies !== undefined) {
    if (!isObject(json.policies))
      invalid({ kind: 'file', file: f.file, index: -1, section: 'policies' }, json.policies, '"policies" must be an object keyed by HOST:DATASET');
    else
      Object.entries(json.policies).forEach(([key, v], index) => {
        const origin: PairOrigin = { kind: 'file', file: f.file, index, section: 'policies', name: key };
        const p = checkPolicy(key, v, origin);
        if ('reason' in p) return void invalid(origin, v, p.reason);
        const prev = policies.get(p.dataset);
        if (prev) return void invalid(origin, v, `duplicate: the policy of ${p.dataset} is already defined in ${describeOrigin(prev.origin)}`);
        policies.set(p.dataset, p);
      });
  }
  out.policies = [...policies.values()];
  const reach = (e: PairEntry): PairEntry => (e.ok ? { ...e, pair: withRetention(withReach(e.pair, hosts), policies) } : e);

  if (json.groups !== undefined) {
    if (!Array.isArray(json.groups)) invalid({ kind: 'file', file: f.file, index: -1, section: 'groups' }, json.groups, '"groups" must be an array');
    else {
      const names = new Map<string, FleetGroup>();
      json.groups.forEach((v, index) => {
        const origin: PairOrigin = {
          kind: 'file',
          file: f.file,
          index,
          section: 'groups',
          ...(isObject(v) && typeof v.name === 'string' ? { name: v.name } : {}),
        };
        const g = checkGroup(v, origin);
        if ('reason' in g) return void invalid(origin, v, g.reason);
        const prev = names.get(g.name);
        if (prev) return void invalid(origin, v, `duplicate: the group ${g.name} is already defined in ${describeOrigin(prev.origin)}`);
        names.set(g.name, g);
        out.groups.push(g);
        const label = typeof (v as Record<string, unknown>).label === 'string' ? String((v as Record<string, unknown>).label) : g.name;
        g.replicas.forEach((replica, r) => {
          const e = checkEntry(
            { source: g.primary, target: replica, route: g.route, label: g.replicas.length > 1 ? `${label} → ${replica}` : label, options: g.options },
            { ...origin, replica: r },
          );
          out.entries.push(
            reach(
              e.ok
                ? {
                    ...e,
                    pair: {
                      ...e.pair,
                      file: f.file,
                      group: g.name,
                      groupAt: { file: f.file, index, replica: r },
                      limits: limitsOf(g),
                      ...(g.schedule ? { schedule: g.schedule } : {}),
                    },
                  }
                : e,
            ),
          );
        });
      });
    }
  }

  if (json.pairs !== undefined) {
    if (!Array.isArray(json.pairs)) invalid({ kind: 'file', file: f.file, index: -1 }, json.pairs, '"pairs" must be an array');
    else
      json.pairs.forEach((p, index) => {
        const e = checkEntry(p, { kind: 'file', file: f.file, index });
        out.entries.push(reach(e.ok ? { ...e, pair: { ...e.pair, file: f.file } } : e));
      });
  }
  return out;
}

function limitsOf(g: FleetGroup): ReplicationPair['limits'] {
  return {
    ...(g.staleAfterSeconds !== undefined ? { staleAfterSeconds: g.staleAfterSeconds } : {}),
    ...(g.maxLagSeconds !== undefined ? { maxLagSeconds: g.maxLagSeconds } : {}),
  };
}

/** The entries of one fleet file (fleet.ts's hosts and groups aside). */
export function fileEntries(f: PairsFile): PairEntry[] {
  return readFleetDefinition(f).entries;
}

/**
 * All entries: the settings' first, then the workspace files'. A settings pair wins over a file pair
 * with the same id (the file's entry is not listed; the settings entry says it overrides it); a
 * second entry with an id already listed from the same place is invalid ("duplicate").
 */
export function collectPairs(settings: { value: unknown; scope: 'user' | 'workspace' | 'folder' }, files: readonly PairsFile[]): PairEntry[] {
  return collectDefinition(settings, files).entries;
}

/** collectPairs, with the files' hosts and groups (a host or group defined twice: the first wins, the second is an invalid entry). */
export function collectDefinition(settings: { value: unknown; scope: 'user' | 'workspace' | 'folder' }, files: readonly PairsFile[]): FleetDefinition {
  const out: FleetDefinition = { hosts: [], groups: [], policies: [], entries: [] };
  const byId = new Map<string, ValidPair>();
  const add = (e: PairEntry) => {
    if (!e.ok) return void out.entries.push(e);
    const prev = byId.get(e.pair.id);
    if (prev) {
      if (prev.origin.kind === 'settings' && e.origin.kind === 'file') {
        prev.overrides ??= e.origin;
        return;
      }
      return void out.entries.push({
        ok: false,
        origin: e.origin,
        entry: e.spec,
        reason: `duplicate: the pair ${e.pair.id} is already defined in ${describeOrigin(prev.origin)}`,
      });
    }
    byId.set(e.pair.id, e);
    out.entries.push(e);
  };
  const v = settings.value;
  if (v !== undefined && v !== null) {
    if (!Array.isArray(v))
      out.entries.push({
        ok: false,
        origin: { kind: 'settings', scope: settings.scope, index: -1 },
        entry: v,
        reason: 'zfsFleet.pairs must be an array of {source, target, route?, label?, options?}',
      });
    else v.forEach((entry, index) => add(checkEntry(entry, { kind: 'settings', scope: settings.scope, index })));
  }
  const defs = files.map(readFleetDefinition);
  /** A host, group or policy defined in two files: the first wins, the second is an invalid entry. */
  const firstWins = <T extends { origin: PairOrigin }>(seen: Map<string, T>, key: string, item: T, what: string) => {
    const prev = seen.get(key);
    if (!prev) return void seen.set(key, item);
    out.entries.push({ ok: false, origin: item.origin, entry: undefined, reason: `duplicate: ${what} is already defined in ${describeOrigin(prev.origin)}` });
  };
  const hosts = new Map<string, FleetHost>();
  const groups = new Map<string, FleetGroup>();
  const policies = new Map<string, FleetPolicy>();
  for (const d of defs) {
    for (const p of d.policies) firstWins(policies, p.dataset, p, `the policy of ${p.dataset}`);
    for (const h of d.hosts) firstWins(hosts, h.name, h, `the host ${h.name}`);
    for (const g of d.groups) firstWins(groups, g.name, g, `the group ${g.name}`);
  }
  out.hosts = [...hosts.values()];
  out.groups = [...groups.values()];
  out.policies = [...policies.values()];
  for (const d of defs)
    for (const e of d.entries) {
      // A replica of a group another file defined first is not that group's: it is invalid with its group.
      const winner = e.ok && e.pair.group !== undefined ? groups.get(e.pair.group) : undefined;
      if (e.ok && winner && winner.origin.kind === 'file' && e.origin.kind === 'file' && winner.origin.file !== e.origin.file)
        out.entries.push({
          ok: false,
          origin: e.origin,
          entry: e.spec,
          reason: `the group ${winner.name} is already defined in ${describeOrigin(winner.origin)}`,
        });
      else add(e);
    }
  // Every pair (the settings' too) reaches its hosts as the files' host entries say, and has its source's policy.
  for (const e of out.entries) if (e.ok) e.pair = withRetention(withReach(e.pair, hosts), policies);
  return out;
}
