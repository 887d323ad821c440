/**
 * zfs-fleet: the command line over the same core as the extension, for automation and for checking
 * the product from outside. Exit 0 on success, 1 on failure (one line on stderr), 2 on bad usage.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { parseEndpoint } from '../core/fleet/endpoint.js';
import { Fleet, mapLimit } from '../core/fleet/fleet.js';
import type { HostListing } from '../core/fleet/listing.js';
import { formatBytes, formatTime } from '../core/format.js';
import type { Logger } from '../core/log.js';
import { safeText } from '../core/text.js';
import { ZfsError } from '../core/zfs/errors.js';
import type { ZfsObject } from '../core/zfs/types.js';
import { createRunner } from '../transport/index.js';
import { listConfigHosts } from '../transport/sshConfig.js';
import { DEFAULT_THRESHOLDS, type CheckThresholds } from '../core/monitor/check.js';
import { parseDuration } from '../core/monitor/duration.js';
import { defaultCachePath, FileCapabilityCache } from './capabilityCache.js';
import { importCommand, IMPORT_USAGE, type ImportOptions } from './import.js';
import { agentCommand, DEFAULT_CONCURRENCY, DEFAULT_INTERVAL_SECONDS } from './agent.js';
import { checkCommand, metricsCommand } from './monitor.js';
import { QUEUE_USAGE, queueCommand, workerCommand, type QueueOptions } from './queue.js';
import { DATASET_OP_USAGE, replicationCommand, REPLICATION_USAGE, type ReplicationOptions } from './replication.js';
import { UsageError } from './usage.js';
import { verbOf } from './verb.js';

export { UsageError };

const USAGE = `usage: zfs-fleet <command> [options]

commands:
  hosts [HOST...]                      reachability and ZFS version of each host
                                       (default: every Host alias of the ssh config)
  ls HOST[:DATASET] [--snapshots]      datasets (and snapshots) of a host, or under a dataset
${REPLICATION_USAGE}
${IMPORT_USAGE}
${QUEUE_USAGE}
  store info [--store URL]             open the fleet store (SQLite file or postgres://...),
                                       migrate it, print its kind, schema version and row counts
  store prune --older-than 30d [--yes] remove the observations (sweeps) older than that, the newest
                                       sweep kept; without --yes, only count them
  check [HOST...] [--stale-after 7h] [--max-snapshots N] [--capacity-warn 80] [--capacity-crit 90] [--group G]
                                        Nagios/Icinga plugin: unreachable hosts, pools not ONLINE or full,
                                        datasets whose newest snapshot is older than --stale-after, pairs
                                        behind, diverged or failing; exit 0 OK, 1 WARNING, 2 CRITICAL,
                                        3 UNKNOWN (bad usage included); perfdata after |
  metrics [HOST...] [--textfile FILE]   Prometheus text (node_exporter textfile collector: FILE.tmp,
                                        then renamed to FILE)
  agent [HOST...] [--interval 60s] [--concurrency 32] [--once] [--retain 30d] [--store URL]
                                        poll every host each --interval (one listing each) and record
                                        hosts, pools, datasets and pair states in the fleet store, one
                                        transaction per sweep (observations older than --retain removed
                                        hourly; 0 keeps all); one line per sweep on stderr; SIGTERM or
                                        SIGINT: stop, exit 0. Each sweep queues the syncs the fleet file's
                                        group schedules make due; --workers N runs N queue workers too
  check --from-store [--max-age 5m], metrics --from-store
                                        judge the agent's newest observations instead of listing the
                                        hosts; older than --max-age: WARNING "agent not reporting since"
  Without HOST, check, metrics and agent take the hosts of the fleet file.

The fleet file (hosts, groups, pairs): --fleet FILE (--pairs FILE, its older name), else
./.zfs-fleet.json, else ~/.config/zfs-fleet/fleet.json ($XDG_CONFIG_HOME).
  Durations: 90s, 30m, 7h, 2d, 1w, 1h30m, or seconds.

HOST is an ssh-config alias, [user@]host[:port], or local.

options:
  --ssh-config FILE     OpenSSH client config (default ~/.ssh/config)
  --known-hosts FILE    known_hosts to verify host keys against (default ~/.ssh/known_hosts)
  --zfs PATH            zfs on the hosts (default zfs); --zpool PATH likewise
  --timeout SECONDS     connect timeout (default 15)
  --json                machine-readable output
  -v, --verbose         log connection steps to stderr
  -h, --help            this text`;

/** The replication verbs' options plus the connection and listing ones. */
interface Options extends ReplicationOptions, ImportOptions, QueueOptions {
  workers?: number;
  sshConfig: string;
  knownHosts: string;
  zpool: string;
  timeoutS: number;
  snapshots: boolean;
  verbose: boolean;
  /** The fleet store: a file, sqlite:PATH or postgres://... (default $XDG_STATE_HOME/zfs-fleet/fleet.db). */
  store?: string;
  thresholds: CheckThresholds;
  /** check: only this group of the fleet file. */
  group?: string;
  textfile?: string;
  fromStore: boolean;
  maxAgeSeconds?: number;
  intervalSeconds: number;
  concurrency: number;
  once: boolean;
  /** agent: keep this long of observations (0: all); default DEFAULT_RETAIN_SECONDS. */
  retainSeconds?: number;
  /** store prune: remove the observations older than this. */
  olderThanSeconds?: number;
}

