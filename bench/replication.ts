/**
 * Replication benchmarks on the OpenZFS 2.3 lab VM (`bash test/lab/vm/vm.sh up`), printed as ratios
 * against peers run in the same invocation on the same VM (no absolute time is asserted anywhere):
 *
 *  1. recursive: tank/bench50 (a parent and 50 small child datasets, 2 recursive snapshots) synced
 *     by ZFS Fleet's relay route (planSync + executePlan of the recursive pair, `zfs send -R`) to
 *     backup/bench50-ours, and by `syncoid --recursive --no-sync-snap` (Debian's sanoid 2.1.0, run
 *     on this machine, reaching the VM over OpenSSH) to backup/bench50-syncoid: a full sync, then one
 *     more recursive snapshot and the incremental sync. Ratio ours/syncoid of the wall time (goal
 *     <= 0.5x). After each sync both targets must hold exactly the source's snapshot guids, else
 *     the run is invalid. Should the recursive pair fail in the product, the error and the plan are
 *     printed and ours falls back to 51 non-recursive pair syncs through one Fleet (bounded concurrency).
 *  2. throughput: zfbenchsrc/benchbig@s1 (BENCH_BIG_MIB MiB, default 1 GiB, of incompressible
 *     data) received as zfbenchdst/benchbig-* on two pools the benchmark creates for it (the VM's
 *     own pools have 960 MiB each): file-backed in the VM when its disk has room, else on sparse files
 *     of this machine that the VM reaches as NBD disks (see bigPools below); received by (a) `zfs send | zfs recv` inside the VM (the local pipe: the physical
 *     limit), (b) `ssh zfsvm zfs send | ssh zfsvm zfs recv` from this machine (the operator's way,
 *     the real peer of the relay), (c) ours relay, (d) ours push (the VM runs `zfs send | ssh
 *     root@127.0.0.1 zfs recv`, with a key made for the benchmark and removed afterwards) and (e) the
 *     very pipeline of (d) typed by hand over ssh: the raw pipe of the push's shape. MB/s and ratios
 *     (goal >= 0.9x): relay/(b), push/(e); also ours/(a) and push/(b) for information.
 *
 * Ours is timed end to end as a fresh process (this bundle run with `--sync JOB`): connect, probe,
 * list, plan, re-check, run, like the CLI; the peers are fresh processes too. Everything created on
 * the VM is destroyed at the end, also after a failure or Ctrl-C.
 *
 * Build and run: `npx esbuild bench/replication.ts --bundle --platform=node --format=cjs
 * --external:cpu-features --external:*.node --outfile=dist/bench/replication.js && node
 * dist/bench/replication.js` (see bench/README.md for the environment variables).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { executePlan } from '../src/core/execute/executor.js';
import { Fleet, mapLimit } from '../src/core/fleet/fleet.js';
import type { HostListing } from '../src/core/fleet/listing.js';
import { parsePair, type PairSpec } from '../src/core/fleet/pairs.js';
import { silentLogger } from '../src/core/log.js';
import { estimateArgv, parseSendEstimate } from '../src/core/replication/argv.js';
import { renderPlan, type PipeStep, type Plan } from '../src/core/replication/plan.js';
import { planSync, type RouteOptions } from '../src/core/replication/sync.js';
import { shellJoin } from '../src/core/zfs/quote.js';
import { createRunner } from '../src/transport/index.js';
import { secs } from './proc.js';

// ---------------------------------------------------------------------------------------------
// Settings

function envNumber(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number (got '${v}')`);
  return n;
}

const LAB = process.env.ZFS_FLEET_LAB ?? '/tmp/zfs-fleet-lab';
const VM_DIR = path.join(LAB, 'vm');
const HOST = 'zfsvm';
const RUNS = Math.floor(envNumber('BENCH_RUNS', 3));
const DATASETS = Math.floor(envNumber('BENCH_DATASETS', 50));
const BIG_MIB = Math.floor(envNumber('BENCH_BIG_MIB', 1024));
/** Where the two pools of the throughput benchmark live: 'auto' (VM files when the VM has room, else host NBD), 'vm-files' or 'host-nbd'. */
const BIG_POOLS = process.env.BENCH_BIG_POOLS ?? 'auto';
const CONCURRENCY = Math.floor(envNumber('BENCH_CONCURRENCY', 4));
const ONLY = process.env.BENCH_ONLY ?? '';
/** Benchmark 2's variants to run (keys: raw, ssh, sshGcm, relay, relay2, push, pushByHand); empty: all. */
const VARIANTS = (process.env.BENCH_VARIANTS ?? '')
  .split(',')
  .map((x) => x.trim())
  .filter(Boolean);
const SYNCOID = process.env.BENCH_SYNCOID ?? 'syncoid';
/** How long to wait for another emulated VM (qemu-system) to go away before a run; a run during which one ran is discarded and repeated. */
const WAIT_QEMU_MINUTES = envNumber('BENCH_WAIT_QEMU_MINUTES', 40);

const SRC50 = 'tank/bench50';
const OURS50 = 'backup/bench50-ours';
const SYNCOID50 = 'backup/bench50-syncoid';
/** The throughput benchmark's own pools (created and destroyed by it): source and target, as tank and backup. */
const BIG_SRC_POOL = 'zfbenchsrc';
const BIG_DST_POOL = 'zfbenchdst';
const BIG = `${BIG_SRC_POOL}/benchbig`;
const BIG_TARGETS = {
  raw: `${BIG_DST_POOL}/benchbig-raw`,
  ssh: `${BIG_DST_POOL}/benchbig-ssh`,
  sshGcm: `${BIG_DST_POOL}/benchbig-sshgcm`,
  relay: `${BIG_DST_POOL}/benchbig-relay`,
  relay2: `${BIG_DST_POOL}/benchbig-relay2`,
  push: `${BIG_DST_POOL}/benchbig-push`,
  pushByHand: `${BIG_DST_POOL}/benchbig-pushpeer`,
};
/**
 * The cipher ssh2 (ours) negotiates with OpenSSH: the first of its defaults (node_modules/ssh2/lib/
 * protocol/constants.js) without its optional native binding. OpenSSH's own default is
 * chacha20-poly1305. In the TCG-emulated VM AES instructions are emulated, which makes AES-GCM in
 * the VM's sshd slower than chacha20 (on hardware with AES-NI it is the other way round), so (b2),
 * the operator's pipe with ours' cipher, tells the cost of the cipher from the cost of the product.
 */
const OURS_CIPHER = 'aes128-gcm@openssh.com';
/** A second ssh alias of the same VM (in an ssh config written for the run): the relay's target over its own connection, as with two hosts. */
const HOST2 = 'zfsvm-bench-target';
/** Everything this benchmark creates on the VM (destroyed before and after). */
const CREATED = [SRC50, OURS50, SYNCOID50];
/** The key the VM uses to ssh to itself for the push route (created and removed by the benchmark). */
const PUSH_KEY = '/root/.ssh/zfs-fleet-bench';
const PUSH_KNOWN_HOSTS = '/root/.ssh/zfs-fleet-bench.known_hosts';
const PUSH_KEY_COMMENT = 'zfs-fleet-bench';

interface VmInfo {
  sshConfig: string;
  knownHosts: string;
  identityFile: string;
  host: string;
  port: number;
  pid?: number;
  zfsVersion?: string;
}

function readVm(): VmInfo {
  const file = path.join(VM_DIR, 'vm.json');
  if (!fs.existsSync(file)) throw new Error(`the lab VM is not up (no ${file}): run \`bash test/lab/vm/vm.sh up\``);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as VmInfo;
}

// ---------------------------------------------------------------------------------------------
// Processes

