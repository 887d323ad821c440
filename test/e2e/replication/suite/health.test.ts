/**
 * The Fleet Health view and its status bar item inside a real VS Code, against the lab: the lab's
 * seeded replica `ovh3:rpool/off/users` is one snapshot behind `off1:zfs-hdd/off/users` (lab.sh
 * seeds the source one snapshot ahead); with `zfsFleet.staleAfter` at 1m that lag is a warning.
 * Only read-only things run against the lab's datasets (listings, Diagnose, the timeline). The same
 * pair is checked by the CLI (`zfs-fleet check --json`) and both must report the same findings.
 */
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TestApi } from '../../../../src/extension.js';
import type { CheckReport } from '../../../../src/core/monitor/check.js';
import type { HealthNode, HealthRow } from '../../../../src/ui/health/rows.js';
import { KNOWN_HOSTS, labReady, SSH_CONFIG } from './lab.js';
import { ScriptedInput } from './scriptedInput.js';

const SOURCE = 'off1:zfs-hdd/off/users';
const TARGET = 'ovh3:rpool/off/users';
const PAIR_ID = `${SOURCE}->${TARGET}`;

let api: TestApi;
const input = new ScriptedInput();
let saved: { pairs: unknown; staleAfter: unknown };

function rows(): HealthRow[] {
  return api.ctx.health.allRows();
}

function children(label: string): HealthRow[] {
  const g = rows().find((r) => r.node.kind === 'health.group' && r.label === label);
  assert.ok(
    g,
    `no ${label} group in ${rows()
      .map((r) => r.label)
      .join(', ')}`,
  );
  return g.children ?? [];
}

function labPairProblem(): HealthRow | undefined {
  return children('Problems').find((r) => r.node.kind === 'health.problem' && r.node.pairId === PAIR_ID && r.node.finding.kind === 'pair-behind');
}

/** The CLI's check of the same hosts and pair, same thresholds (the built dist/cli.js). */
function cliCheck(): Promise<CheckReport> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zfs-fleet-health-e2e-'));
  const pairs = path.join(dir, 'pairs.json');
  fs.writeFileSync(pairs, JSON.stringify({ pairs: [{ source: SOURCE, target: TARGET }] }));
  const cli = path.join(vscode.extensions.getExtension('zfs-fleet.zfs-fleet')!.extensionPath, 'dist', 'cli.js');
  const args = [cli, 'check', 'off1', 'ovh3', '--json', '--pairs', pairs, '--stale-after', '1m', '--ssh-config', SSH_CONFIG, '--known-hosts', KNOWN_HOSTS];
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      args,
      { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', ZFS_FLEET_NO_CACHE: '1', ZFS_FLEET_HISTORY: path.join(dir, 'history.jsonl') }, encoding: 'utf8' },
      (err, stdout, stderr) => {
        try {
          resolve(JSON.parse(stdout) as CheckReport);
        } catch {
          reject(new Error(`zfs-fleet check: ${err?.message ?? ''}\n${stderr}\n${stdout}`));
        }
      },
    ),
  );
}

