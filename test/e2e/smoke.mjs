#!/usr/bin/env node
// Smoke test of the PACKAGED extension (dist/zfs-fleet.vsix) in a real VS Code (code-server
// 4.100.3 in headless Chromium) against the ZFS lab (test/lab/lab.sh: zfs-fuse hosts behind real
// sshd, reached through the extension's own SSH code with host-key checking on).
//
//   node test/e2e/smoke.mjs [--vsix dist/zfs-fleet.vsix] [--build] [--wait-vsix MINUTES]
//                           [--lab /tmp/zfs-fleet-lab] [--no-lab-up] [--keep] [--no-readme-screenshot]
//
// Exit 0 when every check passed, 1 otherwise; the last line is `N passed, N failed[, N skipped]`.
// Screenshots and logs go to test-results/e2e/; the expanded tree is also copied to
// media/screenshots/tree.png for the README.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { closeBrowser, codeServerBin, installVsix, launchBrowser, makeProfile, sleep, startCodeServer, waitFor } from './lib/codeServer.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values: opts } = parseArgs({
  allowNegative: true,
  options: {
    vsix: { type: 'string', default: path.join(repo, 'dist', 'zfs-fleet.vsix') },
    build: { type: 'boolean', default: false },
    'wait-vsix': { type: 'string', default: '0' },
    lab: { type: 'string', default: process.env.ZFS_FLEET_LAB || '/tmp/zfs-fleet-lab' },
    'lab-up': { type: 'boolean', default: true }, // --no-lab-up: do not run test/lab/lab.sh up
    keep: { type: 'boolean', default: false },
    // Copy the expanded-tree screenshot to media/screenshots/tree.png (--no-readme-screenshot: don't).
    'readme-screenshot': { type: 'boolean', default: true },
    results: { type: 'string', default: path.join(repo, 'test-results', 'e2e') },
  },
});

const RESULTS = path.resolve(opts.results);
const LAB = path.resolve(opts.lab);
const HOSTS = ['off1', 'ovh3', 'off2'];
// What the lab seeds on off1 (test/lab): the datasets under zfs-hdd/off and the snapshots of
// zfs-hdd/off/products, oldest first.
const OFF1_DATASETS = ['products', 'images', 'users', 'my data'];
const OFF1_PRODUCTS_SNAPSHOTS = ['20230501-0000', '20230515-0000', '20230530-2330', '20230608-1130'];

// The number of check() calls below (for the skipped count when a required step fails).
const CHECKS_TOTAL = 14;

const T0 = Date.now();
const timings = {};
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;
const log = (msg) => console.log(`[smoke ${secs(Date.now() - T0).padStart(7)}] ${msg}`);

// ---------------------------------------------------------------------------------------------
// Checks: each one passes or fails on its own; a failed step that later checks need ends the run
// (those are counted as skipped).

const results = [];
let page;
let shotCount = 0;

async function screenshot(name) {
  if (!page) return undefined;
  const file = path.join(RESULTS, `${String(++shotCount).padStart(2, '0')}-${name}.png`);
  try {
    await page.screenshot({ path: file });
    log(`screenshot ${path.relative(repo, file)}`);
    return file;
  } catch (e) {
    log(`(screenshot ${name} failed: ${e.message})`);
    return undefined;
  }
}

class Abort extends Error {}

async function check(name, fn, { required = true } = {}) {
  const t = Date.now();
  try {
    const detail = await fn();
    results.push({ name, ok: true });
    console.log(`ok   ${name}${detail ? ` (${detail})` : ''} [${secs(Date.now() - t)}]`);
  } catch (e) {
    results.push({ name, ok: false, error: e.message });
    console.log(`FAIL ${name} [${secs(Date.now() - t)}]\n     ${e.message.replace(/\n/g, '\n     ')}`);
    await screenshot(`FAILED-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`);
    if (required) throw new Abort(name);
  }
}