interface Proc {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

const children = new Set<ChildProcess>();

function exec(cmd: string, args: readonly string[], input = ''): Promise<Proc> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) => {
      children.delete(child);
      reject(e);
    });
    child.on('close', (code) => {
      children.delete(child);
      resolve({ code, stdout, stderr, ms: performance.now() - t0 });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

/** OpenSSH to the VM over one shared connection: for setup, checks and cleanup (never timed against ours, except the in-VM pipe (a)). */
function cmArgs(v: VmInfo): string[] {
  return ['-F', v.sshConfig, '-o', 'ControlMaster=auto', '-o', `ControlPath=${path.join(VM_DIR, 'cm-bench-%C')}`, '-o', 'ControlPersist=300'];
}

/** Run a bash script on the VM (pipefail on); throws on a non-zero exit unless `check` is false. */
async function vmSh(v: VmInfo, script: string, check = true): Promise<Proc> {
  const r = await exec('ssh', [...cmArgs(v), HOST, shellJoin(['bash', '-o', 'pipefail', '-c', script])]);
  if (check && r.code !== 0) throw new Error(`on the VM: ${script.split('\n')[0]}...: exit ${r.code}: ${r.stderr.trim()}`);
  return r;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const list = (xs: readonly number[]) => xs.map(secs).join(', ');

// ---------------------------------------------------------------------------------------------
// Ours, as a fresh process: `node dist/bench/replication.js --sync JOB`

interface SyncJob {
  sshConfig: string;
  knownHosts: string;
  /** Pairs synced wave after wave; the pairs of a wave run with at most `concurrency` at once. */
  waves: PairSpec[][];
  concurrency: number;
  route?: RouteOptions;
}

interface PairOutcome {
  pair: string;
  outcome: string;
  error?: string;
  bytes: number;
  durationMs: number;
  /** Time in the send/recv steps alone. */
  transferMs: number;
  /** The plan as text, when the sync did not succeed. */
  plan?: string;
  /** Each step that ran: its op and time. */
  steps: { op: string; ms: number }[];
}

interface SyncReport {
  ok: boolean;
  pairs: PairOutcome[];
  /** Time to connect, probe and list the hosts for planning (first wave). */
  listMs?: number;
  error?: string;
}

async function childSync(job: SyncJob): Promise<SyncReport> {
  const fleet = new Fleet(
    (spec) =>
      createRunner(spec, {
        logger: silentLogger,
        sshConfigPath: job.sshConfig,
        knownHostsFiles: [job.knownHosts],
        connectTimeoutMs: 60_000,
        onUnknownHostKey: async () => 'cancel',
        getPassphrase: async () => undefined,
      }),
    { zfsPath: 'zfs', zpoolPath: 'zpool', commandTimeoutMs: 600_000 },
    silentLogger,
  );
  const pairs: PairOutcome[] = [];
  let listMs: number | undefined;
  try {
    const hosts = [...new Set(job.waves.flat().flatMap((s) => [parsePair(s).source.host, parsePair(s).target.host]))];
    fleet.setHosts(hosts);
    for (const wave of job.waves) {
      // One listing per host for planning the wave (as the CLI does per pair).
      const listings = new Map<string, HostListing>();
      const t0 = performance.now();
      await Promise.all(hosts.map(async (h) => listings.set(h, await fleet.host(h).refresh())));
      listMs ??= performance.now() - t0;
      const settled = await mapLimit(wave, job.concurrency, async (spec): Promise<PairOutcome> => {
        const pair = parsePair(spec);
        let plan: Plan;
        try {
          plan = planSync(pair, listings.get(pair.source.host)!, listings.get(pair.target.host)!, { ...(job.route ? { route: job.route } : {}) });
        } catch (e) {
          return { pair: pair.id, outcome: 'plan-error', error: (e as Error).message, bytes: 0, durationMs: 0, transferMs: 0, steps: [] };
        }
        const r = await executePlan(
          plan,
          { runner: (h) => fleet.host(h).runner, freshListing: (h) => fleet.host(h).refresh(), logger: silentLogger },
          { confirmStep: async () => true },
        );
        const sendIds = new Set(plan.steps.filter((s) => s.type === 'pipe').map((s) => s.id));
        const transferMs = r.steps.filter((s) => sendIds.has(s.id)).reduce((a, s) => a + (s.durationMs ?? 0), 0);
        return {
          pair: pair.id,
          outcome: r.outcome,
          ...(r.error !== undefined ? { error: r.error } : {}),
          bytes: r.bytes,
          durationMs: r.durationMs,
          transferMs,
          steps: r.steps
            .filter((s) => s.status !== 'not-run' && s.status !== 'skipped')
            .map((s) => ({ op: plan.steps.find((p) => p.id === s.id)!.op, ms: s.durationMs ?? 0 })),
          ...(r.outcome !== 'ok' ? { plan: renderPlan(plan) } : {}),
        };
      });
      for (const [i, s] of settled.entries()) {
        pairs.push(
          s.status === 'fulfilled'
            ? s.value
            : {
                pair: `${wave[i]!.source}->${wave[i]!.target}`,
                outcome: 'error',
                error: String((s.reason as Error)?.message ?? s.reason),
                bytes: 0,
                durationMs: 0,
                transferMs: 0,
                steps: [],
              },
        );
      }
      if (pairs.some((p) => p.outcome !== 'ok')) break;
    }
    return { ok: pairs.every((p) => p.outcome === 'ok'), pairs, ...(listMs !== undefined ? { listMs } : {}) };
  } catch (e) {
    return { ok: false, pairs, error: (e as Error).message };
  } finally {
    await fleet.dispose();
  }
}

interface OursRun {
  ms: number;
  report: SyncReport;
}

async function runOurs(job: SyncJob): Promise<OursRun> {
  const r = await exec(process.execPath, [__filename, '--sync', JSON.stringify(job)]);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let report: SyncReport;
  try {
    report = JSON.parse(line) as SyncReport;
  } catch {
    report = { ok: false, pairs: [], error: `ours exited ${r.code} without a report: ${r.stderr.trim() || r.stdout.trim()}` };
  }
  return { ms: r.ms, report };
}

function oursError(report: SyncReport): string {
  const bad = report.pairs.find((p) => p.outcome !== 'ok');
  if (!bad) return report.error ?? 'unknown failure';
  return `${bad.pair}: ${bad.outcome}: ${bad.error ?? ''}${bad.plan ? `\n--- plan ---\n${bad.plan}\n------------` : ''}`;
}

/** Where ours spent its time (one pair): listing for the plan, then each step; the rest is start-up, connection, re-checks. */
function breakdown(r: OursRun): string {
  if (r.report.pairs.length !== 1) return `${r.report.pairs.length} pairs, listing ${secs(r.report.listMs ?? 0)} s`;
  const p = r.report.pairs[0]!;
  const inSteps = p.steps.reduce((a, s) => a + s.ms, 0);
  return `list ${secs(r.report.listMs ?? 0)} s, steps ${p.steps.map((s) => `${s.op} ${secs(s.ms)}`).join(' + ')} s, other ${secs(r.ms - (r.report.listMs ?? 0) - inSteps)} s`;
}

// ---------------------------------------------------------------------------------------------
// Checks and cleanup on the VM

/** Snapshot guids under a dataset, keyed by the name relative to it (`/d01@s1`, `@s2`). */
async function snapshotGuids(v: VmInfo, ds: string): Promise<Map<string, string>> {
  const r = await vmSh(v, `zfs list -H -p -o name,guid -t snapshot -r ${ds}`);
  const m = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const [name, guid] = line.split('\t');
    if (name && guid) m.set(name.slice(ds.length), guid);
  }
  return m;
}

/** Throws unless the target holds exactly the source's snapshots with the same guids. */
async function verifySame(v: VmInfo, source: string, target: string, what: string): Promise<number> {
  const [s, t] = await Promise.all([snapshotGuids(v, source), snapshotGuids(v, target)]);
  const problems: string[] = [];
  for (const [k, g] of s) {
    if (!t.has(k)) problems.push(`${target}${k} missing`);
    else if (t.get(k) !== g) problems.push(`${target}${k} guid ${t.get(k)} != source ${g}`);
  }
  for (const k of t.keys()) if (!s.has(k)) problems.push(`${target}${k} is not on the source`);
  if (problems.length) throw new Error(`${what}: ${target} does not match ${source} (${problems.length} difference(s)): ${problems.slice(0, 5).join('; ')}`);
  return s.size;
}

/**
 * Stop the `zfs send`/`zfs recv` processes in the VM whose command line names one of `names`: a
 * pipeline started over ssh without a pty runs on when its ssh client is killed (Ctrl-C, a failed
 * run), and would keep the datasets and pools busy. Only the benchmark's own names are given.
 */
function killStreamsScript(names: readonly string[]): string {
  return `ps -eo pid=,args= | awk -v names=${shellJoin([names.join(' ')])} 'BEGIN { n = split(names, a, " ") }
  ($2 == "zfs" || $2 ~ "/zfs$") && ($3 == "send" || $3 == "recv" || $3 == "receive") { for (i = 1; i <= n; i++) if (index($0, a[i])) { print $1; break } }' |
  { pids=$(cat); [ -z "$pids" ] || { kill $pids 2>/dev/null; sleep 1; }; }`;
}

function destroyScript(datasets: readonly string[]): string {
  // Stop what still streams into or out of them, release any hold left by a failed sync, abort interrupted receives, then destroy.
  return `${killStreamsScript(datasets)}
for ds in ${datasets.join(' ')}; do
  zfs receive -A "$ds" >/dev/null 2>&1 || true
  if zfs list -H -o name "$ds" >/dev/null 2>&1; then
    zfs list -H -o name -t snapshot -r "$ds" | while read -r s; do
      zfs holds -H "$s" 2>/dev/null | cut -f2 | while read -r tag; do zfs release "$tag" "$s" || true; done
    done
    zfs destroy -r "$ds"
  fi
done
for p in ${[...new Set(datasets.map((d) => d.split('/')[0]!))].join(' ')}; do zpool wait -t free "$p" 2>/dev/null || true; done`;
}

async function destroy(v: VmInfo, datasets: readonly string[]): Promise<void> {
  await vmSh(v, destroyScript(datasets));
}

/** false when the throughput pools could not be destroyed (their NBD servers and files are then kept: see destroyBigPools). */
async function cleanupVm(v: VmInfo): Promise<boolean> {
  const r = await vmSh(
    v,
    `${destroyScript(CREATED)}
if [ -f /root/.ssh/authorized_keys ]; then sed -i '/ ${PUSH_KEY_COMMENT}$/d' /root/.ssh/authorized_keys; fi
rm -f ${PUSH_KEY} ${PUSH_KEY}.pub ${PUSH_KNOWN_HOSTS}`,
    false,
  );
  if (r.code !== 0)
    console.error(`cleanup on the VM failed (exit ${r.code}): ${r.stderr.trim()}\n  left behind? check: ssh -F ${v.sshConfig} ${HOST} zfs list -r tank backup`);
  return destroyBigPools(v);
}

// ---------------------------------------------------------------------------------------------
// The throughput benchmark's pools
//
// A 1 GiB dataset and its copy do not fit in the VM's pools (960 MiB each), and the VM recipe is
// not changed for a benchmark (a new image takes ~10 minutes to build). So the benchmark makes two
// pools of its own, BIG_SRC_POOL and BIG_DST_POOL, each on a sparse file:
//  - 'vm-files': files in the VM's /var/tmp, when the VM's disk has room for the data;
//  - 'host-nbd': files in a temporary directory of THIS machine, served by `qemu-nbd` on 127.0.0.1
//    and attached in the VM as /dev/nbdN (the VM reaches this machine's loopback as 10.0.2.2, QEMU's
//    user network) by a small Python client (the VM has python3 and the nbd module; no package
//    is installed). Every variant reads the source and writes its target through the same disks,
//    so the ratios compare the same storage; the storage is slower than the VM's virtio disks.
// Everything is removed at the end, also after a failure or Ctrl-C, and before starting.

/** The pools' data: the dataset plus room for metadata and a target that is being destroyed while the next one is written. */
const POOL_FILE_MIB = Math.ceil(BIG_MIB * 1.5) + 512;
const VM_POOL_DIR = '/var/tmp/zfs-fleet-bench';
const VM_NBD_CLIENT = '/var/tmp/zfs-fleet-bench-nbd.py';
/** The NBD client (old ioctl interface, fixed newstyle handshake, default export); stays in NBD_DO_IT until disconnected. */
const NBD_CLIENT_PY = `import fcntl, os, socket, struct, sys
host, port, dev = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((host, port))
def recvn(n):
    b = b''
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            sys.exit('nbd: the server closed the connection during the handshake')
        b += c
    return b
magic, opt, hflags = struct.unpack('>8s8sH', recvn(18))
if magic != b'NBDMAGIC' or opt != b'IHAVEOPT':
    sys.exit('nbd: not a newstyle NBD server')
cflags = hflags & 3  # FIXED_NEWSTYLE, NO_ZEROES
s.sendall(struct.pack('>I', cflags))
s.sendall(struct.pack('>8sII', b'IHAVEOPT', 1, 0))  # NBD_OPT_EXPORT_NAME ""
size, tflags = struct.unpack('>QH', recvn(10))
if not cflags & 2:
    recvn(124)
fd = os.open(dev, os.O_RDWR)
fcntl.ioctl(fd, 0xab01, 4096)          # NBD_SET_BLKSIZE
fcntl.ioctl(fd, 0xab07, size // 4096)  # NBD_SET_SIZE_BLOCKS
fcntl.ioctl(fd, 0xab0a, tflags)        # NBD_SET_FLAGS (flush, trim as the server offers)
fcntl.ioctl(fd, 0xab00, s.fileno())    # NBD_SET_SOCK
print('connected', size, flush=True)
try:
    fcntl.ioctl(fd, 0xab03)            # NBD_DO_IT: serves until NBD_DISCONNECT
finally:
    fcntl.ioctl(fd, 0xab04)            # NBD_CLEAR_SOCK
`;

interface BigPools {
  mode: 'vm-files' | 'host-nbd';
  /** In words, for the results. */
  where: string;
}

/** qemu-nbd servers started by this process (pid files in scratchDir), stopped by destroyBigPools. */
const nbdPidFiles: string[] = [];

function scratch(): string {
  scratchDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'zfs-fleet-bench-'));
  return scratchDir;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function createBigPools(v: VmInfo): Promise<BigPools> {
  const needMiB = 2 * (BIG_MIB + 256); // what gets written: the dataset on each pool, and metadata
  const avail = await vmSh(v, `mkdir -p /var/tmp && df -P -k /var/tmp | awk 'NR == 2 { print int($4 / 1024) }'`);
  const vmFreeMiB = Number(avail.stdout.trim());
  const vmFits = Number.isFinite(vmFreeMiB) && vmFreeMiB >= needMiB + 256;
  let mode: BigPools['mode'];
  if (BIG_POOLS === 'vm-files' || (BIG_POOLS === 'auto' && vmFits)) mode = 'vm-files';
  else if (BIG_POOLS === 'host-nbd' || BIG_POOLS === 'auto') mode = 'host-nbd';
  else throw new Error(`BENCH_BIG_POOLS must be auto, vm-files or host-nbd (got '${BIG_POOLS}')`);

  if (mode === 'vm-files') {
    if (!vmFits) {
      throw new Error(
        `the VM has ${vmFreeMiB} MiB free in /var/tmp; two file-backed pools for a ${BIG_MIB} MiB dataset need about ${needMiB + 256} MiB. ` +
          `Free space in the VM, lower BENCH_BIG_MIB, or use BENCH_BIG_POOLS=host-nbd (pools on files of this machine, attached to the VM over NBD).`,
      );
    }
    await vmSh(
      v,
      `set -e
mkdir -p ${VM_POOL_DIR}
truncate -s ${POOL_FILE_MIB}M ${VM_POOL_DIR}/src.img ${VM_POOL_DIR}/dst.img
zpool create ${BIG_SRC_POOL} ${VM_POOL_DIR}/src.img
zpool create ${BIG_DST_POOL} ${VM_POOL_DIR}/dst.img`,
    );
    return { mode, where: `file-backed pools in the VM (${VM_POOL_DIR}, sparse ${POOL_FILE_MIB} MiB files on the VM's disk)` };
  }

  // host-nbd
  const qemuNbd = await exec('qemu-nbd', ['--version']).catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message, ms: 0 }));
  if (qemuNbd.code !== 0)
    throw new Error(
      `the VM has ${vmFreeMiB} MiB free in /var/tmp (a ${BIG_MIB} MiB dataset needs about ${needMiB + 256} MiB) and qemu-nbd is not available here for host-backed pools: ${qemuNbd.stderr.trim()}`,
    );
  const dir = scratch();
  const hostFree = fs.statfsSync(dir);
  const hostFreeMiB = Math.floor((hostFree.bavail * hostFree.bsize) / (1 << 20));
  if (hostFreeMiB < needMiB + 1024) throw new Error(`${dir} has ${hostFreeMiB} MiB free; the two pool files need about ${needMiB} MiB`);
  const check = await vmSh(
    v,
    `command -v python3 >/dev/null || { echo 'no python3 in the VM' >&2; exit 3; }; modprobe nbd nbds_max=16 2>&1 || { echo 'no nbd module in the VM' >&2; exit 3; }; ls /dev/nbd0 >/dev/null`,
    false,
  );
  if (check.code !== 0)
    throw new Error(
      `the VM cannot attach NBD disks for the pools (${check.stderr.trim()}), and its /var/tmp has ${vmFreeMiB} MiB free (about ${needMiB + 256} MiB needed for file-backed pools)`,
    );
  const put = await exec('ssh', [...cmArgs(v), HOST, `cat > ${VM_NBD_CLIENT}`], NBD_CLIENT_PY);
  if (put.code !== 0) throw new Error(`could not copy the NBD client to the VM: ${put.stderr.trim()}`);
  const devices: string[] = [];
  for (const [pool, file] of [
    [BIG_SRC_POOL, 'src.img'],
    [BIG_DST_POOL, 'dst.img'],
  ] as const) {
    const img = path.join(dir, file);
    fs.closeSync(fs.openSync(img, 'w'));
    fs.truncateSync(img, POOL_FILE_MIB * (1 << 20));
    const port = await freePort();
    const pidFile = path.join(dir, `${file}.qemu-nbd.pid`);
    const q = await exec('qemu-nbd', [
      '--fork',
      '--persistent',
      '--bind',
      '127.0.0.1',
      '--port',
      String(port),
      '--format',
      'raw',
      '--cache',
      'writeback',
      '--pid-file',
      pidFile,
      img,
    ]);
    if (q.code !== 0) throw new Error(`qemu-nbd for ${img} failed: ${q.stderr.trim()}`);
    nbdPidFiles.push(pidFile);
    // The first free /dev/nbdN (no pid: not connected), attached by the client left running in NBD_DO_IT.
    const r = await vmSh(
      v,
      `set -e
for d in /sys/block/nbd*; do
  n=\${d##*/}
  case " ${devices.join(' ')} " in *" $n "*) continue ;; esac
  [ -e "$d/pid" ] && continue
  setsid python3 ${VM_NBD_CLIENT} 10.0.2.2 ${port} /dev/$n > /var/tmp/zfs-fleet-bench-$n.log 2>&1 < /dev/null &
  for i in $(seq 1 100); do [ -e "$d/pid" ] && break; sleep 0.1; done
  [ -e "$d/pid" ] || { cat /var/tmp/zfs-fleet-bench-$n.log >&2; exit 4; }
  zpool create ${pool} /dev/$n
  echo "$n"
  exit 0
done
echo 'no free /dev/nbdN in the VM' >&2; exit 5`,
    );
    devices.push(r.stdout.trim());
  }
  return {
    mode,
    where: `pools on sparse ${POOL_FILE_MIB} MiB files of this machine served by qemu-nbd, attached in the VM as /dev/${devices.join(', /dev/')} over QEMU's user network (the VM's disk has ${vmFreeMiB} MiB free)`,
  };
}

