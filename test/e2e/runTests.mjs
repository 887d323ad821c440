#!/usr/bin/env node
// The extension's mocha suite through @vscode/test-electron's runTests(), the way an extension's
// tests run on a developer's desktop, here with a VS Code executable that is code-server in
// headless Chromium (test/e2e/lib/vscode-shim). The same call runs the same suite unchanged on a
// desktop with a real VS Code (VSCODE_EXECUTABLE=/path/to/code, or --desktop: test-electron
// downloads VS Code).
//
//   node test/e2e/runTests.mjs [--suite replication|sample] [--grep PATTERN] [--check-failure]
//        [--desktop] [--vscode-version stable|1.100.3|insiders] [--no-build] [--no-bundle]
//        [--no-lab-up] [--lab DIR] [--keep]
//
// --suite replication (default): test/e2e/replication/suite against the lab, prepared exactly as
//   test/e2e/replication/run.mjs prepares it (dev build of the extension, index.ts and every
//   *.test.ts bundled by esbuild with the same options, here into out/e2e/runTests/replication/suite; a workspace with a
//   .zfs-fleet.json; the same user settings and environment; the datasets under
//   zfs-hdd|rpool/e2e-repl-<hex> destroyed at the end).
// --suite sample: the payload route's sample extension and suite (test/e2e/sample-suite); with
//   --check-failure it also runs it with SAMPLE_SUITE_FAIL=1 and expects runTests to reject with
//   TestRunFailedError (a deliberately failing test must fail the run).
// Which VS Code: VSCODE_EXECUTABLE (a real VS Code binary) > --desktop (download, needs network,
//   and a display or `xvfb-run -a` on Linux) > the shim (default).
// Last line: `N passed, N failed` (mocha's counts; with --check-failure one count per check).
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runTests, TestRunFailedError } from '@vscode/test-electron';
import { DEFAULT_SETTINGS } from './lib/codeServer.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const SHIM = path.join(here, 'lib', 'vscode-shim');
const { values: opts } = parseArgs({
  allowNegative: true,
  options: {
    suite: { type: 'string', default: 'replication' },
    grep: { type: 'string' },
    'check-failure': { type: 'boolean', default: false },
    desktop: { type: 'boolean', default: false },
    'vscode-version': { type: 'string', default: 'stable' },
    build: { type: 'boolean', default: true },
    bundle: { type: 'boolean', default: true },
    'lab-up': { type: 'boolean', default: true },
    lab: { type: 'string', default: process.env.ZFS_FLEET_LAB || '/tmp/zfs-fleet-lab' },
    keep: { type: 'boolean', default: false },
  },
});
const LAB = path.resolve(opts.lab);
const t0 = Date.now();
const log = (m) => console.log(`[runTests ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${m}`);

