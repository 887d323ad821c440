/**
 * Issue 11 §6: what the job queue costs. BENCH_JOBS (200) small syncs on the zfs-fuse lab, run
 *   - by the peer: `xargs -P 2 -n 2 zfs-fleet sync --yes` over the list of pairs (a process per sync,
 *     two at a time: what an operator's cron script does), and
 *   - through the queue: one `zfs-fleet queue add sync SRC DST SRC DST …` (sizes from one listing per
 *     host and `df -i`), then two `zfs-fleet worker --once` processes on a temporary SQLite store,
 * each timed from its first process's start to its last one's exit. Both go through the same sync
 * flow (fresh listings, plan, holds, send, receive, run recorded in a SQLite store), so the ratio is
 * what the queue adds: the add, the claims, the leases, the records, a worker's start.
 *
 *   off1:zfs-hdd/zf-bench-qo/dNNN         the sources: a dataset each with a 4 KiB file, snapshot @s1
 *   ovh3:rpool/zf-bench-qo/xargs/dNNN     the peer's targets (first full sends)
 *   ovh3:rpool/zf-bench-qo/queue/dNNN     ours
 * Checks (a failed one stops the benchmark): every target's snapshot guid equals its source's; every
 * `sync --yes` exited 0; every job ended `success` in one attempt, each claimed by one of the workers.
 *
 *   bash test/lab/lab.sh up
 *   node esbuild.mjs --bench && node dist/bench/queueOverhead.js
 *
 * BENCH_JOBS (200), BENCH_RUNS (1; who goes first alternates), ZFS_FLEET_LAB (/tmp/zfs-fleet-lab).
 * Everything it creates (datasets on both hosts, the temporary stores) is removed at the end, after a
 * failure or Ctrl-C/SIGTERM, and before starting (an interrupted run's).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Job } from '../src/core/queue/job.js';
import { cleanupOnce, exec, loadSampler, must, q, secs, type Exec } from './proc.js';

const LAB = process.env.ZFS_FLEET_LAB ?? '/tmp/zfs-fleet-lab';
const JOBS = Number(process.env.BENCH_JOBS ?? 200);
const RUNS = Number(process.env.BENCH_RUNS ?? 1);
const SRC_HOST = 'off1';
const DST_HOST = 'ovh3';
const SRC = 'zfs-hdd/zf-bench-qo';
const DST = 'rpool/zf-bench-qo';
const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist/cli.js');
const SSH_CONFIG = path.join(LAB, 'ssh_config');
const KNOWN_HOSTS = path.join(LAB, 'known_hosts');
const CONNECTION = ['--ssh-config', SSH_CONFIG, '--known-hosts', KNOWN_HOSTS];

const names = Array.from({ length: JOBS }, (_, i) => `d${String(i + 1).padStart(3, '0')}`);

/** OpenSSH to a lab host for setup, checks and clean-up (never timed). */
function onHost(host: string, command: string): Promise<Exec> {
  return exec('ssh', ['-F', SSH_CONFIG, '-o', 'BatchMode=yes', host, command]);
}

/**
 * Destroys `dataset` and everything under it (`-f`: unmounting too). A receive still running (after
 * Ctrl-C) keeps it busy a while, and so does zfs-fuse after 200 receives: one target stayed "dataset is
 * busy", unmounted, for over 30 s after every process had exited (2026-12-05), then went at the next try.
 */
function destroyTree(host: string, dataset: string): Promise<Exec> {
  return must(
    `clean-up of ${host}:${dataset}`,
    onHost(
      host,
      `for i in $(seq 1 24); do zfs list ${q(dataset)} >/dev/null 2>&1 || exit 0; zfs destroy -rf ${q(dataset)} 2>/dev/null && exit 0; sleep 5; done; zfs destroy -rf ${q(dataset)}`,
    ),
  );
}