/**
 * Destroy the pools, detach the NBD disks, stop our qemu-nbd servers, remove the files: whatever of
 * it exists. The NBD servers are stopped only once the pools are gone: a pool whose disk vanishes is
 * SUSPENDED in the VM until it reboots. If a pool cannot be destroyed, the servers and files are
 * kept, and what to do is printed; false is returned.
 */
async function destroyBigPools(v: VmInfo): Promise<boolean> {
  const r = await vmSh(
    v,
    `${killStreamsScript([BIG_SRC_POOL, BIG_DST_POOL])}
for p in ${BIG_SRC_POOL} ${BIG_DST_POOL}; do
  if zpool list -H -o name "$p" >/dev/null 2>&1; then
    for i in 1 2 3 4 5 6 7 8 9 10; do zpool destroy -f "$p" && break; sleep 2; done
    if zpool list -H -o name "$p" >/dev/null 2>&1; then echo "pool $p could not be destroyed" >&2; exit 7; fi
  fi
done
for d in /sys/block/nbd*; do
  [ -e "$d/pid" ] || continue
  pid=$(cat "$d/pid")
  grep -q zfs-fleet-bench-nbd "/proc/$pid/cmdline" 2>/dev/null || continue
  python3 -c 'import fcntl, os, sys; fcntl.ioctl(os.open(sys.argv[1], os.O_RDWR), 0xab08)' "/dev/\${d##*/}" || kill "$pid"
done
rm -rf ${VM_POOL_DIR} ${VM_NBD_CLIENT} /var/tmp/zfs-fleet-bench-nbd*.log`,
    false,
  );
  if (r.code !== 0) {
    console.error(`removing the throughput pools in the VM failed (exit ${r.code}): ${r.stderr.trim()}`);
    if (nbdPidFiles.length) {
      console.error(
        `  the qemu-nbd servers behind them are LEFT RUNNING (pid files ${nbdPidFiles.join(', ')}), and their files in ${scratchDir}: ` +
          `stopping them would suspend the pools. Destroy the pools (ssh -F ${v.sshConfig} ${HOST} zpool destroy -f ${BIG_SRC_POOL} ${BIG_DST_POOL}), then stop the servers (kill the pids) and remove the directory.`,
      );
    }
    return false;
  }
  for (const f of nbdPidFiles.splice(0)) {
    const pid = Number(fs.existsSync(f) ? fs.readFileSync(f, 'utf8').trim() : NaN);
    if (Number.isInteger(pid) && pid > 1) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// 1. Recursive sync of 50 small datasets vs syncoid --recursive

interface RecursiveResult {
  mode: 'recursive' | 'pairs';
  fallbackReason?: string;
  full: { ours: number[]; syncoid: number[] };
  incremental: { ours: number[]; syncoid: number[] };
  snapshotsVerified: number;
  syncoidVersion: string;
}

function childName(i: number): string {
  return `d${String(i).padStart(2, '0')}`;
}

async function benchRecursive(v: VmInfo): Promise<RecursiveResult> {
  const names = Array.from({ length: DATASETS }, (_, i) => childName(i + 1));
  console.log(`\n[recursive] creating ${SRC50} with ${DATASETS} child datasets and 2 recursive snapshots...`);
  await vmSh(
    v,
    `set -e
zfs create ${SRC50}
for d in ${names.join(' ')}; do zfs create ${SRC50}/$d; done
mp=$(zfs get -H -o value mountpoint ${SRC50})
for d in ${names.join(' ')}; do head -c 32768 /dev/urandom > "$mp/$d/a"; echo "v1 $d" > "$mp/$d/t"; done
zfs snapshot -r ${SRC50}@s1
for d in ${names.join(' ')}; do head -c 8192 /dev/urandom > "$mp/$d/b"; echo "v2 $d" >> "$mp/$d/t"; done
zfs snapshot -r ${SRC50}@s2`,
  );
  const syncoidVersion = ((await exec(SYNCOID, ['--version'])).stdout.split('\n')[0] ?? '').trim();
  const vmUser = `root@${v.host}`;
  const syncoidArgs = [
    '--recursive',
    '--no-sync-snap',
    '--quiet',
    `--sshport=${v.port}`,
    `--sshkey=${v.identityFile}`,
    `--sshoption=UserKnownHostsFile=${v.knownHosts}`,
    '--sshoption=StrictHostKeyChecking=yes',
    '--sshoption=IdentitiesOnly=yes',
    '--sshoption=BatchMode=yes',
    '--sshoption=LogLevel=ERROR',
    `${vmUser}:${SRC50}`,
    `${vmUser}:${SYNCOID50}`,
  ];
  const runSyncoid = async (what: string): Promise<number> => {
    const r = await exec(SYNCOID, syncoidArgs);
    if (r.code !== 0) throw new Error(`syncoid (${what}) exited ${r.code}: ${(r.stderr + r.stdout).trim()}`);
    return r.ms;
  };

  let mode: RecursiveResult['mode'] = 'recursive';
  let fallbackReason: string | undefined;
  const jobFor = (): SyncJob =>
    mode === 'recursive'
      ? {
          sshConfig: v.sshConfig,
          knownHosts: v.knownHosts,
          concurrency: 1,
          waves: [[{ source: `${HOST}:${SRC50}`, target: `${HOST}:${OURS50}`, route: 'relay', options: { recursive: true } }]],
        }
      : {
          sshConfig: v.sshConfig,
          knownHosts: v.knownHosts,
          concurrency: CONCURRENCY,
          // The parent first (it creates the target's parent), then the children side by side.
          waves: [
            [{ source: `${HOST}:${SRC50}`, target: `${HOST}:${OURS50}`, route: 'relay' }],
            names.map((d) => ({ source: `${HOST}:${SRC50}/${d}`, target: `${HOST}:${OURS50}/${d}`, route: 'relay' as const })),
          ],
        };
  class RecursiveFailed extends Error {}
  const oursSync = async (what: string): Promise<number> => {
    const r = await runOurs(jobFor());
    if (!r.report.ok) {
      const msg = oursError(r.report);
      if (mode === 'recursive') throw new RecursiveFailed(`${what}: ${msg}`);
      throw new Error(`ours (${mode}, ${what}) failed: ${msg}`);
    }
    console.log(`[recursive]   ours ${what} ${secs(r.ms)} s: ${breakdown(r)}`);
    return r.ms;
  };

  const res: RecursiveResult = { mode, full: { ours: [], syncoid: [] }, incremental: { ours: [], syncoid: [] }, snapshotsVerified: 0, syncoidVersion };
  let discarded = 0;
  for (let run = 0; run < RUNS; run++) {
    const guard = await quietRun(v);
    // Alternate who goes first, so neither always runs on a warm cache.
    const oursFirst = run % 2 === 0;
    const both = async (what: string): Promise<[number, number]> => {
      if (oursFirst) {
        const o = await oursSync(what);
        return [o, await runSyncoid(what)];
      }
      const s = await runSyncoid(what);
      return [await oursSync(what), s];
    };
    try {
      await destroy(v, [OURS50, SYNCOID50]);
      await vmSh(v, `zfs destroy -r ${SRC50}@s3 2>/dev/null || true`);
      const [fo, fs_] = await both('full');
      const nFull = await verifySame(v, SRC50, OURS50, `run ${run + 1} full, ours`);
      await verifySame(v, SRC50, SYNCOID50, `run ${run + 1} full, syncoid`);
      await vmSh(
        v,
        `set -e
mp=$(zfs get -H -o value mountpoint ${SRC50})
for d in ${names.join(' ')}; do head -c 8192 /dev/urandom > "$mp/$d/c"; echo "v3 $d" >> "$mp/$d/t"; done
zfs snapshot -r ${SRC50}@s3`,
      );
      const [io, is] = await both('incremental');
      const nInc = await verifySame(v, SRC50, OURS50, `run ${run + 1} incremental, ours`);
      await verifySame(v, SRC50, SYNCOID50, `run ${run + 1} incremental, syncoid`);
      if (await guard.tainted()) {
        if (++discarded > RUNS) throw new Error(`another qemu kept being busy during the runs (${discarded} discarded)`);
        console.log(
          `[recursive] run ${run + 1} DISCARDED: another qemu was busy during it (full ours ${secs(fo)} s, syncoid ${secs(fs_)} s; incremental ours ${secs(io)} s, syncoid ${secs(is)} s); repeating it`,
        );
        run--;
        continue;
      }
      res.full.ours.push(fo);
      res.full.syncoid.push(fs_);
      res.incremental.ours.push(io);
      res.incremental.syncoid.push(is);
      res.snapshotsVerified = nInc;
      console.log(
        `[recursive] run ${run + 1}/${RUNS} (${oursFirst ? 'ours first' : 'syncoid first'}): full ours ${secs(fo)} s, syncoid ${secs(fs_)} s (${nFull} snapshot guids match); incremental ours ${secs(io)} s, syncoid ${secs(is)} s (${nInc} match)`,
      );
    } catch (e) {
      if (!(e instanceof RecursiveFailed)) throw e;
      fallbackReason = e.message;
      console.log(`[recursive] ZFS Fleet's recursive relay sync FAILED (${e.message})`);
      console.log(
        `[recursive] falling back to ${DATASETS + 1} non-recursive pair syncs through one Fleet (concurrency ${CONCURRENCY}); repeating run ${run + 1}`,
      );
      mode = 'pairs';
      res.mode = mode;
      run--;
    }
  }
  if (fallbackReason !== undefined) res.fallbackReason = fallbackReason;
  await destroy(v, [OURS50, SYNCOID50, SRC50]);
  return res;
}

// ---------------------------------------------------------------------------------------------
// 2. Throughput of one large dataset

interface Variant {
  key: keyof typeof BIG_TARGETS;
  label: string;
  ms: number[];
  /** Ours only: time in the send/recv step itself. */
  transferMs: number[];
  run(target: string): Promise<{ ms: number; transferMs?: number }>;
}

interface ThroughputResult {
  streamBytes: number;
  variants: Variant[];
  pushSkipped?: string;
  sendLine: string;
  /** Where the two pools were (see createBigPools). */
  pools: string;
}

/** The VM ssh-es to itself for the push route: a key made for this run, host key read from the VM's own /etc/ssh. */
async function setupPushKey(v: VmInfo): Promise<{ ssh: string[] } | { skipped: string }> {
  const r = await vmSh(
    v,
    `set -e
command -v ssh >/dev/null || { echo "no ssh client on the VM" >&2; exit 3; }
umask 077; mkdir -p /root/.ssh
rm -f ${PUSH_KEY} ${PUSH_KEY}.pub
ssh-keygen -q -t ed25519 -N '' -C ${PUSH_KEY_COMMENT} -f ${PUSH_KEY}
cat ${PUSH_KEY}.pub >> /root/.ssh/authorized_keys
printf '127.0.0.1 %s\\n' "$(cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub)" > ${PUSH_KNOWN_HOSTS}`,
    false,
  );
  if (r.code !== 0) return { skipped: `could not set up a key for the VM to ssh to itself: ${r.stderr.trim()}` };
  const ssh = [
    'ssh',
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-i',
    PUSH_KEY,
    '-o',
    `UserKnownHostsFile=${PUSH_KNOWN_HOSTS}`,
    '-o',
    'StrictHostKeyChecking=yes',
    'root@127.0.0.1',
  ];
  const t = await vmSh(v, shellJoin([...ssh, 'true']), false);
  if (t.code !== 0) return { skipped: `the VM cannot ssh to itself with the benchmark key: ${t.stderr.trim()}` };
  return { ssh };
}

let scratchDir: string | undefined;

/** The VM's ssh config with one more alias (HOST2) for the same root@VM, written once per run into a temporary directory. */
function twoAliasConfig(v: VmInfo): string {
  const file = path.join(scratch(), 'ssh_config');
  if (!fs.existsSync(file)) {
    const alias = [
      `Host ${HOST2}`,
      `    HostName ${v.host}`,
      `    Port ${v.port}`,
      '    User root',
      `    IdentityFile ${v.identityFile}`,
      '    IdentitiesOnly yes',
      `    UserKnownHostsFile ${v.knownHosts}`,
      '    StrictHostKeyChecking yes',
      '    BatchMode yes',
      '',
    ].join('\n');
    fs.writeFileSync(file, `${alias}\n${fs.readFileSync(v.sshConfig, 'utf8')}`);
  }
  return file;
}

async function planFor(fleet: Fleet, spec: PairSpec, route?: RouteOptions): Promise<PipeStep> {
  const pair = parsePair(spec);
  const [src, dst] = [await fleet.host(pair.source.host).refresh(), await fleet.host(pair.target.host).refresh()];
  const plan = planSync(pair, src, dst, route ? { route } : {});
  const pipe = plan.steps.find((s): s is PipeStep => s.type === 'pipe');
  if (!pipe) throw new Error(`no send step in the plan for ${pair.id}:\n${renderPlan(plan)}`);
  return pipe;
}

async function benchThroughput(v: VmInfo): Promise<ThroughputResult> {
  const pools = await createBigPools(v);
  console.log(`\n[throughput] pools ${BIG_SRC_POOL} and ${BIG_DST_POOL}: ${pools.where}`);
  console.log(`[throughput] writing ${BIG_MIB} MiB of random data to ${BIG} and taking @s1...`);
  await vmSh(
    v,
    `set -e
zfs create ${BIG}
mp=$(zfs get -H -o value mountpoint ${BIG})
head -c ${BIG_MIB}M /dev/urandom > "$mp/blob"
zfs snapshot ${BIG}@s1`,
  );
  const snap = `${BIG}@s1`;
  const srcGuid = (await vmSh(v, `zfs get -H -p -o value guid ${snap}`)).stdout.trim();

  // The exact send/recv argv the product plans, so every peer does the same zfs work.
  const planner = new Fleet(
    (spec) =>
      createRunner(spec, {
        logger: silentLogger,
        sshConfigPath: v.sshConfig,
        knownHostsFiles: [v.knownHosts],
        connectTimeoutMs: 60_000,
        onUnknownHostKey: async () => 'cancel',
        getPassphrase: async () => undefined,
      }),
    { zfsPath: 'zfs', zpoolPath: 'zpool', commandTimeoutMs: 600_000 },
    silentLogger,
  );
  planner.setHosts([HOST]);
  let relayStep: PipeStep;
  let pushExec: string[] | undefined;
  const push = await setupPushKey(v);
  try {
    relayStep = await planFor(planner, { source: `${HOST}:${BIG}`, target: `${HOST}:${BIG_TARGETS.relay}`, route: 'relay' });
    if ('ssh' in push) {
      const p = await planFor(planner, { source: `${HOST}:${BIG}`, target: `${HOST}:${BIG_TARGETS.pushByHand}`, route: 'push' }, { sshFromSource: push.ssh });
      pushExec = p.exec?.argv;
    }
  } finally {
    await planner.dispose();
  }
  const send = relayStep.from.argv;
  const recvTo = (target: string) => [...relayStep.to.argv.slice(0, -1), target];
  const est = await vmSh(v, shellJoin(estimateArgv(send)));
  const streamBytes = parseSendEstimate(est.stdout) ?? parseSendEstimate(est.stderr);
  if (!streamBytes) throw new Error(`zfs send -nvP printed no size: ${est.stdout}${est.stderr}`);
  // Warm the ARC once so the first variant measured is not the only one reading from disk.
  await vmSh(v, `${shellJoin(send)} > /dev/null`);

  const sshFresh = (cmd: string, cipher?: string) => shellJoin(['ssh', '-F', v.sshConfig, ...(cipher ? ['-c', cipher] : []), HOST, cmd]);
  const oursJob = (target: string, route: 'relay' | 'push', targetHost: string): SyncJob => ({
    sshConfig: targetHost === HOST ? v.sshConfig : twoAliasConfig(v),
    knownHosts: v.knownHosts,
    concurrency: 1,
    waves: [[{ source: `${HOST}:${BIG}`, target: `${targetHost}:${target}`, route }]],
    ...(route === 'push' && 'ssh' in push ? { route: { sshFromSource: push.ssh } } : {}),
  });
  const runOursBig = async (target: string, route: 'relay' | 'push', targetHost = HOST) => {
    const r = await runOurs(oursJob(target, route, targetHost));
    const what = `${route}${targetHost === HOST ? '' : ` to ${targetHost}`}`;
    if (!r.report.ok) throw new Error(`ours (${what}) failed: ${oursError(r.report)}`);
    console.log(`[throughput]   ours ${what} ${secs(r.ms)} s: ${breakdown(r)}`);
    return { ms: r.ms, transferMs: r.report.pairs.reduce((a, p) => a + p.transferMs, 0) };
  };
  const shell = async (line: string, what: string) => {
    const r = await exec('bash', ['-o', 'pipefail', '-c', line]);
    if (r.code !== 0) throw new Error(`${what} exited ${r.code}: ${r.stderr.trim()}`);
    return { ms: r.ms };
  };
  const variants: Variant[] = [
    {
      key: 'raw',
      label: '(a) zfs send | zfs recv inside the VM',
      ms: [],
      transferMs: [],
      run: async (t) => {
        const r = await vmSh(v, `${shellJoin(send)} | ${shellJoin(recvTo(t))}`);
        return { ms: r.ms };
      },
    },
    {
      key: 'ssh',
      label: '(b) ssh zfsvm zfs send | ssh zfsvm zfs recv',
      ms: [],
      transferMs: [],
      run: (t) => shell(`${sshFresh(shellJoin(send))} | ${sshFresh(shellJoin(recvTo(t)))}`, '(b) ssh | ssh'),
    },
    {
      key: 'sshGcm',
      label: `(b2) as (b) with ours' cipher (ssh -c ${OURS_CIPHER})`,
      ms: [],
      transferMs: [],
      run: (t) => shell(`${sshFresh(shellJoin(send), OURS_CIPHER)} | ${sshFresh(shellJoin(recvTo(t)), OURS_CIPHER)}`, '(b2) ssh -c | ssh -c'),
    },
    { key: 'relay', label: '(c) ours, relay', ms: [], transferMs: [], run: (t) => runOursBig(t, 'relay') },
    {
      key: 'relay2',
      label: `(c2) ours, relay, target as a second alias (${HOST2}: 2 connections like (b))`,
      ms: [],
      transferMs: [],
      run: (t) => runOursBig(t, 'relay', HOST2),
    },
  ];
  if (pushExec) {
    const line = pushExec;
    variants.push(
      { key: 'push', label: '(d) ours, push (VM: zfs send | ssh root@127.0.0.1 zfs recv)', ms: [], transferMs: [], run: (t) => runOursBig(t, 'push') },
      {
        key: 'pushByHand',
        label: '(e) the same push pipeline by hand: ssh zfsvm "zfs send | ssh ... zfs recv"',
        ms: [],
        transferMs: [],
        run: () => shell(sshFresh(shellJoin(line)), '(e) push by hand'),
      },
    );
  }
  if (VARIANTS.length) {
    const unknown = VARIANTS.filter((k) => !variants.some((v) => v.key === k));
    if (unknown.length) throw new Error(`BENCH_VARIANTS: no variant ${unknown.join(', ')} (there are ${variants.map((v) => v.key).join(', ')})`);
    variants.splice(0, variants.length, ...variants.filter((v) => VARIANTS.includes(v.key)));
  }
  console.log(
    `[throughput] stream ${(streamBytes / 1e6).toFixed(1)} MB (${shellJoin(send)}); ${variants.length} variants x ${RUNS} runs${'skipped' in push ? `; push skipped: ${push.skipped}` : ''}`,
  );
  let discarded = 0;
  for (let run = 0; run < RUNS; run++) {
    const guard = await quietRun(v);
    // Rotate the order each run.
    const order = variants.map((_, i) => variants[(i + run) % variants.length]!);
    const got: { vr: Variant; ms: number; transferMs?: number }[] = [];
    for (const vr of order) {
      const target = BIG_TARGETS[vr.key];
      await destroy(v, [target]);
      const r = await vr.run(target);
      const guid = (await vmSh(v, `zfs get -H -p -o value guid ${target}@s1`, false)).stdout.trim();
      if (guid !== srcGuid) throw new Error(`${vr.label}: ${target}@s1 has guid '${guid}', the source ${snap} has ${srcGuid}`);
      await destroy(v, [target]);
      got.push({ vr, ...r });
    }
    const parts = got.map((g) => `${g.vr.key} ${secs(g.ms)} s`).join(', ');
    if (await guard.tainted()) {
      if (++discarded > RUNS) throw new Error(`another qemu kept being busy during the runs (${discarded} discarded)`);
      console.log(`[throughput] run ${run + 1} DISCARDED: another qemu was busy during it (${parts}); repeating it`);
      run--;
      continue;
    }
    for (const g of got) {
      g.vr.ms.push(g.ms);
      if (g.transferMs !== undefined) g.vr.transferMs.push(g.transferMs);
    }
    console.log(`[throughput] run ${run + 1}/${RUNS}: ${parts} (each target's @s1 guid = source's)`);
  }
  await destroy(v, [BIG]);
  if (!(await destroyBigPools(v))) throw new Error('the throughput pools could not be removed (see above)');
  return { streamBytes, variants, ...('skipped' in push ? { pushSkipped: push.skipped } : {}), sendLine: shellJoin(send), pools: pools.where };
}

// ---------------------------------------------------------------------------------------------

async function otherQemu(v: VmInfo): Promise<string[]> {
  const r = await exec('pgrep', ['-a', 'qemu-system']).catch(() => undefined);
  if (!r) return [];
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .filter((l) => Number(l.split(' ')[0]) !== v.pid)
    .map((l) => l.slice(0, 120));
}

/** CPU time of a process so far, in clock ticks (utime + stime of /proc/PID/stat); undefined once it is gone. */
function cpuTicks(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return undefined;
  }
}

/** Ticks per second of /proc/PID/stat (USER_HZ: 100 on Linux/x86). */
const CLK_TCK = 100;
/** Another qemu using more than this share of one core is busy (an idle TCG guest uses a few %). */
const BUSY_PERCENT = 20;

/** CPU % (of one core) each other qemu used over `ms`. */
async function otherQemuCpu(v: VmInfo, ms: number): Promise<{ line: string; percent: number }[]> {
  const others = (await otherQemu(v)).map((line) => ({ line, pid: Number(line.split(' ')[0]) }));
  const before = others.map((o) => cpuTicks(o.pid));
  await new Promise((r) => setTimeout(r, ms));
  return others.map((o, i) => ({ line: o.line, percent: (((cpuTicks(o.pid) ?? before[i] ?? 0) - (before[i] ?? 0)) / CLK_TCK / (ms / 1000)) * 100 }));
}

/** The load on this machine while the benchmark runs (other jobs share the 2 cores with the VM), and other qemus' CPU use: sampled every 10 s. */
class LoadMonitor {
  private readonly load: number[] = [];
  private readonly last = new Map<number, { ticks: number; at: number }>();
  /** Samples that saw another qemu, and those in which one was busy. */
  otherQemuSamples = 0;
  busySamples = 0;
  maxOtherPercent = 0;
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly v: VmInfo) {
    this.timer = setInterval(() => void this.sample(), 10_000);
    this.timer.unref();
    void this.sample();
  }
  private async sample(): Promise<void> {
    this.load.push(os.loadavg()[0]!);
    const others = await otherQemu(this.v);
    if (others.length) this.otherQemuSamples++;
    let busy = false;
    for (const line of others) {
      const pid = Number(line.split(' ')[0]);
      const ticks = cpuTicks(pid);
      const prev = this.last.get(pid);
      if (ticks === undefined) continue;
      this.last.set(pid, { ticks, at: Date.now() });
      if (!prev) {
        busy = true; // not measured yet: count it as busy (the run is repeated rather than trusted)
        continue;
      }
      const percent = ((ticks - prev.ticks) / CLK_TCK / ((Date.now() - prev.at) / 1000)) * 100;
      this.maxOtherPercent = Math.max(this.maxOtherPercent, percent);
      if (percent > BUSY_PERCENT) busy = true;
    }
    if (busy) this.busySamples++;
  }
  stop(): string {
    clearInterval(this.timer);
    const l = this.load;
    const mean = l.reduce((a, b) => a + b, 0) / Math.max(1, l.length);
    const others = this.otherQemuSamples ? ` (busy in ${this.busySamples}; at most ${this.maxOtherPercent.toFixed(0)}% of a core in the samples kept)` : '';
    return `load average on this machine (${os.cpus().length} cores, the VM's qemu included) over ${l.length} samples: min ${Math.min(...l).toFixed(1)}, mean ${mean.toFixed(1)}, max ${Math.max(...l).toFixed(1)}; another qemu running in ${this.otherQemuSamples} of them${others}`;
  }
}

