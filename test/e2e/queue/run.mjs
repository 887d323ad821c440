#!/usr/bin/env node
// The Queue view's suite (test/e2e/queue/suite) in code-server + headless Chromium, on a fleet store
// of its own (a temp SQLite file as the user setting `zfsFleet.store`); no lab, no host contacted.
//
//   node test/e2e/queue/run.mjs [--keep]
//
// The extension is built into a staging directory (a copy of the sources, node_modules linked), not
// into the checkout's dist/: another run or session using dist/ is not disturbed. Last line:
// `N passed, N failed`.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runExtensionTests } from '../lib/codeServer.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..', '..');
const { values: opts } = parseArgs({ options: { keep: { type: 'boolean', default: false } } });
const t0 = Date.now();
const log = (m) => console.log(`[queue e2e ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${m}`);

const tmp = mkdtempSync(path.join(os.tmpdir(), 'zfs-fleet-queue-e2e-'));
const ext = path.join(tmp, 'extension');
log(`building the extension in ${ext}`);
mkdirSync(ext);
for (const f of ['package.json', 'esbuild.mjs', 'tsconfig.json', 'src', 'webview-ui', 'media'])
  cpSync(path.join(repo, f), path.join(ext, f), { recursive: true });
symlinkSync(path.join(repo, 'node_modules'), path.join(ext, 'node_modules'));
const build = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ext, stdio: 'inherit' });
if (build.status !== 0) {
  console.log('FAIL the extension did not build\n0 passed, 1 failed');
  process.exit(1);
}

// Under the checkout's out/ (as the other suites): `mocha`, left external, is found in its node_modules.
const out = path.join(repo, 'out', 'e2e', 'queue', 'suite');
const esbuild = await import('esbuild');
await esbuild.build({
  entryPoints: [path.join(here, 'suite', 'index.ts'), path.join(here, 'suite', 'queue.test.ts')],
  outdir: out,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'inline',
  external: ['vscode', 'mocha'],
  logLevel: 'warning',
});

const workspace = path.join(tmp, 'workspace');
mkdirSync(workspace);
const store = path.join(tmp, 'store', 'fleet.db');
let passed = 0;
let failed = 0;
try {
  const { code, logs, timings } = await runExtensionTests({
    extensionDevelopmentPath: ext,
    extensionTestsPath: path.join(out, 'index.js'),
    folder: workspace,
    env: { ZFS_FLEET_TEST: '1', ZFS_FLEET_E2E_STORE: store },
    settings: { 'zfsFleet.store': store },
    timeout: 10 * 60_000,
    keepProfile: opts.keep,
    onLog: (line) => process.stdout.write(`   | ${line.replace(/\n/g, '\n   | ')}\n`),
  });
  const result = logs
    .map((l) => /RESULT passed=(\d+) failed=(\d+)/.exec(l.text))
    .filter(Boolean)
    .pop();
  passed = result ? Number(result[1]) : 0;
  failed = result ? Number(result[2]) : code === 0 ? 0 : 1;
  log(`extension tests exit ${code}; server start ${timings.serverStartMs} ms, run ${timings.runMs} ms`);
  if (code !== 0 && failed === 0) failed = 1;
} catch (e) {
  console.log(`FAIL the suite could not run: ${e.message}`);
  failed++;
} finally {
  if (!opts.keep) rmSync(tmp, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
