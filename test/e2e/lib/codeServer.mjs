// Helpers to run the extension inside a real VS Code: code-server (VS Code 1.100's workbench and
// Node extension host) driven by Debian's Chromium through playwright-core.
// Plain ESM, no build step. See test/e2e/README.md and shared/LAB.md section 3.
/* global AbortSignal */
//
//   const profile = await makeProfile({ settings: { 'zfsFleet.hosts': ['off1'] } });
//   await installVsix(profile, 'dist/zfs-fleet.vsix');
//   const server = await startCodeServer(profile);
//   const browser = await launchBrowser(profile);
//   const page = await browser.newPage(); await page.goto(server.url);
//   ...
//   await closeBrowser(browser); await server.stop(); await profile.cleanup();

import { spawn, execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, URLSearchParams } from 'node:url';
import { format, promisify } from 'node:util';

const execFileP = promisify(execFile);

export const CODE_SERVER_VERSION = '4.100.3';
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** The code-server installed by scripts/install-code-server.sh (or $CODE_SERVER_BIN). */
export function codeServerBin() {
  if (process.env.CODE_SERVER_BIN) return process.env.CODE_SERVER_BIN;
  const cache = process.env.ZFS_FLEET_CACHE || '/var/cache/zfs-fleet';
  return path.join(cache, `code-server-${CODE_SERVER_VERSION}`, 'bin', 'code-server');
}

/** Throw a clear message when code-server or Chromium is missing. */
export function checkPrerequisites() {
  const bin = codeServerBin();
  if (!existsSync(bin)) {
    throw new Error(`code-server not found at ${bin}: run \`bash scripts/install-code-server.sh\` first`);
  }
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: run \`bash scripts/install-code-server.sh\` (it installs Debian's chromium)`);
  }
}

// ---------------------------------------------------------------------------------------------
// Small utilities

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Poll `fn` until it returns a truthy value (returned) or the timeout passes (throws with
 * `what` and the last error or value). No fixed sleeps: `interval` is the polling period.
 */