let monitor: LoadMonitor | undefined;

/**
 * Before a run: wait (up to BENCH_WAIT_QEMU_MINUTES) until no other emulated VM is busy: two TCG VMs
 * working on 2 cores make the ratios meaningless. Another qemu that stays idle (an orphaned VM,
 * under BUSY_PERCENT of a core) is reported but not waited for. `tainted()` after the run says
 * whether another qemu got busy meanwhile (the run is then discarded and repeated).
 */
async function quietRun(v: VmInfo): Promise<{ tainted(): Promise<boolean> }> {
  const deadline = Date.now() + WAIT_QEMU_MINUTES * 60_000;
  let busy: { line: string; percent: number }[] = [];
  for (;;) {
    const others = await otherQemuCpu(v, 10_000);
    busy = others.filter((o) => o.percent > BUSY_PERCENT);
    if (others.length && !busy.length)
      console.log(`another qemu runs but is idle (${others.map((o) => `${o.percent.toFixed(0)}% of a core: ${o.line.slice(0, 60)}`).join('; ')}); measuring`);
    if (!busy.length || Date.now() > deadline) break;
    console.log(`waiting (up to ${WAIT_QEMU_MINUTES} min) for another qemu to go idle or end: ${busy[0]!.percent.toFixed(0)}% of a core, ${busy[0]!.line}`);
    await new Promise((r) => setTimeout(r, 30_000));
  }
  if (busy.length) console.log(`WARNING: another qemu is still busy after ${WAIT_QEMU_MINUTES} min; measuring anyway (the run will be discarded)`);
  const seen = monitor?.busySamples ?? 0;
  return { tainted: async () => busy.length > 0 || (monitor?.busySamples ?? 0) > seen || (await otherQemuCpu(v, 5_000)).some((o) => o.percent > BUSY_PERCENT) };
}

