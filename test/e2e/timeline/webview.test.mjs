// The timeline webview in headless Chromium: the REAL bundle (dist/webview, built by
// `node esbuild.mjs`) in the harness page (harness/index.html: the panel's CSP in a meta tag, and a
// FAKE acquireVsCodeApi, harness/fake-vscode.js, standing in for VS Code's webview API), fed models
// that the product's builder (src/core/timeline/model.ts) makes from listings recorded from real ZFS
// (test/unit/webview/models.ts). It checks what a user sees and what the extension receives.
//
//   node --test test/e2e/timeline/webview.test.mjs        (from the repository root)
//
// Screenshots go to test-results/timeline/; with ZFS_FLEET_README_SCREENSHOT=1 the dark one is also
// copied to media/screenshots/timeline.png.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { closeBrowser, launchBrowser } from '../lib/codeServer.mjs';
import { startHarnessServer } from './server.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const RESULTS = path.join(REPO, 'test-results', 'timeline');
process.chdir(REPO);

/** The recorded-data models, bundled with esbuild (the builder is TypeScript). */
async function loadModels() {
  const esbuild = await import('esbuild');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'zfs-fleet-timeline-models-'));
  const out = path.join(dir, 'models.cjs');
  await esbuild.build({
    entryPoints: [path.join(REPO, 'test/unit/webview/models.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile: out,
    logLevel: 'error',
  });
  const models = createRequire(import.meta.url)(out);
  rmSync(dir, { recursive: true, force: true });
  return models;
}

/** rgb of a CSS colour as the page resolves it. */
async function cssRgb(page, colour) {
  return page.evaluate((c) => {
    const e = document.createElement('div');
    e.style.color = c;
    document.body.append(e);
    const v = getComputedStyle(e).color;
    e.remove();
    return v
      .match(/\d+(\.\d+)?/g)
      .slice(0, 3)
      .map(Number);
  }, colour);
}

/** The canvas pixel (rgb) at client coordinates. */
async function pixel(page, x, y) {
  return page.evaluate(
    ([x, y]) => {
      const c = document.querySelector('.plot canvas');
      const r = c.getBoundingClientRect();
      const dpr = c.width / r.width;
      const d = c.getContext('2d').getImageData(Math.round((x - r.left) * dpr), Math.round((y - r.top) * dpr), 1, 1).data;
      return [d[0], d[1], d[2], d[3]];
    },
    [x, y],
  );
}

function close(a, b, tol = 6) {
  return a.slice(0, 3).every((v, i) => Math.abs(v - b[i]) <= tol);
}

/** A screenshot down to the bottom of the chart (not the empty page below it). */
async function shot(page, file) {
  const bottom = await page.evaluate(() => Math.ceil(document.querySelector('.plot').getBoundingClientRect().bottom) + 8);
  const { width, height } = page.viewportSize();
  await page.screenshot({ path: path.join(RESULTS, file), clip: { x: 0, y: 0, width, height: Math.min(height, bottom) } });
}

let server;
let browser;
let models;

async function open(theme = 'vscode-dark', { clearState = true } = {}) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.__errors = errors;
  await page.goto(`${server.url}?theme=${theme}`);
  if (clearState) {
    await page.evaluate(() => window.__harness.clearState());
  }
  await page.waitForFunction(() => window.__harness.sent.some((m) => m.type === 'ready'));
  return page;
}

async function deliverModel(page, model) {
  const from = await page.evaluate(() => window.__harness.sent.length);
  await page.evaluate((m) => window.__harness.deliver({ type: 'model', model: m }), model);
  return page.evaluate((from) => window.__harness.next('rendered', from), from);
}

async function point(page, lane, name, kind = 'snapshot') {
  const p = await page.evaluate(([l, n, k]) => window.__zfsTimeline.point(l, n, k), [lane, name, kind]);
  assert.ok(p, `mark ${name} on lane ${lane} is drawn`);
  return p;
}

async function sentSince(page, from) {
  return page.evaluate((from) => window.__harness.sent.slice(from), from);
}

