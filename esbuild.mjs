// One bundle for the extension (cjs/node, `vscode` external) and one for the CLI; the timeline
// webview (browser, iife; d3 and @vscode-elements only here) with its CSS and the codicon font.
// The fleet store's SQLite is WebAssembly (node-sqlite3-wasm), copied next to the bundles.
// ssh2's optional native parts (cpu-features, sshcrypto.node) are left out: ssh2 loads them inside
// try/catch and falls back to its pure-JS crypto, so the bundle runs without a compiler on the host.
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  // pg-native: pg's optional native client, required only when asked for (we never do).
  external: ['vscode', 'cpu-features', '*.node', 'pg-native'],
  // jsonc-parser's ES module build: its default (UMD) build requires its parts at run time, which a bundle cannot follow.
  alias: { 'jsonc-parser': './node_modules/jsonc-parser/lib/esm/main.js' },
  logLevel: 'info',
};

// The fleet store's database code (Kysely, pg, SQLite's WebAssembly glue) is a bundle of its own,
// dist/fleet-store.js, which the extension and the CLI load on first use (`await import()` of
// src/store/store.ts): a CLI run that records nothing does not read and compile it.
const storeApart = {
  name: 'store-apart',
  setup(build) {
    build.onResolve({ filter: /store\.js$/ }, (args) => {
      if (args.kind !== 'dynamic-import' || path.resolve(args.resolveDir, args.path) !== path.resolve('src/store/store.js')) return undefined;
      return { path: './fleet-store.js', external: true };
    });
  },
};

const builds = [
  { ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', plugins: [storeApart] },
  // The CLI: dist/cli.js is the launcher (src/cli/launcher.ts), which loads dist/cli-main.js through V8's code cache.
  { ...common, entryPoints: ['src/cli/launcher.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
  // Its import() of the store's bundle becomes a require(): the launcher runs it as a vm.Script, whose
  // import() would need Node's experimental vm loader (and print its warning).
  { ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli-main.js', plugins: [storeApart], supported: { 'dynamic-import': false } },
  { ...common, entryPoints: ['src/store/store.ts'], outfile: 'dist/fleet-store.js' },
];
// The webview: loaded by the panel under a CSP with a script nonce (no eval, no inline styles).
const webview = {
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'info',
  legalComments: 'none',
};
builds.push(
  { ...webview, entryPoints: ['webview-ui/timeline/main.ts'], outfile: 'dist/webview/timeline.js' },
  { ...webview, entryPoints: ['webview-ui/timeline/timeline.css'], outfile: 'dist/webview/timeline.css' },
);
fs.mkdirSync('dist/webview', { recursive: true });
// The fleet store's SQLite (node-sqlite3-wasm) loads its .wasm from the bundle's directory.
fs.copyFileSync('node_modules/node-sqlite3-wasm/dist/node-sqlite3-wasm.wasm', 'dist/node-sqlite3-wasm.wasm');
for (const f of ['codicon.css', 'codicon.ttf']) fs.copyFileSync(`node_modules/@vscode/codicons/dist/${f}`, `dist/webview/${f}`);
if (process.argv.includes('--bench')) {
  builds.push({ ...common, entryPoints: ['bench/run.ts'], outfile: 'dist/bench/run.js' });
  // bench/fromStore.ts writes its store through src/store, bundled in: the .wasm goes next to it too.
  builds.push({ ...common, entryPoints: ['bench/fromStore.ts'], outfile: 'dist/bench/fromStore.js' });
  builds.push({ ...common, entryPoints: ['bench/storeWrite.ts'], outfile: 'dist/bench/storeWrite.js' });
  builds.push({ ...common, entryPoints: ['bench/queueClaim.ts'], outfile: 'dist/bench/queueClaim.js' });
  builds.push({ ...common, entryPoints: ['bench/sendFileCost.ts'], outfile: 'dist/bench/sendFileCost.js' });
  builds.push({ ...common, entryPoints: ['bench/migration.ts'], outfile: 'dist/bench/migration.js' });
  builds.push({ ...common, entryPoints: ['bench/queueOverhead.ts'], outfile: 'dist/bench/queueOverhead.js' });
  builds.push({ ...common, entryPoints: ['bench/agentSweep.ts'], outfile: 'dist/bench/agentSweep.js' });
  fs.mkdirSync('dist/bench', { recursive: true });
  fs.copyFileSync('node_modules/node-sqlite3-wasm/dist/node-sqlite3-wasm.wasm', 'dist/bench/node-sqlite3-wasm.wasm');
}

if (watch) {
  for (const b of builds) (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