// ---------------------------------------------------------------------------------------------
// Preparation: code-server, the lab, the vsix

function run(cmd, args, { cwd = repo, timeout = 20 * 60_000, prefix = '', env = process.env } = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (d) => {
      out += d;
      for (const line of d.toString().split('\n')) if (line.trim()) console.log(`${prefix}${line}`);
    };
    p.stdout.on('data', onData);
    p.stderr.on('data', onData);
    const timer = setTimeout(() => {
      p.kill('SIGTERM');
      reject(new Error(`${cmd} ${args.join(' ')} timed out after ${timeout / 1000} s`));
    }, timeout);
    p.on('error', reject);
    p.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}\n${out.split('\n').slice(-20).join('\n')}`));
    });
  });
}

async function ensureCodeServer() {
  if (existsSync(codeServerBin())) return 'present';
  log('code-server is not installed: running scripts/install-code-server.sh');
  await run('bash', [path.join(repo, 'scripts', 'install-code-server.sh')], { prefix: '  | ' });
  return 'installed';
}

async function ensureLab() {
  const labSh = path.join(repo, 'test', 'lab', 'lab.sh');
  if (opts['lab-up'] && existsSync(labSh)) {
    log('bash test/lab/lab.sh up');
    await run('bash', [labSh, 'up'], { prefix: '  lab| ', env: { ...process.env, ZFS_FLEET_LAB: LAB } });
  }
  const missing = ['lab.json', 'ssh_config', 'known_hosts'].filter((f) => !existsSync(path.join(LAB, f)));
  if (missing.length) {
    throw new Error(`the ZFS lab is not up: ${missing.join(', ')} missing in ${LAB}` + (existsSync(labSh) ? '' : ' (test/lab/lab.sh does not exist yet)'));
  }
  const lab = JSON.parse(readFileSync(path.join(LAB, 'lab.json'), 'utf8'));
  if (Array.isArray(lab.hosts)) {
    const names = lab.hosts.map((h) => h.name);
    const absentHosts = HOSTS.filter((h) => !names.includes(h));
    if (absentHosts.length) throw new Error(`${LAB}/lab.json has no host ${absentHosts.join(', ')} (hosts: ${names.join(', ')})`);
  }
  const config = readFileSync(path.join(LAB, 'ssh_config'), 'utf8');
  const absent = HOSTS.filter((h) => !new RegExp(`^\\s*Host\\s+(.*\\s)?${h}(\\s|$)`, 'mi').test(config));
  if (absent.length) throw new Error(`${LAB}/ssh_config has no Host entry for ${absent.join(', ')}`);
  return lab;
}

async function ensureVsix() {
  const vsix = path.resolve(opts.vsix);
  if (opts.build) {
    log('npm run package');
    await run('npm', ['run', 'package'], { prefix: '  pkg| ' });
  }
  const waitMin = Number(opts['wait-vsix']) || 0;
  if (!existsSync(vsix) && waitMin > 0) {
    log(`waiting up to ${waitMin} min for ${path.relative(repo, vsix)} (checking every minute)`);
    await waitFor(() => existsSync(vsix), { timeout: waitMin * 60_000, interval: 60_000, what: vsix });
  }
  if (!existsSync(vsix)) throw new Error(`no ${vsix}: run \`npm run package\` first (or pass --build)`);
  const st = statSync(vsix);
  return { vsix, detail: `${path.relative(repo, vsix)}, ${(st.size / 1024).toFixed(0)} KiB, built ${st.mtime.toISOString()}` };
}

// ---------------------------------------------------------------------------------------------
// The tree as a user sees it

const ROW = '.monaco-list-row[role="treeitem"]';
/** The Hosts pane of the ZFS Fleet container (the Replication and Fleet Health panes have rows too). */
const hostsPane = () => page.locator('.part.sidebar .pane').filter({ has: page.locator('.pane-header', { hasText: 'Hosts' }) });

