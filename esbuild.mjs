// One bundle for the extension (cjs/node, `vscode` external) and one for the CLI.
// ssh2's optional native parts (cpu-features, sshcrypto.node) are left out: ssh2 loads them inside
// try/catch and falls back to its pure-JS crypto, so the bundle runs without a compiler on the host.
import * as esbuild from 'esbuild';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  external: ['vscode', 'cpu-features', '*.node'],
  logLevel: 'info',
};

const builds = [
  { ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js' },
  { ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
];
if (process.argv.includes('--bench')) builds.push({ ...common, entryPoints: ['bench/run.ts'], outfile: 'dist/bench/run.js' });

if (watch) {
  for (const b of builds) (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
