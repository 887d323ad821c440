// The body of ./vscode-shim: a stand-in for a VS Code executable, given to @vscode/test-electron's
// runTests({ vscodeExecutablePath }) on machines where VS Code desktop cannot be downloaded.
// A fake only in the sense that it is not the Electron app: the tests run in VS Code's own
// workbench and Node extension host (code-server 4.100.3 = VS Code 1.100.3) in headless Chromium,
// through the payload route of ./codeServer.mjs (runExtensionTests). See test/e2e/README.md.
//
// What test-electron passes, and what the shim does with it:
//   --extensionDevelopmentPath=DIR   the extension under development (exactly one: the web
//                                    workbench's payload holds one)
//   --extensionTestsPath=FILE        the module exporting run() (mocha), run in the extension host
//   --user-data-dir=DIR              its User/settings.json (JSON with comments) is the run's user
//                                    settings, over quiet defaults (DEFAULT_SETTINGS); the run itself
//                                    uses a fresh private profile (code-server writes its state
//                                    there), removed afterwards
//   --extensions-dir=DIR             extensions installed there are loaded, as on the desktop
//   --disable-extensions             none of them is: a fresh empty extensions dir is used
//   FOLDER | FILE.code-workspace     opened in the window (default: an empty folder)
//   extensionTestsEnv                arrives as this process's environment; code-server's extension
//                                    host inherits it (VS Code 1.100's web workbench ignores the
//                                    payload's extensionEnvironment)
//   --no-sandbox --disable-gpu-sandbox --disable-updates --skip-welcome --skip-release-notes
//   --disable-workspace-trust and other desktop-only switches: accepted, nothing to do
//   anything else: a warning on stderr, then ignored
// Also, for test-electron's CLI helpers: --version, and --install-extension / --uninstall-extension /
// --list-extensions [--show-versions] [--force] run code-server's own CLI on --extensions-dir.
//
// Output: the extension host's console (mocha's reporter) on stdout (console.error/warn on stderr),
// the shim's own lines on stderr as `[vscode-shim] ...`. Exit code: 0 when run() resolved, 1 when it
// rejected (as VS Code's), 2 when the harness could not run the tests (the reason on stderr).
//
// Environment (the shim's own settings): ZFS_FLEET_SHIM_TIMEOUT (seconds for the whole run,
// default 1800), ZFS_FLEET_SHIM_KEEP=1 (keep the private profile), ZFS_FLEET_SHIM_VERBOSE=1 (do not
// hide the offline noise), plus codeServer.mjs's CODE_SERVER_BIN, CHROMIUM_PATH, ZFS_FLEET_CACHE.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CODE_SERVER_VERSION, checkPrerequisites, codeServerBin, runExtensionTests } from './codeServer.mjs';

/** The web workbench's own performance notes, which a desktop VS Code does not print to stdout. */
const WORKBENCH_CHATTER = [/^Creation of workbench contribution '.*' took \d+ms\.$/];

const say = (m) => process.stderr.write(`[vscode-shim] ${m}\n`);

/** Options that take a value (`--k=v` or `--k v`). */
const VALUE_OPTIONS = new Set([
  'extensionDevelopmentPath',
  'extensionTestsPath',
  'user-data-dir',
  'extensions-dir',
  'install-extension',
  'uninstall-extension',
  'disable-extension',
  'locale',
  'log',
  'inspect-extensions',
  'inspect-brk-extensions',
  'extensionDevelopmentKind',
  'profile',
  'crash-reporter-directory',
  'sync',
]);
/** Desktop switches with nothing to do in code-server (or already what the shim does). */
const ACCEPTED_SWITCHES = new Set([
  'no-sandbox',
  'disable-gpu-sandbox',
  'disable-gpu',
  'disable-updates',
  'skip-welcome',
  'skip-release-notes',
  'disable-workspace-trust',
  'disable-telemetry',
  'disable-crash-reporter',
  'disable-chromium-sandbox',
  'disable-dev-shm-usage',
  'disable-keytar',
  'use-inmemory-secretstorage',
  'no-cached-data',
  'new-window',
  'reuse-window',
  'wait',
  'verbose',
  'force',
  'show-versions',
  'disable-extensions',
  'list-extensions',
  'version',
  'help',
]);
const SHORT = { n: 'new-window', r: 'reuse-window', w: 'wait', v: 'version', h: 'help' };

