#!/usr/bin/env node
// A user's walk through the snapshot timeline in a real VS Code (code-server 4.100.3 in headless
// Chromium) with the PACKAGED extension, against the lab:
//   1. the ZFS Fleet view: off1 > zfs-hdd > off > products > Snapshots (the seeded dataset);
//   2. a pair off1 -> ovh3 (relay) three snapshots behind, made for the walk; its target's
//      snapshots in the Hosts view (ovh3 > rpool > <root> > products > Snapshots (2));
//   3. "Show Timeline" from the pair's context menu in the Replication view;
//   4. the webview's content, read as a user (or a screen reader) gets it: the lane labels, the
//      summary, the common base (the aria-live announcement after keyboard selection, and the
//      lane's screen-reader text), the tooltip of a mark under the mouse;
//   5. "Sync up to Here" on the second unsent snapshot (right click on the mark), the modal
//      confirmation in the workbench, "Run";
//   6. the tree (the target's Snapshots (4)) and the timeline (the target lane's newest mark, the
//      summary) update; guids compared with ssh.
//
//   node test/e2e/timeline/walk.mjs [--vsix dist/zfs-fleet.vsix] [--build] [--no-lab-up]
//                                   [--keep] [--results DIR] [--no-readme-screenshot]
//
// Datasets: zfs-hdd/e2e-tl-<hex> on off1, rpool/e2e-tl-<hex> on ovh3, destroyed at the end; the
// lab's seeded datasets are only read. Screenshots and the texts read in test-results/e2e/timeline/;
// the timeline after the sync is copied to media/screenshots/timeline-vscode.png when every check
// passed. Last line: `N passed, N failed`.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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
    results: { type: 'string', default: path.join(repo, 'test-results', 'e2e', 'timeline') },
    'readme-screenshot': { type: 'boolean', default: true },
  },
});
const LAB = path.resolve(opts.lab);
const RESULTS = path.resolve(opts.results);
const T0 = Date.now();
const log = (m) => console.log(`[timeline walk ${((Date.now() - T0) / 1000).toFixed(1).padStart(6)} s] ${m}`);

const ROOT = `e2e-tl-${randomBytes(3).toString('hex')}`;
const SRC = `zfs-hdd/${ROOT}/products`;
const DST = `rpool/${ROOT}/products`;
const SNAPS = ['s1', 's2', 's3', 's4', 's5'];
const LABEL = 'products (timeline walk)';
/** The lab's seeded pair (test/lab/lab.sh: ovh3 received up to @20230530-2330 and cloned @20230515-0000): only read. */
const SEED_LABEL = 'products (lab seed)';
/** The seeded dataset's snapshots the walk expects (test/lab/lab.sh). */
const SEEDED = ['20230608-1130', '20230530-2330', '20230515-0000', '20230501-0000'];
const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
const ssh = (host, script) => execFileSync('ssh', ['-F', path.join(LAB, 'ssh_config'), host, `set -e\n${script}`], { encoding: 'utf8' });

function guids(host, ds) {
  const out = ssh(
    host,
    `zfs list -H -t snapshot -o name -r ${q(ds)} | while IFS= read -r s; do printf '%s\\t%s\\n' "\${s#*@}" "$(zfs get -H -p -o value guid "$s")"; done`,
  );
  return Object.fromEntries(
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t')),
  );
}

const results = [];
const texts = {};
let page;
let shots = 0;
let readmeShot;
class Abort extends Error {}

async function screenshot(name, { locator, ...options } = {}) {
  if (!page) return undefined;
  const file = path.join(RESULTS, `${String(++shots).padStart(2, '0')}-${name}.png`);
  try {
    await (locator ?? page).screenshot({ path: file, ...options });
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
    await screenshot(
      `FAILED-${name
        .replace(/[^a-z0-9]+/gi, '-')
        .toLowerCase()
        .slice(0, 60)}`,
    );
    if (required) throw new Abort(name);
  }
}

// ---------------------------------------------------------------------------------------------
// The sidebar: two panes (Hosts, Replication) in the ZFS Fleet container.

const paneOf = (title) => page.locator('.part.sidebar .pane').filter({ has: page.locator('.pane-header', { hasText: title }) });
const ROW = '.monaco-list-row[role="treeitem"]';

async function expandPane(title) {
  const pane = paneOf(title);
  await pane.waitFor({ state: 'visible', timeout: 30_000 });
  const header = pane.locator('.pane-header');
  if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
  return pane;
}