export async function waitFor(fn, { timeout = 30_000, interval = 250, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) {
      if (e?.fatal) throw e;
      last = e;
    }
    if (Date.now() >= deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${detail})`);
    }
    await sleep(interval);
  }
}

/** A free TCP port on 127.0.0.1 (the OS picks it; a tiny race remains, startCodeServer retries). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** The environment for code-server's processes: no leaked VS Code variables from a parent. */
function childEnv(profile, extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('VSCODE_') || k === 'ELECTRON_RUN_AS_NODE') continue;
    env[k] = v;
  }
  // code-server writes coder-logs under XDG_DATA_HOME and may write a config under
  // XDG_CONFIG_HOME: keep both inside the profile; the replication history (XDG_STATE_HOME) too.
  env.XDG_DATA_HOME = path.join(profile.root, 'xdg-data');
  env.XDG_STATE_HOME = path.join(profile.root, 'xdg-state');
  env.XDG_CONFIG_HOME = path.join(profile.root, 'xdg-config');
  return { ...env, ...extra };
}

// ---------------------------------------------------------------------------------------------
// (a) profile: user-data-dir, extensions-dir, config, settings

/**
 * Settings that make a test workbench quiet and fast: no chat/AI, no git, no startup editor,
 * no update checks, no telemetry, no workspace trust prompt.
 */
export const DEFAULT_SETTINGS = Object.freeze({
  'workbench.startupEditor': 'none',
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.settings.enableNaturalLanguageSearch': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'chat.commandCenter.enabled': false,
  'chat.agent.enabled': false,
  'chat.disableAIFeatures': true,
  'chat.experimental.offerSetup': false,
  'inlineChat.lineNaturalLanguageHint': false,
  'github.copilot.enable': { '*': false },
  'git.enabled': false,
  'git.autoRepositoryDetection': false,
  'git.autorefresh': false,
  'git.openRepositoryInParentFolders': 'never',
  'github.gitAuthentication': false,
  'github.branchProtection': false,
  'scm.autoReveal': false,
  'update.mode': 'none',
  'update.showReleaseNotes': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'telemetry.telemetryLevel': 'off',
  'security.workspace.trust.enabled': false,
  'security.workspace.trust.startupPrompt': 'never',
  'security.workspace.trust.banner': 'never',
  'npm.autoDetect': 'off',
  'typescript.disableAutomaticTypeAcquisition': true,
  'typescript.tsserver.experimental.enableProjectDiagnostics': false,
  'remote.autoForwardPorts': false,
  'terminal.integrated.enablePersistentSessions': false,
  'workbench.editor.restoreViewState': false,
  'window.restoreWindows': 'none',
});

/**
 * A fresh profile under a temp dir (or `root`): user-data-dir, extensions-dir, a code-server
 * config file, a browser profile dir and an empty workspace folder; the user settings are
 * DEFAULT_SETTINGS with `settings` merged over them.
 */
export async function makeProfile({ root, settings = {}, prefix = 'zfs-fleet-e2e-' } = {}) {
  root = root ? path.resolve(root) : await mkdtemp(path.join(os.tmpdir(), prefix));
  const profile = {
    root,
    userDataDir: path.join(root, 'user-data'),
    extensionsDir: path.join(root, 'extensions'),
    configFile: path.join(root, 'code-server.yaml'),
    browserProfileDir: path.join(root, 'browser-profile'),
    workspaceDir: path.join(root, 'workspace'),
    get settingsFile() {
      return path.join(this.userDataDir, 'User', 'settings.json');
    },
    async cleanup() {
      await rm(root, { recursive: true, force: true, maxRetries: 3 });
    },
  };
  for (const d of [
    profile.userDataDir,
    profile.extensionsDir,
    profile.browserProfileDir,
    profile.workspaceDir,
    path.join(root, 'xdg-data'),
    path.join(root, 'xdg-config'),
  ]) {
    await mkdir(d, { recursive: true });
  }
  // Without --config code-server writes ~/.config/code-server/config.yaml with a password.
  await writeFile(profile.configFile, 'auth: none\ncert: false\n');
  await writeSettings(profile, settings);
  return profile;
}

/** (Re)write the user settings: DEFAULT_SETTINGS with `settings` merged over them. */
export async function writeSettings(profile, settings = {}) {
  await mkdir(path.dirname(profile.settingsFile), { recursive: true });
  const merged = { ...DEFAULT_SETTINGS, ...settings };
  await writeFile(profile.settingsFile, JSON.stringify(merged, null, 2) + '\n');
  return merged;
}

function baseArgs(profile) {
  return ['--user-data-dir', profile.userDataDir, '--extensions-dir', profile.extensionsDir, '--config', profile.configFile];
}

// ---------------------------------------------------------------------------------------------
// (b) install a .vsix

/** `code-server --install-extension VSIX` into the profile; returns the installed id and output. */
export async function installVsix(profile, vsixPath, { timeout = 120_000 } = {}) {
  const vsix = path.resolve(vsixPath);
  if (!existsSync(vsix)) throw new Error(`no .vsix at ${vsix}`);
  const args = ['--install-extension', vsix, '--force', ...baseArgs(profile)];
  let out;
  try {
    out = await execFileP(codeServerBin(), args, { env: childEnv(profile), timeout, maxBuffer: 16 << 20 });
  } catch (e) {
    throw new Error(`code-server --install-extension ${vsix} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
  const text = `${out.stdout}${out.stderr}`;
  if (!/successfully installed/i.test(text)) {
    throw new Error(`code-server --install-extension ${vsix} did not report success:\n${text}`);
  }
  const installed = readdirSync(profile.extensionsDir).filter((d) => !d.startsWith('.') && statSync(path.join(profile.extensionsDir, d)).isDirectory());
  return { output: text.trim(), installed };
}

// ---------------------------------------------------------------------------------------------
// (c) start code-server, (d) stop it

/**
 * Start code-server for `profile` on a free 127.0.0.1 port and wait until it serves the
 * workbench. Options: smokeTestDriver (adds `--vscode-option enable-smoke-test-driver`, needed
 * by the payload route), port, env, timeout, extraArgs, log (a function for progress lines).
 * Returns { pid, port, url, proc, output(), stop() }.
 */
