/**
 * syncoid argument files (`/etc/sanoid/syncoid-args.conf` as a systemd unit feeds them to syncoid:
 * one invocation's arguments per line) to replication pairs of the host that runs them.
 *
 * `[user@]host:SRC DST` is a pull run on that host, `SRC [user@]host:DST` a push from it, two local
 * datasets a local pair on it. Where an argument is remote follows syncoid's `getssh`: an `@`, or a
 * `:` before any `/` (jimsalterjrs/sanoid, syncoid). Flags are read the way syncoid's GetOptions
 * list declares them (with or without a value), so an option we do not apply never swallows or
 * shifts a dataset; every flag we do not apply is kept under `imported` and said in a warning.
 */
import { parseRate } from '../../execute/throttle.js';
import { parsePair, DEFAULT_PAIR_OPTIONS, type PairOptions, type PairSpec } from '../pairs.js';
import { shellWords } from './shellWords.js';
import {
  pairId,
  type ImportedReach,
  type ImportedGroup,
  type ImportedPair,
  type ImportedRoute,
  type ImportResult,
  type ImportWarning,
  type ImportWarningKind,
} from './types.js';

/** A host of the fleet as the ssh config (or the pairs file) knows it. */
export interface FleetHostInfo {
  alias: string;
  /** The ssh config's HostName for the alias, when it differs. */
  hostName?: string;
  /** The ssh config's User for the alias. */
  user?: string;
}

export interface SyncoidImportOptions {
  file: string;
  /** The fleet host that runs these syncoid lines. */
  host: string;
  fleetHosts: readonly FleetHostInfo[];
  /** `--host-map other=alias`: `other` is `host` or `user@host` as the lines write it. */
  hostMap?: Readonly<Record<string, string>>;
}

/** The flags this import understands. `value`: takes one; `repeat`: may be given more than once. */
const KNOWN: Record<string, { value: boolean; repeat?: boolean }> = {
  recursive: { value: false },
  'no-sync-snap': { value: false },
  'no-privilege-elevation': { value: false },
  'no-stream': { value: false },
  sendoptions: { value: true },
  recvoptions: { value: true },
  exclude: { value: true, repeat: true },
  identifier: { value: true },
  compress: { value: true },
  'source-bwlimit': { value: true },
  'target-bwlimit': { value: true },
};
const SHORT: Record<string, string> = { r: 'recursive' };

/**
 * The rest of syncoid's options (its GetOptions call) with whether they take a value: not applied
 * here, but read with the right arity. Short forms: -c (sshcipher), -o (sshoption).
 */
const SYNCOID_VALUE_OPTIONS = new Set([
  'sshconfig',
  'sshkey',
  'sshport',
  'sshcipher',
  'sshoption',
  'pv-options',
  'mbuffer-size',
  'insecure-direct-connection',
  'include-snaps',
  'exclude-snaps',
  'exclude-datasets',
]);
const SYNCOID_SHORT_VALUE: Record<string, string> = { c: 'sshcipher', o: 'sshoption' };

/** `zfs send` flags that have a pair option (syncoid's --sendoptions is a string of send flags, e.g. `w` or `Lc`). */
const SEND_FLAG_OPTION: Record<string, Exclude<keyof PairOptions, 'bwlimit' | 'exclude'>> = { w: 'raw', c: 'compressed', L: 'largeBlocks', p: 'properties' };

interface ParsedLine {
  flags: Map<string, string | true | string[]>;
  /** Flags not in KNOWN: as written (`--flag` or `--flag=value`), and by name. */
  unknown: { written: string; name: string; value: string | true }[];
  positional: string[];
}