/** The rendered rows of a pane's tree in display order: label, description, level, expanded. */
async function rows(title) {
  return paneOf(title)
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

const describeRows = (list) =>
  list
    .map(
      (r) =>
        `${'  '.repeat(Math.max(0, r.level - 1))}${r.expanded === 'true' ? 'v ' : r.expanded === 'false' ? '> ' : '  '}${r.label}${r.description ? `  — ${r.description}` : ''}`,
    )
    .join('\n');

/** The row at a path of labels (a label may be a RegExp), or undefined. */
function findPath(list, labels) {
  let from = -1;
  let row;
  for (let depth = 0; depth < labels.length; depth++) {
    const level = depth + 1;
    const want = labels[depth];
    row = undefined;
    for (let i = from + 1; i < list.length; i++) {
      const r = list[i];
      if (depth > 0 && r.level < level) break;
      if (r.level === level && (want instanceof RegExp ? want.test(r.label) : r.label === want)) {
        row = r;
        from = i;
        break;
      }
    }
    if (!row) return undefined;
  }
  return row;
}

function childrenOf(list, labels) {
  const parent = findPath(list, labels);
  if (!parent) return [];
  const out = [];
  for (let i = list.indexOf(parent) + 1; i < list.length; i++) {
    const r = list[i];
    if (r.level <= parent.level) break;
    if (r.level === parent.level + 1) out.push(r);
  }
  return out;
}

const pathText = (labels) => labels.map(String).join(' > ');

/** Expand the Hosts row at `labels` by clicking it, wait for children that are not loading. */
async function expand(labels, { timeout = 60_000 } = {}) {
  const row = await waitFor(async () => findPath(await rows('Hosts'), labels), { timeout, what: `tree row ${pathText(labels)}` }).catch(async (e) => {
    throw new Error(`${e.message}\nthe Hosts view shows:\n${describeRows(await rows('Hosts'))}`);
  });
  if (row.expanded === null) throw new Error(`${pathText(labels)} has no children`);
  if (row.expanded !== 'true') {
    const el = paneOf('Hosts').locator(`${ROW}[data-index="${row.index}"]`);
    await el.scrollIntoViewIfNeeded();
    await el.click();
  }
  return waitFor(
    async () => {
      const list = await rows('Hosts');
      const r = findPath(list, labels);
      const kids = childrenOf(list, labels);
      return r?.expanded === 'true' && kids.length > 0 && !kids.some((k) => /^(Connecting|Loading)/i.test(k.label)) ? kids : false;
    },
    { timeout, what: `${pathText(labels)} to expand` },
  ).catch(async (e) => {
    throw new Error(`${e.message}\nthe Hosts view shows:\n${describeRows(await rows('Hosts'))}`);
  });
}

const pairRow = async () => (await rows('Replication')).find((r) => r.label === LABEL);

// ---------------------------------------------------------------------------------------------
// The timeline webview: VS Code's webview iframe, and the content frame inside it.

const webview = () => page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');

/** What the webview shows, read from its DOM: title, lanes (name, detail, badges, screen-reader text), summary, status. */
async function readTimeline() {
  return webview()
    .locator('#app')
    .evaluate((app) => ({
      title: app.querySelector('.title')?.textContent ?? '',
      lanes: [...app.querySelectorAll('.lane-label')].map((l) => ({
        name: l.querySelector('.name')?.textContent ?? '',
        detail: l.querySelector('.detail')?.textContent ?? '',
        badges: [...l.querySelectorAll('.badge')].map((b) => b.textContent),
        sr: [...l.querySelectorAll('.sr-only')].map((s) => s.textContent).join(' '),
      })),
      summary: [...app.querySelectorAll('.summary li')].map((li) => li.textContent),
      status: app.querySelector('.status')?.hidden ? '' : (app.querySelector('.status')?.textContent ?? ''),
      plotLabel: app.querySelector('.plot')?.getAttribute('aria-label') ?? '',
    }));
}

const announcement = () => webview().locator('#timeline-announcement').textContent();

/** The position of mark `name` of lane `lane` relative to the plot's top-left (through the webview's read-only test hook). */
async function markPosition(lane, name) {
  return webview()
    .locator('.plot')
    .evaluate(
      (plot, [l, n]) => {
        const pt = window.__zfsTimeline?.point(l, n);
        if (!pt) return undefined;
        const r = plot.getBoundingClientRect();
        return { x: pt.x - r.left, y: pt.y - r.top, inside: pt.x >= r.left && pt.x <= r.right && pt.y >= r.top && pt.y <= r.bottom };
      },
      [lane, name],
    );
}

/** Focus the plot and press keys; returns the announcement after each key. */
async function keys(...list) {
  const plot = webview().locator('.plot');
  await plot.focus();
  const heard = [];
  for (const k of list) {
    const before = await announcement();
    await plot.press(k);
    // The live region changes when the selection moves; it may not (an edge): then keep polling briefly.
    const now = await waitFor(
      async () => {
        const t = await announcement();
        return t !== before ? t : false;
      },
      { timeout: 1500, interval: 50, what: `the announcement after ${k}` },
    ).catch(() => announcement());
    heard.push(`${k}: ${now}`);
  }
  return heard;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  mkdirSync(RESULTS, { recursive: true });
  for (const f of readdirSync(RESULTS)) if (/\.(png|txt|json)$/.test(f)) rmSync(path.join(RESULTS, f));
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
    await check('the lab is up and the .vsix is built (with the timeline webview)', async () => {
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
      const listing = execFileSync('unzip', ['-l', opts.vsix], { encoding: 'utf8' });
      const webviewFiles = listing
        .split('\n')
        .filter((l) => /extension\/dist\/webview\//.test(l))
        .map((l) => l.trim().split(/\s+/).pop());
      if (!webviewFiles.some((f) => f.endsWith('.js'))) throw new Error(`the .vsix has no dist/webview/*.js:\n${listing}`);
      return `${path.relative(repo, opts.vsix)}: ${webviewFiles.join(', ')}`;
    });

    await check('a pair three snapshots behind is prepared on the lab (off1 -> ovh3)', async () => {
      ssh(
        'off1',
        [
          `zfs create -p ${q(SRC)}`,
          `mp=$(zfs get -H -o value mountpoint ${q(SRC)})`,
          ...SNAPS.flatMap((s, i) => [`head -c ${64 * 1024 * (i + 1)} /dev/urandom > "$mp/${s}.bin"`, `zfs snapshot ${q(`${SRC}@${s}`)}`, 'sleep 1']),
        ].join('\n'),
      );
      ssh('ovh3', `zfs create -p ${q(`rpool/${ROOT}`)}`);
      const cfg = path.join(LAB, 'ssh_config');
      const relay = (send, recv) => execFileSync('bash', ['-o', 'pipefail', '-c', `ssh -F ${q(cfg)} off1 ${q(send)} | ssh -F ${q(cfg)} ovh3 ${q(recv)}`]);
      relay(`zfs send ${q(`${SRC}@s1`)}`, `zfs recv ${q(DST)}`);
      relay(`zfs send -I ${q(`${SRC}@s1`)} ${q(`${SRC}@s2`)}`, `zfs recv ${q(DST)}`);
      return `${SRC}@s1..s5, ${DST}@s1..s2`;
    });

    profile = await makeProfile({
      prefix: 'zfs-fleet-timeline-walk-',
      settings: {
        'zfsFleet.hosts': ['off1', 'ovh3'],
        'zfsFleet.sshConfigPath': path.join(LAB, 'ssh_config'),
        'zfsFleet.knownHostsPath': path.join(LAB, 'known_hosts'),
        'zfsFleet.pairs': [
          { source: `off1:${SRC}`, target: `ovh3:${DST}`, label: LABEL },
          { source: 'off1:zfs-hdd/off/products', target: 'ovh3:rpool/off/products', label: SEED_LABEL },
        ],
        'workbench.colorTheme': 'Default Dark Modern',
      },
    });
    await check('the .vsix installs and code-server starts', async () => {
      await installVsix(profile, opts.vsix);
      server = await startCodeServer(profile);
      return server.url;
    });
    browser = await launchBrowser(profile, { viewport: { width: 1600, height: 1000 } });
    page = browser.pages()[0] ?? (await browser.newPage());

    const activity = '.part.activitybar .action-item a.action-label[aria-label="ZFS Fleet"]';
    await check('the ZFS Fleet view: off1 > zfs-hdd > off > products > Snapshots lists the seeded snapshots', async () => {
      await page.goto(`${server.url}?folder=${encodeURIComponent(profile.workspaceDir)}`, { waitUntil: 'domcontentloaded' });
      await page.locator(activity).waitFor({ state: 'visible', timeout: 60_000 });
      await page.locator(activity).click();
      await expandPane('Hosts');
      await expand(['off1']);
      await expand(['off1', 'zfs-hdd']);
      await expand(['off1', 'zfs-hdd', 'off']);
      const kids = await expand(['off1', 'zfs-hdd', 'off', 'products']);
      const snapsRow = kids.find((k) => /^Snapshots \(\d+\)$/.test(k.label));
      if (!snapsRow) throw new Error(`no "Snapshots (N)" under products: ${kids.map((k) => k.label).join(', ')}`);
      const snaps = (await expand(['off1', 'zfs-hdd', 'off', 'products', snapsRow.label])).map((r) => r.label);
      const missing = SEEDED.filter((s) => !snaps.includes(s));
      if (missing.length) throw new Error(`missing ${missing.join(', ')}; shown: ${snaps.join(', ')}`);
      await screenshot('hosts-off1-products-snapshots');
      return `${snapsRow.label}: ${snaps.join(', ')}`;
    });

    const dstSnapshots = ['ovh3', 'rpool', ROOT, 'products', /^Snapshots \(\d+\)$/];
    await check('the target in the Hosts view: ovh3 > rpool > <root> > products > Snapshots (2): s2, s1', async () => {
      // Collapse off1 so the target's rows fit.
      const off1 = findPath(await rows('Hosts'), ['off1']);
      if (off1?.expanded === 'true') await paneOf('Hosts').locator(`${ROW}[data-index="${off1.index}"]`).click();
      await expand(['ovh3']);
      await expand(['ovh3', 'rpool']);
      await expand(['ovh3', 'rpool', ROOT]);
      await expand(['ovh3', 'rpool', ROOT, 'products']);
      const snaps = (await expand(dstSnapshots)).map((r) => r.label);
      const label = findPath(await rows('Hosts'), dstSnapshots).label;
      if (label !== 'Snapshots (2)' || snaps.join(',') !== 's2,s1') throw new Error(`${label}: ${snaps.join(', ')}`);
      return `${label}: ${snaps.join(', ')}`;
    });

    await check('the Replication view lists the pair as "behind 3"', async () => {
      await expandPane('Replication');
      const row = await waitFor(
        async () => {
          const r = await pairRow();
          return r && r.description && !/checking|loading/i.test(r.description) ? r : false;
        },
        { timeout: 60_000, what: `the row "${LABEL}" with its state` },
      ).catch(async (e) => {
        throw new Error(`${e.message}\nrows: ${describeRows(await rows('Replication'))}`);
      });
      if (row.description !== 'behind 3') throw new Error(`the row says "${row.description}"`);
      return `${row.label} — ${row.description}`;
    });

    await check('"Show Timeline" in the pair\'s context menu opens the timeline panel', async () => {
      const row = paneOf('Replication').locator(ROW, { has: page.locator('.label-name', { hasText: LABEL }) });
      await row.click({ button: 'right' });
      const item = page.locator('.context-view .monaco-menu .action-item .action-label', { hasText: /^Show Timeline$/ });
      await item.waitFor({ state: 'visible', timeout: 10_000 }).catch(async (e) => {
        const items = await page
          .locator('.context-view .monaco-menu .action-item .action-label')
          .allInnerTexts()
          .catch(() => []);
        throw new Error(`${e.message}\nthe context menu has: ${items.join(' | ')}`);
      });
      // VS Code's menu runs an item on mouse up after a mouse down inside the menu; a hover (which
      // focuses the item) then Enter is what works reliably in headless Chromium.
      await item.hover();
      await page.keyboard.press('Enter');
      const t = await waitFor(
        async () => {
          const r = await readTimeline().catch(() => undefined);
          return r && r.lanes.length >= 2 && r.summary.length > 0 ? r : false;
        },
        { timeout: 60_000, what: 'the timeline webview with its lanes and summary' },
      ).catch(async (e) => {
        const tabs = await page
          .locator('.tabs-container .tab .label-name')
          .allInnerTexts()
          .catch(() => []);
        throw new Error(`${e.message}\neditor tabs: ${tabs.join(', ')}`);
      });
      const tabs = await page.locator('.tabs-container .tab .label-name').allInnerTexts();
      return `tab ${tabs.join(', ')}; title "${t.title}"`;
    });

    let before;
    await check('the lanes, the summary and the common base are shown (DOM and aria)', async () => {
      before = await readTimeline();
      texts.before = before;
      const names = before.lanes.map((l) => l.name);
      if (JSON.stringify(names) !== JSON.stringify([`off1:${SRC}`, `ovh3:${DST}`])) throw new Error(`lane labels: ${JSON.stringify(names)}`);
      const summary = before.summary.join(' ');
      if (!/behind by 3\b/i.test(summary) || !/s5/.test(summary))
        throw new Error(`the summary does not say behind by 3 (s3..s5): ${JSON.stringify(before.summary)}`);
      const sr = before.lanes.map((l) => l.sr);
      if (!sr.some((s) => s.includes(`@s2`) && /common base/.test(s)))
        throw new Error(`no lane names its common base @s2 for screen readers: ${JSON.stringify(sr)}`);
      if (!/2 lanes/.test(before.plotLabel)) throw new Error(`the plot's aria-label: ${before.plotLabel}`);
      return `lanes ${names.join(' | ')}; summary: ${before.summary.join(' / ')}`;
    });

    await check("keyboard: the source lane's marks are announced; @s2 is the common base, @s5 not sent yet", async () => {
      const heard = await keys('Home', 'ArrowUp', 'Home', 'ArrowRight');
      texts.keyboardBefore = heard;
      const base = heard[heard.length - 1];
      if (!base.includes(`@s2`) || !/common base/.test(base) || !base.includes('off1')) throw new Error(`after Home, Up, Home, Right: ${heard.join(' || ')}`);
      const end = await keys('End');
      texts.keyboardBefore.push(...end);
      if (!end[0].includes('@s5') || !/not sent/.test(end[0])) throw new Error(`End on the source lane: ${end[0]}`);
      return `${base.replace(/^ArrowRight: /, '')} | ${end[0].replace(/^End: /, '')}`;
    });

    await check('hovering @s4 shows its tooltip (name, host and role, guid, state)', async () => {
      await webview().locator('vscode-button', { hasText: 'Zoom to Fit' }).click();
      await sleep(400); // the zoom transition (300 ms)
      const pos = await waitFor(
        async () => {
          const p = await markPosition(0, 's4');
          return p?.inside ? p : false;
        },
        { timeout: 5000, what: 'the mark @s4 inside the plot' },
      );
      const plot = webview().locator('.plot');
      await plot.hover({ position: { x: pos.x, y: pos.y } });
      const tip = webview().locator('.tooltip');
      await tip.waitFor({ state: 'visible', timeout: 5000 });
      const text = (await tip.innerText()).replace(/\s+/g, ' ');
      texts.tooltip = text;
      const want = [`${SRC}@s4`, 'off1 (source)', 'guid', 'not sent yet'];
      const missing = want.filter((w) => !text.includes(w));
      if (missing.length) throw new Error(`the tooltip lacks ${missing.join(', ')}: ${text}`);
      await screenshot('timeline-tooltip');
      await screenshot('timeline-panel-before', { locator: page.locator('iframe.webview.ready') });
      return text;
    });

    await check('"Sync up to Here" on @s4 (right click) asks for confirmation in a modal naming what it sends', async () => {
      const pos = await markPosition(0, 's4');
      await webview()
        .locator('.plot')
        .click({ button: 'right', position: { x: pos.x, y: pos.y } });
      const menu = webview().locator('ul.menu[role="menu"]');
      await menu.waitFor({ state: 'visible', timeout: 5000 });
      const items = await menu.locator('li[role="menuitem"]').allInnerTexts();
      texts.menu = items;
      if (!items.map((s) => s.trim()).includes('Sync up to Here')) throw new Error(`the menu has: ${items.join(', ')}`);
      await screenshot('timeline-menu');
      await menu.locator('li[data-action="syncTo"]').click();
      const dialog = page.locator('.monaco-dialog-box');
      await dialog.waitFor({ state: 'visible', timeout: 60_000 });
      const text = await dialog.innerText();
      texts.modal = text;
      writeFileSync(path.join(RESULTS, 'sync-confirm.txt'), text);
      if (!/Sync off1:/.test(text) || !/This destroys nothing/.test(text)) throw new Error(`the dialog says: ${text}`);
      if (!text.includes('s4') || /@s5\b/.test(text)) throw new Error(`the dialog does not stop at s4: ${text}`);
      const buttons = await dialog.locator('.dialog-buttons .monaco-button').allInnerTexts();
      if (!buttons.includes('Run')) throw new Error(`buttons: ${buttons.join(', ')}`);
      await sleep(300);
      await screenshot('sync-confirm');
      return `buttons ${buttons.join(' / ')}`;
    });

    const notes = [];
    await check('clicking "Run" syncs up to s4: the pair is "behind 1", the tree shows the target\'s new snapshots', async () => {
      await page.locator('.monaco-dialog-box .dialog-buttons .monaco-button', { hasText: /^Run$/ }).click();
      const toastsSeen = new Set();
      const row = await waitFor(
        async () => {
          for (const t of await page
            .locator('.notifications-toasts .notification-toast')
            .allInnerTexts()
            .catch(() => []))
            toastsSeen.add(t.replace(/\s+/g, ' ').trim());
          const r = await pairRow();
          return r?.description === 'behind 1' ? r : false;
        },
        { timeout: 120_000, what: 'the pair\'s row to say "behind 1"' },
      ).catch(async (e) => {
        throw new Error(`${e.message}\nReplication: ${describeRows(await rows('Replication'))}\nnotifications seen: ${[...toastsSeen].join(' | ')}`);
      });
      texts.notifications = [...toastsSeen];
      // The sync's refresh re-lists ovh3; where the tree lost the expanded rows, expand them again
      // (as a user would) and say so.
      const list = await rows('Hosts');
      if (!findPath(list, dstSnapshots) || findPath(list, dstSnapshots).expanded !== 'true') {
        const shown = describeRows(list)
          .split('\n')
          .filter((l) => /ovh3|rpool|e2e-tl|products|Snapshots/.test(l))
          .join(' / ');
        notes.push(`after the sync's refresh the Hosts view showed: ${shown.trim()} (rows collapsed); expanded again`);
        for (const p of [['ovh3'], ['ovh3', 'rpool'], ['ovh3', 'rpool', ROOT], ['ovh3', 'rpool', ROOT, 'products']]) await expand(p);
        await expand(dstSnapshots);
      }
      const snaps = await waitFor(
        async () => {
          const l = await rows('Hosts');
          const r = findPath(l, dstSnapshots);
          const kids = childrenOf(l, dstSnapshots).map((k) => k.label);
          return r?.label === 'Snapshots (4)' && kids.join(',') === 's4,s3,s2,s1' ? kids : false;
        },
        { timeout: 30_000, what: "the target's Snapshots (4): s4, s3, s2, s1" },
      ).catch(async (e) => {
        throw new Error(`${e.message}\nthe Hosts view shows:\n${describeRows(await rows('Hosts'))}`);
      });
      await screenshot('tree-after-sync');
      const src = guids('off1', SRC);
      const dst = guids('ovh3', DST);
      for (const s of ['s1', 's2', 's3', 's4']) if (src[s] !== dst[s]) throw new Error(`guid of @${s}: ${src[s]} on off1, ${dst[s]} on ovh3`);
      if (dst.s5) throw new Error('s5 was sent too (Sync up to Here stops at s4)');
      return `${row.label} — ${row.description}; target ${snaps.join(', ')}; guids equal; s5 not sent${notes.length ? `; NOTE ${notes.join('; ')}` : ''}`;
    });

    await check("the timeline updates: the target lane's newest mark is @s4, the new common base; the summary says 1 behind", async () => {
      // The plan's preview opened as a tab in the timeline's editor group: show the timeline again.
      await page.locator('.tabs-container .tab', { hasText: 'Timeline:' }).click();
      const after = await waitFor(
        async () => {
          const t = await readTimeline();
          return t.lanes.some((l) => l.sr.includes('@s4')) ? t : false;
        },
        { timeout: 60_000, what: 'a lane naming @s4 as the common base' },
      ).catch(async (e) => {
        throw new Error(`${e.message}\nthe timeline shows: ${JSON.stringify(await readTimeline())}`);
      });
      texts.after = after;
      const pos = await markPosition(1, 's4');
      if (!pos) throw new Error('the target lane has no mark @s4');
      const heard = await keys('Home', 'ArrowDown', 'End');
      texts.keyboardAfter = heard;
      const newest = heard[heard.length - 1];
      if (!newest.includes(`ovh3`) || !newest.includes('@s4') || !/common base/.test(newest))
        throw new Error(`the target lane's newest (Down, End): ${heard.join(' || ')}`);
      const summary = after.summary.join(' ');
      if (summary === before.summary.join(' ')) throw new Error(`the summary did not change: ${summary}`);
      if (!/behind by 1\b/i.test(summary) || !/s5/.test(summary)) throw new Error(`the summary does not say behind by 1 (s5): ${summary}`);
      // From a little before the common base to the newest snapshot, as "Common Base" shows it.
      await webview().locator('vscode-button', { hasText: 'Common Base' }).click();
      await page.mouse.move(5, 500);
      await sleep(600); // the zoom transition (300 ms)
      readmeShot = await screenshot('timeline-after-sync');
      await screenshot('timeline-panel-after', { locator: page.locator('iframe.webview.ready') });
      return `${newest.replace(/^End: /, '')}; summary: ${after.summary.join(' / ')}`;
    });

    await check("the lab's seeded pair (read only): behind by 1, the target lane shows the clone of @20230515-0000", async () => {
      const row = paneOf('Replication').locator(ROW, { has: page.locator('.label-name', { hasText: SEED_LABEL }) });
      await row.click({ button: 'right' });
      const item = page.locator('.context-view .monaco-menu .action-item .action-label', { hasText: /^Show Timeline$/ });
      await item.waitFor({ state: 'visible', timeout: 10_000 });
      await item.hover();
      await page.keyboard.press('Enter');
      const t = await waitFor(
        async () => {
          const r = await readTimeline().catch(() => undefined);
          return r && r.title.includes(SEED_LABEL) && r.lanes.length >= 2 && r.summary.length > 0 ? r : false;
        },
        { timeout: 60_000, what: `the timeline of ${SEED_LABEL}` },
      );
      texts.seed = t;
      const names = t.lanes.map((l) => l.name);
      if (JSON.stringify(names.slice(0, 2)) !== JSON.stringify(['off1:zfs-hdd/off/products', 'ovh3:rpool/off/products']))
        throw new Error(`lanes: ${JSON.stringify(names)}`);
      const summary = t.summary.join(' ');
      if (!/behind by 1\b/i.test(summary) || !summary.includes('20230608-1130')) throw new Error(`the summary: ${summary}`);
      if (!t.lanes[1].sr.includes('@20230530-2330')) throw new Error(`the target lane's common base: ${t.lanes[1].sr}`);
      const clones = await webview().locator('g.clones text.clone-label').allTextContents();
      texts.seedClones = clones;
      if (!clones.some((c) => c.includes('rpool/off/clones/products'))) throw new Error(`clone labels: ${JSON.stringify(clones)}`);
      await page.mouse.move(5, 500);
      await sleep(300);
      await screenshot('timeline-lab-seed');
      return `summary: ${t.summary.join(' / ')}; clones: ${clones.join(', ')}`;
    });
  } catch (e) {
    if (!(e instanceof Abort)) {
      results.push({ name: 'harness', ok: false });
      console.log(`FAIL harness: ${e.stack ?? e}`);
      await screenshot('FAILED-harness');
    }
  } finally {
    writeFileSync(path.join(RESULTS, 'timeline-read.json'), JSON.stringify(texts, null, 2) + '\n');
    await stopAll();
    for (const [host, ds] of [
      ['ovh3', `rpool/${ROOT}`],
      ['off1', `zfs-hdd/${ROOT}`],
    ]) {
      for (let i = 0; i < 10; i++) {
        const out = ssh(host, `zfs list -H -o name ${q(ds)} >/dev/null 2>&1 || { echo gone; exit 0; }; zfs destroy -r -R ${q(ds)} 2>&1 && echo gone || true`);
        if (out.includes('gone')) break;
        await sleep(500);
      }
    }
    if (profile && !opts.keep) await profile.cleanup();
  }
  const failed = results.filter((r) => !r.ok).length;
  const passed = results.length - failed;
  if (!failed && opts['readme-screenshot'] && readmeShot && existsSync(readmeShot)) {
    mkdirSync(path.join(repo, 'media', 'screenshots'), { recursive: true });
    copyFileSync(readmeShot, path.join(repo, 'media', 'screenshots', 'timeline-vscode.png'));
    log('media/screenshots/timeline-vscode.png updated');
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

await main();