/** The rendered rows of the Hosts tree in display order: label, description, level, expanded. */
async function rows() {
  return hostsPane()
    .locator(ROW)
    .evaluateAll((els) =>
      els
        .map((r) => ({
          index: Number(r.getAttribute('data-index')),
          level: Number(r.getAttribute('aria-level')),
          expanded: r.getAttribute('aria-expanded'),
          label: (r.querySelector('.label-name')?.textContent ?? '').trim(),
          description: (r.querySelector('.label-description')?.textContent ?? '').trim(),
        }))
        .sort((a, b) => a.index - b.index),
    );
}

function describeRows(list) {
  return list
    .map(
      (r) =>
        `${'  '.repeat(Math.max(0, r.level - 1))}${r.expanded === 'true' ? 'v ' : r.expanded === 'false' ? '> ' : '  '}${r.label}${r.description ? `  — ${r.description}` : ''}`,
    )
    .join('\n');
}

/** Visible notifications, dialogs and quick picks (a host-key or passphrase prompt, an error). */
async function uiMessages() {
  const texts = await page
    .$$eval('.notifications-toasts .notification-toast, .monaco-dialog-box, .quick-input-widget', (els) =>
      els.filter((e) => e.getBoundingClientRect().height > 0).map((e) => e.innerText.replace(/\s+/g, ' ').trim()),
    )
    .catch(() => []);
  return texts.filter(Boolean).length ? `\nthe workbench shows: ${texts.filter(Boolean).join(' | ')}` : '';
}

/** The row at a path of labels from a host (levels 1, 2, ...), or undefined. */
function findPath(list, labels) {
  let from = -1;
  let row;
  for (let depth = 0; depth < labels.length; depth++) {
    const level = depth + 1;
    row = undefined;
    for (let i = from + 1; i < list.length; i++) {
      const r = list[i];
      if (depth > 0 && r.level < level) break; // left the parent's subtree
      if (r.level === level && r.label === labels[depth]) {
        row = r;
        from = i;
        break;
      }
    }
    if (!row) return undefined;
  }
  return row;
}

/** The direct children of the row at `labels`, in display order. */
function childrenOf(list, labels) {
  const parent = findPath(list, labels);
  if (!parent) return [];
  const out = [];
  const start = list.indexOf(parent);
  for (let i = start + 1; i < list.length; i++) {
    const r = list[i];
    if (r.level <= parent.level) break;
    if (r.level === parent.level + 1) out.push(r);
  }
  return out;
}

async function waitForPath(labels, timeout = 30_000) {
  return waitFor(async () => findPath(await rows(), labels), { timeout, what: `tree row ${labels.join(' > ')}` }).catch(async (e) => {
    throw new Error(`${e.message}\nthe tree shows:\n${describeRows(await rows())}`);
  });
}

/** Expand the row at `labels` (click it, as a user does) and wait until it shows children. */
async function expand(labels, { timeout = 30_000 } = {}) {
  const row = await waitForPath(labels, timeout);
  if (row.expanded === null) throw new Error(`${labels.join(' > ')} is not expandable (no children)`);
  if (row.expanded !== 'true') {
    const el = hostsPane().locator(`${ROW}[data-index="${row.index}"]`);
    await el.scrollIntoViewIfNeeded();
    await el.click();
  }
  await waitFor(
    async () => {
      const list = await rows();
      const r = findPath(list, labels);
      return r && r.expanded === 'true' && childrenOf(list, labels).length > 0;
    },
    { timeout, what: `${labels.join(' > ')} to expand` },
  ).catch(async (e) => {
    throw new Error(`${e.message}\nthe tree shows:\n${describeRows(await rows())}`);
  });
  return childrenOf(await rows(), labels);
}

/** Wait until the children of `labels` are not a loading message; returns them. */
async function settledChildren(labels, timeout = 60_000) {
  return waitFor(
    async () => {
      const kids = childrenOf(await rows(), labels);
      return kids.length > 0 && !kids.some((k) => /^(Connecting|Loading)/i.test(k.label)) ? kids : false;
    },
    { timeout, what: `the children of ${labels.join(' > ')} to load` },
  );
}