function parseFlags(words: string[]): ParsedLine | string {
  const flags = new Map<string, string | true | string[]>();
  const unknown: ParsedLine['unknown'] = [];
  const positional: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === '--') {
      positional.push(...words.slice(i + 1));
      break;
    }
    if (!w.startsWith('-') || w === '-') {
      positional.push(w);
      continue;
    }
    let name: string;
    let value: string | undefined;
    if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      name = eq < 0 ? w.slice(2) : w.slice(2, eq);
      value = eq < 0 ? undefined : w.slice(eq + 1);
    } else {
      const c = w.slice(1, 2);
      name = SHORT[c] ?? SYNCOID_SHORT_VALUE[c] ?? c;
      value = w.length > 2 ? w.slice(2) : undefined;
    }
    const known = KNOWN[name];
    const takesValue = known ? known.value : SYNCOID_VALUE_OPTIONS.has(name);
    if (takesValue && value === undefined) {
      if (i + 1 >= words.length) return `${w} needs a value`;
      value = words[++i]!;
    }
    if (!takesValue && value !== undefined && known) return `${w}: --${name} takes no value`;
    if (!known) {
      const flag = w.startsWith('--') ? `--${name}` : w.slice(0, 2);
      unknown.push({ written: value === undefined ? flag : `${flag}=${value}`, name, value: value ?? true });
      continue;
    }
    if (known.repeat) {
      const prev = flags.get(name);
      flags.set(name, [...(Array.isArray(prev) ? prev : []), value!]);
    } else flags.set(name, value ?? true);
  }
  return { flags, unknown, positional };
}

const bareHost = (h: string) => h.slice(h.lastIndexOf('@') + 1);
const hostOf = (endpoint: string) => endpoint.slice(0, endpoint.indexOf(':'));
const datasetOf = (endpoint: string) => endpoint.slice(endpoint.indexOf(':') + 1);

/** `[user@]host:dataset` or a local dataset, as syncoid's getssh tells them apart. */
export function splitSyncoidEndpoint(arg: string): { remote?: string; dataset: string } {
  const withUser = /^([^@:]*@[^@:]*):(.*)$/.exec(arg);
  if (withUser) return { remote: withUser[1]!.replace(/^@/, ''), dataset: withUser[2]! };
  // (An '@' further on is a snapshot name, e.g. host:pool/ds@snap: the ':' rule below still applies.)
  const m = /^([^/:@]*):(.*)$/.exec(arg);
  if (m) return { remote: m[1]!, dataset: m[2]! };
  return { dataset: arg };
}

/**
 * The fleet host a syncoid remote (`[user@]host`) is, or undefined. An alias may itself be
 * `user@host` (a host of the pairs file). The result keeps the syncoid user when the alias's own
 * user (its ssh config User, or the one it is written with) is another.
 */
export function matchHost(remote: string, hosts: readonly FleetHostInfo[], hostMap: Readonly<Record<string, string>> = {}): string | undefined {
  const user = remote.includes('@') ? remote.slice(0, remote.lastIndexOf('@')) : undefined;
  const host = bareHost(remote);
  if (hostMap[remote] !== undefined) return hostMap[remote];
  const resolve = (alias: string, configUser?: string) => {
    const aliasUser = alias.includes('@') ? alias.slice(0, alias.lastIndexOf('@')) : configUser;
    return user === undefined || user === aliasUser ? alias : `${user}@${bareHost(alias)}`;
  };
  if (hostMap[host] !== undefined) {
    const alias = hostMap[host]!;
    return resolve(alias, hosts.find((h) => h.alias === alias)?.user);
  }
  const lc = host.toLowerCase();
  const found = hosts.find((h) => bareHost(h.alias).toLowerCase() === lc) ?? hosts.find((h) => h.hostName?.toLowerCase() === lc);
  return found ? resolve(found.alias, found.user) : undefined;
}

/** The spec the fleet file gets for an imported pair: a local pair is a push on its host (one host pipes there, without ssh). */
export function toPairSpec(p: ImportedPair): PairSpec {
  return { source: p.source, target: p.target, route: p.route === 'local' ? 'push' : p.route, options: { ...p.options } };
}