const home = (p: string) => (p.startsWith('~/') ? path.join(os.homedir(), p.slice(2)) : p);

export function parseArgs(argv: string[]): { command: string; opts: Options } {
  const opts: Options = {
    yes: false,
    destroyClones: false,
    fix: false,
    sshConfig: '~/.ssh/config',
    knownHosts: '~/.ssh/known_hosts',
    zfs: 'zfs',
    zpool: 'zpool',
    timeoutS: 15,
    json: false,
    snapshots: false,
    verbose: false,
    positional: [],
    hostMap: [],
    write: false,
    thresholds: { ...DEFAULT_THRESHOLDS },
    fromStore: false,
    intervalSeconds: DEFAULT_INTERVAL_SECONDS,
    concurrency: DEFAULT_CONCURRENCY,
    once: false,
  };
  const value = (i: number, flag: string) => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  const seen: string[] = [];
  const duration = (i: number, flag: string) => {
    try {
      return parseDuration(value(i, flag));
    } catch (e) {
      throw new UsageError(`${flag}: ${(e as Error).message}`);
    }
  };
  const wholeNumber = (i: number, flag: string, min: number, max: number) => {
    const n = Number(value(i, flag));
    if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${flag} takes a whole number from ${min} to ${max}`);
    return n;
  };
  const percent = (i: number, flag: string) => {
    const n = Number(value(i, flag));
    if (!(n >= 0 && n <= 100)) throw new UsageError(`${flag} takes a percentage (0 to 100)`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('-') && a !== '-') seen.push(a);
    switch (a) {
      case '--ssh-config':
        opts.sshConfig = value(i++, a);
        break;
      case '--known-hosts':
        opts.knownHosts = value(i++, a);
        break;
      case '--zfs':
        opts.zfs = value(i++, a);
        break;
      case '--zpool':
        opts.zpool = value(i++, a);
        break;
      case '--timeout': {
        const t = Number(value(i++, a));
        if (!(t > 0)) throw new UsageError('--timeout takes a positive number of seconds');
        opts.timeoutS = t;
        break;
      }
      case '--json':
        opts.json = true;
        break;
      case '--yes':
      case '-y':
        opts.yes = true;
        break;
      case '--fix':
        opts.fix = true;
        break;
      case '--destroy-clones':
        opts.destroyClones = true;
        break;
      case '--recursive':
      case '-r':
        opts.recursive = true;
        break;
      case '--keep':
        opts.keep = wholeNumber(i++, a, 0, 1e6);
        break;
      case '--primary':
        opts.primary = true;
        break;
      case '-o':
      case '--property':
        (opts.properties ??= []).push(value(i++, a));
        break;
      case '--keep-data':
        opts.keepData = true;
        break;
      case '--drop-data':
        opts.keepData = false;
        break;
      case '--onto':
        opts.onto = value(i++, a);
        break;
      case '--to':
        opts.to = value(i++, a);
        break;
      case '--discard-partial':
        opts.discardPartial = true;
        break;
      case '--with-replicas':
        opts.withReplicas = true;
        break;
      case '--snapshot':
        opts.snapshot = value(i++, a);
        break;
      case '--no-bookmark':
        opts.bookmark = false;
        break;
      case '--store':
        opts.store = home(value(i++, a));
        break;
      case '--fleet':
      case '--pairs':
        opts.fleetFile = home(value(i++, a));
        break;
      case '--confirm-base':
        opts.confirmBase = value(i++, a);
        break;
      case '--stalled-after': {
        const t = Number(value(i++, a));
        if (!(t >= 0)) throw new UsageError('--stalled-after takes a number of seconds');
        opts.stalledAfterSeconds = t;
        break;
      }
      case '--route': {
        const r = value(i++, a);
        if (r !== 'relay' && r !== 'push' && r !== 'pull') throw new UsageError('--route is relay, push or pull');
        opts.route = r;
        break;
      }
      case '--host':
        opts.importHost = value(i++, a);
        break;
      case '--host-map':
        opts.hostMap.push(value(i++, a));
        break;
      case '--write':
        opts.write = true;
        break;
      case '--all':
        opts.all = true;
        break;
      case '--group':
        opts.group = value(i++, a);
        break;
      case '--stale-after':
        opts.thresholds.staleAfterSeconds = duration(i++, a);
        break;
      case '--max-snapshots': {
        const n = Number(value(i++, a));
        if (!Number.isInteger(n) || n < 0) throw new UsageError('--max-snapshots takes a whole number');
        opts.thresholds.maxSnapshots = n;
        break;
      }
      case '--capacity-warn':
        opts.thresholds.capacityWarn = percent(i++, a);
        break;
      case '--capacity-crit':
        opts.thresholds.capacityCrit = percent(i++, a);
        break;
      case '--textfile':
        opts.textfile = home(value(i++, a));
        break;
      case '--from-store':
        opts.fromStore = true;
        break;
      case '--max-age':
        opts.maxAgeSeconds = duration(i++, a);
        if (!(opts.maxAgeSeconds > 0)) throw new UsageError('--max-age must be over 0');
        break;
      case '--interval':
        opts.intervalSeconds = duration(i++, a);
        if (!(opts.intervalSeconds > 0)) throw new UsageError('--interval must be over 0');
        break;
      case '--retain':
        opts.retainSeconds = duration(i++, a);
        if (!(opts.retainSeconds >= 0)) throw new UsageError('--retain takes a duration (30d), or 0 to keep every observation');
        break;
      case '--older-than':
        opts.olderThanSeconds = duration(i++, a);
        if (!(opts.olderThanSeconds > 0)) throw new UsageError('--older-than must be over 0');
        break;
      case '--concurrency': {
        const n = Number(value(i++, a));
        if (!Number.isInteger(n) || n < 1 || n > 1024) throw new UsageError('--concurrency takes a whole number from 1 to 1024');
        opts.concurrency = n;
        break;
      }
      case '--once':
        opts.once = true;
        break;
      case '--priority':
        opts.priority = wholeNumber(i++, a, 1, 10);
        break;
      case '--state':
        opts.state = value(i++, a);
        break;
      case '--failed':
        opts.failed = true;
        break;
      case '--parallel':
        opts.parallel = wholeNumber(i++, a, 1, 256);
        break;
      case '--workers':
        opts.workers = wholeNumber(i++, a, 0, 256);
        break;
      case '--per-host':
        opts.perHost = wholeNumber(i++, a, 1, 256);
        break;
      case '--penalty':
        opts.penalty = wholeNumber(i++, a, 0, 1e9);
        break;
      case '--lease':
        opts.leaseSeconds = duration(i++, a);
        if (!(opts.leaseSeconds >= 1)) throw new UsageError('--lease must be at least 1s');
        break;
      case '--snapshots':
      case '-t':
        opts.snapshots = true;
        break;
      case '-v':
      case '--verbose':
        opts.verbose = true;
        break;
      case '-h':
      case '--help':
        opts.positional.unshift('help');
        break;
      default:
        if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown option ${a}`);
        opts.positional.push(a);
    }
  }
  if (opts.thresholds.capacityWarn > opts.thresholds.capacityCrit) throw new UsageError('--capacity-warn must not be over --capacity-crit');
  if (opts.maxAgeSeconds !== undefined && !opts.fromStore) throw new UsageError('--max-age is for --from-store');
  opts.sshConfig = home(opts.sshConfig);
  opts.knownHosts = home(opts.knownHosts);
  const command = opts.positional.shift() ?? 'help';
  if (command === 'help' && opts.positional[0] && VERBS[opts.positional[0]]) return { command: 'help', opts };
  const verb = VERBS[command];
  if (verb) {
    const wrong = seen.filter((f) => !COMMON_OPTIONS.includes(f) && !verb.options.includes(f));
    if (wrong.length)
      throw new UsageError(
        `${command} does not take ${wrong.join(', ')}\nusage: zfs-fleet ${verb.usage}${verb.options.length ? `\n  its options: ${verb.options.join(' ')}` : ''}`,
      );
  }
  return { command, opts };
}

