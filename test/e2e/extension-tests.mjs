#!/usr/bin/env node
// Run an extension's integration tests (the @vscode/test-electron format: a module exporting
// run(), usually mocha) inside code-server's Node extension host, without downloading VS Code.
//
//   node test/e2e/extension-tests.mjs --tests out/test/suite/index.js [--extension .]
//        [--folder DIR] [--env KEY=VALUE ...] [--vsix other.vsix ...] [--setting 'k=JSON' ...]
//        [--timeout SECONDS]
//
// Exit code: 0 when run() resolved, 1 when it rejected or the harness failed.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runExtensionTests } from './lib/codeServer.mjs';

const { values } = parseArgs({
  options: {
    extension: { type: 'string', default: '.' },
    tests: { type: 'string' },
    folder: { type: 'string' },
    env: { type: 'string', multiple: true, default: [] },
    vsix: { type: 'string', multiple: true, default: [] },
    setting: { type: 'string', multiple: true, default: [] },
    timeout: { type: 'string', default: '300' },
  },
});
if (!values.tests) {
  console.error('usage: node test/e2e/extension-tests.mjs --tests PATH/TO/suite/index.js [--extension DIR] [--folder DIR] [--env K=V]');
  process.exit(2);
}
const pairs = (list, what) =>
  Object.fromEntries(
    list.map((kv) => {
      const i = kv.indexOf('=');
      if (i < 1) throw new Error(`--${what} wants KEY=VALUE, got ${kv}`);
      return [kv.slice(0, i), kv.slice(i + 1)];
    }),
  );
const settings = Object.fromEntries(Object.entries(pairs(values.setting, 'setting')).map(([k, v]) => [k, JSON.parse(v)]));

const t0 = Date.now();
try {
  const { code, timings } = await runExtensionTests({
    extensionDevelopmentPath: path.resolve(values.extension),
    extensionTestsPath: path.resolve(values.tests),
    folder: values.folder && path.resolve(values.folder),
    env: pairs(values.env, 'env'),
    vsixes: values.vsix,
    settings,
    timeout: Number(values.timeout) * 1000,
  });
  console.log(
    `extension tests ${code === 0 ? 'passed' : 'FAILED'} (exit ${code}; server start ${timings.serverStartMs} ms, run ${timings.runMs} ms, total ${((Date.now() - t0) / 1000).toFixed(1)} s)`,
  );
  process.exit(code === 0 ? 0 : 1);
} catch (e) {
  console.error(`extension tests could not run: ${e.message}`);
  process.exit(1);
}