async function setup(): Promise<void> {
  await must(
    'setup on off1',
    onHost(
      SRC_HOST,
      `set -e; zfs create -p ${q(SRC)}; for d in ${names.join(' ')}; do zfs create ${q(SRC)}/$d; mp=$(zfs get -H -o value mountpoint ${q(SRC)}/$d); head -c 4096 /dev/urandom > "$mp/f"; done; zfs snapshot -r ${q(`${SRC}@s1`)}`,
    ),
  );
  await must('setup on ovh3', onHost(DST_HOST, `zfs create -p ${q(`${DST}/xargs`)} && zfs create -p ${q(`${DST}/queue`)}`));
}

/** Every target's snapshot guid equals its source's; returns how many matched. */
async function verifyGuids(under: string): Promise<number> {
  const list = async (host: string, root: string) =>
    new Map(
      (await must(`guids on ${host}`, onHost(host, `zfs get -H -p -o name,value guid -r ${q(root)}`))).stdout
        .trim()
        .split('\n')
        .filter((l) => l.includes('@'))
        .map((l) => l.split('\t') as [string, string]),
    );
  const src = await list(SRC_HOST, SRC);
  const dst = await list(DST_HOST, `${DST}/${under}`);
  const bad = names.filter((n) => !src.get(`${SRC}/${n}@s1`) || dst.get(`${DST}/${under}/${n}@s1`) !== src.get(`${SRC}/${n}@s1`));
  if (bad.length) throw new Error(`${under}: ${bad.length} of ${names.length} targets do not hold their source's @s1: ${bad.slice(0, 5).join(', ')}`);
  return names.length;
}

interface Timed {
  ms: number;
  parts: string;
}

function env(tmp: string): NodeJS.ProcessEnv {
  return { ...process.env, XDG_CACHE_HOME: path.join(tmp, 'cache'), XDG_STATE_HOME: path.join(tmp, 'state') };
}

async function xargsSyncs(tmp: string): Promise<Timed> {
  const input = names.map((n) => `${SRC_HOST}:${SRC}/${n} ${DST_HOST}:${DST}/xargs/${n}\n`).join('');
  const r = await must(
    'xargs -P 2 zfs-fleet sync --yes',
    exec('xargs', ['-P', '2', '-n', '2', process.execPath, CLI, 'sync', '--yes', ...CONNECTION], { input, env: env(tmp) }),
  );
  return { ms: r.ms, parts: `${JOBS} sync processes, 2 at a time` };
}

interface QueueRun extends Timed {
  jobs: Job[];
  ran: number[];
}

async function queueSyncs(tmp: string, run: number): Promise<QueueRun> {
  const store = path.join(tmp, `queue-${run}.db`);
  const cli = (args: string[]) => exec(process.execPath, [CLI, ...args, '--store', store, ...CONNECTION], { env: env(tmp) });
  const t0 = performance.now();
  const pairs = names.flatMap((n) => [`${SRC_HOST}:${SRC}/${n}`, `${DST_HOST}:${DST}/queue/${n}`]);
  const add = await must('queue add sync', cli(['queue', 'add', 'sync', ...pairs, '--json']));
  const added = JSON.parse(add.stdout) as { job: Job; added: boolean }[];
  if (added.length !== JOBS || !added.every((a) => a.added)) throw new Error(`queue add sync queued ${added.filter((a) => a.added).length} of ${JOBS} jobs`);
  const tAdd = performance.now() - t0;
  const t1 = performance.now();
  const workers = await Promise.all([0, 1].map(() => cli(['worker', '--once', '--parallel', '1'])));
  const tWork = performance.now() - t1;
  const ms = performance.now() - t0;
  workers.forEach((w, i) => {
    if (w.code !== 0) throw new Error(`worker ${i + 1} exited ${w.code}:\n${(w.stdout + w.stderr).trim().slice(-4000)}`);
  });
  const ran = workers.map((w) => Number(/(\d+) job\(s\) run/.exec(w.stderr)?.[1] ?? NaN));
  const jobs = JSON.parse((await must('queue ls --json', cli(['queue', 'ls', '--json']))).stdout) as Job[];
  const bad = jobs.filter((j) => j.state !== 'success' || j.attempts !== 1);
  if (jobs.length !== JOBS || bad.length)
    throw new Error(
      `${jobs.length} jobs; not success in one attempt: ${bad.map((j) => `job ${j.id} ${j.state} (${j.attempts}): ${j.error ?? ''}`).join('; ')}`,
    );
  if (ran.reduce((a, b) => a + b, 0) !== JOBS) throw new Error(`the workers ran ${ran.join(' + ')} jobs, not ${JOBS}`);
  return { ms, parts: `add ${secs(tAdd)} s, workers ${secs(tWork)} s`, jobs, ran };
}

