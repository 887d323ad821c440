/**
 * Benchmarks, printed as ratios against a peer run in the same invocation (never an absolute time
 * asserted in a test):
 *  1. Load a host with 3,000 snapshots (BENCH_SNAPSHOTS) through the CLI (`zfs-fleet ls HOST
 *     --snapshots --json`) vs a raw `ssh HOST <the same zfs listing command>` with OpenSSH. The CLI
 *     knows the host (its capability cache is warm, as for any host listed before). Goal: <= 1.2x.
 *  1b. A small dataset of that host (`zfs-fleet ls HOST:DATASET --json`) vs the raw
 *     `ssh HOST <the same listing with -r DATASET>`. Goal: <= 1.2x.
 *  2. Parse 100,000 listing lines recorded from the same real host (goal: < 100 ms), beside the time
 *     `split('\n')` alone takes on the same text as the floor.
 * Needs the lab (`npm run lab -- up`); it gives off2's zfs-nvme/bench at least 10,000 snapshots.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { listAllCommand } from '../src/core/zfs/commands.js';
import { parseZfsGetTriples, parseZfsListTsv } from '../src/core/zfs/parse.js';
import { probeCapabilities } from '../src/core/zfs/capabilities.js';
import { createRunner } from '../src/transport/index.js';
import { silentLogger } from '../src/core/log.js';
import { alternate, median } from './proc.js';

// Bundled to dist/bench/run.js: the repository is two levels up.
const root = path.resolve(__dirname, '../..');
const lab = process.env.ZFS_FLEET_LAB ?? '/tmp/zfs-fleet-lab';
const HOST = process.env.BENCH_HOST ?? 'off2';
const SNAPSHOTS = Number(process.env.BENCH_SNAPSHOTS ?? 3_000);
const SMALL = 'zfs-nvme/bench-small';
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const sshConfig = path.join(lab, 'ssh_config');
const knownHosts = path.join(lab, 'known_hosts');

function time(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

async function main(): Promise<void> {
  if (!fs.existsSync(sshConfig)) throw new Error(`no lab at ${lab}: run npm run lab -- up`);
  execFileSync('bash', [path.join(root, 'test/lab/lab.sh'), 'many-snapshots', HOST, 'zfs-nvme/bench', String(SNAPSHOTS)], { stdio: 'inherit' });
  execFileSync('bash', [path.join(root, 'test/lab/lab.sh'), 'many-snapshots', HOST, SMALL, '4'], { stdio: 'inherit' });

  // The exact listing command the product runs on this host, so the peer does the same work on the host.
  const runner = createRunner(HOST, {
    logger: silentLogger,
    sshConfigPath: sshConfig,
    knownHostsFiles: [knownHosts],
    onUnknownHostKey: async () => 'cancel',
    getPassphrase: async () => undefined,
  });
  const caps = await probeCapabilities(runner, { zfsPath: 'zfs', zpoolPath: 'zpool', timeoutMs: 60_000 });
  const cmd = listAllCommand(caps, 'zfs');
  await runner.dispose();

  const cli = path.join(root, 'dist/cli.js');
  const quote = (argv: readonly string[]) => argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a}'`)).join(' ');
  const cacheHome = fs.mkdtempSync(path.join(os.tmpdir(), 'zf-bench-cache-'));
  const env = { ...process.env, XDG_CACHE_HOME: cacheHome };
  /** Ours and the peer, alternating so that neither always runs on a warm host cache; medians. */
  const compare = (what: string, oursArgs: string[], peerCommand: readonly string[]) => {
    const ours: number[] = [];
    const peer: number[] = [];
    let peerOut = '';
    let objects = 0;
    const runOurs = () => {
      const t = performance.now();
      const r = spawnSync(process.execPath, [cli, ...oursArgs, '--json', '--ssh-config', sshConfig, '--known-hosts', knownHosts], {
        encoding: 'utf8',
        maxBuffer: 1 << 30,
        env,
      });
      ours.push(performance.now() - t);
      if (r.status !== 0) throw new Error(`zfs-fleet failed: ${r.stderr}`);
      objects = (JSON.parse(r.stdout) as { objects: unknown[] }).objects.length;
    };
    const runPeer = () => {
      const t = performance.now();
      const r = spawnSync('ssh', ['-F', sshConfig, HOST, quote(peerCommand)], { encoding: 'utf8', maxBuffer: 1 << 30 });
      peer.push(performance.now() - t);
      if (r.status !== 0) throw new Error(`ssh ${HOST} failed: ${r.stderr}`);
      peerOut = r.stdout;
    };
    alternate(RUNS, runOurs, runPeer);
    const ratio = median(ours) / median(peer);
    console.log(
      `${what} (${objects} objects listed, ${peerOut.split('\n').length - 1} raw lines): zfs-fleet median ${median(ours).toFixed(0)} ms vs raw ssh ${median(peer).toFixed(0)} ms over ${RUNS} runs -> ratio ${ratio.toFixed(2)}x (lower is better; goal <= 1.2x)`,
    );
    return { ratio, peerOut };
  };
  // Once before timing: the host's probe goes to the capability cache, as for any host listed before.
  spawnSync(process.execPath, [cli, 'ls', HOST, '--ssh-config', sshConfig, '--known-hosts', knownHosts], { env });
  const whole = compare(`load ${HOST}`, ['ls', HOST, '--snapshots'], cmd.argv);
  const small = compare(`load ${HOST}:${SMALL}`, ['ls', `${HOST}:${SMALL}`, '--snapshots'], listAllCommand(caps, 'zfs', SMALL).argv);
  const ratio = Math.max(whole.ratio, small.ratio);
  const peerOut = whole.peerOut;
  fs.rmSync(cacheHome, { recursive: true, force: true });

  // Parse 100,000 lines of the real output, repeated as needed.
  const lines = peerOut.split('\n').filter((l) => l !== '');
  const need = 100_000;
  const big =
    Array.from({ length: Math.ceil(need / lines.length) }, () => lines.join('\n'))
      .join('\n')
      .split('\n')
      .slice(0, need)
      .join('\n') + '\n';
  const parse = (s: string) => (caps.listParsable ? parseZfsListTsv(s, cmd.argv[cmd.argv.indexOf('-o') + 1]!.split(',')) : parseZfsGetTriples(s));
  parse(big); // warm-up
  const parseMs = median(Array.from({ length: 7 }, () => time(() => parse(big))));
  const floorMs = median(Array.from({ length: 7 }, () => time(() => big.split('\n'))));
  console.log(
    `parse ${need} lines of ${caps.listParsable ? 'zfs list -H -p' : 'zfs get -H -p'} output: median ${parseMs.toFixed(1)} ms (goal < 100 ms); split('\\n') alone ${floorMs.toFixed(1)} ms -> ratio ${(parseMs / floorMs).toFixed(1)}x`,
  );
  const ok = ratio <= 1.2 && parseMs < 100;
  console.log(ok ? 'bench: goals met' : 'bench: goals NOT met');
}

main().catch((e) => {
  console.error(`bench: ${(e as Error).message}`);
  process.exit(1);
});
