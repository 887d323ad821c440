#!/usr/bin/env node
// A user's look at Fleet Health in a real VS Code (code-server 4.100.3 in headless Chromium) with
// the PACKAGED extension, against the lab with the problems an operator meets staged on it:
//   - a host down: off2's sshd stopped;
//   - a degraded pool: a mirror of two files on ovh3 (zf-walk-mirror) with one side `zpool offline`;
//   - a diverged replica: a snapshot of ovh3's own on the users replica, newer than the common base;
//   - a stale dataset: the images group's `staleAfter` is 1s in the workspace's fleet file;
//   - pairs behind: the lab's replicas are one snapshot behind (lab.sh seeds the sources one ahead)
//     and the groups' `maxLag` is 1m.
// `zfs-fleet check` says each with its line and exits 2; `zfs-fleet agent --once` records them in
// the store the extension uses (`zfsFleet.store`), and `check --from-store` says the same. The walk
// opens the view: its first read is the agent's record ("(store)"), the problems first (critical,
// then warning), off2 offline, the status bar item counting them on the error background; a pair
// problem offers its inline actions; Refresh reads the hosts themselves and finds the same. Then
// the lab is put back (sshd started by `lab.sh up`, the mirror and the snapshot destroyed; also on
// a failure or Ctrl-C, since other suites use the lab after this one), Refresh shows off2 online
// and only warnings left, and the status bar item focuses the view.
//
//   node test/e2e/health/walk.mjs [--vsix dist/zfs-fleet.vsix] [--build] [--no-lab-up] [--lab DIR]
//                                 [--keep] [--results DIR] [--no-readme-screenshot]
//
// Needs dist/cli.js (npm run build). Screenshots in test-results/e2e/ (health-*.png); the view with
// the problems is copied to media/screenshots/health.png when every check passed. Last line:
// `N passed, N failed`.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { closeBrowser, installVsix, launchBrowser, makeProfile, sleep, startCodeServer, waitFor, writeSettings } from '../lib/codeServer.mjs';

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
const CLI = path.join(repo, 'dist', 'cli.js');
const T0 = Date.now();
const log = (m) => console.log(`[walk ${((Date.now() - T0) / 1000).toFixed(1).padStart(6)} s] ${m}`);

// The lab's three replicas, each a group of the workspace's fleet file whose maxLag (1m) makes the
// lab's lag (minutes at least) a problem. Stale datasets are judged only for the images group's
// source (its staleAfter 1s; zfsFleet.staleAfter and check's --stale-after are 3650d), so the
// problems are the staged ones, not whatever else the lab holds (other tests' datasets).
const GROUPS = ['products', 'images', 'users'].map((d) => ({
  name: d,
  label: `${d} (lab)`,
  primary: `off1:zfs-hdd/off/${d}`,
  replicas: [`ovh3:rpool/off/${d}`],
  maxLag: '1m',
  ...(d === 'images' ? { staleAfter: '1s' } : {}),
}));
const HOSTS = ['off1', 'ovh3', 'off2'];
const pairId = (d) => `off1:zfs-hdd/off/${d}->ovh3:rpool/off/${d}`;

// The staged problems and how each is undone.
const DOWN = 'off2';
const MIRROR = 'zf-walk-mirror';
const MIRROR_FILES = [1, 2].map((i) => path.join(LAB, 'hosts', 'ovh3', `zf-walk-mirror${i}.img`));
const OWN_SNAPSHOT = 'rpool/off/users@zf-walk-own';

/** A command on a lab host over OpenSSH (set-up and clean-up, not what the walk checks). */
function onHost(host, command, { check = true } = {}) {
  const r = spawnSync('ssh', ['-F', path.join(LAB, 'ssh_config'), '-o', 'BatchMode=yes', host, command], { encoding: 'utf8', timeout: 120_000 });
  if (check && r.status !== 0) throw new Error(`ssh ${host} ${command}: exit ${r.status}: ${(r.stderr ?? '').trim()}`);
  return r;
}
/** A lab host's own zpool (its zfs-fuse daemon), run here: the mirror's files live in the lab's directory. */
function zpool(host, args, { check = true } = {}) {
  const r = spawnSync(path.join(LAB, 'hosts', host, 'zpool'), args, { encoding: 'utf8', timeout: 120_000 });
  if (check && r.status !== 0) throw new Error(`zpool ${args.join(' ')} on ${host}: exit ${r.status}: ${(r.stderr ?? '').trim()}`);
  return r;
}
function labSh(...args) {
  const r = spawnSync('bash', [path.join(repo, 'test', 'lab', 'lab.sh'), ...args], { stdio: 'inherit', env: { ...process.env, ZFS_FLEET_LAB: LAB } });
  if (r.status !== 0) throw new Error(`lab.sh ${args.join(' ')} failed`);
}

