/**
 * Issue 11 §6: a seed 003 style migration through the job queue vs a `for` loop of syncoid.
 *
 * On the OpenZFS VM (over OpenSSH, its ssh_config and known_hosts; host-key checking on):
 *   POOL/zf-bench-mig/src          the root, with BENCH_DATASETS (50) children d01.. of mixed sizes
 *                                  (256 KiB-32 MiB, random: incompressible) and file counts (1-5,000),
 *                                  a deterministic mix; one recursive snapshot @mig
 *   POOL/zf-bench-mig/syncoid      the peer: `syncoid --no-sync-snap` per dataset, root first then the
 *                                  children one after another (a shell's `for` loop: a process each)
 *   POOL/zf-bench-mig/queue        ours: `zfs-fleet queue add migrate VM:…/src VM:…/queue` (the built
 *                                  dist/cli.js, a temporary SQLite store), `queue prio` for a few jobs,
 *                                  then 2 workers (`worker --once --parallel 1` x 2 processes, or one
 *                                  `--parallel 2` with BENCH_MIG_WORKERS=parallel), timed from the add
 *                                  to the last worker's exit
 * Checks (a failed one stops the benchmark: a time of a migration that did not migrate means nothing):
 * every target's snapshot guid equals the source's, for both; every job ended `success` in one attempt
 * (`queue ls --json`); the claim order (startedAt) is the root's job first, then priority, then
 * `blocks + files x penalty` (32), then id: the order the queue promises.
 *
 *   apt-get install -y sanoid mbuffer pv lzop    # syncoid 2.1.0, run on this machine
 *   bash test/lab/vm/vm.sh up
 *   node esbuild.mjs --bench && node dist/bench/migration.js
 *
 * BENCH_DATASETS (50), BENCH_RUNS (1; who goes first alternates), BENCH_MIG_WORKERS (`processes`:
 * two `--once --parallel 1` processes; `parallel`: one `--parallel 2`), BENCH_POOL (tank),
 * BENCH_SYNCOID (syncoid), ZFS_FLEET_LAB (/tmp/zfs-fleet-lab: the VM's state is in its vm/).
 * Everything it creates (the datasets, the temporary store and cache) is removed at the end, after a
 * failure or Ctrl-C/SIGTERM, and before starting (an interrupted run's).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_FILE_PENALTY, orderKey, type Job } from '../src/core/queue/job.js';
import { mulberry32 } from './prng.js';
import { cleanupOnce, exec, loadSampler, must, q, secs, stop, type Exec } from './proc.js';

const LAB = process.env.ZFS_FLEET_LAB ?? '/tmp/zfs-fleet-lab';
const DATASETS = Number(process.env.BENCH_DATASETS ?? 50);
const RUNS = Number(process.env.BENCH_RUNS ?? 1);
const WORKERS = (process.env.BENCH_MIG_WORKERS ?? 'processes') as 'processes' | 'parallel';
const POOL = process.env.BENCH_POOL ?? 'tank';
const SYNCOID = process.env.BENCH_SYNCOID ?? 'syncoid';
const HOST = 'zfsvm';
const BASE = `${POOL}/zf-bench-mig`;
const SRC = `${BASE}/src`;
const SNAP = 'mig';
const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist/cli.js');

interface VmInfo {
  sshConfig: string;
  knownHosts: string;
  identityFile: string;
  host: string;
  port: number;
  zfsVersion: string;
}

// ---------------------------------------------------------------------------------------------
// The datasets: a deterministic mix

export interface DatasetSpec {
  name: string;
  /** Bytes of random data, in all its files. */
  bytes: number;
  files: number;
  /** Set with `queue prio` after the add; undefined: the migration's default (5). */
  priority?: number;
}

const prng = mulberry32;

function shuffled<T>(xs: T[], rnd: () => number): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/**
 * For 50 datasets: sizes 256 KiB x 2^k, many small and few large (10 x 256 KiB, 10 x 512 KiB, 9 x 1 MiB,
 * 8 x 2 MiB, 6 x 4 MiB, 4 x 8 MiB, 2 x 16 MiB, 1 x 32 MiB: 152.5 MiB); file counts 1-5,000 drawn
 * independently of the sizes (so some small datasets hold many files); datasets 7, 19 and 33 at
 * priority 3 and 12 and 41 at priority 8. Other counts scale the same mix.
 */
