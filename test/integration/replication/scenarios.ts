/**
 * Replication scenarios on the lab (zfs-fuse hosts over real sshd), under throw-away roots such as
 * `zfs-hdd/rtest-<random>` (off1) and `rpool/rtest-<random>` (ovh3); the lab's seeded datasets are
 * never touched. Set-up uses the operator's OpenSSH (`ssh` of lab.ts); what is under test goes
 * through the product's runners.
 */
import { randomBytes } from 'node:crypto';
import { execFile, execFileSync } from 'node:child_process';
import { shellJoin, shellQuote } from '../../../src/core/zfs/quote.js';
import { lab, ssh } from '../lab.js';

export const SRC = 'off1';
export const DST = 'ovh3';

export function randomRoot(prefix = 'rtest'): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

/** Run a bash script on a lab host (set -e). */
export function sh(host: string, script: string): string {
  return ssh(host, `set -e\n${script}`);
}

export const q = shellQuote;

/** Write a file of `kb` KiB of random text lines (plus a header line) on a host. */
export function writeFile(host: string, path: string, kb: number, header = 'data'): void {
  sh(host, `mkdir -p ${q(path.slice(0, path.lastIndexOf('/')))}\n{ printf '%s\\n' ${q(header)}; head -c ${kb * 1024} /dev/urandom | base64; } > ${q(path)}`);
}

/** The mountpoint of a dataset on a host (zfs get). */
export function mountpoint(host: string, dataset: string): string {
  return ssh(host, `zfs get -H -o value mountpoint ${q(dataset)}`).trim();
}

export function snapshot(host: string, name: string, recursive = false): void {
  sh(host, `zfs snapshot ${recursive ? '-r ' : ''}${q(name)}`);
}

