/**
 * The `zfs-fleet` command (dist/cli.js): loads the CLI's bundle (dist/cli-main.js) with V8's code
 * cache, then runs it. Compiling the bundle's megabyte of JavaScript was the largest part of what a
 * short command costs before it connects (`zfs-fleet ls HOST:DATASET`, bench/run.ts); Node 20 has
 * no compile cache of its own for this (`module.enableCompileCache` is Node 22's).
 *
 * The code V8 compiled during a run is kept in `$XDG_CACHE_HOME/zfs-fleet/v8/` (else
 * `~/.cache/...`), a file per verb (the functions `ls` compiles are not those of `sync`), named by a
 * hash of the bundle's text, Node's version and architecture, and V8's tier, so a new bundle or
 * Node never reads an old cache; files of other hashes are removed when a new one is written. A
 * file is written (to a temporary name, then renamed: parallel runs never read half a file) after a
 * run that had none or whose cache V8 rejected. Anything wrong with the cache (unreadable,
 * unwritable, rejected) only costs the compile: the command runs the same.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import Module from 'node:module';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { cacheDir } from './capabilityCache.js';
import { keepsOptimizingTier, verbOf } from './verb.js';

const BUNDLE = path.join(__dirname, 'cli-main.js');

function launch(argv: string[]): void {
  const verb = verbOf(argv);
  const optimizing = keepsOptimizingTier(verb);
  if (!optimizing) v8.setFlagsFromString('--liftoff-only');
  const source = fs.readFileSync(BUNDLE, 'utf8');
  const key = crypto
    .createHash('sha256')
    .update(`${process.version} ${process.arch} ${optimizing ? 'turbofan' : 'liftoff'}\0`)
    .update(source)
    .digest('hex')
    .slice(0, 20);
  const dir = path.join(cacheDir(process.env), 'v8');
  const file = path.join(dir, `${key}-${verb && /^[a-z]{1,20}$/.test(verb) ? verb : 'other'}.bin`);
  let cached: Buffer | undefined;
  try {
    cached = fs.readFileSync(file);
  } catch {
    cached = undefined;
  }
  const script = new vm.Script(Module.wrap(source), { filename: BUNDLE, ...(cached ? { cachedData: cached } : {}) });
  if (!cached || script.cachedDataRejected) process.once('exit', () => writeCache(script, dir, file, key));
  const bundle = new Module(BUNDLE, module);
  bundle.filename = BUNDLE;
  const wrapper = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: Module, filename: string, dirname: string) => void;
  wrapper.call(bundle.exports, bundle.exports, Module.createRequire(BUNDLE), bundle, BUNDLE, __dirname);
  (bundle.exports as { run(argv: string[]): void }).run(argv);
}

/** The code V8 holds for the bundle now (what this run compiled), for the next run of the same verb. */
function writeCache(script: vm.Script, dir: string, file: string, key: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
    fs.renameSync(tmp, file);
    for (const f of fs.readdirSync(dir)) if (!f.startsWith(key) && /^[0-9a-f]{20}-[a-z]+\.bin$/.test(f)) fs.rmSync(path.join(dir, f), { force: true });
  } catch {
    // A cache that cannot be written is only a compile the next run pays again.
  }
}

launch(process.argv.slice(2));
