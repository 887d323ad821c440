#!/usr/bin/env node
// A user's look at Fleet Health in a real VS Code (code-server 4.100.3 in headless Chromium) with
// the PACKAGED extension, against the lab, read-only: the lab's seeded replicas on ovh3 are one
// snapshot behind off1 (lab.sh seeds the sources one snapshot ahead), and with the groups' `maxLag`
// at 1m in the workspace's fleet file (the seeded snapshots are minutes old) the lag is a warning. The walk
// opens the view, reads its rows (problems, the three hosts online, their pools), the status bar
// item (its count equals the view's), hovers a pair problem for its inline actions, and clicks the
// status bar item to focus the view.
//
//   node test/e2e/health/walk.mjs [--vsix dist/zfs-fleet.vsix] [--build] [--no-lab-up] [--lab DIR]
//                                 [--keep] [--results DIR] [--no-readme-screenshot]
//
// Screenshots in test-results/e2e/ (health-*.png); the view is copied to
// media/screenshots/health.png when every check passed. Last line: `N passed, N failed`.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { closeBrowser, installVsix, launchBrowser, makeProfile, sleep, startCodeServer, waitFor } from '../lib/codeServer.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const { values: opts } = parseArgs({
  allowNegative: true,
  options: {
    vsix: { type: 'string', default: path.join(repo, 'dist', 'zfs-fleet.vsix') },
    build: { type: 'boolean', default: false },
    'lab-up': { type: 'boolean', default: true },
    lab: { type: 'string', default: process.env.ZFS_FLEET_LAB || '/tmp/zfs-fleet-lab' },
    keep: { type: 'boolean', default: false },
    results: { type: 'string', default: path.join(repo, 'test-results', 'e2e') },
    'readme-screenshot': { type: 'boolean', default: true },
  },
});
const LAB = path.resolve(opts.lab);
const RESULTS = path.resolve(opts.results);
const T0 = Date.now();
const log = (m) => console.log(`[walk ${((Date.now() - T0) / 1000).toFixed(1).padStart(6)} s] ${m}`);

// The lab's three replicas, each a group of the workspace's fleet file whose maxLag (1m) makes the
// lab's lag (minutes at least) a problem; stale datasets are not judged (staleAfter 3650d), so the
// problems are the three replicas behind whatever else the lab holds (other tests' datasets).
const GROUPS = ['products', 'images', 'users'].map((d) => ({
  name: d,
  label: `${d} (lab)`,
  primary: `off1:zfs-hdd/off/${d}`,
  replicas: [`ovh3:rpool/off/${d}`],
  maxLag: '1m',
}));

const results = [];
let page;
let shots = 0;
let viewShot;
class Abort extends Error {}

async function screenshot(name, options = {}) {
  if (!page) return undefined;
  const file = path.join(RESULTS, `health-${String(++shots).padStart(2, '0')}-${name}.png`);
  try {
    await page.screenshot({ path: file, ...options });
    log(`screenshot ${path.relative(repo, file)}`);
    return file;
  } catch (e) {
    log(`(screenshot ${name} failed: ${e.message})`);
    return undefined;
  }
}

async function check(name, fn, { required = true } = {}) {
  const t = Date.now();
  try {
    const detail = await fn();
    results.push({ name, ok: true });
    console.log(`ok   ${name}${detail ? ` (${detail})` : ''} [${((Date.now() - t) / 1000).toFixed(1)} s]`);
  } catch (e) {
    results.push({ name, ok: false });
    console.log(`FAIL ${name}\n     ${String(e.message).replace(/\n/g, '\n     ')}`);
    await screenshot(`FAILED-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`);
    if (required) throw new Abort(name);
  }
}

const paneOf = (title) => page.locator('.part.sidebar .pane').filter({ has: page.locator('.pane-header', { hasText: title }) });
const pane = () => paneOf('Fleet Health');
const rows = async () =>
  pane()
    .locator('.monaco-list-row[role="treeitem"]')
    .evaluateAll((els) =>
      els.map((r) => ({
        label: (r.querySelector('.label-name')?.textContent ?? '').trim(),
        description: (r.querySelector('.label-description')?.textContent ?? '').trim(),
        level: Number(r.getAttribute('aria-level')),
        expanded: r.getAttribute('aria-expanded'),
      })),
    );
/** The rows under a group (level 1) row, up to the next group. */
function under(all, label) {
  const i = all.findIndex((r) => r.level === 1 && r.label === label);
  if (i < 0) return undefined;
  const out = [];
  for (const r of all.slice(i + 1)) {
    if (r.level === 1) break;
    out.push(r);
  }
  return out;
}
const statusItem = () => page.locator('.part.statusbar .statusbar-item', { hasText: /problems?$|Fleet OK$/ }).first();

