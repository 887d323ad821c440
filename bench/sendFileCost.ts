/**
 * What one file costs a ZFS send, in KB-equivalent: the figure behind the job queue's default file
 * penalty (claim order `blocks + files * penalty`, blocks in KB).
 *
 * On each ZFS host (over OpenSSH), in a throw-away dataset `POOL/zf-bench-sendfiles`:
 *   one    ONE file of BENCH_MIB MiB from /dev/urandom (incompressible)
 *   many   the same bytes as N files of BENCH_FILE_KIB KiB (`split` of one's file), N = MIB * 1024 / KIB
 *   empty  N empty files
 *   none   no file: the fixed cost of a send (stream header, dataset, root directory)
 * each snapshotted `@s`. A round times `zfs send DATASET@s > /dev/null` of each ON THE HOST (`date +%s%N`
 * around the command inside one ssh command, so ssh's start-up is not counted), the order rotating (and
 * reversing) from round to round, after one untimed warm-up round (the ARC holds the data: this is the
 * CPU cost per file, not disk seeks). Stream sizes: `zfs send … | wc -c`.
 *
 * Figures, medians over the rounds, each from peers timed in the same round:
 *   throughput of one          KB/s = one's stream KB / t(one)  (KB = 1024 bytes, as the queue's blocks)
 *   per-file cost, KB-equiv.   (t(many) - t(one)) / N * throughput = (t(many)/t(one) - 1) * KB(one) / N
 *   per empty file, KB-equiv.  (t(empty) - t(none)) / N * throughput
 *   stream bytes per file      (bytes(many) - bytes(one)) / N, (bytes(empty) - bytes(none)) / N
 * The spread is the min-max of the same figures computed per round. BENCH_COLD=1 adds as many cold
 * rounds: before each send (not timed) `zpool export` + `zpool import -d VDEV_DIR` of the pool empties
 * the ARC of it, so the send reads through the pool's I/O path (on the lab's file-backed pools and the
 * VM's disks that is the host's page cache: no seeks either way). It exports the WHOLE pool: use it on
 * a lab or VM of your own.
 *
 *   node esbuild.mjs --bench && node dist/bench/sendFileCost.js
 * Targets (BENCH_TARGETS, default `lab,vm`: each one that is up): `lab` = off1's zfs-hdd in the zfs-fuse
 * lab ($ZFS_FLEET_LAB/ssh_config), `vm` = zfsvm's tank in the OpenZFS VM ($ZFS_FLEET_LAB/vm/ssh_config),
 * or `HOST:POOL:SSH_CONFIG`. BENCH_MIB (64), BENCH_FILE_KIB (4), BENCH_RUNS (5), BENCH_COLD (0).
 * Everything it creates is destroyed at the end, after a failure or Ctrl-C/SIGTERM, and before starting
 * (an interrupted run's).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const lab = process.env.ZFS_FLEET_LAB ?? '/tmp/zfs-fleet-lab';
const MIB = Number(process.env.BENCH_MIB ?? 64);
const FILE_KIB = Number(process.env.BENCH_FILE_KIB ?? 4);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const COLD = process.env.BENCH_COLD === '1';
const N = Math.floor((MIB * 1024) / FILE_KIB);
const KINDS = ['one', 'many', 'empty', 'none'] as const;
type Kind = (typeof KINDS)[number];

interface Target {
  label: string;
  host: string;
  pool: string;
  sshConfig: string;
}

function targets(): Target[] {
  const out: Target[] = [];
  for (const t of (process.env.BENCH_TARGETS ?? 'lab,vm').split(',').filter(Boolean)) {
    if (t === 'lab' || t === 'vm') {
      const sshConfig = t === 'lab' ? path.join(lab, 'ssh_config') : path.join(lab, 'vm', 'ssh_config');
      if (fs.existsSync(sshConfig))
        out.push(
          t === 'lab' ? { label: 'zfs-fuse lab', host: 'off1', pool: 'zfs-hdd', sshConfig } : { label: 'OpenZFS VM', host: 'zfsvm', pool: 'tank', sshConfig },
        );
      else console.log(`${t}: skipped (no ${sshConfig})`);
    } else {
      const [host, pool, sshConfig] = t.split(':');
      if (!host || !pool || !sshConfig) throw new Error(`BENCH_TARGETS: '${t}' is not lab, vm or HOST:POOL:SSH_CONFIG`);
      out.push({ label: host, host, pool, sshConfig });
    }
  }
  return out;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** The ssh child running now, killed on Ctrl-C before the clean-up. */
let current: ChildProcess | undefined;