async function stageProblems() {
  // A degraded pool on ovh3.
  restored = false;
  zpool('ovh3', ['destroy', '-f', MIRROR], { check: false });
  if (spawnSync('truncate', ['-s', '128M', ...MIRROR_FILES]).status !== 0) throw new Error(`truncate ${MIRROR_FILES.join(' ')} failed`);
  zpool('ovh3', ['create', '-f', MIRROR, 'mirror', ...MIRROR_FILES]);
  zpool('ovh3', ['offline', MIRROR, MIRROR_FILES[1]]);
  // A diverged replica: a snapshot taken on the replica, newer than the common base.
  onHost('ovh3', `zfs list -H -o name ${OWN_SNAPSHOT} >/dev/null 2>&1 || zfs snapshot ${OWN_SNAPSHOT}`);
  // A host down: its sshd stopped (its zfs-fuse keeps running).
  const pid = Number(readFileSync(path.join(LAB, 'hosts', DOWN, 'sshd.pid'), 'utf8').trim());
  process.kill(pid, 'SIGTERM');
  await waitFor(
    () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    },
    { timeout: 10_000, what: `${DOWN}'s sshd to stop` },
  );
}

let restored = true;
/** Undoes stageProblems (each part whether or not it was staged); the lab as other suites expect it. */
function restoreLab() {
  const errors = [];
  const attempt = (fn) => {
    try {
      fn();
    } catch (e) {
      errors.push(e.message);
    }
  };
  // ovh3's parts first (its sshd is up), then off2's sshd through lab.sh up (idempotent; tried twice:
  // it gives a host 15 s to answer, which a loaded machine can miss).
  attempt(() => {
    if (onHost('ovh3', `zfs list -H -o name ${OWN_SNAPSHOT}`, { check: false }).status === 0) onHost('ovh3', `zfs destroy ${OWN_SNAPSHOT}`);
  });
  attempt(() => {
    if (zpool('ovh3', ['list', '-H', '-o', 'name', MIRROR], { check: false }).status === 0) zpool('ovh3', ['destroy', '-f', MIRROR]);
    for (const f of MIRROR_FILES) rmSync(f, { force: true });
  });
  attempt(() => {
    try {
      labSh('up');
    } catch {
      labSh('up');
    }
  });
  if (errors.length) throw new Error(`the lab could not be put back: ${errors.join('; ')}`);
  restored = true;
}