export async function startCodeServer(profile, { smokeTestDriver = false, port, env = {}, timeout = 60_000, extraArgs = [], attempts = 3 } = {}) {
  let lastErr;
  for (let i = 0; i < attempts; i++) {
    const p = port ?? (await freePort());
    try {
      return await startOnce(profile, p, { smokeTestDriver, env, timeout, extraArgs });
    } catch (e) {
      lastErr = e;
      if (port !== undefined || !/EADDRINUSE/.test(String(e.message))) throw e;
    }
  }
  throw lastErr;
}

/**
 * How to turn on VS Code's smoke-test driver: code-server >= 4.10x with `--vscode-option`
 * passes it on; 4.100.3 has no such flag, so its option table gets the VS Code option through a
 * preload (smokeTestDriverPreload.cjs) and `--enable-smoke-test-driver` is passed directly.
 */
function smokeTestDriverLaunch() {
  const entry = realpathSync(codeServerBin());
  const cli = path.join(path.dirname(entry), 'cli.js');
  let hasVscodeOption = false;
  try {
    hasVscodeOption = readFileSync(cli, 'utf8').includes('"vscode-option"');
  } catch {
    // layout unknown: use the preload
  }
  if (hasVscodeOption) return { command: codeServerBin(), prefix: [], args: ['--vscode-option', 'enable-smoke-test-driver'] };
  const preload = fileURLToPath(new URL('./smokeTestDriverPreload.cjs', import.meta.url));
  return { command: process.execPath, prefix: ['-r', preload, entry], args: ['--enable-smoke-test-driver'] };
}

async function startOnce(profile, port, { smokeTestDriver, env, timeout, extraArgs }) {
  const launch = smokeTestDriver ? smokeTestDriverLaunch() : { command: codeServerBin(), prefix: [], args: [] };
  const args = [
    ...launch.prefix,
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    ...baseArgs(profile),
    ...launch.args,
    ...extraArgs,
  ];
  const t0 = Date.now();
  const proc = spawn(launch.command, args, {
    env: childEnv(profile, env),
    cwd: profile.workspaceDir,
    detached: true, // its own process group, so stop() reaches the whole tree
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (d) => {
    output += d.toString();
    if (output.length > 1_000_000) output = output.slice(-500_000);
  };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  let exited = null;
  proc.on('exit', (code, signal) => {
    exited = { code, signal };
  });
  proc.on('error', (e) => {
    exited = { code: -1, signal: null, error: e };
  });

  const url = `http://127.0.0.1:${port}/`;
  const server = {
    pid: proc.pid,
    port,
    url,
    proc,
    output: () => output,
    exited: () => exited,
    startMs: 0,
    stop: () => stopProcessTree(proc.pid),
  };
  try {
    await waitFor(
      async () => {
        if (exited) throw Object.assign(new Error(`code-server exited (${JSON.stringify(exited)}):\n${output}`), { fatal: true });
        const res = await fetch(new URL('healthz', url), { signal: AbortSignal.timeout(2000) });
        if (!res.ok) return false;
        const page = await fetch(url, { signal: AbortSignal.timeout(5000) });
        return page.ok;
      },
      { timeout, interval: 100, what: `code-server on ${url}` },
    );
  } catch (e) {
    await stopProcessTree(proc.pid);
    if (exited && /EADDRINUSE/.test(output)) throw new Error(`EADDRINUSE on port ${port}`);
    throw new Error(`${e.message}\n--- code-server output ---\n${output.slice(-4000)}`);
  }
  server.startMs = Date.now() - t0;
  return server;
}

/** Every process whose ancestry reaches `pid` (read from /proc), children first. */
export function descendants(pid) {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  const out = [];
  const walk = (p) => {
    for (const c of children.get(p) ?? []) {
      walk(c);
      out.push(c);
    }
  };
  walk(pid);
  return out;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    // a zombie still answers; treat it as gone
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Stop `pid` and all its descendants: SIGTERM to the process group and to each descendant
 * found in /proc (ptys start new sessions, so the group alone is not enough), then SIGKILL
 * whatever is left after `grace` ms.
 */
export async function stopProcessTree(pid, { grace = 5000 } = {}) {
  if (!pid) return;
  const targets = [...descendants(pid), pid];
  const signalAll = (sig) => {
    try {
      process.kill(-pid, sig);
    } catch {
      // no such group
    }
    for (const p of targets) {
      try {
        process.kill(p, sig);
      } catch {
        // already gone
      }
    }
  };
  signalAll('SIGTERM');
  try {
    await waitFor(() => targets.every((p) => !alive(p)), { timeout: grace, interval: 100, what: `process tree ${pid} to exit` });
  } catch {
    for (const p of descendants(pid)) if (!targets.includes(p)) targets.push(p);
    signalAll('SIGKILL');
  }
}

// ---------------------------------------------------------------------------------------------
// (e) headless Chromium through playwright-core

export const CHROMIUM_ARGS = Object.freeze([
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--disable-breakpad',
]);

/**
 * Launch Debian's Chromium headless with a fresh profile dir (`profile.browserProfileDir`,
 * or `profileDir`) as a Playwright persistent context. Close it with closeBrowser().
 */
export async function launchBrowser(profile, { profileDir, viewport = { width: 1400, height: 900 }, timeout = 60_000 } = {}) {
  const { chromium } = await import('playwright-core');
  const dir = profileDir ?? profile?.browserProfileDir ?? (await mkdtemp(path.join(os.tmpdir(), 'zfs-fleet-chromium-')));
  await mkdir(dir, { recursive: true });
  // Chromium writes crash-report state under XDG_CONFIG_HOME even with --user-data-dir: keep
  // it beside the profile, not in ~/.config/chromium.
  const xdg = path.join(path.dirname(dir), 'browser-xdg');
  await mkdir(xdg, { recursive: true });
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS],
    env: { ...process.env, XDG_CONFIG_HOME: xdg, XDG_CACHE_HOME: xdg },
    viewport,
    timeout,
  });
  context.__profileDir = dir;
  return context;
}