/** Runs `script` with `sh -s` on the host, in one ssh command; its stdout. */
function onHost(t: Target, script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn('ssh', ['-F', t.sshConfig, '-o', 'BatchMode=yes', t.host, 'sh -s'], { stdio: ['pipe', 'pipe', 'pipe'] });
    current = c;
    let out = '';
    let err = '';
    c.stdout.on('data', (b: Buffer) => (out += b.toString()));
    c.stderr.on('data', (b: Buffer) => (err += b.toString()));
    c.on('error', reject);
    c.on('close', (code) => {
      current = undefined;
      if (code === 0) resolve(out);
      else reject(new Error(`${t.host}: exit ${code}: ${err.trim()}`));
    });
    c.stdin.end(`set -eu\n${script}\n`);
  });
}

const parentOf = (t: Target) => `${t.pool}/zf-bench-sendfiles`;

/** Destroys the benchmark's datasets; a send still running (after Ctrl-C) keeps them busy a while. */
async function cleanup(t: Target): Promise<void> {
  const p = q(parentOf(t));
  await onHost(
    t,
    `for i in 1 2 3 4 5 6 7 8 9 10; do zfs list ${p} >/dev/null 2>&1 || exit 0; zfs destroy -r ${p} 2>/dev/null && exit 0; sleep 3; done
zfs destroy -r ${p}`,
  );
}

/** Creates the four datasets and their snapshots; returns each stream's size in bytes. */
async function setup(t: Target): Promise<Record<Kind, number>> {
  const p = parentOf(t);
  const ds = (k: Kind) => q(`${p}/${k}`);
  const mnt = (k: Kind) => `"$(zfs get -H -o value mountpoint ${ds(k)})"`;
  const out = await onHost(
    t,
    [
      `zfs create ${q(p)}`,
      ...KINDS.map((k) => `zfs create ${ds(k)}`),
      `head -c ${MIB * 1048576} /dev/urandom > ${mnt('one')}/data`,
      `cd ${mnt('many')} && split -b ${FILE_KIB * 1024} -a 6 -d ${mnt('one')}/data f`,
      `cd ${mnt('empty')} && seq -f 'f%06.0f' 0 ${N - 1} | xargs touch`,
      `test "$(ls ${mnt('many')} | wc -l)" = ${N} && test "$(ls ${mnt('empty')} | wc -l)" = ${N}`,
      'sync',
      ...KINDS.map((k) => `zfs snapshot ${ds(k)}@s`),
      ...KINDS.map((k) => `echo ${k} $(zfs send ${ds(k)}@s | wc -c)`),
    ].join('\n'),
  );
  return parseLines(out);
}

function parseLines(out: string): Record<Kind, number> {
  const r = {} as Record<Kind, number>;
  for (const line of out.trim().split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if ((KINDS as readonly string[]).includes(k!) && Number.isFinite(Number(v))) r[k as Kind] = Number(v);
  }
  for (const k of KINDS) if (r[k] === undefined) throw new Error(`no figure for ${k} in: ${out}`);
  return r;
}

/**
 * `cold`: the pool is exported and imported again before each send (not timed), so the send reads
 * through the pool's I/O path instead of the ARC; the pool's vdevs are looked up in `vdevDir`.
 */
function sendLine(t: Target, k: Kind, cold: boolean): string {
  const reimport = cold ? `zpool export ${q(t.pool)} && zpool import -d "$vdevDir" ${q(t.pool)}; ` : '';
  return `${reimport}a=$(date +%s%N); zfs send ${q(`${parentOf(t)}/${k}`)}@s > /dev/null; b=$(date +%s%N); echo ${k} $(( (b - a) / 1000 ))`;
}

/** One round: each dataset's send timed on the host, in `order`; milliseconds. */
async function round(t: Target, order: readonly Kind[], cold: boolean): Promise<Record<Kind, number>> {
  // zfs-fuse has no `zpool status -P` but prints file vdevs with their path.
  const vdevDir = `vdevDir=$(dirname "$( (zpool status -P ${q(t.pool)} 2>/dev/null || zpool status ${q(t.pool)}) | awk 'substr($1, 1, 1) == "/" {print $1; exit}')")`;
  const lines = [...(cold ? [vdevDir] : []), ...order.map((k) => sendLine(t, k, cold))];
  const us = parseLines(await onHost(t, lines.join('\n')));
  return Object.fromEntries(KINDS.map((k) => [k, us[k] / 1000])) as Record<Kind, number>;
}

const loads: number[] = [];
const sampleLoad = () => loads.push(Number(fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]));

