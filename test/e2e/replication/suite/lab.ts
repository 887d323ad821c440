/**
 * The lab from inside the extension host: set-up and checks run with the operator's own OpenSSH
 * (`ssh -F <lab>/ssh_config`), never through the extension under test.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const LAB = process.env.ZFS_FLEET_LAB ?? '/tmp/zfs-fleet-lab';
export const SSH_CONFIG = path.join(LAB, 'ssh_config');
export const KNOWN_HOSTS = path.join(LAB, 'known_hosts');

/** The test's own roots (named by the runner), e.g. `e2e-repl-1a2b3c`. */
export const ROOT = process.env.ZFS_FLEET_E2E_ROOT ?? '';
export const SRC_ROOT = `zfs-hdd/${ROOT}`;
export const DST_ROOT = `rpool/${ROOT}`;

export function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Run a script on a host (asynchronously: the extension host must stay responsive while the lab works). */
export function ssh(host: string, script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ssh', ['-F', SSH_CONFIG, host, `set -e\n${script}`], { encoding: 'utf8', maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${host}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A dataset with a file before each snapshot; one second between snapshots (zfs-fuse orders snapshots by creation second). */
export async function makeDataset(host: string, dataset: string, snaps: string[]): Promise<void> {
  const lines = [`zfs create -p ${q(dataset)}`, `mp=$(zfs get -H -o value mountpoint ${q(dataset)})`];
  snaps.forEach((s, i) => {
    lines.push(`head -c ${8 * 1024 + i * 1024} /dev/urandom | base64 > "$mp"/${q(`file-${i}.txt`)}`);
    lines.push(`zfs snapshot ${q(`${dataset}@${s}`)}`);
    if (i < snaps.length - 1) lines.push('sleep 1');
  });
  await ssh(host, lines.join('\n'));
}

export async function snapshot(host: string, name: string): Promise<void> {
  const ds = name.slice(0, name.indexOf('@'));
  await ssh(host, `mp=$(zfs get -H -o value mountpoint ${q(ds)}); date > "$mp/at-$(date +%s%N)"; sleep 1; zfs snapshot ${q(name)}`);
}

/** name -> guid of a dataset's snapshots (`zfs get -p`: zfs-fuse rounds guids without it). */
export async function snapshotGuids(host: string, dataset: string): Promise<Map<string, string>> {
  const out = await ssh(
    host,
    `zfs list -H -t snapshot -o name -r ${q(dataset)} | while IFS= read -r s; do printf '%s\\t%s\\n' "$s" "$(zfs get -H -p -o value guid "$s")"; done`,
  );
  const m = new Map<string, string>();
  for (const line of out.split('\n')) {
    const [name, guid] = line.split('\t');
    if (name && guid && name.startsWith(`${dataset}@`)) m.set(name, guid);
  }
  return m;
}

export async function snapshotNames(host: string, dataset: string): Promise<string[]> {
  return [...(await snapshotGuids(host, dataset)).keys()].sort();
}

export async function origin(host: string, dataset: string): Promise<string> {
  return (await ssh(host, `zfs get -H -o value origin ${q(dataset)}`)).trim();
}

export async function exists(host: string, name: string): Promise<boolean> {
  return (await ssh(host, `zfs list -H -o name -t all ${q(name)} >/dev/null 2>&1 && echo yes || echo no`)).trim() === 'yes';
}

/** zfs-fuse leaks the temporary holds of `zfs send` at times: release them (read with zdb), only on the test's own snapshots. */
async function releaseLeakedSendHolds(host: string, root: string): Promise<void> {
  const script = [
    `zfs list -H -t snapshot -o name -r ${q(root)} 2>/dev/null | while IFS= read -r snap; do`,
    String.raw`  id=$(zdb -d "$snap" 2>/dev/null | sed -n 's/.*, ID \([0-9]*\),.*/\1/p' | head -n 1)`,
    '  [ -n "$id" ] || continue',
    '  hex=$(printf %x "$id"); pool=${snap%%/*}',
    String.raw`  zdb -dddddd "$pool" 2>/dev/null | sed -n "s/^[[:space:]]*$hex-\(\.send-[0-9]*-[0-9]*\) = .*/\1/p" | sort -u | while read -r tag; do zfs release "$tag" "$snap" || true; done`,
    'done',
  ].join('\n');
  try {
    await ssh(host, script);
  } catch {
    // best effort
  }
}

/** Destroy a test root with everything under it, retrying while zfs-fuse says busy. */
export async function destroyRoot(host: string, root: string): Promise<void> {
  if (!/\/e2e-repl-[0-9a-f]+$/.test(root)) throw new Error(`refusing to destroy ${root}: not an e2e test root`);
  for (let i = 0; i < 20; i++) {
    const out = await ssh(
      host,
      `zfs list -H -o name ${q(root)} >/dev/null 2>&1 || { echo gone; exit 0; }; zfs destroy -r -R ${q(root)} 2>&1 && echo gone || true`,
    );
    if (out.includes('gone')) return;
    if (i % 4 === 3) await releaseLeakedSendHolds(host, root);
    await sleep(500);
  }
  throw new Error(`${host}: could not destroy ${root}`);
}

export function labReady(): boolean {
  return fs.existsSync(path.join(LAB, 'lab.json')) && ROOT !== '';
}