/** Parse a VS Code command line: { options: Map<name, string[] | true>, positionals, unknown }. */
export function parseVscodeArgs(argv) {
  const options = new Map();
  const positionals = [];
  const unknown = [];
  const add = (k, v) => {
    if (v === true) options.set(k, true);
    else options.set(k, [...(Array.isArray(options.get(k)) ? options.get(k) : []), v]);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (/^-[a-z]$/.test(a) && SHORT[a[1]]) {
      add(SHORT[a[1]], true);
      continue;
    }
    if (!a.startsWith('--')) {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
    if (VALUE_OPTIONS.has(name)) {
      if (eq >= 0) add(name, a.slice(eq + 1));
      else if (i + 1 < argv.length) add(name, argv[++i]);
      else unknown.push(a);
    } else if (ACCEPTED_SWITCHES.has(name)) {
      add(name, eq < 0 ? true : a.slice(eq + 1));
    } else {
      unknown.push(a);
    }
  }
  return { options, positionals, unknown };
}

/** JSON with comments and trailing commas (VS Code's settings.json) -> value. */
export function parseJsonc(text) {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 1;
    } else if (c === '}' || c === ']') {
      // a trailing comma before it (outside strings) goes
      const m = /,(\s*)$/.exec(out);
      if (m) out = out.slice(0, m.index) + m[1];
      out += c;
    } else {
      out += c;
    }
  }
  return out.trim() ? JSON.parse(out) : {};
}

const one = (options, name) => {
  const v = options.get(name);
  return Array.isArray(v) ? v[v.length - 1] : undefined;
};

/** code-server's own CLI for the extension-management commands test-electron's helpers use. */
async function extensionCli(options) {
  const conf = await mkdtemp(path.join(os.tmpdir(), 'zfs-fleet-shim-cli-'));
  try {
    await writeFile(path.join(conf, 'config.yaml'), 'auth: none\ncert: false\n');
    const args = ['--config', path.join(conf, 'config.yaml')];
    for (const name of ['install-extension', 'uninstall-extension']) for (const v of options.get(name) ?? []) args.push(`--${name}`, v);
    for (const name of ['list-extensions', 'show-versions', 'force']) if (options.has(name)) args.push(`--${name}`);
    for (const name of ['extensions-dir', 'user-data-dir']) if (one(options, name)) args.push(`--${name}`, path.resolve(one(options, name)));
    const env = { ...process.env, XDG_DATA_HOME: path.join(conf, 'data'), XDG_CONFIG_HOME: path.join(conf, 'config') };
    try {
      const r = await promisify(execFile)(codeServerBin(), args, { env, maxBuffer: 16 << 20 });
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      return 0;
    } catch (e) {
      process.stdout.write(e.stdout ?? '');
      process.stderr.write(e.stderr ?? `${e.message}\n`);
      return typeof e.code === 'number' ? e.code : 1;
    }
  } finally {
    await rm(conf, { recursive: true, force: true });
  }
}