function sh(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { cwd: repo, stdio: 'inherit', ...options });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}`);
}

function fail(msg) {
  console.log(`FAIL ${msg}\n0 passed, 1 failed`);
  process.exit(1);
}

/** Which VS Code runs the tests: { vscodeExecutablePath?, version?, what }. */
function vscodeRoute() {
  if (process.env.VSCODE_EXECUTABLE)
    return { vscodeExecutablePath: path.resolve(process.env.VSCODE_EXECUTABLE), what: `VS Code at ${process.env.VSCODE_EXECUTABLE}` };
  if (opts.desktop) return { version: opts['vscode-version'], what: `VS Code ${opts['vscode-version']} downloaded by @vscode/test-electron` };
  return { vscodeExecutablePath: SHIM, what: 'code-server + headless Chromium (test/e2e/lib/vscode-shim)' };
}

/**
 * mocha's spec summary ("  12 passing (1m)", "  1 failing") read from our own stdout, where
 * test-electron relays the VS Code process's output (the shim's, or a desktop VS Code's).
 */
function countMochaOutput() {
  const counts = { passing: undefined, failing: 0 };
  const write = process.stdout.write.bind(process.stdout);
  let tail = '';
  process.stdout.write = (chunk, ...rest) => {
    tail = (tail + chunk.toString()).slice(-4096);
    for (const line of tail.split('\n')) {
      const p = /^\s*(\d+) passing\b/.exec(line);
      if (p) counts.passing = Number(p[1]);
      const f = /^\s*(\d+) failing\b/.exec(line);
      if (f) counts.failing = Number(f[1]);
    }
    return write(chunk, ...rest);
  };
  return { counts, restore: () => (process.stdout.write = write) };
}

/** One runTests() call; resolves to { ok, code, error, counts }. */
async function runOnce({ extensionDevelopmentPath, extensionTestsPath, folder, env, settings }) {
  const route = vscodeRoute();
  // A private user-data-dir whose User/settings.json holds the run's settings: what a desktop VS
  // Code reads, and what the shim hands to code-server. A private extensions-dir, so nothing is
  // written under .vscode-test/ (test-electron's default) by the shim route.
  const profile = mkdtempSync(path.join(os.tmpdir(), 'zfs-fleet-runtests-'));
  mkdirSync(path.join(profile, 'user-data', 'User'), { recursive: true });
  writeFileSync(path.join(profile, 'user-data', 'User', 'settings.json'), JSON.stringify({ ...DEFAULT_SETTINGS, ...settings }, null, 2) + '\n');
  const launchArgs = [
    folder,
    '--disable-extensions',
    `--user-data-dir=${path.join(profile, 'user-data')}`,
    `--extensions-dir=${path.join(profile, 'extensions')}`,
  ];
  log(`runTests on ${route.what}`);
  const tap = countMochaOutput();
  try {
    const code = await runTests({
      ...(route.vscodeExecutablePath ? { vscodeExecutablePath: route.vscodeExecutablePath } : { version: route.version }),
      extensionDevelopmentPath,
      extensionTestsPath,
      extensionTestsEnv: env,
      launchArgs,
    });
    return { ok: true, code, counts: tap.counts };
  } catch (e) {
    return { ok: false, error: e, counts: tap.counts };
  } finally {
    tap.restore();
    if (!opts.keep) rmSync(profile, { recursive: true, force: true });
  }
}

function describeRejection(r) {
  return r.error instanceof TestRunFailedError ? `TestRunFailedError: ${r.error.message}` : `${r.error?.name ?? 'Error'}: ${r.error?.message ?? r.error}`;
}

async function sampleSuite() {
  const dir = path.join(here, 'sample-suite');
  const workspace = path.join(dir, 'suite');
  const checks = [{ name: 'the sample suite passes: runTests resolves with 0', env: {}, expectPass: true }];
  if (opts['check-failure'])
    checks.push({
      name: 'a deliberately failing test (SAMPLE_SUITE_FAIL=1): runTests rejects with TestRunFailedError',
      env: { SAMPLE_SUITE_FAIL: '1' },
      expectPass: false,
    });
  let passed = 0;
  let failed = 0;
  for (const check of checks) {
    log(check.name);
    const t = Date.now();
    const r = await runOnce({
      extensionDevelopmentPath: dir,
      extensionTestsPath: path.join(workspace, 'index.js'),
      folder: workspace,
      env: { SAMPLE_SUITE_MARKER: 'set-by-runner', SAMPLE_SUITE_WORKSPACE: workspace, ...check.env },
      settings: {},
    });
    const secs = ((Date.now() - t) / 1000).toFixed(1);
    const got = r.ok ? `resolved with ${r.code}` : `rejected: ${describeRejection(r)}`;
    const good = check.expectPass ? r.ok && r.code === 0 : !r.ok && r.error instanceof TestRunFailedError && r.counts.failing > 0;
    if (good) passed++;
    else failed++;
    console.log(`${good ? 'ok  ' : 'FAIL'} ${check.name}: ${got}; mocha ${r.counts.passing ?? '?'} passing, ${r.counts.failing} failing (${secs} s)`);
  }
  return { passed, failed };
}

async function replicationSuite() {
  const suiteDir = path.join(here, 'replication', 'suite');
  if (opts['check-failure']) fail('--check-failure needs a suite with a failure switch (--suite sample); the replication suite has none');
  if (opts['lab-up'] && existsSync(path.join(repo, 'test', 'lab', 'lab.sh'))) {
    log('bash test/lab/lab.sh up');
    try {
      sh('bash', [path.join(repo, 'test', 'lab', 'lab.sh'), 'up'], { env: { ...process.env, ZFS_FLEET_LAB: LAB } });
    } catch (e) {
      fail(`the lab did not come up: ${e.message}`);
    }
  }
  if (!existsSync(path.join(LAB, 'lab.json'))) fail(`the lab is not up (no ${LAB}/lab.json): run \`bash test/lab/lab.sh up\``);
  if (opts.build) {
    log('npm run build');
    sh('npm', ['run', 'build', '--silent']);
  }
  // Bundled as test/e2e/replication/run.mjs bundles it, into a directory of our own (two runners
  // at once must not rewrite each other's files).
  const out = path.join(repo, 'out', 'e2e', 'runTests', 'replication', 'suite');
  if (opts.bundle) {
    log(`bundling the suite into ${path.relative(repo, out)}`);
    const esbuild = await import('esbuild');
    await esbuild.build({
      // index.ts and every *.test.ts beside it (index.ts names the files mocha loads).
      entryPoints: [
        path.join(suiteDir, 'index.ts'),
        ...readdirSync(suiteDir)
          .filter((f) => f.endsWith('.test.ts'))
          .map((f) => path.join(suiteDir, f)),
      ],
      outdir: out,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      sourcemap: 'inline',
      external: ['vscode', 'mocha'],
      logLevel: 'warning',
    });
  } else if (!existsSync(path.join(out, 'index.js'))) {
    fail(`--no-bundle but no ${path.relative(repo, out)}/index.js`);
  }

  // The same workspace, settings and environment as run.mjs.
  const root = `e2e-repl-${randomBytes(3).toString('hex')}`;
  const src = `zfs-hdd/${root}/src data`;
  const dst = `rpool/${root}/dst`;
  const workspace = mkdtempSync(path.join(os.tmpdir(), 'zfs-fleet-repl-ws-'));
  writeFileSync(
    path.join(workspace, '.zfs-fleet.json'),
    JSON.stringify(
      {
        pairs: [
          { source: `off1:${src}`, target: `ovh3:${dst}`, label: 'file version' },
          { source: `off1:${src}`, target: `ovh3:rpool/${root}/fromfile`, label: 'from file' },
          { source: 'off1', target: `ovh3:rpool/${root}/x` },
        ],
        // A host only the fleet file names (the Hosts view shows it), and a group of two replicas.
        hosts: { off2: { labels: ['e2e'] } },
        groups: [{ name: 'e2e-fanout', primary: `off1:${src}`, replicas: [`ovh3:rpool/${root}/g1`, `off2:zfs-nvme/${root}/g2`] }],
      },
      null,
      2,
    ),
  );
  const cleanupLab = () => {
    for (const [host, dataset] of [
      ['ovh3', `rpool/${root}`],
      ['off1', `zfs-hdd/${root}`],
    ]) {
      try {
        execFileSync(
          'ssh',
          ['-F', path.join(LAB, 'ssh_config'), host, `zfs list -H -o name '${dataset}' >/dev/null 2>&1 && zfs destroy -r -R '${dataset}' || true`],
          { stdio: 'ignore' },
        );
      } catch {
        // best effort; the suite's own teardown retries while zfs-fuse says busy
      }
    }
  };
  log(`root ${root}; workspace ${workspace}`);
  try {
    const r = await runOnce({
      extensionDevelopmentPath: repo,
      extensionTestsPath: path.join(out, 'index.js'),
      folder: workspace,
      env: { ZFS_FLEET_TEST: '1', ZFS_FLEET_LAB: LAB, ZFS_FLEET_E2E_ROOT: root, ...(opts.grep ? { ZFS_FLEET_E2E_GREP: opts.grep } : {}) },
      settings: {
        'zfsFleet.hosts': ['off1', 'ovh3'],
        'zfsFleet.sshConfigPath': path.join(LAB, 'ssh_config'),
        'zfsFleet.knownHostsPath': path.join(LAB, 'known_hosts'),
        'zfsFleet.pairs': [
          { source: `off1:${src}`, target: `ovh3:${dst}`, label: 'e2e sync' },
          { source: `off1:zfs-hdd/${root}/a`, target: `ovh3:rpool/${root}/b`, route: 'sideways' },
        ],
      },
    });
    if (r.ok) log(`runTests resolved with ${r.code}`);
    else log(`runTests rejected: ${describeRejection(r)}`);
    const passed = r.counts.passing ?? 0;
    let failed = r.counts.failing;
    if (!r.ok && failed === 0) failed = 1; // the run failed without mocha's summary (harness, crash)
    if (r.ok && r.counts.passing === undefined) {
      console.log('FAIL runTests resolved but no mocha summary was seen');
      failed++;
    }
    return { passed, failed };
  } finally {
    cleanupLab();
    if (!opts.keep) rmSync(workspace, { recursive: true, force: true });
  }
}

let result;
if (opts.suite === 'replication') result = await replicationSuite();
else if (opts.suite === 'sample') result = await sampleSuite();
else fail(`unknown --suite ${opts.suite} (replication, sample)`);
log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
console.log(`${result.passed} passed, ${result.failed} failed`);
process.exit(result.failed ? 1 : 0);