export function datasetSpecs(n = DATASETS): DatasetSpec[] {
  const rnd = prng(11_006);
  const sizeMix: [number, number][] = [
    [0, 10],
    [1, 10],
    [2, 9],
    [3, 8],
    [4, 6],
    [5, 4],
    [6, 2],
    [7, 1],
  ];
  const fileMix: [number, number][] = [
    [1, 8],
    [10, 8],
    [50, 8],
    [200, 8],
    [500, 7],
    [1000, 5],
    [2000, 4],
    [5000, 2],
  ];
  const expand = (mix: [number, number][]) => {
    const total = mix.reduce((a, [, c]) => a + c, 0);
    const out: number[] = [];
    for (const [v, c] of mix) for (let i = 0; i < Math.max(1, Math.round((c * n) / total)); i++) out.push(v);
    while (out.length < n) out.push(mix[0]![0]);
    return out.slice(0, n);
  };
  const sizes = shuffled(expand(sizeMix), rnd).map((k) => 256 * 1024 * 2 ** k);
  const files = shuffled(expand(fileMix), rnd);
  const prio: Record<number, number> = { 7: 3, 19: 3, 33: 3, 12: 8, 41: 8 };
  const width = Math.max(2, String(n).length);
  return sizes.map((bytes, i) => ({
    name: `d${String(i + 1).padStart(width, '0')}`,
    bytes,
    files: files[i]!,
    ...(prio[i + 1] !== undefined && i + 1 <= n ? { priority: prio[i + 1] } : {}),
  }));
}

/**
 * The guest's script (python3, which the VM image has): creates the tree and its files and snapshots
 * it. A dataset of B bytes in F files: F-1 small files holding min(B/2, (F-1) x 4 KiB) together, the
 * rest in one file; all from os.urandom.
 */
function setupScript(specs: DatasetSpec[]): string {
  return `
import json, os, subprocess
specs = json.loads(${JSON.stringify(JSON.stringify(specs))})
def zfs(*a):
    subprocess.run(['zfs', *a], check=True)
zfs('create', '-p', ${JSON.stringify(SRC)})
for s in specs:
    ds = ${JSON.stringify(SRC)} + '/' + s['name']
    zfs('create', ds)
    mp = subprocess.run(['zfs', 'get', '-H', '-o', 'value', 'mountpoint', ds], check=True, capture_output=True, text=True).stdout.strip()
    small = s['files'] - 1
    small_bytes = min(s['bytes'] // 2, small * 4096)
    each = small_bytes // small if small else 0
    os.makedirs(mp + '/small', exist_ok=True)
    for i in range(small):
        with open('%s/small/f%05d' % (mp, i), 'wb') as f:
            f.write(os.urandom(each))
    with open(mp + '/big', 'wb') as f:
        left = s['bytes'] - each * small
        while left > 0:
            k = min(left, 1 << 20)
            f.write(os.urandom(k))
            left -= k
subprocess.run(['sync'], check=True)
zfs('snapshot', '-r', ${JSON.stringify(`${SRC}@${SNAP}`)})
`;
}

// ---------------------------------------------------------------------------------------------
// Processes

function vmInfo(): VmInfo {
  const file = path.join(LAB, 'vm', 'vm.json');
  if (!fs.existsSync(file)) throw new Error(`the OpenZFS VM is not up (no ${file}): run \`bash test/lab/vm/vm.sh up\``);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as VmInfo;
}

/** OpenSSH to the VM for setup, checks and clean-up (never timed). */
function onVm(v: VmInfo, command: string, input?: string): Promise<Exec> {
  return exec('ssh', ['-F', v.sshConfig, HOST, command], input !== undefined ? { input } : {});
}

