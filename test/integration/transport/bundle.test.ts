/**
 * ssh2's native parts (cpu-features, sshcrypto.node) are optional: bundle the transport with esbuild
 * the way the extension is shipped, with both replaced by modules that throw on load, and run a
 * command over SSH with the bundle.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build, type Plugin } from 'esbuild';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { keygen, LOCAL_USER, tempDir, TestSshd } from './sshd.js';

const root = path.resolve(__dirname, '../../..');
let work: string;
let key: string;
let server: TestSshd;

beforeAll(async () => {
  work = tempDir('zf-bundle-');
  key = keygen(work, 'id_bundle');
  server = await TestSshd.start({ authorizedKeys: [key] });
});

afterAll(async () => {
  await server?.dispose();
  fs.rmSync(work, { recursive: true, force: true });
});

it('runs over SSH from an esbuild bundle without cpu-features and sshcrypto.node', async () => {
  const entry = path.join(work, 'entry.ts');
  fs.writeFileSync(
    entry,
    `
import { createRunner } from ${JSON.stringify(path.join(root, 'src/transport/index.ts'))};
const [cfg, kh] = process.argv.slice(2);
const logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };
(async () => {
  const r = createRunner('bundled', {
    logger, sshConfigPath: cfg, systemSshConfigPath: false, knownHostsFiles: [kh], env: {},
    onUnknownHostKey: async () => 'cancel', getPassphrase: async () => undefined,
  });
  const res = await r.run(['printf', '%s|', 'bundled', 'it works']);
  await r.dispose();
  const local = await createRunner('local', { logger, onUnknownHostKey: async () => 'cancel', getPassphrase: async () => undefined }).run(['echo', 'local-ok']);
  process.stdout.write(res.stdout + ' ' + local.stdout);
})().catch((e) => { console.error(e); process.exit(1); });
`,
  );
  const stubbed: string[] = [];
  const missingNative: Plugin = {
    name: 'missing-native',
    setup(b) {
      b.onResolve({ filter: /^cpu-features$|sshcrypto\.node$/ }, (args) => {
        stubbed.push(args.path);
        return { path: args.path, namespace: 'missing-native' };
      });
      b.onLoad({ filter: /.*/, namespace: 'missing-native' }, (args) => ({
        contents: `throw new Error(${JSON.stringify(`${args.path} is not bundled`)});`,
        loader: 'js',
      }));
    },
  };
  const outfile = path.join(work, 'bundle.cjs');
  await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile, plugins: [missingNative], logLevel: 'silent' });
  expect(stubbed.sort()).toEqual(['./crypto/build/Release/sshcrypto.node', 'cpu-features']);

  const cfg = path.join(work, 'ssh_config');
  fs.writeFileSync(cfg, `Host bundled\n  HostName 127.0.0.1\n  Port ${server.port}\n  User ${LOCAL_USER}\n  IdentityFile ${key}\n  IdentityAgent none\n`);
  const kh = path.join(work, 'known_hosts');
  fs.writeFileSync(kh, server.knownHostsLine() + '\n');
  // Run from a directory without node_modules so nothing outside the bundle can be loaded.
  const out = execFileSync(process.execPath, [outfile, cfg, kh], { cwd: work, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  expect(out).toBe('bundled|it works| local-ok\n');
});