// ---------------------------------------------------------------------------------------------

async function extensionLogs(profile) {
  // The extension's LogOutputChannel and the extension host log, for failure reports.
  const found = [];
  const walk = (dir) => {
    let entries = [];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/ZFS Fleet|zfs-fleet|exthost\.log|remoteexthost\.log/i.test(e.name)) found.push(p);
    }
  };
  walk(path.join(profile.userDataDir, 'logs'));
  return found;
}

async function main() {
  mkdirSync(RESULTS, { recursive: true });
  for (const f of readdirSync(RESULTS)) if (f.endsWith('.png') || f.endsWith('.log')) rmSync(path.join(RESULTS, f));

  let profile;
  let server;
  let browser;
  let vsix;
  const cleanup = async () => {
    await closeBrowser(browser).catch(() => {});
    browser = undefined;
    if (server) await server.stop().catch(() => {});
    server = undefined;
  };
  const onSignal = async (sig) => {
    log(`${sig}: stopping code-server and Chromium`);
    await cleanup();
    process.exit(1);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    await check('code-server 4.100.3 is installed', async () => {
      const t = Date.now();
      const how = await ensureCodeServer();
      timings.codeServerInstall = Date.now() - t;
      return how;
    });
    await check('the ZFS lab is up (off1, ovh3, off2)', async () => {
      const t = Date.now();
      const lab = await ensureLab();
      timings.labUp = Date.now() - t;
      const hosts = Array.isArray(lab?.hosts) ? lab.hosts.map((h) => `${h.name}:${h.port ?? '?'}`).join(' ') : 'no host list in lab.json';
      return `${LAB}: ${hosts}${timings.labUp > 1000 ? `; lab.sh up ${secs(timings.labUp)}` : ''}`;
    });
    await check('the packaged extension exists', async () => {
      const v = await ensureVsix();
      vsix = v.vsix;
      return v.detail;
    });

    profile = await makeProfile({
      prefix: 'zfs-fleet-smoke-',
      settings: {
        'zfsFleet.hosts': HOSTS,
        'zfsFleet.sshConfigPath': path.join(LAB, 'ssh_config'),
        'zfsFleet.knownHostsPath': path.join(LAB, 'known_hosts'),
      },
    });
    log(`profile ${profile.root}`);

    await check('the .vsix installs into code-server', async () => {
      const t = Date.now();
      const { installed } = await installVsix(profile, vsix);
      timings.vsixInstall = Date.now() - t;
      if (!installed.some((d) => /zfs-fleet/i.test(d))) throw new Error(`installed extensions: ${installed.join(', ') || 'none'}`);
      return installed.join(', ');
    });

    await check('code-server starts', async () => {
      server = await startCodeServer(profile);
      timings.serverStart = server.startMs;
      return `${server.url} in ${server.startMs} ms`;
    });

    browser = await launchBrowser(profile, { viewport: { width: 1400, height: 1000 } });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.on('pageerror', (e) => writeFileSync(path.join(RESULTS, 'page-errors.log'), `${e.stack ?? e}\n`, { flag: 'a' }));

    const activity = '.part.activitybar .action-item a.action-label[aria-label="ZFS Fleet"]';
    await check('the workbench loads and shows the ZFS Fleet activity-bar item', async () => {
      const t = Date.now();
      await page.goto(`${server.url}?folder=${encodeURIComponent(profile.workspaceDir)}`, { waitUntil: 'domcontentloaded' });
      await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
      await page.locator(activity).waitFor({ state: 'visible', timeout: 60_000 });
      timings.workbench = Date.now() - t;
      return `${timings.workbench} ms`;
    });

    await check('clicking ZFS Fleet shows the hosts off1, ovh3, off2', async () => {
      const t = Date.now();
      await page.locator(activity).click();
      await page.locator('.part.sidebar').waitFor({ state: 'visible', timeout: 10_000 });
      // The Fleet Health pane collapsed: the Hosts tree keeps the room it had (and its README screenshot).
      const health = page.locator('.part.sidebar .pane-header', { hasText: 'Fleet Health' });
      if ((await health.count()) && (await health.getAttribute('aria-expanded')) === 'true') await health.click();
      const list = await waitFor(
        async () => {
          const l = await rows();
          return HOSTS.every((h) => findPath(l, [h])) ? l : false;
        },
        { timeout: 60_000, what: 'host rows off1, ovh3, off2' },
      ).catch(async (e) => {
        throw new Error(
          `${e.message}\nthe sidebar shows:\n${describeRows(await rows())}\n${(
            await page
              .locator('.part.sidebar')
              .innerText()
              .catch(() => '')
          ).slice(0, 800)}${await uiMessages()}`,
        );
      });
      const top = list.filter((r) => r.level === 1).map((r) => r.label);
      if (JSON.stringify(top) !== JSON.stringify(HOSTS)) throw new Error(`top-level rows are ${JSON.stringify(top)}, expected ${JSON.stringify(HOSTS)}`);
      timings.hostsShown = Date.now() - t;
      return top.join(', ');
    });

    await check('every host connects and shows its ZFS version', async () => {
      const t = Date.now();
      // Wait until no host is still connecting; an unreachable host is a final state (the user
      // would have to retry), so it fails at once, with the reason from its error row.
      const unreachable = async (l) => {
        const why = [];
        for (const h of HOSTS) {
          const r = findPath(l, [h]);
          if (r && /unreachable/i.test(r.description)) {
            const kids = await expand([h]).catch(() => []);
            why.push(`${h}: ${kids.map((k) => k.label).join(' / ') || 'unreachable'}`);
          }
        }
        return why;
      };
      const list = await waitFor(
        async () => {
          const l = await rows();
          return HOSTS.every((h) => {
            const d = findPath(l, [h])?.description ?? '';
            return d && !/connecting/i.test(d);
          })
            ? l
            : false;
        },
        { timeout: 90_000, what: 'the hosts to connect' },
      ).catch(async (e) => {
        const why = await unreachable(await rows());
        throw new Error(`${e.message}\n${describeRows(await rows())}${why.length ? `\n${why.join('\n')}` : ''}${await uiMessages()}`);
      });
      const why = await unreachable(list);
      if (why.length) throw new Error(`unreachable hosts:\n${why.join('\n')}\nthe tree shows:\n${describeRows(await rows())}`);
      timings.hostsConnected = Date.now() - t;
      const descs = HOSTS.map((h) => `${h}: ${findPath(list, [h]).description}`);
      for (const h of HOSTS) {
        const d = findPath(list, [h]).description;
        if (!/zfs|openzfs|\d+\.\d+/i.test(d)) throw new Error(`${h}'s description "${d}" does not name a ZFS version`);
      }
      await screenshot('hosts');
      return descs.join('; ');
    });

    await check(
      'off1 > zfs-hdd > off lists the datasets products, images, users, "my data"',
      async () => {
        const pools = await expand(['off1']);
        await settledChildren(['off1']);
        if (!pools.some((p) => p.label === 'zfs-hdd')) throw new Error(`off1's children: ${pools.map((p) => p.label).join(', ')}`);
        await expand(['off1', 'zfs-hdd']);
        const kids = await expand(['off1', 'zfs-hdd', 'off']);
        const labels = kids.map((k) => k.label);
        const missing = OFF1_DATASETS.filter((d) => !labels.includes(d));
        if (missing.length) throw new Error(`missing under zfs-hdd/off: ${missing.join(', ')}; shown: ${labels.join(', ')}`);
        return labels.join(', ');
      },
      { required: false },
    );

    await check(
      'the dataset with a space is shown as "my data"',
      async () => {
        const r = findPath(await rows(), ['off1', 'zfs-hdd', 'off', 'my data']);
        if (!r) throw new Error('no row labelled "my data" under off1 > zfs-hdd > off');
        return r.description ? `description: ${r.description}` : undefined;
      },
      { required: false },
    );

    await check(
      'zfs-hdd/off/products has its snapshots, newest first',
      async () => {
        const kids = await expand(['off1', 'zfs-hdd', 'off', 'products']);
        const snaps = kids.find((k) => /^Snapshots \(\d+\)$/.test(k.label));
        if (!snaps) throw new Error(`no "Snapshots (N)" row under products; its children: ${kids.map((k) => k.label).join(', ')}`);
        const n = Number(/\((\d+)\)/.exec(snaps.label)[1]);
        const rowsShown = await expand(['off1', 'zfs-hdd', 'off', 'products', snaps.label]);
        const names = rowsShown.map((r) => r.label);
        if (names.length !== n) throw new Error(`"${snaps.label}" but ${names.length} snapshot rows: ${names.join(', ')}`);
        const missing = OFF1_PRODUCTS_SNAPSHOTS.filter((s) => !names.includes(s));
        if (missing.length) throw new Error(`missing snapshots ${missing.join(', ')}; shown: ${names.join(', ')}`);
        const order = names.filter((s) => OFF1_PRODUCTS_SNAPSHOTS.includes(s));
        const expected = [...OFF1_PRODUCTS_SNAPSHOTS].reverse();
        if (JSON.stringify(order) !== JSON.stringify(expected)) throw new Error(`snapshots not newest first: ${names.join(', ')}`);
        // The lab's snapshot names are timestamps, so the whole list must be descending too.
        const sorted = [...names].sort().reverse();
        if (JSON.stringify(names) !== JSON.stringify(sorted)) throw new Error(`snapshots not newest first: ${names.join(', ')}`);
        const newest = rowsShown[0];
        return `${snaps.label}: ${names.join(', ')}; newest "${newest.label}" ${newest.description}`;
      },
      { required: false },
    );
    await screenshot('off1-snapshots');

    await check(
      'ovh3 > rpool > off > clones > products is a clone naming its origin',
      async () => {
        await expand(['ovh3']);
        await settledChildren(['ovh3']);
        await expand(['ovh3', 'rpool']);
        const off = await expand(['ovh3', 'rpool', 'off']);
        if (!off.some((k) => k.label === 'clones')) throw new Error(`ovh3 > rpool > off shows ${off.map((k) => k.label).join(', ')}`);
        const clones = await expand(['ovh3', 'rpool', 'off', 'clones']);
        const clone = clones.find((k) => k.label === 'products');
        if (!clone) throw new Error(`ovh3 > rpool > off > clones shows ${clones.map((k) => k.label).join(', ')}`);
        if (!/products@\S+/.test(clone.description) && !/clone|origin/i.test(clone.description)) {
          throw new Error(`the clone's description "${clone.description}" does not mention its origin`);
        }
        if (!/@/.test(clone.description)) throw new Error(`the clone's description "${clone.description}" does not name the origin snapshot`);
        return clone.description;
      },
      { required: false },
    );

    await check(
      'off2 shows its pool zfs-nvme',
      async () => {
        const kids = await expand(['off2']);
        const settled = await settledChildren(['off2']);
        const labels = (settled.length ? settled : kids).map((k) => k.label);
        if (!labels.includes('zfs-nvme')) throw new Error(`off2's children: ${labels.join(', ')}`);
        return labels.join(', ');
      },
      { required: false },
    );

    await check(
      'screenshot of the expanded tree',
      async () => {
        // Widen the sidebar (drag its sash, as a user would) so descriptions are not cut, move the
        // focus out of the tree, and shoot.
        const box = await page.locator('.part.sidebar').boundingBox();
        if (box) {
          await page.mouse.move(box.x + box.width + 1, box.y + box.height / 2);
          await page.mouse.down();
          await page.mouse.move(box.x + box.width + 260, box.y + box.height / 2, { steps: 5 });
          await page.mouse.up();
        }
        // Clear the tree's selection (Escape in the list), then move the focus to the editor area.
        await page
          .locator('.part.sidebar .monaco-list')
          .first()
          .focus()
          .catch(() => {});
        await page.keyboard.press('Escape');
        await page
          .locator('.part.editor')
          .click({ position: { x: 300, y: 300 } })
          .catch(() => {});
        await page.mouse.move(1300, 900);
        await sleep(300); // let the layout and hover effects settle
        const file = await screenshot('tree');
        if (!file) throw new Error('no screenshot');
        writeFileSync(path.join(RESULTS, 'tree.txt'), `${describeRows(await rows())}\n`);
        // For the README: the activity bar and the sidebar down to the last row.
        const side = await page.locator('.part.sidebar').boundingBox();
        const last = await hostsPane()
          .locator(ROW)
          .evaluateAll((els) => Math.max(...els.map((e) => e.getBoundingClientRect().bottom)));
        const clipped = path.join(RESULTS, 'tree-sidebar.png');
        const top = Math.floor(side.y);
        await page.screenshot({
          path: clipped,
          clip: { x: 0, y: top, width: Math.ceil(side.x + side.width), height: Math.min(side.height, Math.ceil(last) + 40 - top) },
        });
        if (!opts['readme-screenshot'] || results.some((r) => !r.ok)) return `${path.relative(repo, file)}, ${path.relative(repo, clipped)}`;
        const media = path.join(repo, 'media', 'screenshots');
        mkdirSync(media, { recursive: true });
        copyFileSync(clipped, path.join(media, 'tree.png'));
        return `${path.relative(repo, file)}; ${path.relative(repo, clipped)} -> media/screenshots/tree.png`;
      },
      { required: false },
    );
  } catch (e) {
    if (!(e instanceof Abort)) {
      results.push({ name: 'harness', ok: false, error: e.stack ?? String(e) });
      console.log(`FAIL harness error: ${e.stack ?? e}`);
      await screenshot('FAILED-harness');
    }
  } finally {
    const failed = results.filter((r) => !r.ok);
    if (failed.length && page) {
      writeFileSync(path.join(RESULTS, 'tree-at-failure.txt'), describeRows(await rows().catch(() => [])));
    }
    if (failed.length && server) {
      writeFileSync(path.join(RESULTS, 'code-server.log'), server.output());
      for (const f of await extensionLogs(profile)) {
        const dest = path.join(RESULTS, `ext-${path.basename(path.dirname(f))}-${path.basename(f)}`.replace(/\s+/g, '_'));
        copyFileSync(f, dest.endsWith('.log') ? dest : `${dest}.log`);
        const text = readFileSync(f, 'utf8').trim();
        if (/ZFS Fleet/i.test(f) && text) console.log(`--- ${path.basename(f)} (last lines) ---\n${text.split('\n').slice(-25).join('\n')}`);
      }
    }
    await cleanup();
    if (profile && !opts.keep) await profile.cleanup();
    else if (profile) log(`kept ${profile.root}`);
  }

  const total = CHECKS_TOTAL;
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  const skipped = Math.max(0, total - results.length);
  console.log(
    '\ntimings: ' +
      Object.entries(timings)
        .map(([k, v]) => `${k} ${secs(v)}`)
        .join(', ') +
      `, total ${secs(Date.now() - T0)}`,
  );
  if (failed) {
    console.log(
      `\nFAILED: ${results
        .filter((r) => !r.ok)
        .map((r) => r.name)
        .join('; ')}`,
    );
    console.log(`screenshots and logs: ${path.relative(repo, RESULTS)}/`);
  }
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(failed ? 1 : 0);
}

await main();