async function noViolations(page) {
  const v = await page.evaluate(() => window.__harness.violations);
  assert.deepEqual(v, [], `CSP violations: ${JSON.stringify(v)}`);
  assert.deepEqual(page.__errors, [], `page errors: ${page.__errors.join('\n')}`);
}

before(async () => {
  if (!existsSync(path.join(REPO, 'dist/webview/timeline.js')) || process.env.ZFS_FLEET_BUILD !== '0') {
    execFileSync(process.execPath, ['esbuild.mjs'], { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  mkdirSync(RESULTS, { recursive: true });
  models = await loadModels();
  server = await startHarnessServer();
  browser = await launchBrowser(undefined, { viewport: { width: 1200, height: 560 } });
});

after(async () => {
  await closeBrowser(browser);
  await server?.close();
});

describe('seed 000 (zfs-fuse lab recording): diverged target, clone, base at risk', () => {
  it('lanes, labels, the base highlighted, the rendered report', async () => {
    const model = models.seed000();
    const page = await open();
    const rendered = await deliverModel(page, model);
    assert.equal(rendered.marks, 5);
    assert.equal(rendered.links, 1);
    assert.ok(rendered.ms >= 0);
    const labels = await page.locator('.lane-label .name').allTextContents();
    assert.deepEqual(
      labels,
      model.lanes.map((l) => `${l.host}:${l.dataset}`),
    );
    const details = await page.locator('.lane-label .detail').allTextContents();
    assert.deepEqual(details, ['source · 2 snapshots', 'target · 3 snapshots']);
    assert.deepEqual(await page.locator('.lane-label .badge').allTextContents(), ['modified?']);
    assert.equal(await page.locator('.summary li').count(), model.summary.length);
    // For screen readers: each lane names its common base.
    const sr = await page.locator('.lane-label .sr-only').allTextContents();
    assert.deepEqual(
      sr,
      model.lanes.map((l) => `common base ${l.dataset}@20230501-0000`),
    );
    // On the canvas: the base is at risk (retention prunes it next): orange fill, red ring; the target-only ones red.
    const base = await point(page, 0, '20230501-0000');
    assert.ok(close(await pixel(page, base.x, base.y), await cssRgb(page, 'var(--vscode-charts-orange)')), 'base filled in the warning colour');
    const tOnly = await point(page, 1, '20230530-2330');
    assert.ok(close(await pixel(page, tOnly.x, tOnly.y), await cssRgb(page, 'var(--vscode-charts-red)')), 'target-only snapshot in red');
    // The base link: green, between the lanes.
    const tBase = await point(page, 1, '20230501-0000');
    assert.ok(close(await pixel(page, base.x, (base.y + tBase.y) / 2), await cssRgb(page, 'var(--vscode-charts-green)')), 'base link in green');
    // The clone's branch is labelled with its name (SVG text).
    assert.deepEqual(await page.locator('.plot .clone-label').allTextContents(), [model.lanes[1].marks[1].clones[0]]);
    await shot(page, 'timeline-seed000-dark.png');
    // Zoom to the common base: the base, the gap and the divergence across the width.
    await page.locator('vscode-button[icon=target]').click();
    await page.waitForTimeout(500);
    assert.match(await page.locator('#timeline-announcement').textContent(), /@20230501-0000, common base/);
    await shot(page, 'timeline-seed000-base-dark.png');
    if (process.env.ZFS_FLEET_README_SCREENSHOT === '1') {
      mkdirSync(path.join(REPO, 'media/screenshots'), { recursive: true });
      copyFileSync(path.join(RESULTS, 'timeline-seed000-base-dark.png'), path.join(REPO, 'media/screenshots/timeline.png'));
    }
    await noViolations(page);
    await page.close();
  });

  it('hover shows the tooltip of the cloned target-only snapshot', async () => {
    const model = models.seed000();
    const page = await open();
    await deliverModel(page, model);
    const m = model.lanes[1].marks[1];
    const pt = await point(page, 1, m.name);
    await page.mouse.move(pt.x, pt.y);
    const tip = page.locator('.tooltip');
    await tip.waitFor({ state: 'visible' });
    const text = await tip.innerText();
    for (const want of [`${model.lanes[1].dataset}@20230515-0000`, 'ovh3 (target)', '88 KiB', m.guid, String(m.createtxg), m.clones[0], 'target only', 'UTC']) {
      assert.ok(text.includes(want), `tooltip has ${want}:\n${text}`);
    }
    await page.mouse.move(5, 5);
    await tip.waitFor({ state: 'hidden' });
    await noViolations(page);
    await page.close();
  });

  it('click reveals; the context menu of a source mark lists what applies and posts the action', async () => {
    const model = models.seed000();
    const page = await open();
    await deliverModel(page, model);
    const lane = model.lanes[0].id;
    const pt = await point(page, 0, '20230608-1130');
    let from = await page.evaluate(() => window.__harness.sent.length);
    await page.mouse.click(pt.x, pt.y);
    assert.deepEqual(await sentSince(page, from), [{ type: 'action', requestId: 1, action: 'reveal', lane, kind: 'snapshot', name: '20230608-1130' }]);

    await page.mouse.click(pt.x, pt.y, { button: 'right' });
    const menu = page.locator('[role=menu]');
    await menu.waitFor({ state: 'visible' });
    assert.deepEqual(await menu.locator('[role=menuitem]').allTextContents(), ['Reveal in Tree', 'Copy Name', 'Sync up to Here', 'Roll Back to Here']);
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Reveal in Tree');
    from = await page.evaluate(() => window.__harness.sent.length);
    await menu.locator('[role=menuitem]', { hasText: 'Sync up to Here' }).click();
    assert.deepEqual(await sentSince(page, from), [{ type: 'action', requestId: 2, action: 'syncTo', lane, kind: 'snapshot', name: '20230608-1130' }]);
    await menu.waitFor({ state: 'hidden' });

    // The base on the source: nothing to sync up to; the cloned target snapshot: rebase its clones.
    const base = await point(page, 0, '20230501-0000');
    await page.mouse.click(base.x, base.y, { button: 'right' });
    assert.deepEqual(await menu.locator('[role=menuitem]').allTextContents(), ['Reveal in Tree', 'Copy Name', 'Roll Back to Here']);
    await page.keyboard.press('Escape');
    await menu.waitFor({ state: 'hidden' });
    assert.equal(await page.evaluate(() => document.activeElement?.className), 'plot', 'Escape gives the focus back to the chart');
    const cloned = await point(page, 1, '20230515-0000');
    await page.mouse.click(cloned.x, cloned.y, { button: 'right' });
    assert.deepEqual(await menu.locator('[role=menuitem]').allTextContents(), [
      'Reveal in Tree',
      'Copy Name',
      'Roll Back to Here',
      'Rebase Clones of This Snapshot',
    ]);
    // Keyboard in the menu: End, Enter.
    from = await page.evaluate(() => window.__harness.sent.length);
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    assert.deepEqual(await sentSince(page, from), [
      { type: 'action', requestId: 3, action: 'rebaseClones', lane: model.lanes[1].id, kind: 'snapshot', name: '20230515-0000' },
    ]);
    await noViolations(page);
    await page.close();
  });

  it('while busy the actions that change ZFS and Refresh are disabled', async () => {
    const model = models.seed000();
    const page = await open();
    await deliverModel(page, model);
    await page.evaluate(() => window.__harness.deliver({ type: 'busy', busy: true }));
    assert.equal(await page.locator('vscode-button[icon=refresh]').getAttribute('disabled'), '');
    const pt = await point(page, 0, '20230608-1130');
    await page.mouse.click(pt.x, pt.y, { button: 'right' });
    const sync = page.locator('[role=menuitem]', { hasText: 'Sync up to Here' });
    assert.equal(await sync.getAttribute('aria-disabled'), 'true');
    const from = await page.evaluate(() => window.__harness.sent.length);
    await sync.click({ force: true });
    assert.deepEqual(await sentSince(page, from), []);
    await page.keyboard.press('Escape');
    await page.evaluate(() => window.__harness.deliver({ type: 'busy', busy: false }));
    assert.equal(await page.locator('vscode-button[icon=refresh]').getAttribute('disabled'), null);
    const from2 = await page.evaluate(() => window.__harness.sent.length);
    await page.locator('vscode-button[icon=refresh]').click();
    assert.deepEqual(await sentSince(page, from2), [{ type: 'refresh' }]);
    await noViolations(page);
    await page.close();
  });

  it('an action round trip: busy, then its actionResult; a failure is named in the status line, a cancel is not', async () => {
    const model = models.seed000();
    const page = await open();
    await deliverModel(page, model);
    const status = page.locator('.status');
    const pt = await point(page, 0, '20230608-1130');
    const menu = page.locator('[role=menu]');
    const sync = async () => {
      await page.mouse.click(pt.x, pt.y, { button: 'right' });
      await menu.waitFor({ state: 'visible' });
      const from = await page.evaluate(() => window.__harness.sent.length);
      await menu.locator('[role=menuitem]', { hasText: 'Sync up to Here' }).click();
      const [sent] = await sentSince(page, from);
      assert.equal(sent.type, 'action');
      assert.equal(sent.action, 'syncTo');
      return sent.requestId;
    };
    // The extension answers as the panel does: busy, busy false, then the result with the same id.
    const answer = (result) =>
      page.evaluate((r) => {
        window.__harness.deliver({ type: 'busy', busy: true });
        window.__harness.deliver({ type: 'busy', busy: false });
        window.__harness.deliver({ type: 'actionResult', ...r });
      }, result);

    const first = await sync();
    await answer({ requestId: first, ok: false, message: 'cannot receive: destination has been modified' });
    assert.equal(await status.isVisible(), true);
    assert.equal(await status.getAttribute('class'), 'status error');
    assert.equal((await status.textContent()).trim(), 'Sync up to Here failed: cannot receive: destination has been modified');
    assert.equal(await page.locator('vscode-button[icon=refresh]').getAttribute('disabled'), null, 'no longer busy');

    const second = await sync();
    assert.notEqual(second, first, 'each action has its own request id');
    await answer({ requestId: second, ok: false, cancelled: true });
    assert.equal(await status.isVisible(), false, 'a cancel is not a failure');

    const third = await sync();
    await answer({ requestId: third, ok: true });
    assert.equal(await status.isVisible(), false);

    // A result for a request this page did not send (it was reloaded while the action ran) still shows.
    await page.evaluate(() => window.__harness.deliver({ type: 'actionResult', requestId: 999, ok: false, message: 'no space' }));
    assert.equal((await status.textContent()).trim(), 'The action failed: no space');
    // An invalid result is not acted on: named in the status line as an invalid message.
    await page.evaluate(() => window.__harness.deliver({ type: 'actionResult', requestId: 'x', ok: true }));
    assert.match(await status.textContent(), /Invalid message from the extension: message\.requestId: expected a non-negative integer/);
    page.__errors.length = 0; // the console.error of the dropped message is expected
    await noViolations(page);
    await page.close();
  });

  it('keyboard: arrows move between marks and lanes, the live region announces, Shift+F10 opens the menu, Enter reveals', async () => {
    const model = models.seed000();
    const page = await open();
    await deliverModel(page, model);
    await page.locator('.plot').focus();
    const live = page.locator('#timeline-announcement');
    await page.keyboard.press('Home');
    assert.match(await live.textContent(), /^off1 zfs-hdd\/rtest-fx\/seed000\/products @20230501-0000, common base, at risk/);
    await page.keyboard.press('ArrowRight');
    assert.match(await live.textContent(), /@20230608-1130, not sent yet, /);
    await page.keyboard.press('ArrowDown');
    assert.match(await live.textContent(), /^ovh3 rpool\/rtest-fx\/seed000\/products @/);
    await page.keyboard.press('End');
    assert.match(await live.textContent(), /@20230530-2330, target only/);
    let from = await page.evaluate(() => window.__harness.sent.length);
    await page.keyboard.press('Enter');
    assert.deepEqual(await sentSince(page, from), [
      { type: 'action', requestId: 1, action: 'reveal', lane: model.lanes[1].id, kind: 'snapshot', name: '20230530-2330' },
    ]);
    await page.keyboard.press('Shift+F10');
    await page.locator('[role=menu]').waitFor({ state: 'visible' });
    await page.keyboard.press('ArrowDown');
    from = await page.evaluate(() => window.__harness.sent.length);
    await page.keyboard.press('Enter');
    assert.deepEqual(await sentSince(page, from), [
      { type: 'action', requestId: 2, action: 'copyName', lane: model.lanes[1].id, kind: 'snapshot', name: '20230530-2330' },
    ]);
    assert.equal(await page.locator('.plot').getAttribute('role'), 'application');
    assert.match(await page.locator('.plot').getAttribute('aria-label'), /2 lanes, 5 marks/);
    await noViolations(page);
    await page.close();
  });

  it('the view state (zoom, selection, model) survives a reload through getState/setState', async () => {
    const model = models.seed000();
    const page = await open();
    await deliverModel(page, model);
    const pt = await point(page, 1, '20230515-0000');
    await page.mouse.click(pt.x, pt.y);
    await page.mouse.move(pt.x, pt.y);
    for (let i = 0; i < 4; i++) await page.mouse.wheel(0, -200);
    // The state is saved half a second after the last change (never during a gesture).
    await page.waitForFunction(() => JSON.parse(sessionStorage.getItem('zfs-fleet-harness-state') ?? '{}').transform?.k > 1.5);
    const before = await page.evaluate(() => window.__zfsTimeline.view());
    assert.ok(before.transform.k > 1.5, `zoomed in: ${JSON.stringify(before)}`);
    assert.deepEqual(before.selected, { lane: model.lanes[1].id, kind: 'snapshot', name: '20230515-0000' });
    const stored = await page.evaluate(() => JSON.parse(sessionStorage.getItem('zfs-fleet-harness-state')));
    assert.equal(stored.version, 1);
    assert.deepEqual(stored.model, JSON.parse(JSON.stringify(model)));

    // Reload: the page draws the saved model before the extension says anything.
    await page.reload();
    const rendered = await page.evaluate(() => window.__harness.next('rendered'));
    assert.equal(rendered.marks, 5);
    const types = await page.evaluate(() => window.__harness.sent.map((m) => m.type));
    assert.deepEqual(types, ['rendered', 'ready']);
    const afterReload = await page.evaluate(() => window.__zfsTimeline.view());
    assert.deepEqual(afterReload.selected, before.selected);
    for (const k of ['k', 'x']) assert.ok(Math.abs(afterReload.transform[k] - before.transform[k]) < 1e-6, `transform.${k} restored`);
    assert.deepEqual(
      await page.locator('.lane-label .name').allTextContents(),
      model.lanes.map((l) => `${l.host}:${l.dataset}`),
    );
    // The same model again from the extension keeps the view.
    await deliverModel(page, model);
    assert.deepEqual((await page.evaluate(() => window.__zfsTimeline.view())).selected, before.selected);
    await noViolations(page);
    await page.close();
  });

  it('switching the theme from dark to high contrast re-reads the colours', async () => {
    const model = models.seed000();
    const page = await open('vscode-dark');
    await deliverModel(page, model);
    const base = await point(page, 0, '20230501-0000');
    const tBase = await point(page, 1, '20230501-0000');
    const mid = [base.x, (base.y + tBase.y) / 2];
    const darkLink = await pixel(page, ...mid);
    assert.ok(close(darkLink, await cssRgb(page, '#89d185')), `dark: base link green, got ${darkLink}`);
    await page.evaluate(() => {
      document.body.className = 'vscode-high-contrast';
    });
    await page.waitForFunction(
      ([x, y]) => {
        const c = document.querySelector('.plot canvas');
        const r = c.getBoundingClientRect();
        const dpr = c.width / r.width;
        const d = c.getContext('2d').getImageData(Math.round((x - r.left) * dpr), Math.round((y - r.top) * dpr), 1, 1).data;
        return d[0] > 200 && d[1] < 160;
      },
      mid,
      { timeout: 5000 },
    );
    const hcLink = await pixel(page, ...mid);
    assert.ok(close(hcLink, await cssRgb(page, '#f38518')), `high contrast: base link in contrastActiveBorder, got ${hcLink}`);
    await shot(page, 'timeline-seed000-hc.png');
    await page.evaluate(() => {
      document.body.className = 'vscode-light';
    });
    await page.waitForTimeout(100);
    assert.ok(close(await pixel(page, ...mid), await cssRgb(page, '#388a34')), 'light: base link in the light green');
    await shot(page, 'timeline-seed000-light.png');
    await noViolations(page);
    await page.close();
  });
});

describe('OpenZFS 2.3 recording: bookmark, holds, clone, written', () => {
  it('draws the bookmark below its snapshot, holds, the in-sync base; tooltip of the bookmark', async () => {
    const model = models.openzfsPair();
    const page = await open();
    const rendered = await deliverModel(page, model);
    assert.equal(rendered.marks, 7);
    assert.equal(rendered.links, 3);
    assert.deepEqual(await page.locator('.lane-label .badge').allTextContents(), ['written']);
    const bm = await point(page, 0, '20230501-0000', 'bookmark');
    const snap = await point(page, 0, '20230501-0000');
    assert.ok(Math.abs(bm.x - snap.x) < 1 && bm.y > snap.y, 'bookmark below its snapshot');
    await page.mouse.move(bm.x, bm.y);
    await page.locator('.tooltip').waitFor({ state: 'visible' });
    const text = await page.locator('.tooltip').innerText();
    assert.ok(text.includes('tank/off/products#20230501-0000'), text);
    assert.ok(!/\bused\b/.test(text), 'a bookmark has no used space');
    const base = await point(page, 0, '20230530-2330');
    assert.ok(close(await pixel(page, base.x, base.y), await cssRgb(page, 'var(--vscode-charts-green)')), 'the base in green');
    await page.mouse.click(bm.x, bm.y, { button: 'right' });
    assert.deepEqual(await page.locator('[role=menuitem]').allTextContents(), ['Reveal in Tree', 'Copy Name']);
    await page.keyboard.press('Escape');
    // Zoom to the common base selects it and announces it.
    await page.locator('vscode-button[icon=target]').click();
    await page.waitForTimeout(400);
    assert.match(await page.locator('#timeline-announcement').textContent(), /@20230530-2330, common base/);
    await shot(page, 'timeline-openzfs-dark.png');
    await noViolations(page);
    await page.close();
  });
});

describe('OpenZFS 2.3 recording: an interrupted receive', () => {
  it('marks the target lane resumable (badge with its explanation, screen-reader text, summary)', async () => {
    const model = models.openzfsResumePair();
    const page = await open();
    await deliverModel(page, model);
    const badges = page.locator('.lane-label .badge');
    assert.deepEqual(await badges.allTextContents(), ['resumable']);
    // The badge is on the target's label, the second lane.
    assert.equal(await page.locator('.lane-label').nth(1).locator('.badge').count(), 1);
    assert.match(await badges.first().getAttribute('title'), /receive_resume_token is set/);
    assert.match((await page.locator('.lane-label').nth(1).innerText()).replace(/\s+/g, ' '), /resumable/);
    assert.match(await page.locator('.summary').innerText(), /partially received stream/);
    await noViolations(page);
    await page.close();
  });
});

describe('a large model (generated listings built by the same builder: bench/timelineModel.ts)', () => {
  it('is left out of the saved state (too large to serialise on every save); zoom and selection wait for the next model', async () => {
    const esbuild = await import('esbuild');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'zfs-fleet-timeline-big-'));
    await esbuild.build({
      entryPoints: [path.join(REPO, 'bench/timelineModel.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      outfile: path.join(dir, 'm.cjs'),
      logLevel: 'error',
    });
    const { model } = createRequire(import.meta.url)(path.join(dir, 'm.cjs')).generatePair(12_000);
    rmSync(dir, { recursive: true, force: true });
    const page = await open();
    const rendered = await deliverModel(page, model);
    assert.equal(
      rendered.marks,
      model.lanes.reduce((s, l) => s + l.marks.length, 0),
    );
    assert.ok(rendered.marks > 20_000);
    await page.locator('vscode-button[icon=target]').click();
    await page.waitForFunction(() => JSON.parse(sessionStorage.getItem('zfs-fleet-harness-state') ?? '{}').transform?.k > 2);
    const stored = await page.evaluate(() => JSON.parse(sessionStorage.getItem('zfs-fleet-harness-state')));
    assert.equal(stored.model, undefined);
    assert.deepEqual(stored.subject, model.subject);
    const before = await page.evaluate(() => window.__zfsTimeline.view());
    assert.match(before.selected.name, /^auto-/);
    await page.reload();
    await page.waitForFunction(() => window.__harness.sent.some((m) => m.type === 'ready'));
    assert.deepEqual(await page.evaluate(() => window.__harness.sent.map((m) => m.type)), ['ready']);
    await deliverModel(page, model);
    const after = await page.evaluate(() => window.__zfsTimeline.view());
    assert.deepEqual(after.selected, before.selected);
    assert.ok(Math.abs(after.transform.k - before.transform.k) < 1e-6);
    await noViolations(page);
    await page.close();
  });
});

describe('messages and security', () => {
  it('an invalid message is named and dropped; loading and error are shown; the chart stays', async () => {
    const model = models.seed000();
    const page = await open();
    await deliverModel(page, model);
    await page.evaluate(() => window.__harness.deliver({ type: 'model', model: { title: 'x', takenAt: 1, lanes: [{}], links: [], summary: [] } }));
    const status = page.locator('.status');
    await status.waitFor({ state: 'visible' });
    assert.match(await status.textContent(), /Invalid message from the extension: message\.model\.lanes\[0\]\.id: expected a string/);
    assert.equal(await page.locator('.lane-label').count(), 2);
    page.__errors.length = 0; // the app logged the dropped message on purpose
    await page.evaluate(() => window.__harness.deliver({ type: 'loading', title: 'off1 → ovh3' }));
    assert.equal(await status.textContent(), 'Loading off1 → ovh3…');
    await page.evaluate(() => window.__harness.deliver({ type: 'error', message: 'ovh3: connection refused' }));
    assert.equal(await status.textContent(), 'ovh3: connection refused');
    assert.ok(await status.evaluate((e) => e.classList.contains('error')));
    await noViolations(page);
    await page.close();
  });

  it('host-provided names reach the DOM as text, never as markup', async () => {
    const model = models.seed000();
    // The same recorded model with a host alias that is markup (an ssh-config alias can be any string).
    const evil = '<img src=x onerror="window.__pwned=1">';
    model.lanes[0].host = evil;
    model.title = evil;
    const page = await open();
    await deliverModel(page, model);
    assert.equal(await page.locator('.toolbar .title').textContent(), evil);
    assert.equal(await page.locator('#app img').count(), 0);
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    await noViolations(page);
    await page.close();
  });

  it('the CSP listener catches a violation (so "no violations" above means something)', async () => {
    const page = await open();
    await page.evaluate(() => {
      const s = document.createElement('style');
      s.textContent = 'body { color: red }';
      document.head.append(s);
    });
    await page.waitForFunction(() => window.__harness.violations.length > 0);
    const v = await page.evaluate(() => window.__harness.violations);
    assert.match(v[0].directive, /^style-src/);
    await page.close();
  });
});