/** Relay a stream with the operator's ssh: `ssh SRC 'zfs send ...' | ssh DST 'zfs recv ...'`. */
export function relay(sendArgs: string[], recvArgs: string[], from = SRC, to = DST): void {
  const cfg = lab().sshConfig;
  const line = `${shellJoin(['ssh', '-F', cfg, from, shellJoin(['zfs', 'send', ...sendArgs])])} | ${shellJoin(['ssh', '-F', cfg, to, shellJoin(['zfs', 'recv', ...recvArgs])])}`;
  execFileSync('bash', ['-o', 'pipefail', '-c', line], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `zfs get -H -p -o name,value guid -r ROOT -t snapshot` as a map name -> guid. */
export function snapshotGuids(host: string, dataset: string): Map<string, string> {
  const out = ssh(host, `zfs get -H -p -o name,value guid -r -d 1 ${q(dataset)}`);
  const m = new Map<string, string>();
  for (const line of out.split('\n')) {
    const [name, guid] = line.split('\t');
    if (name && guid && name.includes('@') && name.startsWith(dataset + '@')) m.set(name, guid);
  }
  return m;
}

export function snapshotNames(host: string, root: string): string[] {
  return ssh(host, `zfs list -H -t snapshot -o name -r ${q(root)} 2>/dev/null || true`)
    .split('\n')
    .filter(Boolean)
    .sort();
}

export function datasetNames(host: string, root: string): string[] {
  return ssh(host, `zfs list -H -t filesystem,volume -o name -r ${q(root)} 2>/dev/null || true`)
    .split('\n')
    .filter(Boolean)
    .sort();
}

export function exists(host: string, name: string): boolean {
  return ssh(host, `zfs list -H -o name -t all ${q(name)} >/dev/null 2>&1 && echo yes || echo no`).trim() === 'yes';
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * zfs-fuse 0.7 sometimes leaks the temporary hold `zfs send` puts on the snapshots it sends (tag
 * `.send-PID-0`, listed only in the pool's tmp_userrefs object): the snapshot then cannot be destroyed
 * ("dataset is busy"). `zfs holds` does not exist there, so the tags are read with zdb and released.
 * Only for the tests' own snapshots.
 */
export function releaseLeakedSendHolds(host: string, snapshot: string): string[] {
  const script = [
    `snap=${q(snapshot)}`,
    String.raw`id=$(zdb -d "$snap" 2>/dev/null | sed -n 's/.*, ID \([0-9]*\),.*/\1/p' | head -n 1)`,
    '[ -n "$id" ] || exit 0',
    'hex=$(printf %x "$id")',
    'pool=${snap%%/*}; pool=${pool%%@*}',
    String.raw`zdb -dddddd "$pool" 2>/dev/null | sed -n "s/^[[:space:]]*$hex-\(\.send-[0-9]*-[0-9]*\) = .*/\1/p" | sort -u | while read -r tag; do zfs release "$tag" "$snap" && echo "$tag"; done`,
  ].join('\n');
  return ssh(host, script).split('\n').filter(Boolean);
}

/** Destroy one snapshot, retrying while zfs-fuse says busy, releasing leaked send holds if that persists. */
export async function destroySnapshot(host: string, snapshot: string): Promise<void> {
  for (let i = 0; i < 30; i++) {
    const out = ssh(host, `zfs destroy ${q(snapshot)} 2>&1 && echo destroyed || true`);
    if (out.includes('destroyed')) return;
    if (!/busy/.test(out)) throw new Error(`${host}: zfs destroy ${snapshot}: ${out}`);
    if (i % 4 === 3) releaseLeakedSendHolds(host, snapshot);
    await sleep(300);
  }
  throw new Error(`${host}: ${snapshot} stays busy`);
}

/**
 * Destroy a test root and everything depending on it (clones outside it included), retrying: zfs-fuse
 * answers "dataset is busy" for a moment after a mount changed.
 */
export async function destroyRoot(host: string, root: string): Promise<void> {
  if (!/\/rtest-[0-9a-z-]+(\/|$)/.test(root)) throw new Error(`refusing to destroy ${root}: not a test root or under one`);
  for (let i = 0; i < 20; i++) {
    const out = ssh(host, `zfs list -H -o name ${q(root)} >/dev/null 2>&1 || { echo gone; exit 0; }; zfs destroy -r -R ${q(root)} 2>&1 && echo gone || true`);
    if (out.includes('gone')) return;
    if (i % 4 === 3) for (const snap of snapshotNames(host, root)) releaseLeakedSendHolds(host, snap);
    await sleep(500);
  }
  throw new Error(`${host}: could not destroy ${root}: ${ssh(host, `zfs destroy -r -R ${q(root)} 2>&1 || true`)}`);
}

/** md5sum of every file under a dataset's mountpoint, by path relative to it. */
export function md5Tree(host: string, dataset: string): Map<string, string> {
  const mp = mountpoint(host, dataset);
  const out = ssh(host, `cd ${q(mp)} && find . -type f -print0 | sort -z | xargs -0 -r md5sum`);
  const m = new Map<string, string>();
  for (const line of out.split('\n')) {
    const i = line.indexOf('  ');
    if (i > 0) m.set(line.slice(i + 2), line.slice(0, i));
  }
  return m;
}

/**
 * Start `sleep SECONDS.TOKEN | zfs recv -F DATASET` on a host in the background, as a stalled
 * receive (the sleep never writes, so the recv waits for a stream forever). Returns a cleanup
 * that kills, by pid, the remaining processes of that pipeline (found by its unique token).
 */
export function startStalledRecv(host: string, dataset: string): { token: string; stop: () => Promise<void> } {
  const token = String(100000 + Math.floor(Math.random() * 899999));
  const cfg = lab().sshConfig;
  const child = execFile('ssh', ['-F', cfg, host, `sleep 600.${token} | zfs recv -F ${q(dataset)}`], () => {});
  const stop = async () => {
    // only our own pipeline: the sleep with our token and a zfs recv whose parent shell is the sleep's
    const ps = ssh(host, 'ps -ww -eo pid=,ppid=,args=');
    const lines = ps
      .split('\n')
      .map((l) => /^\s*(\d+)\s+(\d+)\s(.*)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null);
    const sleeper = lines.find((m) => m[3]!.trim() === `sleep 600.${token}`);
    const pids: string[] = [];
    if (sleeper) {
      pids.push(sleeper[1]!);
      for (const m of lines) if (m[2] === sleeper[2] && m[3]!.includes('zfs recv')) pids.push(m[1]!);
    }
    if (pids.length) ssh(host, `kill ${pids.join(' ')} 2>/dev/null || true`);
    if (child.pid !== undefined && child.exitCode === null) child.kill();
  };
  return { token, stop };
}

/** Wait until a stalled recv of `token` shows up in ps (ssh and the shell take a moment). */
export async function waitForRecv(host: string, dataset: string, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const ps = ssh(host, 'ps -ww -eo args=');
    if (ps.split('\n').some((l) => /\bzfs recv\b/.test(l) && l.endsWith(dataset))) return;
    await sleep(200);
  }
  throw new Error(`${host}: the stalled zfs recv into ${dataset} did not start`);
}

export interface Roots {
  src: string;
  dst: string;
}

const SNAPS = ['20230501-0000', '20230515-0000', '20230530-2330', '20230608-1130'];
export { SNAPS };

/** A dataset with files and the given snapshots (one change before each, `gapSeconds` apart), in one ssh session. */
export async function makeSource(dataset: string, snaps: string[], opts: { host?: string; gapSeconds?: number } = {}): Promise<void> {
  const host = opts.host ?? SRC;
  const lines = [`zfs create -p ${q(dataset)}`, `mp=$(zfs get -H -o value mountpoint ${q(dataset)})`];
  snaps.forEach((s, i) => {
    lines.push(`mkdir -p "$mp"/${q(`dir ${i}`)}`);
    lines.push(`{ printf '%s\\n' ${q(`written before @${s}`)}; head -c ${(4 + i) * 1024} /dev/urandom | base64; } > "$mp"/${q(`dir ${i}/file-${i}.txt`)}`);
    lines.push(`zfs snapshot ${q(`${dataset}@${s}`)}`);
    if (opts.gapSeconds && i < snaps.length - 1) lines.push(`sleep ${opts.gapSeconds}`);
  });
  sh(host, lines.join('\n'));
}

/** Replicate `src` up to `upTo` into `dst` (full of the first snapshot, then -I), like the lab's seed does. */
export function replicate(src: string, dst: string, first: string, upTo?: string): void {
  relay([`${src}@${first}`], [dst]);
  if (upTo && upTo !== first) relay(['-I', `${src}@${first}`, `${src}@${upTo}`], [dst]);
}

export interface Seed000 {
  /** The clone's files (path -> md5) before anything ran: what a kept copy must hold. */
  cloneFiles: Map<string, string>;
  stalled: ReturnType<typeof startStalledRecv>;
}

/**
 * Seed 000 from scratch, under the test roots R1 (source host) and R2 (target host): the replica
 * received up to @20230530-2330; a staging clone of @20230515-0000 with data of its own (and the
 * given local properties) blocks the rollback; the replica was written to; the source took
 * @20230608-1130 and its retention pruned @20230515-0000 and @20230530-2330, so the newest common
 * snapshot is @20230501-0000; a `zfs recv` stalled on the replica (started here, so a plan may kill it).
 */
export async function buildSeed000(p: { r1: string; r2: string; srcDs: string; dstDs: string; clone: string; cloneProperties: string[] }): Promise<Seed000> {
  const [A, B, C, D] = SNAPS as [string, string, string, string];
  sh(SRC, `zfs create ${q(p.r1)}`);
  sh(DST, `zfs create ${q(p.r2)}`);
  await makeSource(p.srcDs, [A, B, C]);
  sh(DST, `zfs create ${q(`${p.r2}/clones`)}`);
  replicate(p.srcDs, p.dstDs, A, C);
  sh(DST, `zfs clone ${p.cloneProperties.map((x) => `-o ${q(x)}`).join(' ')} ${q(`${p.dstDs}@${B}`)} ${q(p.clone)}`);
  writeFile(DST, `${mountpoint(DST, p.clone)}/staging only.txt`, 3, 'written in the staging clone');
  const cloneFiles = md5Tree(DST, p.clone);
  writeFile(DST, `${mountpoint(DST, p.dstDs)}/stray.txt`, 4, 'written into the replica');
  await new Promise((r) => setTimeout(r, 1100));
  writeFile(SRC, `${mountpoint(SRC, p.srcDs)}/june.txt`, 5, 'june');
  snapshot(SRC, `${p.srcDs}@${D}`);
  await destroySnapshot(SRC, `${p.srcDs}@${B}`);
  await destroySnapshot(SRC, `${p.srcDs}@${C}`);
  const stalled = startStalledRecv(DST, p.dstDs);
  await waitForRecv(DST, p.dstDs);
  await new Promise((r) => setTimeout(r, 1500));
  return { cloneFiles, stalled };
}
