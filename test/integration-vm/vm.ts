/**
 * Access to the OpenZFS 2.3.2 lab VM brought up by `bash test/lab/vm/vm.sh up` (test/lab/vm/README.md):
 * aliases `zfsvm` (root) and `zfsvm-operator` (operator) in its ssh_config, host keys in its
 * known_hosts (host-key checking stays on). The product reaches it through its own transport
 * (createRunner, ssh2); `ssh()` runs OpenSSH, the peer results are compared with and the way tests
 * change the VM (holds, bookmarks, delegations) and undo the changes.
 */
import { execFile, execFileSync, spawnSync, type ExecFileSyncOptionsWithStringEncoding } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Fleet } from '../../src/core/fleet/fleet.js';
import type { Logger } from '../../src/core/log.js';
import { createRunner, type Runner, type TransportDeps } from '../../src/transport/index.js';

export interface Vm {
  /** The forwarded ssh port on 127.0.0.1. */
  port: number;
  sshConfig: string;
  knownHosts: string;
  zfsVersion: string;
  hosts: Record<string, { user: string; host: string; port: number }>;
  datasets: string[];
  snapshots: { recursiveFrom: string; names: string[] };
}

export function vm(): Vm {
  const dir = path.join(process.env.ZFS_FLEET_LAB ?? '/tmp/zfs-fleet-lab', 'vm');
  const file = path.join(dir, 'vm.json');
  if (!fs.existsSync(file)) throw new Error(`the lab VM is not up (no ${file}): run \`bash test/lab/vm/vm.sh up\``);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Vm;
}

/** The VM's snapshot names, oldest first (20230501-0000, 20230515-0000, 20230530-2330). */
export const SNAPS = ['20230501-0000', '20230515-0000', '20230530-2330'] as const;

/**
 * OpenSSH options: one shared connection per alias (the emulated guest takes ~1.4 s per ssh
 * handshake), closed by ssh itself 15 s after its last use.
 */
function sshArgs(alias: string, command: string): string[] {
  const control = path.join(path.dirname(vm().sshConfig), 'cm-itvm-%C');
  return ['-F', vm().sshConfig, '-o', 'ControlMaster=auto', '-o', `ControlPath=${control}`, '-o', 'ControlPersist=15', alias, command];
}

/** Run a command on the VM with OpenSSH (`zfsvm` is root, `zfsvm-operator` the operator); throws on a non-zero exit. */
export function ssh(alias: 'zfsvm' | 'zfsvm-operator', command: string): string {
  return execFileSync('ssh', sshArgs(alias, command), { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * The same without blocking the test worker: for long setups (a `zpool scrub -w` under emulation
 * takes a minute), during which a blocked worker misses vitest's RPC deadline.
 */
export function sshAsync(alias: 'zfsvm' | 'zfsvm-operator', command: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('ssh', sshArgs(alias, command), { encoding: 'utf8', maxBuffer: 1 << 28 }, (e, stdout, stderr) =>
      e ? reject(new Error(`ssh ${alias} ${command.split('\n')[0]}: ${e.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
}

/** The same, never throwing: for cleanups, which must run whatever state a failed test left. */
export function sshTry(alias: 'zfsvm' | 'zfsvm-operator', command: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('ssh', sshArgs(alias, command), { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export const testLogger: Logger = { trace() {}, debug() {}, info() {}, warn() {}, error: (m) => console.error(m) };

export function deps(overrides: Partial<TransportDeps> = {}): TransportDeps {
  const v = vm();
  return {
    logger: testLogger,
    sshConfigPath: v.sshConfig,
    knownHostsFiles: [v.knownHosts],
    connectTimeoutMs: 15_000,
    // Host keys come from known_hosts: an unknown key is refused, never accepted.
    onUnknownHostKey: async () => 'cancel',
    getPassphrase: async () => undefined,
    ...overrides,
  };
}

/** Every argv a runner ran, by host. */
export type CommandLog = { host: string; argv: readonly string[] }[];

function recording(runner: Runner, log: CommandLog): Runner {
  return {
    label: runner.label,
    run: (argv, options) => {
      log.push({ host: runner.label, argv: [...argv] });
      return runner.run(argv, options);
    },
    dispose: () => runner.dispose(),
  };
}

/** A Fleet over the real SSH transport to the VM; `log` receives every command the product runs. */
export function vmFleet(hosts: string[], log: CommandLog = []): Fleet {
  const f = new Fleet((spec) => recording(createRunner(spec, deps()), log), { zfsPath: 'zfs', zpoolPath: 'zpool', commandTimeoutMs: 60_000 }, testLogger);
  f.setHosts(hosts);
  return f;
}

/** The files of a dataset (or of one of its snapshots) with their md5, as `md5sum` prints them inside the VM, sorted by path. Mounts the dataset as root if needed (a replica received with -u is not mounted). */
export function md5Files(dataset: string, snapshot?: string): string {
  const dir = `"$(zfs get -H -o value mountpoint ${dataset})"${snapshot ? `/.zfs/snapshot/${snapshot}` : ''}`;
  return ssh(
    'zfsvm',
    `[ "$(zfs get -H -o value mounted ${dataset})" = yes ] || zfs mount ${dataset}; cd ${dir} && find . -type f | LC_ALL=C sort | xargs -r md5sum`,
  );
}

/** name<TAB>guid of every snapshot of a dataset, oldest first (by createtxg), with the dataset part dropped (`@s1<TAB>123`). */
export function snapshotGuids(dataset: string): string[] {
  return ssh('zfsvm', `zfs list -H -p -t snapshot -o name,guid -s createtxg -d 1 ${dataset}`)
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => l.slice(l.indexOf('@')));
}

/** The holds on the snapshots of datasets (and their descendants): snapshot<TAB>tag lines (sorted), only the tags starting with `prefix`. */
export function holds(datasets: string[], prefix = 'zfs-fleet'): string[] {
  const r = sshTry('zfsvm', `zfs list -H -o name -t snapshot -r ${datasets.join(' ')} 2>/dev/null | xargs -r zfs holds -H`);
  return r.stdout
    .split('\n')
    .map((l) => l.split('\t'))
    .filter((f) => f.length >= 2 && f[1]!.startsWith(prefix))
    .map((f) => `${f[0]}\t${f[1]}`)
    .sort();
}

/** The dataset's receive_resume_token, or undefined ('-'). */
export function resumeToken(dataset: string): string | undefined {
  const t = ssh('zfsvm', `zfs get -H -p -o value receive_resume_token ${dataset}`).trim();
  return t === '-' ? undefined : t;
}

/**
 * Cut THIS process's TCP connections to the VM's sshd (`ss -K`, the kernel destroys the sockets as a
 * network failure would), leaving everyone else's (other suites, OpenSSH masters) alone. Returns how many.
 */
export function cutOwnConnections(): number {
  const port = vm().port;
  const quiet: ExecFileSyncOptionsWithStringEncoding = { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] };
  const lines = execFileSync('ss', ['-tnpH', 'state', 'established', `( dport = :${port} )`], quiet).split('\n');
  const mine = lines.filter((l) => l.includes(`pid=${process.pid},`));
  let n = 0;
  for (const l of mine) {
    const local = l.trim().split(/\s+/)[2]!; // Recv-Q Send-Q Local:Port Peer:Port Process
    const lport = local.slice(local.lastIndexOf(':') + 1);
    execFileSync('ss', ['-K', 'state', 'established', `( sport = :${lport} and dport = :${port} )`], quiet);
    n++;
  }
  return n;
}