/** The options every verb takes (connection, output, help). */
const COMMON_OPTIONS = ['--ssh-config', '--known-hosts', '--zfs', '--zpool', '--timeout', '--json', '-v', '--verbose', '-h', '--help'];

/** Each verb's usage line and the options it takes besides the common ones: any other is a usage error. */
export const VERBS: Record<string, { usage: string; options: string[] }> = {
  hosts: { usage: 'hosts [HOST...]', options: [] },
  ls: { usage: 'ls HOST[:DATASET] [--snapshots]', options: ['--snapshots', '-t'] },
  status: { usage: 'status SRC DST [--route R] | status group NAME | status --all', options: ['--route', '--all', '--fleet', '--pairs'] },
  diagnose: {
    usage: 'diagnose SRC DST [--fix [--yes] [--confirm-base DATASET]] [--stalled-after SECONDS]',
    options: ['--fix', '--yes', '-y', '--stalled-after', '--route', '--fleet', '--pairs', '--confirm-base', '--store'],
  },
  plan: {
    usage: 'plan sync SRC DST | plan group NAME | plan rollback HOST:DS@SNAP | plan rebase HOST:CLONE --onto HOST:DS@SNAP',
    options: ['--route', '--snapshot', '--no-bookmark', '--destroy-clones', '--onto', '--keep-data', '--drop-data', '--fleet', '--pairs'],
  },
  sync: {
    usage: 'sync SRC DST [--route relay|push|pull] [--snapshot NAME] [--no-bookmark] [--yes] | sync group NAME [--yes]',
    options: ['--route', '--snapshot', '--no-bookmark', '--yes', '-y', '--fleet', '--pairs', '--confirm-base', '--store'],
  },
  rollback: {
    usage: 'rollback HOST:DS@SNAP [--destroy-clones] [--yes] [--confirm-base DATASET]',
    options: ['--destroy-clones', '--yes', '-y', '--fleet', '--pairs', '--confirm-base', '--store'],
  },
  rebase: {
    usage: 'rebase HOST:CLONE --onto HOST:DS@SNAP --keep-data|--drop-data [--yes]',
    options: ['--onto', '--keep-data', '--drop-data', '--yes', '-y', '--fleet', '--pairs', '--confirm-base', '--store'],
  },
  snapshot: { usage: 'snapshot HOST:DS@NAME [--recursive] [--yes]', options: ['--recursive', '-r', '--yes', '-y', '--store'] },
  destroy: {
    usage: 'destroy HOST:DS@SNAP[,SNAP|FIRST%LAST...] [--yes]',
    options: ['--yes', '-y', '--fleet', '--pairs', '--store'],
  },
  hold: { usage: DATASET_OP_USAGE.hold, options: ['--recursive', '-r', '--yes', '-y', '--store'] },
  release: { usage: DATASET_OP_USAGE.release, options: ['--recursive', '-r', '--yes', '-y', '--store'] },
  clone: { usage: DATASET_OP_USAGE.clone, options: ['-o', '--property', '--yes', '-y', '--fleet', '--pairs', '--store'] },
  promote: { usage: DATASET_OP_USAGE.promote, options: ['--yes', '-y', '--fleet', '--pairs', '--store'] },
  set: { usage: DATASET_OP_USAGE.set, options: ['--yes', '-y', '--fleet', '--pairs', '--store'] },
  rename: { usage: DATASET_OP_USAGE.rename, options: ['--with-replicas', '--yes', '-y', '--fleet', '--pairs', '--store'] },
  expire: {
    usage: 'expire HOST:DATASET|GROUP [--keep N] [--primary] [--yes]',
    options: ['--keep', '--primary', '--yes', '-y', '--fleet', '--pairs', '--store'],
  },
  roles: { usage: 'roles GROUP [--yes]', options: ['--yes', '-y', '--fleet', '--pairs', '--store'] },
  failover: { usage: 'failover GROUP --to HOST:DATASET [--yes]', options: ['--to', '--yes', '-y', '--fleet', '--pairs', '--store'] },
  takeover: {
    usage: 'takeover GROUP --to HOST:DATASET [--discard-partial] [--yes]',
    options: ['--to', '--discard-partial', '--yes', '-y', '--fleet', '--pairs', '--store'],
  },
  demote: { usage: 'demote GROUP HOST:DATASET [--keep-data] [--yes]', options: ['--keep-data', '--yes', '-y', '--fleet', '--pairs', '--store'] },
  audit: { usage: 'audit SRC DST [--route R]', options: ['--route'] },
  history: { usage: 'history', options: ['--store'] },
  import: {
    usage: 'import syncoid-args|sanoid FILE --host NAME [--host-map OTHER=ALIAS ...] [--write [--yes]] [--fleet FILE]',
    options: ['--host', '--host-map', '--write', '--yes', '-y', '--fleet'],
  },
  store: { usage: 'store info [--store URL] | store prune --older-than 30d [--yes] [--store URL]', options: ['--store', '--older-than', '--yes', '--json'] },
  check: {
    usage:
      'check [HOST...] [--stale-after 7h] [--max-snapshots N] [--capacity-warn 80] [--capacity-crit 90] [--group G] [--fleet FILE] [--from-store [--max-age 5m]] [--json]',
    options: [
      '--stale-after',
      '--max-snapshots',
      '--capacity-warn',
      '--capacity-crit',
      '--group',
      '--fleet',
      '--pairs',
      '--store',
      '--from-store',
      '--max-age',
    ],
  },
  metrics: {
    usage: 'metrics [HOST...] [--textfile FILE] [--fleet FILE] [--from-store [--max-age 5m]]',
    options: ['--textfile', '--fleet', '--pairs', '--store', '--from-store', '--max-age'],
  },
  agent: {
    usage:
      'agent [HOST...] [--interval 60s] [--concurrency 32] [--once] [--retain 30d] [--workers N [--per-host M] [--lease 60s]] [--store URL] [--fleet FILE]',
    options: ['--interval', '--concurrency', '--once', '--retain', '--workers', '--per-host', '--lease', '--store', '--fleet', '--pairs'],
  },
  queue: {
    usage:
      'queue add sync SRC DST [SRC DST...] [--priority P] [--route R] | queue add group NAME | queue ls [--state S] | queue pause|resume [JOB...|--all] | queue retry JOB...|--failed | queue cancel JOB... | queue prio JOB P',
    options: ['--priority', '--route', '--state', '--all', '--failed', '--store', '--fleet', '--pairs'],
  },
  worker: {
    usage: 'worker [--parallel N] [--per-host M] [--once] [--lease 60s] [--penalty 32] [--store URL] [--fleet FILE]',
    options: ['--parallel', '--per-host', '--once', '--lease', '--penalty', '--store', '--fleet', '--pairs'],
  },
};