export function importSyncoidArgs(text: string, o: SyncoidImportOptions): ImportResult {
  const warnings: ImportWarning[] = [];
  const warn = (kind: ImportWarningKind, line: number, message: string) => warnings.push({ kind, message, file: o.file, line });
  const pairs: ImportedPair[] = [];
  const seenLines = new Map<string, number>();
  const seenPairs = new Map<string, ImportedPair>();
  const reach = new Map<string, ImportedReach>();
  /** The line's `[user@]address` for a fleet host, where it says more than the host's name. */
  const noteReach = (host: string, remote: string, line: number) => {
    const user = remote.includes('@') ? remote.slice(0, remote.lastIndexOf('@')) : undefined;
    const address = bareHost(remote);
    const r: ImportedReach = { host, from: o.host, file: o.file, line };
    if (address.toLowerCase() !== bareHost(host).toLowerCase()) r.address = address;
    if (user !== undefined && !host.startsWith(`${user}@`)) r.user = user;
    if ((r.address !== undefined || r.user !== undefined) && !reach.has(host)) reach.set(host, r);
  };

  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const tokens = shellWords(raw);
    if (!tokens.ok) return warn('unparsable', line, `cannot be read: ${tokens.reason}`);
    let words = tokens.words;
    if (words.length === 0) return;
    // A line that names the command itself (`syncoid ...`, `/usr/sbin/syncoid ...`) is read the same.
    if (/(^|\/)syncoid$/.test(words[0]!)) words = words.slice(1);
    const key = words.join('\0');
    const first = seenLines.get(key);
    if (first !== undefined) return warn('duplicate-line', line, `the same syncoid line as line ${first}: imported once`);
    seenLines.set(key, line);

    const parsed = parseFlags(words);
    if (typeof parsed === 'string') return warn('unparsable', line, `cannot be read: ${parsed}`);
    if (parsed.positional.length !== 2)
      return warn(
        'unparsable',
        line,
        `expected SOURCE TARGET after the flags, found ${parsed.positional.length} argument(s): ${parsed.positional.join(' ') || '(none)'}`,
      );

    const [src, dst] = parsed.positional.map(splitSyncoidEndpoint) as [ReturnType<typeof splitSyncoidEndpoint>, ReturnType<typeof splitSyncoidEndpoint>];
    const endpointHost = (remote: string | undefined): string => {
      if (remote === undefined) return o.host;
      const m = matchHost(remote, o.fleetHosts, o.hostMap);
      if (m !== undefined) {
        if (!(src.remote && dst.remote)) noteReach(m, remote, line);
        return m;
      }
      warn(
        'unknown-host',
        line,
        `${remote} matches no fleet host (no ssh config alias or HostName, not in the pairs file; --host-map ${bareHost(remote)}=ALIAS names it): kept as written`,
      );
      return remote;
    };
    const route: ImportedRoute = src.remote && dst.remote ? 'relay' : src.remote ? 'pull' : dst.remote ? 'push' : 'local';
    const source = `${endpointHost(src.remote)}:${src.dataset}`;
    const target = `${endpointHost(dst.remote)}:${dst.dataset}`;

    const { options, imported, notes } = pairOptions(parsed.flags);
    for (const u of parsed.unknown) imported[u.name] = u.value;
    const pair: ImportedPair = { source, target, route, options, imported, args: words, file: o.file, line };
    try {
      parsePair(toPairSpec(pair));
    } catch (e) {
      return warn('unparsable', line, (e as Error).message);
    }
    if (route === 'relay')
      warn(
        'not-applied',
        line,
        'both ends are remote: syncoid relays through this host; imported with the relay route (through the machine running zfs-fleet)',
      );
    for (const u of parsed.unknown) warn('unknown-flag', line, `${u.written} is not a flag this import knows: kept under "imported", not applied`);
    if (notes.length) warn('not-applied', line, `not applied by zfs-fleet (kept under "imported"): ${notes.join('; ')}`);

    const dup = seenPairs.get(pairId(pair));
    if (dup) return warn('duplicate-pair', line, `${source} is already sent to ${target} on line ${dup.line}: the first one is kept`);
    seenPairs.set(pairId(pair), pair);
    pairs.push(pair);
  });

  overlappingTargets(pairs, warn);
  return { pairs, reach: [...reach.values()], groups: groupsOf(pairs), policies: [], warnings: warnings.sort((a, b) => a.line - b.line) };
}

const EXCLUDE_WHY =
  'syncoid\'s are regular expressions over full names: write the children as the pair\'s "exclude" option (paths relative to the source, with * and **)';