async function main() {
  mkdirSync(RESULTS, { recursive: true });
  let profile;
  let server;
  let browser;
  const stopAll = async () => {
    await closeBrowser(browser).catch(() => {});
    browser = undefined;
    if (server) await server.stop().catch(() => {});
    server = undefined;
  };
  process.once('SIGINT', async () => {
    await stopAll();
    process.exit(1);
  });
  try {
    await check('the lab is up and the .vsix is built', async () => {
      if (opts['lab-up'] && existsSync(path.join(repo, 'test', 'lab', 'lab.sh'))) {
        const r = spawnSync('bash', [path.join(repo, 'test', 'lab', 'lab.sh'), 'up'], { stdio: 'inherit', env: { ...process.env, ZFS_FLEET_LAB: LAB } });
        if (r.status !== 0) throw new Error('lab.sh up failed');
      }
      if (!existsSync(path.join(LAB, 'lab.json'))) throw new Error(`no ${LAB}/lab.json: run bash test/lab/lab.sh up`);
      if (opts.build) {
        const r = spawnSync('npm', ['run', 'package'], { cwd: repo, stdio: 'inherit' });
        if (r.status !== 0) throw new Error('npm run package failed');
      }
      if (!existsSync(opts.vsix)) throw new Error(`no ${opts.vsix}: run npm run package (or pass --build)`);
      return path.relative(repo, opts.vsix);
    });

    profile = await makeProfile({
      prefix: 'zfs-fleet-health-walk-',
      settings: {
        'zfsFleet.hosts': ['off1', 'ovh3', 'off2'],
        'zfsFleet.sshConfigPath': path.join(LAB, 'ssh_config'),
        'zfsFleet.knownHostsPath': path.join(LAB, 'known_hosts'),
        'zfsFleet.staleAfter': '3650d',
        'workbench.colorTheme': 'Default Dark Modern',
      },
    });
    writeFileSync(path.join(profile.workspaceDir, '.zfs-fleet.json'), JSON.stringify({ groups: GROUPS }, null, 2));
    await check('the .vsix installs and code-server starts', async () => {
      await installVsix(profile, opts.vsix);
      server = await startCodeServer(profile);
      return server.url;
    });
    browser = await launchBrowser(profile, { viewport: { width: 1500, height: 950 } });
    page = browser.pages()[0] ?? (await browser.newPage());

    const activity = '.part.activitybar .action-item a.action-label[aria-label="ZFS Fleet"]';
    let all;
    await check("the Fleet Health view lists the lab's hosts online with their pools", async () => {
      await page.goto(`${server.url}?folder=${encodeURIComponent(profile.workspaceDir)}`, { waitUntil: 'domcontentloaded' });
      await page.locator(activity).waitFor({ state: 'visible', timeout: 60_000 });
      await page.locator(activity).click();
      await pane().waitFor({ state: 'visible', timeout: 20_000 });
      // Room for Fleet Health: the Hosts pane collapsed (the Replication pane is collapsed by default).
      const hostsHeader = paneOf('Hosts').locator('.pane-header');
      if ((await hostsHeader.getAttribute('aria-expanded')) === 'true') await hostsHeader.click();
      const header = pane().locator('.pane-header');
      if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
      all = await waitFor(
        async () => {
          const r = await rows();
          const hosts = under(r, 'Hosts');
          return hosts && hosts.filter((h) => h.level === 2).length === 3 ? r : false;
        },
        { timeout: 120_000, what: 'the Hosts group with three hosts' },
      ).catch(async (e) => {
        throw new Error(`${e.message}\nrows: ${JSON.stringify(await rows())}`);
      });
      const hosts = under(all, 'Hosts').filter((h) => h.level === 2);
      if (JSON.stringify(hosts.map((h) => h.label)) !== JSON.stringify(['off1', 'ovh3', 'off2'])) throw new Error(`hosts: ${JSON.stringify(hosts)}`);
      for (const h of hosts) if (!/^online · /.test(h.description)) throw new Error(`${h.label}: ${h.description}`);
      // Expand off1: its pool with the capacity bar.
      await pane()
        .locator('.monaco-list-row[role="treeitem"][aria-level="2"]', { has: page.locator('.label-name', { hasText: /^off1$/ }) })
        .click();
      const pool = await waitFor(async () => (await rows()).find((r) => r.level === 3 && r.label === 'zfs-hdd'), { timeout: 10_000, what: 'the pool zfs-hdd' });
      if (!/^[▇▁]{5} \d+% · ONLINE$/.test(pool.description)) throw new Error(`zfs-hdd: ${pool.description}`);
      return hosts.map((h) => `${h.label} ${h.description}`).join('; ') + `; zfs-hdd ${pool.description}`;
    });

    await check('Problems come first and name the replicas behind', async () => {
      all = await rows();
      if (all[0]?.label !== 'Problems') throw new Error(`first row: ${JSON.stringify(all[0])}`);
      const problems = under(all, 'Problems');
      const behind = problems.filter((r) => /^behind 1, lag /.test(r.description));
      if (behind.length !== 3) throw new Error(`problems: ${JSON.stringify(problems)}`);
      return `${problems.length} problem rows, e.g. ${behind[0].label} — ${behind[0].description}`;
    });

    await check('the status bar item counts the same problems, on the warning background', async () => {
      const item = statusItem();
      await item.waitFor({ state: 'visible', timeout: 20_000 });
      const text = (await item.innerText()).trim();
      const n = Number(/(\d+) problems?$/.exec(text)?.[1]);
      const problems = under(await rows(), 'Problems');
      if (n !== problems.length) throw new Error(`status bar "${text}", ${problems.length} problem rows`);
      const cls = (await item.getAttribute('class')) ?? '';
      if (!/warning-kind|has-background-color/.test(cls)) throw new Error(`status bar item classes: ${cls}`);
      return `"${text}"`;
    });

    await check('a pair problem offers Diagnose Pair and Show Timeline inline', async () => {
      const row = pane()
        .locator('.monaco-list-row[role="treeitem"][aria-level="2"]', { has: page.locator('.label-description', { hasText: /^behind 1, lag / }) })
        .first();
      await row.hover();
      const labels = await row.locator('.actions a.action-label').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
      if (!labels.includes('Diagnose Pair') || !labels.includes('Show Timeline')) throw new Error(`inline actions: ${labels.join(', ')}`);
      await page.mouse.move(1400, 900);
      await sleep(300);
      viewShot = await screenshot('view');
      return labels.join(', ');
    });

    await check(
      'a wider side bar shows whole descriptions (for the README screenshot)',
      async () => {
        // Drag the sash between the side bar and the editor 260 px to the right.
        const box = await page.locator('.part.sidebar').boundingBox();
        const y = box.y + box.height / 2;
        await page.mouse.move(box.x + box.width + 1, y);
        await page.mouse.down();
        await page.mouse.move(box.x + box.width + 130, y, { steps: 5 });
        await page.mouse.move(box.x + box.width + 260, y, { steps: 5 });
        await page.mouse.up();
        await page.mouse.move(1400, 900);
        await sleep(500);
        const after = await page.locator('.part.sidebar').boundingBox();
        if (after.width < box.width + 100) throw new Error(`the side bar is ${after.width} px wide (was ${box.width})`);
        viewShot = await screenshot('view-wide');
        return `${Math.round(box.width)} -> ${Math.round(after.width)} px`;
      },
      { required: false },
    );

    await check('clicking the status bar item focuses the Fleet Health view', async () => {
      // Focus elsewhere first (the Explorer), then the status bar item brings Fleet Health back.
      await page.keyboard.press('Control+Shift+E');
      await waitFor(async () => !(await pane().isVisible()), { timeout: 10_000, what: 'the Explorer to replace the ZFS Fleet side bar' });
      await statusItem().click();
      await waitFor(async () => pane().locator('.monaco-list.focused, .monaco-list:focus-within').count(), {
        timeout: 10_000,
        what: 'the Fleet Health tree focused',
      });
      return 'focused';
    });
  } catch (e) {
    if (!(e instanceof Abort)) {
      results.push({ name: 'harness', ok: false });
      console.log(`FAIL harness: ${e.stack ?? e}`);
      await screenshot('FAILED-harness');
    }
  } finally {
    await stopAll();
    if (profile && !opts.keep) await profile.cleanup();
  }
  const failed = results.filter((r) => !r.ok).length;
  const passed = results.length - failed;
  if (!failed && opts['readme-screenshot'] && viewShot && existsSync(viewShot)) {
    mkdirSync(path.join(repo, 'media', 'screenshots'), { recursive: true });
    copyFileSync(viewShot, path.join(repo, 'media', 'screenshots', 'health.png'));
    log('media/screenshots/health.png updated');
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

await main();