function stderrLogger(verbose: boolean): Logger {
  const say = (lvl: string) => (m: string) => {
    if (verbose) process.stderr.write(`[${lvl}] ${safeText(m)}\n`);
  };
  return { trace: () => {}, debug: say('debug'), info: say('info'), warn: say('warn'), error: say('error') };
}

/** Ask a question on the terminal; without a terminal the answer is "no": the CLI never accepts a host key on its own. */
async function ask(question: string, hidden = false): Promise<string | undefined> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  if (hidden) (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => {};
  try {
    return await new Promise<string>((resolve) => rl.question(question, resolve));
  } finally {
    if (hidden) process.stderr.write('\n');
    rl.close();
  }
}

function makeFleet(opts: Options): Fleet {
  const logger = stderrLogger(opts.verbose);
  return new Fleet(
    (spec) =>
      createRunner(spec, {
        logger,
        sshConfigPath: opts.sshConfig,
        knownHostsFiles: [opts.knownHosts],
        connectTimeoutMs: opts.timeoutS * 1000,
        onUnknownHostKey: async (q) => {
          const where = q.port === 22 ? q.host : `[${q.host}]:${q.port}`;
          const ca = q.certAuthority
            ? `Your known_hosts trusts a certificate authority for this host (@cert-authority, ${q.certAuthority}); zfs-fleet does not verify host certificates and asks about the host's plain key instead.\n`
            : '';
          const a = await ask(
            `The authenticity of host ${where} can't be established.\n${q.keyType} key fingerprint is ${q.fingerprint}.\n${ca}Are you sure you want to continue connecting and save the key to ${opts.knownHosts} (yes/no)? `,
          );
          return a?.trim().toLowerCase() === 'yes' ? 'save' : 'cancel';
        },
        getPassphrase: async ({ keyPath, attempt }) => ask(`${attempt > 1 ? 'Wrong passphrase. ' : ''}Enter passphrase for key '${keyPath}': `, true),
      }),
    { zfsPath: opts.zfs, zpoolPath: opts.zpool, commandTimeoutMs: 600_000 },
    logger,
    process.env.ZFS_FLEET_NO_CACHE === '1' ? undefined : new FileCapabilityCache(defaultCachePath()),
  );
}