async function bench(t: Target): Promise<void> {
  console.log(`\n${t.label} (${t.host}:${parentOf(t)}): ${MIB} MiB as 1 file vs ${N} files of ${FILE_KIB} KiB, ${RUNS} rounds`);
  const facts = await onHost(
    t,
    `zfs get -H -o property,value recordsize,compression ${q(t.pool)} | tr '\\t\\n' '= '; zfs version 2>/dev/null | head -1 || true`,
  );
  console.log(`  pool ${t.pool}: ${facts.trim()}`);
  await cleanup(t);
  const t0 = performance.now();
  const bytes = await setup(t);
  console.log(
    `  set up in ${((performance.now() - t0) / 1000).toFixed(1)} s; stream bytes: ${KINDS.map((k) => `${k} ${bytes[k].toLocaleString('en')}`).join(', ')}`,
  );
  const streamPerFile = (bytes.many - bytes.one) / N;
  console.log(
    `  stream bytes per file: ${streamPerFile.toFixed(0)} (${FILE_KIB} KiB files, beyond their data), ${((bytes.empty - bytes.none) / N).toFixed(0)} (empty files)`,
  );
  await round(t, KINDS, false); // warm-up, untimed
  for (const cold of COLD ? [false, true] : [false]) {
    const times: Record<Kind, number>[] = [];
    for (let r = 0; r < RUNS; r++) {
      const order = KINDS.map((_, i) => KINDS[(i + r) % KINDS.length]!);
      sampleLoad();
      times.push(await round(t, r % 2 ? [...order].reverse() : order, cold));
      sampleLoad();
    }
    report(cold ? 'cold (pool re-imported before each send)' : 'warm (data in the ARC)', times, bytes);
  }
  await cleanup(t);
}

function report(what: string, times: Record<Kind, number>[], bytes: Record<Kind, number>): void {
  const med = Object.fromEntries(KINDS.map((k) => [k, median(times.map((x) => x[k]))])) as Record<Kind, number>;
  const kbOne = bytes.one / 1024;
  const figures = (x: Record<Kind, number>) => {
    const thr = kbOne / (x.one / 1000); // KB/s
    return { thr, perFile: ((x.many - x.one) / 1000 / N) * thr, perEmpty: ((x.empty - x.none) / 1000 / N) * thr, ratio: x.many / x.one };
  };
  const m = figures(med);
  const per = times.map(figures);
  const range = (f: (x: ReturnType<typeof figures>) => number, d = 1) => `${Math.min(...per.map(f)).toFixed(d)}-${Math.max(...per.map(f)).toFixed(d)}`;
  const ms = (k: Kind) => `${med[k].toFixed(0)} ms (${times.map((x) => x[k].toFixed(0)).join(', ')})`;
  const streamPerFile = (bytes.many - bytes.one) / N;
  console.log(`  ${what}:`);
  console.log(`    zfs send > /dev/null, median (rounds): one ${ms('one')}; many ${ms('many')}; empty ${ms('empty')}; none ${ms('none')}`);
  console.log(
    `    throughput of one: ${m.thr.toFixed(0)} KB/s (rounds ${range((x) => x.thr, 0)}); many / one: ${m.ratio.toFixed(2)}x (rounds ${range((x) => x.ratio, 2)})`,
  );
  console.log(
    `    per-file cost: ${m.perFile.toFixed(1)} KB-equivalent per ${FILE_KIB} KiB file (rounds ${range((x) => x.perFile)}), ` +
      `${(((med.many - med.one) / N) * 1000).toFixed(1)} us per file; beyond the file's stream bytes (a size estimate counts them already): ${(m.perFile - streamPerFile / 1024).toFixed(1)} KB-equivalent`,
  );
  console.log(
    `    per empty file: ${m.perEmpty.toFixed(1)} KB-equivalent (rounds ${range((x) => x.perEmpty)}), ${(((med.empty - med.none) / N) * 1000).toFixed(1)} us per file`,
  );
}

async function main(): Promise<void> {
  const ts = targets();
  let active: Target | undefined;
  let stopping = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.on(sig, () => {
      if (stopping) return;
      stopping = true;
      console.error(`\n${sig}: cleaning up`);
      current?.kill('SIGTERM');
      const t = active;
      void (t ? cleanup(t) : Promise.resolve()).catch((e) => console.error(`clean-up on ${t?.host}: ${(e as Error).message}`)).finally(() => process.exit(130));
    });
  console.log(`${os.hostname()}: ${os.cpus().length} cores, started ${new Date().toISOString()}`);
  for (const t of ts) {
    active = t;
    try {
      await bench(t);
    } catch (e) {
      if (stopping) return;
      console.error(`${t.label}: ${(e as Error).message}`);
      await cleanup(t).catch((c) => console.error(`clean-up on ${t.host}: ${(c as Error).message}`));
      process.exitCode = 1;
    }
    active = undefined;
  }
  if (loads.length)
    console.log(
      `\nload average of this machine (1 min) during the rounds: min ${Math.min(...loads)}, mean ${(loads.reduce((a, b) => a + b, 0) / loads.length).toFixed(1)}, max ${Math.max(...loads)}`,
    );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