/** Close the browser; kill its processes (found by their --user-data-dir) if it does not close. */
export async function closeBrowser(context, { timeout = 10_000 } = {}) {
  if (!context) return;
  const dir = context.__profileDir;
  await Promise.race([context.close().catch(() => {}), sleep(timeout)]);
  if (!dir) return;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (cmd.includes(`--user-data-dir=${dir}`)) process.kill(Number(name), 'SIGKILL');
    } catch {
      // gone
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The payload route: extension integration tests in the @vscode/test-electron format (a module
// exporting `run(): Promise<void>`, usually mocha) run inside code-server's extension host.

/**
 * The workbench URL that makes code-server (started with smokeTestDriver) load
 * `extensionDevelopmentPath` and run `extensionTestsPath`'s run(). Opens `folder`, or the
 * `.code-workspace` file `workspace` (one of the two; `workspace` wins).
 */
export function payloadUrl(server, { extensionDevelopmentPath, extensionTestsPath, folder, workspace, env = {} }) {
  const authority = `127.0.0.1:${server.port}`;
  const remote = (p) => `vscode-remote://${authority}${path.resolve(p)}`;
  const payload = [
    ['extensionDevelopmentPath', remote(extensionDevelopmentPath)],
    ['extensionTestsPath', remote(extensionTestsPath)],
    ['skipWelcome', 'true'],
  ];
  if (Object.keys(env).length) payload.push(['extensionEnvironment', JSON.stringify(env)]);
  const q = new URLSearchParams();
  if (workspace) q.set('workspace', path.resolve(workspace));
  else if (folder) q.set('folder', path.resolve(folder));
  const query = q.toString();
  return `${server.url}?${query}${query ? '&' : ''}payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

/** Workbench chatter and offline failures (no gallery, no telemetry) left out of onLog when quiet. */
export const OFFLINE_NOISE = [
  /ENOTFOUND/,
  /^Resolving connection token|^Resolved connection token|^Creating a socket|^Updating additional builtin extensions cache/,
  /^\[Service Worker\]/,
  /^ChatSessionStore:/,
  /authentication provider 'github'/,
];

/**
 * Run an extension's integration tests inside code-server. Makes a fresh profile, starts
 * code-server with the smoke-test driver, opens the payload URL in headless Chromium and
 * waits for `codeAutomationExit`. Returns { code, logs, timings }: code 0 when run()
 * resolved, 1 when it rejected (or a harness error message when it never reported).
 *
 * Options: extensionDevelopmentPath, extensionTestsPath (absolute or relative paths on this
 * machine), folder (the workspace to open; default: the profile's empty workspace), env (the
 * extension host's extra environment), settings, vsixes (extensions to install first),
 * timeout (ms for the whole run), onLog (line printer `(text, type)`, type being the console
 * method: 'log', 'error', ...; default console.log), keepProfile,
 * quiet (default true: leave OFFLINE_NOISE out of onLog; `logs` keeps everything),
 * workspace (a .code-workspace file to open instead of `folder`), extensionsDir (use this
 * extensions dir instead of the profile's empty one), signal (an AbortSignal: the run stops,
 * code-server and Chromium are stopped, and the promise rejects).
 */
export async function runExtensionTests({
  extensionDevelopmentPath,
  extensionTestsPath,
  folder,
  env = {},
  settings = {},
  vsixes = [],
  timeout = 300_000,
  onLog = (line) => console.log(line),
  keepProfile = false,
  quiet = true,
  workspace,
  extensionsDir,
  signal,
} = {}) {
  checkPrerequisites();
  signal?.throwIfAborted();
  const timings = {};
  const t0 = Date.now();
  const profile = await makeProfile({ settings, prefix: 'zfs-fleet-payload-' });
  if (extensionsDir) {
    profile.extensionsDir = path.resolve(extensionsDir);
    await mkdir(profile.extensionsDir, { recursive: true });
  }
  let server;
  let browser;
  const logs = [];
  try {
    for (const v of vsixes) await installVsix(profile, v);
    // VS Code 1.100's web workbench ignores `extensionEnvironment` in the payload (newer ones
    // honour it), but the remote extension host inherits the server's environment: set both.
    server = await startCodeServer(profile, { smokeTestDriver: true, env });
    timings.serverStartMs = server.startMs;
    browser = await launchBrowser(profile);
    const page = await browser.newPage();
    let resolveExit;
    const exited = new Promise((r) => {
      resolveExit = r;
    });
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      // console.* arguments as sent by the workbench: a format string (mocha's '%s %d') first.
      const text = Array.isArray(args) ? format(...args) : String(args);
      logs.push({ type, text });
      if (!(quiet && OFFLINE_NOISE.some((re) => re.test(text)))) onLog?.(text, type);
    });
    await page.exposeFunction('codeAutomationExit', (code, extraLogs) => {
      resolveExit({ code, extraLogs });
    });
    const url = payloadUrl(server, {
      extensionDevelopmentPath,
      extensionTestsPath,
      folder: folder ?? profile.workspaceDir,
      workspace,
      env,
    });
    const t1 = Date.now();
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    let timer;
    let onAbort;
    const result = await Promise.race([
      exited,
      new Promise((r) => {
        if (!signal) return;
        onAbort = () => r({ code: 'aborted' });
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      }),
      new Promise((r) => {
        timer = setTimeout(() => r({ code: 'timeout' }), timeout);
      }),
      new Promise((r) => {
        const check = setInterval(() => {
          if (server.exited()) {
            clearInterval(check);
            r({ code: 'server-exit' });
          }
        }, 500);
        exited.finally(() => clearInterval(check));
      }),
    ]);
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
    timings.runMs = Date.now() - t1;
    if (result.code === 'aborted') throw new Error(`the extension tests were stopped (${signal.reason ?? 'aborted'})`);
    if (result.code === 'timeout') {
      throw new Error(
        `the extension tests did not report within ${timeout} ms (is code-server started with the smoke-test driver? does run() settle?)\n--- code-server output ---\n${server.output().slice(-4000)}`,
      );
    }
    if (result.code === 'server-exit') {
      throw new Error(`code-server exited during the tests\n${server.output().slice(-4000)}`);
    }
    return { code: result.code, logs, timings };
  } finally {
    await closeBrowser(browser);
    if (server) await server.stop();
    if (!keepProfile) await profile.cleanup();
    timings.totalMs = Date.now() - t0;
  }
}

/** Read a JSON file (for small helpers in tests). */
export async function readJson(file) {
  return JSON.parse(await readFile(file, 'utf8'));
}