/** Everything the CLI prints goes through here or `err`: host text is in it, so control bytes are escaped. */
function out(line: string): void {
  process.stdout.write(safeText(line) + '\n');
}

function err(text: string): void {
  process.stderr.write(safeText(text));
}

function table(rows: string[][]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows)
    out(
      r
        .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!)))
        .join('  ')
        .trimEnd(),
    );
}

async function cmdHosts(opts: Options): Promise<number> {
  let hosts = opts.positional;
  if (hosts.length === 0) {
    if (!fs.existsSync(opts.sshConfig)) throw new Error(`no hosts given and no ssh config at ${opts.sshConfig}`);
    hosts = listConfigHosts(fs.readFileSync(opts.sshConfig, 'utf8'));
  }
  const fleet = makeFleet(opts);
  fleet.setHosts(hosts);
  try {
    const results = await mapLimit(hosts, 8, async (h) => {
      const host = fleet.host(h);
      const listing = await host.listing();
      return listing;
    });
    const rows = results.map((r, i) =>
      r.status === 'fulfilled'
        ? {
            host: hosts[i]!,
            reachable: true,
            zfs: r.value.capabilities.versionText,
            implementation: r.value.capabilities.implementation,
            version: r.value.capabilities.version ?? null,
            pools: r.value.pools.map((p) => p.name),
            datasets: r.value.datasets.size,
            snapshots: r.value.snapshotCount,
          }
        : { host: hosts[i]!, reachable: false, error: (r.reason as Error).message },
    );
    if (opts.json) out(JSON.stringify(rows, null, 2));
    else
      table([
        ['HOST', 'STATE', 'ZFS', 'POOLS', 'DATASETS', 'SNAPSHOTS'],
        ...rows.map((r) =>
          'error' in r
            ? [r.host, 'unreachable', r.error!.split('\n')[0]!, '', '', '']
            : [r.host, 'ok', r.zfs!, r.pools!.join(','), String(r.datasets), String(r.snapshots)],
        ),
      ]);
    return rows.every((r) => r.reachable) ? 0 : 1;
  } finally {
    await fleet.dispose();
  }
}

