#!/usr/bin/env node
// Self-check of the payload route (test/e2e/lib/codeServer.mjs runExtensionTests): runs the
// sample mocha suite inside code-server's extension host and expects it to pass; with
// --check-failure also runs it with a deliberate failing test and expects the failure to be
// reported (exit code 1). Prints `N passed, N failed` (one count per check).
//
//   node test/e2e/sample-suite/run.mjs [--check-failure]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runExtensionTests } from '../lib/codeServer.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const checkFailure = process.argv.includes('--check-failure');

const checks = [{ name: 'passing suite reported as passed', env: {}, expect: 0 }];
if (checkFailure) checks.push({ name: 'failing suite reported as failed', env: { SAMPLE_SUITE_FAIL: '1' }, expect: 1 });

let passed = 0;
let failed = 0;
for (const check of checks) {
  const started = Date.now();
  console.log(`\n== ${check.name}`);
  try {
    const workspace = path.join(here, 'suite');
    const { code, timings } = await runExtensionTests({
      extensionDevelopmentPath: here,
      extensionTestsPath: path.join(here, 'suite', 'index.js'),
      folder: workspace,
      env: { SAMPLE_SUITE_MARKER: 'set-by-runner', SAMPLE_SUITE_WORKSPACE: workspace, ...check.env },
      timeout: 180_000,
      onLog: (line) => process.stdout.write(`   | ${line.replace(/\n/g, '\n   | ')}\n`),
    });
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    if (code === check.expect) {
      passed++;
      console.log(`ok   ${check.name}: run() exit code ${code} (server start ${timings.serverStartMs} ms, tests ${timings.runMs} ms, total ${secs} s)`);
    } else {
      failed++;
      console.log(`FAIL ${check.name}: expected exit code ${check.expect}, got ${code} (${secs} s)`);
    }
  } catch (e) {
    failed++;
    console.log(`FAIL ${check.name}: ${e.message}`);
  }
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