async function main(): Promise<void> {
  if (!fs.existsSync(SSH_CONFIG)) throw new Error(`no lab at ${LAB}: run bash test/lab/lab.sh up`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zf-bench-qo-'));
  const cleanup = cleanupOnce(async () => {
    for (const [h, d] of [
      [DST_HOST, DST],
      [SRC_HOST, SRC],
    ] as const)
      await destroyTree(h, d).catch((e) => console.error(`clean-up failed: ${(e as Error).message}\n  check: ssh -F ${SSH_CONFIG} ${h} zfs list -r ${d}`));
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  const load = loadSampler();
  try {
    console.log(`${os.hostname()}: ${os.cpus().length} cores, started ${new Date().toISOString()}; the zfs-fuse lab at ${LAB}`);
    await destroyTree(DST_HOST, DST);
    await destroyTree(SRC_HOST, SRC);
    const t0 = performance.now();
    await setup();
    console.log(`set up ${JOBS} datasets in ${secs(performance.now() - t0)} s`);
    // The capability cache warm (one untimed listing of each host), as for an operator who has used the CLI before.
    for (const h of [SRC_HOST, DST_HOST]) await must(`zfs-fleet ls ${h}`, exec(process.execPath, [CLI, 'ls', h, ...CONNECTION], { env: env(tmp) }));
    const results: { xargs: number; queue: number; parts: string; ran: number[] }[] = [];
    for (let run = 0; run < RUNS; run++) {
      let x: Timed | undefined;
      let qr: QueueRun | undefined;
      for (const who of run % 2 === 0 ? ['xargs', 'queue'] : ['queue', 'xargs']) {
        load.sample();
        if (who === 'xargs') {
          x = await xargsSyncs(tmp);
          console.log(`run ${run + 1}: xargs -P 2 sync --yes ${secs(x.ms)} s (${x.parts}); ${await verifyGuids('xargs')} targets verified`);
        } else {
          qr = await queueSyncs(tmp, run);
          console.log(
            `run ${run + 1}: queue ${secs(qr.ms)} s (${qr.parts}); ${await verifyGuids('queue')} targets verified; jobs per worker ${qr.ran.join(', ')}`,
          );
        }
      }
      const r = { xargs: x!.ms, queue: qr!.ms, parts: qr!.parts, ran: qr!.ran };
      results.push(r);
      // Said now: a clean-up that fails below must not take the run's figures with it.
      console.log(`run ${run + 1}: queue / xargs ${(r.queue / r.xargs).toFixed(2)}x`);
      if (run === RUNS - 1) break; // the clean-up at the end removes the last run's targets
      // The next run sends again from nothing.
      for (const t of ['xargs', 'queue']) await destroyTree(DST_HOST, `${DST}/${t}`);
      await must('recreate target parents', onHost(DST_HOST, `zfs create ${q(`${DST}/xargs`)} && zfs create ${q(`${DST}/queue`)}`));
    }
    console.log(`\n${JOBS} small syncs (first full sends of 4 KiB datasets, off1 -> ovh3 relayed by this machine), 2 at a time`);
    for (const [i, r] of results.entries())
      console.log(
        `run ${i + 1}: queue (queue add + 2 x worker --once) ${secs(r.queue)} s [${r.parts}] vs xargs -P 2 zfs-fleet sync --yes ${secs(r.xargs)} s: ${(r.queue / r.xargs).toFixed(2)}x`,
      );
    if (load.loads.length) console.log(`load average (1 min) during the runs: ${Math.min(...load.loads).toFixed(1)}-${Math.max(...load.loads).toFixed(1)}`);
  } finally {
    load.stop();
    await cleanup();
  }
}

main().catch((e: unknown) => {
  console.error(`queueOverhead: ${(e as Error).message}`);
  process.exit(1);
});