export async function main(argv) {
  const { options, positionals, unknown } = parseVscodeArgs(argv);
  for (const u of unknown) say(`warning: ${u} is not supported by the shim; ignored`);
  for (const name of ['disable-extension', 'locale', 'inspect-extensions', 'inspect-brk-extensions', 'profile', 'log', 'sync']) {
    if (options.has(name)) say(`warning: --${name} is not supported by the shim; ignored`);
  }

  if (options.has('version')) {
    // Like `code --version`: version, commit, architecture.
    process.stdout.write(`${CODE_SERVER_VERSION.replace(/^4\./, '1.')} (code-server ${CODE_SERVER_VERSION})\nvscode-shim\n${process.arch}\n`);
    return 0;
  }
  if (options.has('help')) {
    process.stdout.write(
      readFileSync(new URL(import.meta.url), 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('//'))
        .map((l) => l.slice(3))
        .join('\n') + '\n',
    );
    return 0;
  }
  if (options.has('install-extension') || options.has('uninstall-extension') || options.has('list-extensions')) {
    checkPrerequisites();
    return extensionCli(options);
  }

  const devPaths = options.get('extensionDevelopmentPath') ?? [];
  const testsPath = one(options, 'extensionTestsPath');
  if (!testsPath) {
    say('no --extensionTestsPath: the shim only runs extension tests (the way @vscode/test-electron calls it)');
    return 2;
  }
  if (devPaths.length !== 1) {
    say(`${devPaths.length} --extensionDevelopmentPath given; the web workbench's payload takes exactly one`);
    return 2;
  }
  if (positionals.length > 1) {
    say(`more than one folder/file to open (${positionals.join(', ')}); the shim opens one folder or .code-workspace file`);
    return 2;
  }
  let folder;
  let workspace;
  if (positionals.length === 1) {
    const p = path.resolve(positionals[0]);
    if (!existsSync(p)) {
      say(`${p} does not exist`);
      return 2;
    }
    if (statSync(p).isDirectory()) folder = p;
    else if (p.endsWith('.code-workspace')) workspace = p;
    else {
      say(`${p} is a file; the shim opens one folder or .code-workspace file`);
      return 2;
    }
  }

  let settings = {};
  const userDataDir = one(options, 'user-data-dir');
  if (userDataDir) {
    const file = path.join(path.resolve(userDataDir), 'User', 'settings.json');
    if (existsSync(file)) {
      try {
        settings = parseJsonc(readFileSync(file, 'utf8'));
      } catch (e) {
        say(`cannot read ${file}: ${e.message}`);
        return 2;
      }
      say(`user settings from ${file} (${Object.keys(settings).length} keys)`);
    }
  }
  const extensionsDir = options.has('disable-extensions') ? undefined : one(options, 'extensions-dir');

  const abort = new AbortController();
  const stop = (sig) => {
    say(`${sig}: stopping code-server and Chromium`);
    abort.abort(sig);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  const timeout = Number(process.env.ZFS_FLEET_SHIM_TIMEOUT || 1800) * 1000;
  const verbose = process.env.ZFS_FLEET_SHIM_VERBOSE === '1';
  const t0 = Date.now();
  try {
    checkPrerequisites();
    const { code, timings } = await runExtensionTests({
      extensionDevelopmentPath: path.resolve(devPaths[0]),
      extensionTestsPath: path.resolve(testsPath),
      folder,
      workspace,
      extensionsDir,
      settings,
      timeout,
      signal: abort.signal,
      keepProfile: process.env.ZFS_FLEET_SHIM_KEEP === '1',
      quiet: !verbose,
      onLog: (text, type) => {
        if (!verbose && WORKBENCH_CHATTER.some((re) => re.test(text))) return;
        (type === 'error' || type === 'warn' ? process.stderr : process.stdout).write(`${text}\n`);
      },
    });
    say(
      `run() ${code === 0 ? 'resolved' : 'rejected'}: exit ${code} (code-server ${CODE_SERVER_VERSION} start ${timings.serverStartMs} ms, tests ${timings.runMs} ms, total ${((Date.now() - t0) / 1000).toFixed(1)} s)`,
    );
    return code === 0 ? 0 : typeof code === 'number' ? code : 1;
  } catch (e) {
    say(`the tests could not run: ${e.message}`);
    return 2;
  }
}