/** syncoid's flags onto the pair options; the rest kept (with why). Defaults are syncoid's: a plain `zfs send -I`, no -c, no -L. */
function pairOptions(flags: Map<string, string | true | string[]>): { options: PairOptions; imported: ImportedPair['imported']; notes: string[] } {
  const options: PairOptions = { ...DEFAULT_PAIR_OPTIONS, compressed: false, largeBlocks: false, properties: false, raw: false };
  const imported: ImportedPair['imported'] = {};
  const notes: string[] = [];
  if (flags.has('recursive')) options.recursive = true;
  if (flags.has('no-stream')) options.intermediates = false;
  const send = flags.get('sendoptions');
  if (typeof send === 'string') {
    const rest: string[] = [];
    for (const c of send.replace(/[\s-]/g, '')) {
      const opt = SEND_FLAG_OPTION[c];
      if (opt) options[opt] = true;
      else rest.push(c);
    }
    if (rest.length) {
      imported.sendoptions = send;
      notes.push(`--sendoptions ${rest.map((c) => `-${c}`).join(' ')} (no pair option)`);
    }
  }
  if (!flags.has('no-sync-snap'))
    notes.push(
      'syncoid takes a sync snapshot on each run (no --no-sync-snap); a zfs-fleet sync sends the newest existing snapshot unless given --snapshot NAME',
    );
  const why: Record<string, string> = {
    recvoptions: 'the planner chooses the receive flags',
    exclude: EXCLUDE_WHY,
    'exclude-datasets': EXCLUDE_WHY,
    identifier: 'zfs-fleet takes no sync snapshots to name',
    compress: 'the stream is not compressed in transit',
  };
  // syncoid's limits (mbuffer -r / pv -L on a host) become the pair's bwlimit: the lower of the two.
  const limits: number[] = [];
  for (const flag of ['source-bwlimit', 'target-bwlimit']) {
    const v = flags.get(flag);
    if (v === undefined) continue;
    try {
      limits.push(parseRate(v));
    } catch (e) {
      imported[flag] = v;
      notes.push(`--${flag}=${Array.isArray(v) ? v.join(',') : String(v)} (${(e as Error).message})`);
    }
  }
  if (limits.length) options.bwlimit = Math.min(...limits);
  for (const [flag, reason] of Object.entries(why)) {
    const v = flags.get(flag);
    if (v === undefined) continue;
    imported[flag] = v;
    notes.push(`--${flag}${v === true ? '' : `=${Array.isArray(v) ? v.join(',') : v}`} (${reason})`);
  }
  return { options, imported, notes };
}

/** Two streams writing one tree: a target equal to another pair's target, or inside another recursive pair's target (same host). */
function overlappingTargets(pairs: ImportedPair[], warn: (kind: ImportWarningKind, line: number, message: string) => void): void {
  pairs.forEach((b, j) => {
    for (const a of pairs.slice(0, j)) {
      if (bareHost(hostOf(a.target)) !== bareHost(hostOf(b.target))) continue;
      const [ta, tb] = [datasetOf(a.target), datasetOf(b.target)];
      const aHoldsB = ta === tb || (a.options.recursive && tb.startsWith(`${ta}/`));
      const bHoldsA = b.options.recursive && ta.startsWith(`${tb}/`);
      if (!aHoldsB && !bHoldsA) continue;
      const how =
        ta === tb
          ? `the same target as line ${a.line} (${a.source})`
          : aHoldsB
            ? `inside the recursive target ${a.target} of line ${a.line}`
            : `a recursive target holding ${a.target} of line ${a.line}`;
      warn('overlapping-target', b.line, `${b.target} is ${how}: two streams write one tree`);
    }
  });
}

/** The pairs grouped by the two hosts and the route. */
export function groupsOf(pairs: readonly ImportedPair[]): ImportedGroup[] {
  const groups = new Map<string, ImportedGroup>();
  for (const p of pairs) {
    const [s, t] = [hostOf(p.source), hostOf(p.target)];
    const key = `${s}->${t} ${p.route}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { id: `${s}->${t}`, sourceHost: s, targetHost: t, route: p.route, pairs: [] }));
    g.pairs.push(pairId(p));
  }
  const list = [...groups.values()];
  // Two routes between the same hosts: the ids say which.
  for (const g of list) if (list.some((o) => o !== g && o.id === g.id)) g.id = `${g.id} (${g.route})`;
  return list;
}
