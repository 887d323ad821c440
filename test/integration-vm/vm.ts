/**
 * Access to the OpenZFS 2.3.2 lab VM brought up by `bash test/lab/vm/vm.sh up` (test/lab/vm/README.md):
 * aliases `zfsvm` (root) and `zfsvm-operator` (operator) in its ssh_config, host keys in its
 * known_hosts (host-key checking stays on). The product reaches it through its own transport
 * (createRunner, ssh2); `ssh()` runs OpenSSH, the peer results are compared with and the way tests
 * change the VM (holds, bookmarks, delegations) and undo the changes.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Fleet } from '../../src/core/fleet/fleet.js';
import type { Logger } from '../../src/core/log.js';
import { createRunner, type Runner, type TransportDeps } from '../../src/transport/index.js';

export interface Vm {
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