async function main(): Promise<void> {
  const v = readVm();
  const ping = await vmSh(v, 'zfs version | head -1', false);
  if (ping.code !== 0) throw new Error(`the VM does not answer over ssh (${ping.stderr.trim()}): bash test/lab/vm/vm.sh up`);
  const others = await otherQemu(v);
  console.log(`ZFS Fleet replication benchmarks on the lab VM (${ping.stdout.trim()}, 127.0.0.1:${v.port}); ${RUNS} run(s) each`);
  if (others.length) console.log(`WARNING: other qemu processes are running; they share the CPUs and skew the ratios:\n  ${others.join('\n  ')}`);

  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= cleanupVm(v).then((ok) => {
      if (scratchDir && ok) fs.rmSync(scratchDir, { recursive: true, force: true });
      void exec('ssh', [...cmArgs(v), '-O', 'exit', HOST]).catch(() => {});
    }));
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      console.error(`\n${sig}: stopping and cleaning up the VM...`);
      for (const c of children) c.kill('SIGTERM');
      setTimeout(() => void cleanup().finally(() => process.exit(130)), 500);
    });
  }

  await cleanupVm(v); // leftovers of an interrupted run
  monitor = new LoadMonitor(v);
  let rec: RecursiveResult | undefined;
  let thr: ThroughputResult | undefined;
  try {
    if (ONLY === '' || ONLY === 'recursive') rec = await benchRecursive(v);
    if (ONLY === '' || ONLY === 'throughput') thr = await benchThroughput(v);
  } finally {
    await cleanup();
  }

  console.log('\n== results (ratios against peers run in this invocation; TCG-emulated VM) ==');
  console.log(monitor.stop());
  monitor = undefined;
  const goals: boolean[] = [];
  if (rec) {
    const desc =
      rec.mode === 'recursive'
        ? 'ours = one recursive relay pair (zfs send -R)'
        : `ours = FALLBACK: ${DATASETS + 1} non-recursive relay pairs, concurrency ${CONCURRENCY} (the recursive pair failed: ${rec.fallbackReason?.split('\n')[0]})`;
    console.log(
      `recursive sync of ${SRC50} (1 + ${DATASETS} datasets; full: 2 snapshots, incremental: +1), ${RUNS} run(s); ${desc}; peer = ${rec.syncoidVersion} --recursive --no-sync-snap`,
    );
    for (const [what, r] of [
      ['full', rec.full],
      ['incremental', rec.incremental],
    ] as const) {
      const ratio = median(r.ours) / median(r.syncoid);
      goals.push(ratio <= 0.5);
      console.log(
        `  ${what.padEnd(11)}: ours median ${secs(median(r.ours))} s vs syncoid ${secs(median(r.syncoid))} s -> ratio ${ratio.toFixed(2)}x (goal <= 0.5x) [ours ${list(r.ours)}; syncoid ${list(r.syncoid)}]`,
      );
    }
    console.log(`  verified after every sync: both targets hold the source's ${rec.snapshotsVerified} snapshot guids`);
  }
  if (thr) {
    const mbps = (ms: number) => thr!.streamBytes / 1e6 / (ms / 1000);
    const by = new Map(thr.variants.map((x) => [x.key, x]));
    const med = (k: Variant['key']) => median(by.get(k)!.ms);
    console.log(
      `throughput: ${BIG_MIB} MiB of random data, stream ${(thr.streamBytes / 1e6).toFixed(1)} MB (${thr.sendLine}), ${RUNS} run(s), wall time end to end, MB = 10^6 bytes`,
    );
    console.log(`  pools: ${thr.pools}`);
    for (const x of thr.variants) {
      const extra = x.transferMs.length ? ` (send/recv step alone ${secs(median(x.transferMs))} s = ${mbps(median(x.transferMs)).toFixed(1)} MB/s)` : '';
      console.log(
        `  ${x.label.padEnd(80)} median ${secs(median(x.ms)).padStart(6)} s = ${mbps(median(x.ms)).toFixed(1).padStart(5)} MB/s${extra} [${list(x.ms)}]`,
      );
    }
    // Throughput ratio ours/peer = peer's time / ours; with the per-run ratios (both ran in the same run, minutes apart).
    const vs = (peer: Variant['key'], k: Variant['key']): string | undefined => {
      if (!by.has(peer)) return undefined;
      const perRun = by.get(k)!.ms.map((ms, i) => (by.get(peer)!.ms[i]! / ms).toFixed(2));
      return `${(med(peer) / med(k)).toFixed(2)}x [per run ${perRun.join(', ')}]`;
    };
    for (const k of ['relay', 'relay2', 'push'] as const) {
      if (!by.has(k)) continue;
      // Each route against the raw pipe of its own shape: the relay against (b), `zfs send` and
      // `zfs recv` each over ssh from here; the push against (e), `zfs send | ssh TARGET zfs recv` run
      // on the source. (c2) is for information: the goal is about the pair as configured.
      const peer = k === 'push' ? 'pushByHand' : 'ssh';
      if (k !== 'relay2' && by.has(peer)) goals.push(med(peer) / med(k) >= 0.9);
      const parts = [
        by.has('ssh') ? `ours/(b) ${vs('ssh', k)}${k === 'relay' ? ' (goal >= 0.9x)' : ' (information)'}` : '',
        vs('raw', k) && `ours/(a) ${vs('raw', k)}`,
        k === 'push'
          ? vs('pushByHand', k)
            ? `ours/(e) ${vs('pushByHand', k)} (goal >= 0.9x)`
            : 'no (e) in BENCH_VARIANTS'
          : vs('sshGcm', k) && `ours/(b2) ${vs('sshGcm', k)} (same cipher)`,
      ].filter(Boolean);
      const name = k === 'relay2' ? 'relay to a 2nd alias (c2)' : k === 'relay' ? 'relay (c)' : 'push (d)';
      console.log(`  ours ${name}: throughput ${parts.join(', ')}`);
    }
    if (thr.pushSkipped) console.log(`  ours push: skipped (${thr.pushSkipped})`);
  }
  console.log(goals.every(Boolean) ? 'bench: goals met' : 'bench: goals NOT met');
}

if (process.argv[2] === '--sync') {
  childSync(JSON.parse(process.argv[3] ?? '{}') as SyncJob)
    .then((r) => {
      process.stdout.write(JSON.stringify(r) + '\n');
      process.exit(r.ok ? 0 : 1);
    })
    .catch((e) => {
      process.stdout.write(JSON.stringify({ ok: false, pairs: [], error: (e as Error).message }) + '\n');
      process.exit(1);
    });
} else {
  main().catch((e) => {
    console.error(`bench: ${(e as Error).message}`);
    process.exit(1);
  });
}