/** The CLI (dist/cli.js) against the lab. */
function cli(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args, '--ssh-config', path.join(LAB, 'ssh_config'), '--known-hosts', path.join(LAB, 'known_hosts')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

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
        icon: /codicon-(error|warning|question|pass)\b/.exec(r.querySelector('.custom-view-tree-node-item-icon')?.className ?? '')?.[1] ?? '',
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

/** The Problems rows as `icon label — description`, for messages. */
const said = (rs) => rs.map((r) => `${r.icon} ${r.label} — ${r.description}`).join('; ');
/** The view's description (`checked 08:12:03 (store)`). */
const viewDescription = async () =>
  (
    (await pane()
      .locator('.pane-header .description')
      .textContent()
      .catch(() => '')) ?? ''
  ).trim();

/** The staged problems as rows of the Problems group: [icon, label, description]. */
function expectStaged(problems) {
  const want = [
    ['error', (l) => l === DOWN, (d) => d === 'unreachable'],
    ['error', (l) => l === `ovh3:${MIRROR}`, (d) => d === 'DEGRADED'],
    ['error', (l) => /^users\b/.test(l), (d) => d === 'diverged'],
    ['warning', (l) => l === 'off1:zfs-hdd/off/images', (d) => /^newest snapshot \d+\w.* old$/.test(d)],
    ['warning', (l) => /^products\b/.test(l), (d) => /^behind 1, lag /.test(d)],
    ['warning', (l) => /^images\b/.test(l), (d) => /^behind 1, lag /.test(d)],
  ];
  const missing = want.filter(([icon, label, desc]) => !problems.some((r) => r.icon === icon && label(r.label) && desc(r.description)));
  if (missing.length) throw new Error(`${missing.length} staged problem(s) not shown; the rows: ${said(problems)}`);
  // Critical first: every error row before every warning row.
  const lastError = problems.map((r) => r.icon).lastIndexOf('error');
  const firstWarning = problems.map((r) => r.icon).indexOf('warning');
  if (firstWarning >= 0 && lastError > firstWarning) throw new Error(`a warning before a critical problem: ${said(problems)}`);
}

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
  const putBack = () => {
    if (restored) return;
    try {
      restoreLab();
      log('the lab is put back');
    } catch (e) {
      console.log(`FAIL putting the lab back: ${e.message}`);
      results.push({ name: 'the lab is put back', ok: false });
    }
  };
  for (const sig of ['SIGINT', 'SIGTERM'])
    process.once(sig, async () => {
      putBack();
      await stopAll();
      process.exit(1);
    });
  try {
    await check('the lab is up, the .vsix and the CLI are built', async () => {
      if (opts['lab-up'] && existsSync(path.join(repo, 'test', 'lab', 'lab.sh'))) labSh('up');
      if (!existsSync(path.join(LAB, 'lab.json'))) throw new Error(`no ${LAB}/lab.json: run bash test/lab/lab.sh up`);
      if (opts.build) {
        const r = spawnSync('npm', ['run', 'package'], { cwd: repo, stdio: 'inherit' });
        if (r.status !== 0) throw new Error('npm run package failed');
      }
      if (!existsSync(opts.vsix)) throw new Error(`no ${opts.vsix}: run npm run package (or pass --build)`);
      if (!existsSync(CLI)) throw new Error(`no ${CLI}: run npm run build`);
      return path.relative(repo, opts.vsix);
    });

    const settings = {
      'zfsFleet.hosts': HOSTS,
      'zfsFleet.sshConfigPath': path.join(LAB, 'ssh_config'),
      'zfsFleet.knownHostsPath': path.join(LAB, 'known_hosts'),
      'zfsFleet.staleAfter': '3650d',
      'workbench.colorTheme': 'Default Dark Modern',
    };
    profile = await makeProfile({ prefix: 'zfs-fleet-health-walk-', settings });
    // The store the agent writes and the extension reads: the setting, as a team's agent and editors share one.
    const store = path.join(profile.root, 'fleet.db');
    await writeSettings(profile, { ...settings, 'zfsFleet.store': store });
    const fleetFile = path.join(profile.workspaceDir, '.zfs-fleet.json');
    writeFileSync(fleetFile, JSON.stringify({ groups: GROUPS }, null, 2));
    const scope = ['--fleet', fleetFile, ...HOSTS];
    const checkArgs = ['check', '--stale-after', '3650d', ...scope];

    await check(`problems staged on the lab: ${DOWN}'s sshd stopped, ovh3:${MIRROR} degraded, ovh3:${OWN_SNAPSHOT} taken on the replica`, async () => {
      await stageProblems();
      const status = zpool('ovh3', ['list', '-H', '-o', 'name,health', MIRROR]).stdout.trim();
      if (status !== `${MIRROR}\tDEGRADED`) throw new Error(`zpool list: ${JSON.stringify(status)}`);
      return status.replace('\t', ' ');
    });

    await check('zfs-fleet check says each problem with its line and exits 2 (CRITICAL)', async () => {
      const r = await cli(checkArgs);
      const lines = r.stdout.split('\n');
      const want = [
        new RegExp(`^\\[CRITICAL\\] ${DOWN}: unreachable: .*(refused|ECONNREFUSED)`),
        new RegExp(`^\\[CRITICAL\\] ovh3:${MIRROR}: pool is DEGRADED \\(not ONLINE\\)$`),
        new RegExp(`^\\[CRITICAL\\] ${pairId('users')}: diverged: the target has 1 snapshot\\(s\\) newer than the common base$`),
        /^\[WARNING\] off1:zfs-hdd\/off\/images: newest snapshot @\S+ is .* old \(over 1s\)$/,
        new RegExp(`^\\[WARNING\\] ${pairId('products')}: behind by 1 snapshot\\(s\\), lag .* \\(over 1m\\)$`),
      ];
      const missing = want.filter((re) => !lines.some((l) => re.test(l)));
      if (r.code !== 2 || !/^ZFS FLEET CRITICAL - \d+ critical/.test(lines[0]) || missing.length)
        throw new Error(`exit ${r.code}; missing ${missing.join(', ') || 'nothing'}\n${r.stdout}${r.stderr}`);
      return `exit 2, "${lines[0].slice(0, 90)}…"`;
    });

    await check('zfs-fleet agent --once records them in the store; check --from-store says the same', async () => {
      const a = await cli(['agent', '--once', '--store', store, ...scope]);
      if (a.code !== 0 || !new RegExp(`2/3 hosts up \\(down: ${DOWN}\\), \\d+ pools`).test(a.stderr)) throw new Error(`agent: exit ${a.code}\n${a.stderr}`);
      const live = await cli(checkArgs);
      const stored = await cli([...checkArgs, '--from-store', '--store', store]);
      // The same lines but for the figures that move between two reads (ages, listing times, sizes) and the perfdata.
      const comparable = (out) => out.replace(/\|.*$/gm, '').replace(/\d+(\.\d+)?/g, 'N');
      if (stored.code !== 2 || comparable(stored.stdout) !== comparable(live.stdout))
        throw new Error(`from the store: exit ${stored.code}\n${stored.stdout}\nlive:\n${live.stdout}`);
      return a.stderr.trim().split('\n').pop();
    });

    await check('the .vsix installs and code-server starts', async () => {
      await installVsix(profile, opts.vsix);
      server = await startCodeServer(profile);
      return server.url;
    });
    browser = await launchBrowser(profile, { viewport: { width: 1500, height: 950 } });
    page = browser.pages()[0] ?? (await browser.newPage());

    const activity = '.part.activitybar .action-item a.action-label[aria-label="ZFS Fleet"]';
    let all;
    await check("the Fleet Health view opens on the agent's record: the problems first, critical before warning", async () => {
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
          return under(r, 'Hosts')?.some((h) => h.level === 2) ? r : false;
        },
        { timeout: 120_000, what: 'the Hosts group' },
      ).catch(async (e) => {
        throw new Error(`${e.message}\nrows: ${JSON.stringify(await rows())}`);
      });
      const desc = await viewDescription();
      if (!/^checked \d\d:\d\d(:\d\d)? \(store\)$/.test(desc)) throw new Error(`the view's description: "${desc}" (not the store's record)`);
      if (all[0]?.label !== 'Problems' || !/^\d+ critical, \d+ warning/.test(all[0].description)) throw new Error(`first row: ${JSON.stringify(all[0])}`);
      const problems = under(all, 'Problems');
      expectStaged(problems);
      return `"${desc}"; Problems: ${all[0].description}: ${said(problems)}`;
    });

    await check('the status bar item counts the same problems, on the error background', async () => {
      const item = statusItem();
      await item.waitFor({ state: 'visible', timeout: 20_000 });
      const text = (await item.innerText()).trim();
      const n = Number(/(\d+) problems?$/.exec(text)?.[1]);
      const problems = under(await rows(), 'Problems');
      if (n !== problems.length) throw new Error(`status bar "${text}", ${problems.length} problem rows`);
      const cls = (await item.getAttribute('class')) ?? '';
      if (!/error-kind|has-background-color/.test(cls)) throw new Error(`status bar item classes: ${cls}`);
      return `"${text}"`;
    });

    await check('the diverged pair offers Diagnose Pair and Show Timeline inline', async () => {
      const row = pane()
        .locator('.monaco-list-row[role="treeitem"][aria-level="2"]', { has: page.locator('.label-description', { hasText: /^diverged$/ }) })
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

    await check(`the Hosts group shows ${DOWN} offline and ovh3's degraded pool`, async () => {
      const hosts = under(all, 'Hosts').filter((h) => h.level === 2);
      if (JSON.stringify(hosts.map((h) => h.label)) !== JSON.stringify(HOSTS)) throw new Error(`hosts: ${JSON.stringify(hosts)}`);
      const down = hosts.find((h) => h.label === DOWN);
      if (!/^offline · /.test(down.description)) throw new Error(`${DOWN}: ${down.description}`);
      for (const h of hosts.filter((x) => x.label !== DOWN)) if (!/^online · /.test(h.description)) throw new Error(`${h.label}: ${h.description}`);
      await pane()
        .locator('.monaco-list-row[role="treeitem"][aria-level="2"]', { has: page.locator('.label-name', { hasText: /^ovh3$/ }) })
        .click();
      const pool = await waitFor(async () => (await rows()).find((r) => r.level === 3 && r.label === MIRROR), { timeout: 10_000, what: `the pool ${MIRROR}` });
      if (!/^[▇▁]{5} \d+% · DEGRADED$/.test(pool.description) || pool.icon !== 'error') throw new Error(`${MIRROR}: ${JSON.stringify(pool)}`);
      return `${down.label} ${down.description}; ${MIRROR} ${pool.description}`;
    });

    /** Clicks the view's Refresh (a forced read: the hosts themselves, not the store) and waits until `done` holds. */
    const refresh = async (done, what) => {
      await pane().locator('.pane-header').hover();
      await pane().locator('.pane-header .actions a.action-label[aria-label="Refresh Fleet Health"]').click();
      return waitFor(
        async () => {
          const d = await viewDescription();
          if (!/^checked \d\d:\d\d(:\d\d)?$/.test(d)) return false;
          const r = await rows();
          return (await done(r)) ? { description: d, rows: r } : false;
        },
        { timeout: 120_000, what },
      ).catch(async (e) => {
        throw new Error(`${e.message}\nrows: ${said(await rows())}`);
      });
    };

    await check('Refresh reads the hosts themselves and finds the same problems', async () => {
      const { description, rows: r } = await refresh(() => true, 'a read of the hosts (the view\'s "checked HH:MM" without "(store)")');
      const problems = under(r, 'Problems');
      expectStaged(problems);
      return `"${description}": ${problems.length} problems`;
    });

    await check(
      `with the lab put back, Refresh shows ${DOWN} online, the staged problems gone, the fleet file's warnings left (the stale dataset, the pairs behind)`,
      async () => {
        restoreLab();
        const online = (r) => under(r, 'Hosts')?.filter((h) => h.level === 2 && /^online · /.test(h.description)).length === HOSTS.length;
        const { description: desc, rows: r } = await refresh(online, `the three hosts online`);
        const hosts = under(r, 'Hosts').filter((h) => h.level === 2);
        for (const h of hosts) if (!/^online · /.test(h.description)) throw new Error(`${h.label}: ${h.description}`);
        const problems = under(r, 'Problems');
        // The staged problems are gone; the fleet file's (the stale dataset, the pairs behind) stay.
        // (Other rows may be there: what other suites left on the lab, a pool they filled.)
        const gone = problems.filter((p) => p.label === DOWN || p.label === `ovh3:${MIRROR}` || p.description === 'diverged');
        if (gone.length) throw new Error(`still shown: ${said(gone)}`);
        const left = problems.map((p) => `${p.icon} ${p.label.split(' ')[0]} ${p.description.replace(/\d.*$/, '')}`.trim());
        const want = ['warning images behind', 'warning off1:zfs-hdd/off/images newest snapshot', 'warning products behind', 'warning users behind'];
        const missing = want.filter((w) => !left.includes(w));
        if (missing.length) throw new Error(`missing ${missing.join(', ')}; problems: ${said(problems)}`);
        const text = (await statusItem().innerText()).trim();
        if (Number(/(\d+) problems?$/.exec(text)?.[1]) !== problems.length) throw new Error(`status bar "${text}", ${problems.length} problem rows`);
        return `"${desc}": ${said(problems)}`;
      },
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
    putBack();
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