function selectObjects(listing: HostListing, root: string | undefined, snapshots: boolean): ZfsObject[] {
  const outList: ZfsObject[] = [];
  const visit = (name: string) => {
    const e = listing.datasets.get(name);
    if (!e) return;
    outList.push(e.object);
    if (snapshots) outList.push(...[...e.snapshots].reverse());
    for (const c of e.children) visit(c);
  };
  if (root !== undefined) {
    if (!listing.datasets.has(root)) throw new Error(`${listing.host}: dataset ${root} does not exist`);
    visit(root);
  } else {
    for (const p of listing.pools) visit(p.name);
    // Datasets of pools that zpool did not list (should not happen) are still shown.
    for (const [name] of listing.datasets) if (!name.includes('/') && !listing.pools.some((p) => p.name === name)) visit(name);
  }
  return outList;
}

/** Objects a host listed with names or values that are not valid ZFS ones: left out, said on stderr. */
function warnRejected(listing: HostListing): void {
  for (const r of listing.rejected) err(`zfs-fleet: ${listing.host}: left out ${r.name}: ${r.reason}\n`);
}

async function subtree(fleet: Fleet, host: string, dataset: string): Promise<HostListing> {
  try {
    return await fleet.host(host).subtree(dataset);
  } catch (e) {
    if (e instanceof ZfsError && e.kind === 'not-found') throw new Error(`${host}: dataset ${dataset} does not exist`, { cause: e });
    throw e;
  }
}