/** Destroys everything under BASE; a receive still running (after Ctrl-C) keeps it busy a while. */
async function cleanupVm(v: VmInfo): Promise<void> {
  await must(
    'clean-up on the VM',
    onVm(
      v,
      `for i in 1 2 3 4 5 6 7 8 9 10; do zfs list ${q(BASE)} >/dev/null 2>&1 || exit 0; zfs destroy -r ${q(BASE)} 2>/dev/null && exit 0; sleep 3; done; zfs destroy -r ${q(BASE)}`,
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// The two migrations

interface Timed {
  ms: number;
  parts: string;
}

async function syncoidLoop(v: VmInfo, names: string[]): Promise<Timed> {
  const ssh = [
    `--sshport=${v.port}`,
    `--sshkey=${v.identityFile}`,
    `--sshoption=UserKnownHostsFile=${v.knownHosts}`,
    '--sshoption=StrictHostKeyChecking=yes',
    '--sshoption=IdentitiesOnly=yes',
    '--sshoption=BatchMode=yes',
    '--sshoption=LogLevel=ERROR',
  ];
  const at = `root@${v.host}`;
  const t0 = performance.now();
  // The root first (it creates the targets' parent), then each child: what `for d in …; do syncoid …; done` runs.
  for (const rel of ['', ...names.map((n) => `/${n}`)]) {
    await must(`syncoid ${SRC}${rel}`, exec(SYNCOID, ['--no-sync-snap', '--quiet', ...ssh, `${at}:${SRC}${rel}`, `${at}:${BASE}/syncoid${rel}`]));
  }
  return { ms: performance.now() - t0, parts: `${names.length + 1} syncoid processes` };
}

interface QueueRun extends Timed {
  jobs: Job[];
  workerLogs: string[];
  ran: number[];
}

async function queueMigration(v: VmInfo, specs: DatasetSpec[], tmp: string): Promise<QueueRun> {
  const store = path.join(tmp, `fleet-${Date.now()}.db`);
  const env = { ...process.env, XDG_CACHE_HOME: path.join(tmp, 'cache') };
  const cli = (args: string[]) => exec(process.execPath, [CLI, ...args, '--store', store, '--ssh-config', v.sshConfig, '--known-hosts', v.knownHosts], { env });
  const t0 = performance.now();
  const add = await must('queue add migrate', cli(['queue', 'add', 'migrate', `${HOST}:${SRC}`, `${HOST}:${BASE}/queue`, '--json']));
  const added = JSON.parse(add.stdout) as { job: Job; added: boolean }[];
  if (added.length !== specs.length + 1 || !added.every((a) => a.added))
    throw new Error(`queue add migrate queued ${added.filter((a) => a.added).length} of ${specs.length + 1} jobs: ${add.stdout}`);
  const tAdd = performance.now() - t0;
  const byTarget = new Map(added.map((a) => [a.job.spec.target, a.job.id]));
  const t1 = performance.now();
  for (const s of specs.filter((x) => x.priority !== undefined)) {
    const id = byTarget.get(`${HOST}:${BASE}/queue/${s.name}`);
    if (id === undefined) throw new Error(`no job for ${s.name}`);
    await must(`queue prio ${id} ${s.priority}`, cli(['queue', 'prio', String(id), String(s.priority)]));
  }
  const tPrio = performance.now() - t1;
  const t2 = performance.now();
  const workerArgs = WORKERS === 'parallel' ? [['worker', '--once', '--parallel', '2']] : [0, 1].map(() => ['worker', '--once', '--parallel', '1']);
  const workers = await Promise.all(workerArgs.map((a) => cli(a)));
  const tWork = performance.now() - t2;
  const ms = performance.now() - t0;
  const workerLogs = workers.map((w) => (w.stdout + w.stderr).trim());
  workers.forEach((w, i) => {
    if (w.code !== 0) throw new Error(`worker ${i + 1} exited ${w.code}:\n${workerLogs[i]}`);
  });
  const ran = workerLogs.map((l) => Number(/(\d+) job\(s\) run/.exec(l)?.[1] ?? NaN));
  const ls = await must('queue ls --json', cli(['queue', 'ls', '--json']));
  return {
    ms,
    parts: `add ${secs(tAdd)} s, ${specs.filter((x) => x.priority !== undefined).length} x queue prio ${secs(tPrio)} s, workers ${secs(tWork)} s`,
    jobs: JSON.parse(ls.stdout) as Job[],
    workerLogs,
    ran,
  };
}

// ---------------------------------------------------------------------------------------------
// Checks

/** Every snapshot guid under `target` equals the source's, dataset by dataset; returns how many matched. */
async function verifyGuids(v: VmInfo, target: string, expected: number): Promise<number> {
  const out = (await must('zfs list guids', onVm(v, `zfs list -H -p -t snapshot -o name,guid -r ${q(SRC)} ${q(target)}`))).stdout;
  const guids = new Map(
    out
      .trim()
      .split('\n')
      .map((l) => l.split('\t') as [string, string]),
  );
  const problems: string[] = [];
  let n = 0;
  for (const [name, guid] of guids) {
    if (!name.startsWith(SRC + '/') && !name.startsWith(SRC + '@')) continue;
    const t = target + name.slice(SRC.length);
    if (guids.get(t) !== guid) problems.push(`${t}: ${guids.get(t) ?? 'missing'} (source ${guid})`);
    else n++;
  }
  if (n !== expected || problems.length)
    throw new Error(`${target}: ${n} of ${expected} snapshot guids match the source's: ${problems.slice(0, 5).join('; ')}`);
  return n;
}

export interface OrderCheck {
  ok: boolean;
  lines: string[];
}

/**
 * The claim order (startedAt, then id) against the queue's promise: the root's job first (its children
 * wait for it), then by priority, `blocks + files x penalty`, id. All children become claimable at the
 * same moment (the root's success) and nothing is added after, so every claim must take the next one.
 */
export function checkClaimOrder(jobs: Job[], rootTarget: string, penalty = DEFAULT_FILE_PENALTY): OrderCheck {
  const started = [...jobs].sort((a, b) => (a.startedAt ?? '').localeCompare(b.startedAt ?? '') || a.id - b.id);
  const [root, ...rest] = jobs.filter((j) => j.spec.target === rootTarget).concat(jobs.filter((j) => j.spec.target !== rootTarget));
  const expected = [root!, ...rest.sort((a, b) => a.priority - b.priority || orderKey(a, penalty) - orderKey(b, penalty) || a.id - b.id)];
  const lines: string[] = [];
  let ok = true;
  started.forEach((j, i) => {
    const e = expected[i]!;
    if (e.id !== j.id) {
      ok = false;
      lines.push(
        `claim ${i + 1}: job ${j.id} (${j.spec.target}, priority ${j.priority}, key ${orderKey(j, penalty)}), expected job ${e.id} (priority ${e.priority}, key ${orderKey(e, penalty)})`,
      );
    }
  });
  if (root!.after !== null) {
    ok = false;
    lines.push(`the root's job ${root!.id} waits for job ${root!.after}`);
  }
  const orphans = rest.filter((j) => j.after === null);
  if (orphans.length) {
    ok = false;
    lines.push(`jobs that wait for nothing: ${orphans.map((j) => j.id).join(', ')}`);
  }
  return { ok, lines };
}

function checkJobs(jobs: Job[], specs: DatasetSpec[], rootTarget: string): void {
  const bad = jobs.filter((j) => j.state !== 'success' || j.sync !== 0 || j.attempts !== 1);
  if (jobs.length !== specs.length + 1 || bad.length)
    throw new Error(
      `${jobs.length} jobs (expected ${specs.length + 1}); not success in one attempt: ${bad.map((j) => `job ${j.id} ${j.state} sync ${j.sync} attempts ${j.attempts}: ${j.error ?? ''}`).join('; ')}`,
    );
  for (const s of specs) {
    const j = jobs.find((x) => x.spec.target === `${rootTarget}/${s.name}`);
    if (!j) throw new Error(`no job for ${s.name}`);
    if (j.priority !== (s.priority ?? 5)) throw new Error(`job ${j.id} (${s.name}) has priority ${j.priority}, expected ${s.priority ?? 5}`);
  }
}

// ---------------------------------------------------------------------------------------------

const mib = (b: number) => (b / 1048576).toFixed(b < 1048576 ? 2 : 1);

async function main(): Promise<void> {
  const specs = datasetSpecs();
  describe(specs);
  const v = vmInfo();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zf-bench-mig-'));
  const cleanup = cleanupOnce(async () => {
    await cleanupVm(v).catch((e) =>
      console.error(`clean-up on the VM failed: ${(e as Error).message}\n  check: ssh -F ${v.sshConfig} ${HOST} zfs list -r ${BASE}`),
    );
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  const load = loadSampler();
  try {
    const totalBytes = specs.reduce((a, s) => a + s.bytes, 0);
    const totalFiles = specs.reduce((a, s) => a + s.files, 0);
    console.log(`${os.hostname()}: ${os.cpus().length} cores, started ${new Date().toISOString()}; VM ${v.zfsVersion} on 127.0.0.1:${v.port}`);
    await cleanupVm(v); // leftovers of an interrupted run
    const t0 = performance.now();
    await must('setup', onVm(v, 'python3 -', setupScript(specs)));
    const facts = (await must('facts', onVm(v, `zfs get -H -p -o name,value referenced -r -t filesystem ${q(SRC)}`))).stdout;
    console.log(
      `set up in ${secs(performance.now() - t0)} s; referenced ${mib(
        facts
          .split('\n')
          .filter((l) => l.startsWith(SRC + '/'))
          .reduce((a, l) => a + Number(l.split('\t')[1]), 0),
      )} MiB in the children`,
    );
    const syncoidVersion = (await exec(SYNCOID, ['--version'])).stdout.split('\n')[0]?.trim();
    // The capability cache warm (one untimed listing), as for an operator who has used the CLI before.
    await must(
      'zfs-fleet ls',
      exec(process.execPath, [CLI, 'ls', `${HOST}:${SRC}`, '--ssh-config', v.sshConfig, '--known-hosts', v.knownHosts], {
        env: { ...process.env, XDG_CACHE_HOME: path.join(tmp, 'cache') },
      }),
    );

    const results: { syncoid: number; queue: number; order: OrderCheck; parts: string; ran: number[] }[] = [];
    for (let run = 0; run < RUNS; run++) {
      const syncoidFirst = run % 2 === 0;
      let s: Timed | undefined;
      let qr: QueueRun | undefined;
      for (const who of syncoidFirst ? ['syncoid', 'queue'] : ['queue', 'syncoid']) {
        load.sample();
        if (who === 'syncoid') {
          s = await syncoidLoop(
            v,
            specs.map((x) => x.name),
          );
          const n = await verifyGuids(v, `${BASE}/syncoid`, specs.length + 1);
          console.log(`run ${run + 1}: syncoid loop ${secs(s.ms)} s (${s.parts}); ${n} snapshot guids match`);
        } else {
          qr = await queueMigration(v, specs, tmp);
          checkJobs(qr.jobs, specs, `${HOST}:${BASE}/queue`);
          const n = await verifyGuids(v, `${BASE}/queue`, specs.length + 1);
          console.log(`run ${run + 1}: queue ${secs(qr.ms)} s (${qr.parts}); ${n} snapshot guids match; jobs run per worker: ${qr.ran.join(', ')}`);
        }
      }
      const order = checkClaimOrder(qr!.jobs, `${HOST}:${BASE}/queue`);
      results.push({ syncoid: s!.ms, queue: qr!.ms, order, parts: qr!.parts, ran: qr!.ran });
      printClaims(qr!.jobs);
      if (!order.ok) {
        console.error(`run ${run + 1}: the claim order is NOT the queue's order:\n  ${order.lines.join('\n  ')}`);
        for (const [i, l] of qr!.workerLogs.entries()) console.error(`worker ${i + 1}:\n${l}`);
        throw new Error('claim order check failed');
      }
      if (qr!.ran.some((n) => !(n > 0)))
        console.log(
          `  NOTE: a worker ran no job (jobs per worker: ${qr!.ran.join(', ')}):\n${qr!.workerLogs
            .map(
              (l, i) =>
                `  worker ${i + 1}: ${l
                  .split('\n')
                  .filter((x) => !x.startsWith('job '))
                  .join('\n    ')}`,
            )
            .join('\n')}`,
        );
      await must('destroy targets', onVm(v, `zfs destroy -r ${q(`${BASE}/syncoid`)} && zfs destroy -r ${q(`${BASE}/queue`)}`));
    }

    console.log(
      `\n${specs.length + 1} datasets (root + ${specs.length}), ${mib(totalBytes)} MiB, ${totalFiles.toLocaleString('en')} files; peer: ${syncoidVersion} --no-sync-snap, a process per dataset`,
    );
    console.log(
      `ours: queue add migrate + ${WORKERS === 'parallel' ? 'one worker --once --parallel 2' : 'two worker --once --parallel 1 processes'} (SQLite store, penalty ${DEFAULT_FILE_PENALTY})`,
    );
    for (const [i, r] of results.entries())
      console.log(
        `  run ${i + 1}: queue ${secs(r.queue)} s (${r.parts}) vs syncoid loop ${secs(r.syncoid)} s -> ratio queue/syncoid ${(r.queue / r.syncoid).toFixed(2)}x; ` +
          `${((specs.length + 1) / (r.queue / 1000)).toFixed(2)} jobs/s (syncoid ${((specs.length + 1) / (r.syncoid / 1000)).toFixed(2)} datasets/s); claim order ${r.order.ok ? 'OK' : 'WRONG'} (root first, then priority, blocks + files x ${DEFAULT_FILE_PENALTY})`,
      );
  } finally {
    load.stop();
    // After a signal the workers have a second to put their running jobs back before the datasets go.
    if (stop.requested) await new Promise((r) => setTimeout(r, 1000));
    await cleanup();
    if (load.loads.length)
      console.log(
        `load average of this machine (1 min): min ${Math.min(...load.loads)}, mean ${(load.loads.reduce((a, b) => a + b, 0) / load.loads.length).toFixed(1)}, max ${Math.max(...load.loads)} (${load.loads.length} samples)`,
      );
  }
}

function describe(specs: DatasetSpec[]): void {
  const totalBytes = specs.reduce((a, s) => a + s.bytes, 0);
  const totalFiles = specs.reduce((a, s) => a + s.files, 0);
  console.log(
    `${SRC}: 1 + ${specs.length} datasets, ${mib(totalBytes)} MiB of random data in ${totalFiles.toLocaleString('en')} files ` +
      `(sizes ${mib(Math.min(...specs.map((s) => s.bytes)))}-${mib(Math.max(...specs.map((s) => s.bytes)))} MiB, files ${Math.min(...specs.map((s) => s.files))}-${Math.max(...specs.map((s) => s.files))}); ` +
      `priority 3: ${specs
        .filter((s) => s.priority === 3)
        .map((s) => s.name)
        .join(', ')}; priority 8: ${specs
        .filter((s) => s.priority === 8)
        .map((s) => s.name)
        .join(', ')}`,
  );
  if (process.env.BENCH_MIG_LIST === '1')
    for (const s of specs)
      console.log(`  ${s.name} ${mib(s.bytes).padStart(5)} MiB ${String(s.files).padStart(5)} files${s.priority ? ` priority ${s.priority}` : ''}`);
}

function printClaims(jobs: Job[]): void {
  const started = [...jobs].sort((a, b) => (a.startedAt ?? '').localeCompare(b.startedAt ?? '') || a.id - b.id);
  const t0 = Date.parse(started[0]!.startedAt!);
  console.log('  claim order (startedAt): job target priority KB files key=KB+files*penalty worker, seconds from the first claim to start / to finish');
  for (const j of started)
    console.log(
      `    ${String(j.id).padStart(3)} ${j.spec.target.slice(j.spec.target.lastIndexOf('/') + 1).padEnd(6)} p${j.priority} ${String(j.blocks ?? '?').padStart(6)} KB ${String(j.files ?? '?').padStart(5)} files key ${String(orderKey(j)).padStart(7)} ${(j.worker ?? '').replace(/^.* pid /, 'pid ')} ${secs(Date.parse(j.startedAt!) - t0)}-${secs(Date.parse(j.finishedAt!) - t0)} s`,
    );
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(stop.requested ? 130 : 1);
});