suite('Fleet Health view and status bar (lab: off1, ovh3)', function () {
  this.timeout(180_000);

  suiteSetup(async function () {
    if (!labReady()) throw new Error('the lab is not up or ZFS_FLEET_E2E_ROOT is not set (run test/e2e/replication/run.mjs)');
    const ext = vscode.extensions.getExtension<TestApi>('zfs-fleet.zfs-fleet');
    assert.ok(ext, 'extension zfs-fleet.zfs-fleet not found');
    api = (await ext.activate())!;
    api.setUserInput(input);
    const cfg = vscode.workspace.getConfiguration('zfsFleet');
    saved = { pairs: cfg.inspect('pairs')?.globalValue, staleAfter: cfg.inspect('staleAfter')?.globalValue };
    const pairs = Array.isArray(saved.pairs) ? [...saved.pairs] : [];
    await cfg.update('staleAfter', '1m', vscode.ConfigurationTarget.Global);
    await cfg.update('pairs', [...pairs, { source: SOURCE, target: TARGET, label: 'lab users' }], vscode.ConfigurationTarget.Global);
    for (let i = 0; i < 100 && !(await api.ctx.replication.pairs.pairs()).some((p) => p.pair.id === PAIR_ID); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(
      (await api.ctx.replication.pairs.pairs()).some((p) => p.pair.id === PAIR_ID),
      'the pair did not appear',
    );
    // The seeded snapshots are taken when the lab comes up: the lag must be over a minute.
    await new Promise((r) => setTimeout(r, 1000));
  });

  suiteTeardown(async function () {
    api?.setUserInput(undefined);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const cfg = vscode.workspace.getConfiguration('zfsFleet');
    await cfg.update('pairs', saved?.pairs, vscode.ConfigurationTarget.Global);
    await cfg.update('staleAfter', saved?.staleAfter, vscode.ConfigurationTarget.Global);
  });

  test("Refresh lists the lab's hosts; the replica behind is a warning problem; the status bar counts the problems", async () => {
    const snap = await vscode.commands.executeCommand('zfsFleet.refreshHealth');
    assert.ok(snap, 'the refresh read nothing');
    const hosts = children('Hosts');
    // zfsFleet.hosts (off1, ovh3), then the hosts only the workspace's fleet file names (off2).
    assert.deepEqual(
      hosts.map((h) => h.label),
      ['off1', 'ovh3', 'off2'],
    );
    for (const h of hosts) assert.match(h.description ?? '', /^online · \d+\.\d s · seen /, h.label);
    const off1Pools = hosts[0]!.children!.map((p) => [p.label, p.description]);
    assert.equal(off1Pools[0]![0], 'zfs-hdd');
    assert.match(off1Pools[0]![1]!, /^[▇▁]{5} \d+% · ONLINE$/);

    const problem = labPairProblem();
    assert.ok(
      problem,
      `no pair-behind problem of ${PAIR_ID}: ${children('Problems')
        .map((r) => `${r.label}: ${r.description}`)
        .join('; ')}`,
    );
    assert.equal(problem.label, 'lab users');
    assert.match(problem.description!, /^behind 1, lag \d/);
    assert.equal(problem.contextValue, 'zfs.health.problem.pair');
    const item = api.ctx.health.getTreeItem(problem.node);
    const icon = item.iconPath as vscode.ThemeIcon;
    assert.equal(icon.id, 'warning');
    assert.equal(icon.color?.id, 'problemsWarningIcon.foreground');

    const problems = children('Problems').filter((r) => r.node.kind === 'health.problem');
    const bar = api.ctx.health.statusItem;
    assert.equal(bar.text, `$(pulse) ${problems.length} problem${problems.length === 1 ? '' : 's'}`);
    const critical = problems.some((r) => r.node.kind === 'health.problem' && r.node.finding.severity === 'critical');
    assert.equal((bar.backgroundColor as vscode.ThemeColor | undefined)?.id, critical ? 'statusBarItem.errorBackground' : 'statusBarItem.warningBackground');
    assert.equal((bar.command as vscode.Command).command, 'zfsFleet.health.focus');
    assert.match((bar.tooltip as vscode.MarkdownString).value, /ZFS Fleet Health/);
  });

  test('the CLI (zfs-fleet check) reports the same findings for the pair and the hosts', async () => {
    const cli = await cliCheck();
    const snap = api.ctx.health.snapshot!;
    const about = (r: { findings: { subject: string; kind: string; severity: string }[] }) =>
      r.findings
        .filter((f) => f.subject === PAIR_ID || f.subject === 'off1' || f.subject === 'ovh3' || f.subject.startsWith('off1:zfs-hdd/off/users'))
        .map((f) => `${f.severity} ${f.kind} ${f.subject}`)
        .sort();
    assert.deepEqual(about(snap.report), about(cli));
    assert.ok(about(cli).includes(`warning pair-behind ${PAIR_ID}`), about(cli).join('\n'));
  });

  test('Diagnose Pair and Show Timeline from the problem row run the existing commands on that pair', async () => {
    const node = labPairProblem()!.node;
    input.script({ info: () => undefined });
    const d = (await vscode.commands.executeCommand('zfsFleet.diagnosePair', node)) as { report?: vscode.Uri };
    assert.ok(d?.report, 'no diagnosis report');
    const text = (await vscode.workspace.openTextDocument(d.report)).getText();
    assert.match(text, /^# Diagnosis: /);
    assert.ok(text.includes('zfs-hdd/off/users'), text.slice(0, 400));
    const key = await vscode.commands.executeCommand('zfsFleet.openTimeline', node);
    assert.equal(key, `pair:${PAIR_ID}`);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('Open Terminal on a host row opens a terminal on that host', async () => {
    const off1 = children('Hosts').find((h) => h.label === 'off1')!.node as HealthNode;
    const before = vscode.window.terminals.length;
    await vscode.commands.executeCommand('zfsFleet.openTerminal', off1);
    const t = vscode.window.terminals.find((x) => x.name === 'ZFS: off1');
    assert.ok(t, `no terminal 'ZFS: off1' among ${vscode.window.terminals.map((x) => x.name).join(', ')}`);
    assert.equal(vscode.window.terminals.length, before + 1);
    t.dispose();
  });

  test('in an untrusted workspace the view lists nothing (its welcome says why) and the status bar item is hidden', async () => {
    assert.equal(api.ctx.health.statusShown, true);
    api.ctx.replication.trustOverride = false;
    try {
      await vscode.commands.executeCommand('zfsFleet.refreshHealth');
      assert.deepEqual(api.ctx.health.getChildren(), []);
      assert.equal(api.ctx.health.statusShown, false);
    } finally {
      api.ctx.replication.trustOverride = undefined;
    }
    await vscode.commands.executeCommand('zfsFleet.refreshHealth');
    assert.equal(api.ctx.health.statusShown, true);
    assert.ok(labPairProblem(), 'the problem is back');
  });

  test("a host refreshed in the Hosts view updates Fleet Health from the model's event", async () => {
    const before = api.ctx.health.snapshot!.readAt;
    const read = new Promise<number>((resolve) => {
      const sub = api.ctx.health.onDidRead((s) => {
        sub.dispose();
        resolve(s.readAt);
      });
    });
    await api.ctx.tree.loadHost('ovh3', true);
    assert.ok((await read) > before);
    assert.ok(labPairProblem(), 'the problem is still there');
  });
});