async function cmdLs(opts: Options): Promise<number> {
  if (opts.positional.length !== 1) throw new UsageError('ls takes one HOST[:DATASET]');
  const ep = parseEndpoint(opts.positional[0]!);
  if (ep.name && ep.name.kind !== 'dataset' && ep.name.kind !== 'pool') throw new UsageError(`ls takes a dataset, not a ${ep.name.kind}`);
  const fleet = makeFleet(opts);
  fleet.setHosts([ep.host]);
  try {
    // A dataset asked for: list its subtree only (`zfs list -r DATASET`), not the whole host.
    const listing = ep.name ? await subtree(fleet, ep.host, ep.name.full) : await fleet.host(ep.host).listing();
    warnRejected(listing);
    const objs = selectObjects(listing, ep.name?.full, opts.snapshots);
    if (opts.json) {
      out(JSON.stringify({ host: ep.host, zfs: listing.capabilities.versionText, objects: objs, rejected: listing.rejected }, null, 2));
    } else {
      table([
        ['NAME', 'TYPE', 'USED', 'AVAIL', 'REFER', 'CREATION', 'MOUNTPOINT/ORIGIN'],
        ...objs.map((o) => [
          o.name,
          o.type,
          formatBytes(o.used),
          o.type === 'snapshot' ? '-' : formatBytes(o.available),
          formatBytes(o.referenced),
          formatTime(o.creation),
          o.origin ? `origin ${o.origin}` : (o.mountpoint ?? '-'),
        ]),
      ]);
    }
    return 0;
  } finally {
    await fleet.dispose();
  }
}

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError && verbOf(argv) === 'check') return pluginUsage(e);
    err(`zfs-fleet: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { command, opts } = parsed;
  try {
    switch (command) {
      case 'help': {
        const v = opts.positional[0] ? VERBS[opts.positional[0]] : undefined;
        out(v ? `usage: zfs-fleet ${v.usage}\n  its options: ${[...v.options, ...COMMON_OPTIONS].join(' ')}` : USAGE);
        return 0;
      }
      case 'hosts':
        return await cmdHosts(opts);
      case 'ls':
        return await cmdLs(opts);
      case 'import':
        return await importCommand(opts, out, (m) => err(`zfs-fleet: ${m}\n`));
      case 'store':
        return await (await import('./store.js')).storeCommand(opts, out);
      case 'agent': {
        const fleet = makeFleet(opts);
        try {
          return await agentCommand(
            fleet,
            opts,
            (line) => err(line + '\n'),
            () => makeFleet(opts),
            stderrLogger(opts.verbose),
          );
        } finally {
          await fleet.dispose();
        }
      }
      case 'queue':
      case 'worker': {
        const fleet = makeFleet(opts);
        try {
          return command === 'queue'
            ? await queueCommand(fleet, opts, out, table, err, stderrLogger(opts.verbose))
            : await workerCommand(fleet, opts, (line) => err(line + '\n'), stderrLogger(opts.verbose));
        } finally {
          await fleet.dispose();
        }
      }
      case 'check':
      case 'metrics': {
        const fleet = makeFleet(opts);
        try {
          return await (command === 'check' ? checkCommand : metricsCommand)(fleet, opts, out);
        } finally {
          await fleet.dispose();
        }
      }
      case 'status':
      case 'diagnose':
      case 'plan':
      case 'sync':
      case 'rollback':
      case 'rebase':
      case 'snapshot':
      case 'destroy':
      case 'hold':
      case 'release':
      case 'clone':
      case 'promote':
      case 'set':
      case 'rename':
      case 'roles':
      case 'failover':
      case 'takeover':
      case 'demote':
      case 'expire':
      case 'history':
      case 'audit': {
        const fleet = makeFleet(opts);
        try {
          return await replicationCommand(command, fleet, opts, out, stderrLogger(opts.verbose));
        } finally {
          await fleet.dispose();
        }
      }
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (e) {
    if (command === 'check') return pluginUsage(e as Error, true);
    if (e instanceof UsageError) {
      err(`zfs-fleet: ${e.message}\n${USAGE}\n`);
      return 2;
    }
    if ((e as Error).name === 'EndpointError' || (e as Error).name === 'ZfsNameError') {
      err(`zfs-fleet: ${(e as Error).message}\n`);
      return 2;
    }
    err(`zfs-fleet: ${((e as Error).message ?? String(e)).split('\n')[0]}\n`);
    return 1;
  }
}

/**
 * check is a monitoring plugin: whatever keeps it from checking (bad usage, an unreadable pairs
 * file, an error of its own) is UNKNOWN, exit 3, said on stdout where Nagios and Icinga read it.
 */
function pluginUsage(e: Error, internal = false): number {
  const usage = `usage: zfs-fleet ${VERBS.check!.usage}`;
  out(`ZFS FLEET UNKNOWN - ${(e.message ?? String(e)).split('\n')[0]}${internal && !(e instanceof UsageError) ? '' : `\n${usage}`}`);
  return 3;
}

/** Exit once stdout is flushed: a pipe (zfs-fleet ls ... | jq) would otherwise lose the tail of the output. */
function exitAfterFlush(code: number): void {
  process.exitCode = code;
  process.stdout.write('', () => process.exit(code));
}

/** The command: dist/cli.js (src/cli/launcher.ts) loads this bundle and calls it with the process's arguments. */
export function run(argv: string[]): void {
  main(argv).then(exitAfterFlush, (e) => {
    err(`zfs-fleet: ${(e as Error).message}\n`);
    exitAfterFlush(1);
  });
}
