#!/usr/bin/env node
// A user's walk through replication in a real VS Code (code-server 4.100.3 in headless Chromium)
// with the PACKAGED extension, against the lab: a pair off1 -> ovh3 (relay) one snapshot behind is
// shown in the Replication view, Sync Pair is clicked on its row, the plan preview opens with the
// MODAL confirmation, "Run" is clicked in the dialog, and the row becomes "in sync".
//
//   node test/e2e/replication/walk.mjs [--vsix dist/zfs-fleet.vsix] [--build] [--no-lab-up]
//                                      [--keep] [--results DIR] [--no-readme-screenshot]
//
// Datasets: zfs-hdd/e2e-repl-<hex> on off1, rpool/e2e-repl-<hex> on ovh3, destroyed at the end.
// Screenshots in test-results/e2e/ (replication-*.png); the confirmation is copied to
// media/screenshots/replication.png when every check passed. Last line: `N passed, N failed`.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
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

const ROOT = `e2e-repl-${randomBytes(3).toString('hex')}`;
const SRC = `zfs-hdd/${ROOT}/products`;
const DST = `rpool/${ROOT}/products`;
const LABEL = 'products (walk)';
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
let page;
let shots = 0;
let confirmShot;
class Abort extends Error {}

async function screenshot(name, options = {}) {
  if (!page) return undefined;
  const file = path.join(RESULTS, `replication-${String(++shots).padStart(2, '0')}-${name}.png`);
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

// The Replication pane of the ZFS Fleet container and its rows.
const pane = () => page.locator('.part.sidebar .pane').filter({ has: page.locator('.pane-header', { hasText: 'Replication' }) });
const pairRows = async () =>
  pane()
    .locator('.monaco-list-row[role="treeitem"]')
    .evaluateAll((els) =>
      els.map((r) => ({
        label: (r.querySelector('.label-name')?.textContent ?? '').trim(),
        description: (r.querySelector('.label-description')?.textContent ?? '').trim(),
      })),
    );
const pairRow = async () => (await pairRows()).find((r) => r.label === LABEL);

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

    await check('a pair one snapshot behind is prepared on the lab (off1 -> ovh3)', async () => {
      ssh(
        'off1',
        [
          `zfs create -p ${q(SRC)}`,
          `mp=$(zfs get -H -o value mountpoint ${q(SRC)})`,
          ...['s1', 's2', 's3'].flatMap((s, i) => [
            `head -c ${64 * 1024 * (i + 1)} /dev/urandom > "$mp/${s}.bin"`,
            `zfs snapshot ${q(`${SRC}@${s}`)}`,
            'sleep 1',
          ]),
        ].join('\n'),
      );
      ssh('ovh3', `zfs create -p ${q(`rpool/${ROOT}`)}`);
      const cfg = path.join(LAB, 'ssh_config');
      const relay = (send, recv) => execFileSync('bash', ['-o', 'pipefail', '-c', `ssh -F ${q(cfg)} off1 ${q(send)} | ssh -F ${q(cfg)} ovh3 ${q(recv)}`]);
      relay(`zfs send ${q(`${SRC}@s1`)}`, `zfs recv ${q(DST)}`);
      relay(`zfs send -I ${q(`${SRC}@s1`)} ${q(`${SRC}@s2`)}`, `zfs recv ${q(DST)}`);
      return `${SRC}@s1..s3, ${DST}@s1..s2`;
    });

    profile = await makeProfile({
      prefix: 'zfs-fleet-walk-',
      settings: {
        'zfsFleet.hosts': ['off1', 'ovh3'],
        'zfsFleet.sshConfigPath': path.join(LAB, 'ssh_config'),
        'zfsFleet.knownHostsPath': path.join(LAB, 'known_hosts'),
        'zfsFleet.pairs': [{ source: `off1:${SRC}`, target: `ovh3:${DST}`, label: LABEL }],
        'workbench.colorTheme': 'Default Dark Modern',
      },
    });
    await check('the .vsix installs and code-server starts', async () => {
      await installVsix(profile, opts.vsix);
      server = await startCodeServer(profile);
      return server.url;
    });
    browser = await launchBrowser(profile, { viewport: { width: 1500, height: 950 } });
    page = browser.pages()[0] ?? (await browser.newPage());

    const activity = '.part.activitybar .action-item a.action-label[aria-label="ZFS Fleet"]';
    await check('the Replication view lists the pair as "behind 1"', async () => {
      await page.goto(`${server.url}?folder=${encodeURIComponent(profile.workspaceDir)}`, { waitUntil: 'domcontentloaded' });
      await page.locator(activity).waitFor({ state: 'visible', timeout: 60_000 });
      await page.locator(activity).click();
      await pane().waitFor({ state: 'visible', timeout: 20_000 });
      // Both views share the container: make sure the Replication pane is expanded.
      const header = pane().locator('.pane-header');
      if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
      const row = await waitFor(
        async () => {
          const r = await pairRow();
          return r && r.description && !/checking/.test(r.description) ? r : false;
        },
        { timeout: 60_000, what: `the row "${LABEL}" with its state` },
      ).catch(async (e) => {
        throw new Error(`${e.message}\nrows: ${JSON.stringify(await pairRows())}`);
      });
      if (row.description !== 'behind 1') throw new Error(`the row says "${row.description}"`);
      await screenshot('behind');
      return `${row.label} — ${row.description}`;
    });

    await check("Sync Pair (the row's inline action) opens the plan preview and a modal confirmation", async () => {
      const row = pane().locator('.monaco-list-row[role="treeitem"]', { has: page.locator('.label-name', { hasText: LABEL }) });
      await row.hover();
      await row.locator('.actions a.action-label[aria-label="Sync Pair"]').click();
      const dialog = page.locator('.monaco-dialog-box');
      await dialog.waitFor({ state: 'visible', timeout: 60_000 });
      const text = await dialog.innerText();
      if (!/Sync off1:/.test(text) || !/This destroys nothing/.test(text)) throw new Error(`the dialog says: ${text}`);
      const buttons = await dialog.locator('.dialog-buttons a.monaco-button, .dialog-buttons .monaco-button').allInnerTexts();
      if (!buttons.includes('Run') || !buttons.includes('Send to Terminal')) throw new Error(`buttons: ${buttons.join(', ')}`);
      // The preview document behind the dialog.
      const tab = await page.locator('.tabs-container .tab .label-name').allInnerTexts();
      if (!tab.some((t) => t.startsWith('Sync off1_'))) throw new Error(`no plan preview tab (tabs: ${tab.join(', ')})`);
      await sleep(300);
      const shot = await screenshot('confirm');
      confirmShot = shot;
      writeFileSync(path.join(RESULTS, 'replication-confirm.txt'), text);
      return `buttons ${buttons.join(' / ')}`;
    });

    await check('clicking "Run" syncs: the row becomes "in sync" and the guids match', async () => {
      await page.locator('.monaco-dialog-box .dialog-buttons .monaco-button', { hasText: /^Run$/ }).click();
      // A notification with the progress, then the result.
      await page
        .locator('.notifications-toasts .notification-toast')
        .first()
        .waitFor({ state: 'visible', timeout: 30_000 })
        .catch(() => {});
      await screenshot('running');
      const row = await waitFor(
        async () => {
          const r = await pairRow();
          return r?.description === 'in sync' ? r : false;
        },
        { timeout: 90_000, what: 'the row to say "in sync"' },
      ).catch(async (e) => {
        const toasts = await page
          .locator('.notifications-toasts .notification-toast')
          .allInnerTexts()
          .catch(() => []);
        throw new Error(`${e.message}\nrows: ${JSON.stringify(await pairRows())}\nnotifications: ${toasts.join(' | ')}`);
      });
      const src = guids('off1', SRC);
      const dst = guids('ovh3', DST);
      if (JSON.stringify(src) !== JSON.stringify(dst)) throw new Error(`guids differ: ${JSON.stringify(src)} vs ${JSON.stringify(dst)}`);
      await page.mouse.move(1400, 900);
      await sleep(500);
      await screenshot('in-sync');
      return `${row.label} — ${row.description}; ${Object.keys(dst).join(', ')}`;
    });

    await check(
      'Show Replication History lists the sync',
      async () => {
        await page.keyboard.press('F1');
        const box = page.locator('.quick-input-widget .quick-input-box input');
        await box.waitFor({ state: 'visible', timeout: 10_000 });
        await box.fill('>ZFS Fleet: Show Replication History');
        await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Show Replication History' }).first().waitFor({ timeout: 10_000 });
        await page.keyboard.press('Enter');
        const editor = page.locator('.editor-instance .view-lines');
        await waitFor(
          async () =>
            /OK: Sync off1:/.test(
              (
                await editor
                  .first()
                  .innerText()
                  .catch(() => '')
              ).replace(/\u00a0/g, ' '),
            ),
          { timeout: 20_000, what: 'the history document' },
        );
        await screenshot('history');
        return 'OK: Sync …';
      },
      { required: false },
    );
  } catch (e) {
    if (!(e instanceof Abort)) {
      results.push({ name: 'harness', ok: false });
      console.log(`FAIL harness: ${e.stack ?? e}`);
      await screenshot('FAILED-harness');
    }
  } finally {
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
  if (!failed && opts['readme-screenshot']) {
    if (confirmShot && existsSync(confirmShot)) {
      mkdirSync(path.join(repo, 'media', 'screenshots'), { recursive: true });
      copyFileSync(confirmShot, path.join(repo, 'media', 'screenshots', 'replication.png'));
      log('media/screenshots/replication.png updated');
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

await main();
