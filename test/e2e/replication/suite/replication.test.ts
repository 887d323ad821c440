/**
 * The replication commands inside a real VS Code (code-server's extension host), against the lab's
 * zfs-fuse hosts over real sshd. The UI is scripted through the extension's test API
 * (ZFS_FLEET_TEST=1): every modal, quick pick and input box is answered by the test, which also
 * checks what it was shown. Each test creates its own datasets under `zfs-hdd/e2e-repl-*` (off1)
 * and `rpool/e2e-repl-*` (ovh3); the lab's seeded datasets are never touched.
 */
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as vscode from 'vscode';
import type { TestApi } from '../../../../src/extension.js';
import type { FlowResult } from '../../../../src/ui/replication/planFlow.js';
import type { PairNode } from '../../../../src/ui/replication/pairsTree.js';
import {
  destroyRoot,
  DST_ROOT,
  exists,
  KNOWN_HOSTS,
  SSH_CONFIG,
  labReady,
  makeDataset,
  origin,
  ROOT,
  snapshot,
  snapshotGuids,
  snapshotNames,
  SRC_ROOT,
  ssh,
  q,
} from './lab.js';
import { ScriptedInput } from './scriptedInput.js';

const execFileP = promisify(execFile);
const SRC = `${SRC_ROOT}/src data`;
const DST = `${DST_ROOT}/dst`;
const SYNC_ID = `off1:${SRC}->ovh3:${DST}`;
const FILE_ID = `off1:${SRC}->ovh3:${DST_ROOT}/fromfile`;

let api: TestApi;
const input = new ScriptedInput();

/** Every modal's detail bullet lines `  • host: name...` after the "This destroys N objects:" line. */
function destroyedInDetail(detail: string): { count: number; lines: string[] } {
  const lines = detail.split('\n');
  const i = lines.findIndex((l) => /^This destroys (\d+) objects?:$/.test(l));
  if (i < 0) {
    assert.ok(/This destroys nothing\./.test(detail), `no destroy list in:\n${detail}`);
    return { count: 0, lines: [] };
  }
  const count = Number(/(\d+)/.exec(lines[i]!)![1]);
  const out: string[] = [];
  for (const l of lines.slice(i + 1)) {
    if (!l.startsWith('  • ')) break;
    out.push(l.slice(4));
  }
  return { count, lines: out };
}

async function pairNodes(): Promise<PairNode[]> {
  return api.ctx.replication.pairs.allNodes();
}

async function pairNode(id: string): Promise<Extract<PairNode, { kind: 'pair' }>> {
  const n = (await pairNodes()).find((x) => x.kind === 'pair' && x.entry.pair.id === id);
  assert.ok(n && n.kind === 'pair', `no pair ${id} in the Replication view`);
  return n;
}

/**
 * The Replication view's description of a pair once its hosts are listed: waits for the view's own
 * change events (a host's listing finishing fires one), up to 3 minutes for a loaded 2-core machine.
 */
async function pairDescription(id: string, limitMs = 180_000): Promise<string> {
  const node = await pairNode(id);
  const pairs = api.ctx.replication.pairsView;
  const ready = () => {
    const v = pairs.view(node);
    return v.hosts === 'loading' ? undefined : v.description;
  };
  const now = ready();
  if (now !== undefined) return now;
  return new Promise<string>((resolve, reject) => {
    const done = (f: () => void) => {
      clearTimeout(timer);
      sub.dispose();
      f();
    };
    const sub = pairs.onDidChangeTreeData(() => {
      const d = ready();
      if (d !== undefined) done(() => resolve(d));
    });
    const timer = setTimeout(() => done(() => reject(new Error(`the hosts of ${id} never finished loading (${limitMs / 1000} s)`))), limitMs);
  });
}

async function run<T = FlowResult>(command: string, ...args: unknown[]): Promise<T> {
  return (await vscode.commands.executeCommand(command, ...args)) as T;
}

function snapNode(host: string, name: string) {
  return { kind: 'snapshot', id: `test\0${host}\0${name}`, host, name };
}

/** Answers for a plan that is run: "Run" in the plan's modal, "Run Step" for each step confirmation. */
const runEverything = (_message: string, _detail: string, buttons: string[]) =>
  buttons.includes('Run Step') ? 'Run Step' : buttons.includes('Run') ? 'Run' : undefined;

suite('replication commands (lab: off1 -> ovh3)', function () {
  this.timeout(180_000);

  suiteSetup(async function () {
    if (!labReady()) throw new Error('the lab is not up or ZFS_FLEET_E2E_ROOT is not set (run test/e2e/replication/run.mjs)');
    const ext = vscode.extensions.getExtension<TestApi>('zfs-fleet.zfs-fleet');
    assert.ok(ext, 'extension zfs-fleet.zfs-fleet not found');
    api = (await ext.activate())!;
    assert.ok(api?.ctx, 'the extension returned no test API: is ZFS_FLEET_TEST=1 set?');
    api.setUserInput(input);
    await makeDataset('off1', SRC, ['s1', 's2']);
    await ssh('ovh3', `zfs create -p ${q(DST_ROOT)}`);
  });

  suiteTeardown(async function () {
    api?.setUserInput(undefined);
    for (const t of vscode.window.terminals) if (t.name.startsWith('ZFS plan')) t.dispose();
    if (ROOT) {
      await destroyRoot('ovh3', DST_ROOT);
      await destroyRoot('off1', SRC_ROOT);
    }
  });

  test('pairs come from the settings and .zfs-fleet.json; invalid entries are rows with their reason; settings win', async () => {
    const nodes = await pairNodes();
    const pairs = nodes.filter((n): n is Extract<PairNode, { kind: 'pair' }> => n.kind === 'pair' && n.entry.pair.group === undefined);
    const invalid = nodes.filter((n): n is Extract<PairNode, { kind: 'invalid' }> => n.kind === 'invalid');
    assert.deepEqual(pairs.map((p) => p.entry.pair.id).sort(), [FILE_ID, SYNC_ID].sort());
    const sync = pairs.find((p) => p.entry.pair.id === SYNC_ID)!;
    assert.equal(sync.entry.origin.kind, 'settings');
    assert.equal(sync.entry.pair.label, 'e2e sync', 'the settings entry wins over the file entry with the same id');
    assert.equal(sync.entry.overrides?.kind, 'file');
    assert.equal(pairs.find((p) => p.entry.pair.id === FILE_ID)!.entry.origin.kind, 'file');
    assert.equal(invalid.length, 2, `invalid rows: ${JSON.stringify(invalid.map((i) => i.entry.reason))}`);
    const fromSettings = invalid.find((i) => i.entry.origin.kind === 'settings')!;
    const fromFile = invalid.find((i) => i.entry.origin.kind === 'file')!;
    assert.match(fromSettings.entry.reason, /route/);
    assert.match(fromFile.entry.reason, /needs a dataset/);
    const v = api.ctx.replication.pairsView.view(fromFile);
    assert.match(v.label, /^Invalid pair: /);
    assert.equal(v.contextValue, 'zfs.pair.invalid');
    assert.ok(v.tooltip.some(([k, val]) => k === 'Defined in' && val.includes('.zfs-fleet.json')));
    // Every view row has a short description and a full tooltip.
    assert.equal(await pairDescription(SYNC_ID), 'never sent');
  });

  test("the fleet file's group is a row with its replicas as children; its hosts join the Hosts view", async () => {
    const rows = await api.ctx.replication.pairsView.getChildren();
    const group = rows.find((r) => r.kind === 'group' && r.name === 'e2e-fanout');
    assert.ok(group && group.kind === 'group', `no group row: ${rows.map((r) => r.id).join(', ')}`);
    const children = await api.ctx.replication.pairsView.getChildren(group);
    assert.deepEqual(
      children.map((c) => c.kind === 'pair' && c.entry.pair.target.host),
      ['ovh3', 'off2'],
    );
    assert.equal(api.ctx.replication.pairsView.getParent(children[0]!), group);
    assert.match(api.ctx.replication.pairsView.view(group).description, /^off1:\S.* → 2 replica\(s\), 0 in sync$/);
    // off2 is in no setting: the fleet file's hosts are listed with zfsFleet.hosts.
    const hosts = api.ctx.tree.getChildren().map((n) => n.id);
    assert.ok(
      hosts.some((id) => id.includes('off2')),
      `Hosts view: ${hosts.join(', ')}`,
    );
    // The CLI computes the same pairs from the same file (the extension's own: from the file, or a setting overriding it).
    const ext = vscode.extensions.getExtension('zfs-fleet.zfs-fleet')!;
    const fleetFile = vscode.Uri.joinPath(vscode.workspace.workspaceFolders![0]!.uri, '.zfs-fleet.json').fsPath;
    const cli = await execFileP(
      process.execPath,
      [
        path.join(ext.extensionPath, 'dist', 'cli.js'),
        'status',
        '--all',
        '--json',
        '--fleet',
        fleetFile,
        '--ssh-config',
        SSH_CONFIG,
        '--known-hosts',
        KNOWN_HOSTS,
      ],
      { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } },
    ).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
    const fromCli = (JSON.parse(cli.stdout) as { replicas: { pair: string }[] }[]).flatMap((g) => g.replicas.map((r) => r.pair)).sort();
    const fromExtension = (await api.ctx.replication.pairs.pairs())
      .filter((p) => p.origin.kind === 'file' || p.overrides)
      .map((p) => p.pair.id)
      .sort();
    assert.deepEqual(fromCli, fromExtension);
    // Show Timeline on the group: its primary's timeline, a lane per member.
    const key = await vscode.commands.executeCommand('zfsFleet.openTimeline', group);
    assert.equal(key, `dataset:off1:${SRC}`);
    const end = Date.now() + 30_000;
    let lanes: string[] = [];
    while (Date.now() < end && lanes.length < 3) {
      const states = (await vscode.commands.executeCommand('zfsFleet.timeline.debugState')) as {
        key: string;
        model?: { lanes: { host: string; role: string }[] };
      }[];
      lanes = states.find((x) => x.key === key)?.model?.lanes.map((l) => `${l.role}:${l.host}`) ?? [];
      if (lanes.length < 3) await new Promise((r) => setTimeout(r, 200));
    }
    for (const want of ['dataset:off1', 'replica:ovh3', 'replica:off2']) assert.ok(lanes.includes(want), `lanes: ${lanes.join(', ')}`);
  });

  test('Sync Pair: a full send through the relay, then incremental; guids equal after; state "in sync"', async () => {
    input.script({ warnModal: runEverything });
    const r1 = await run('zfsFleet.syncPair', SYNC_ID);
    assert.ok(r1, 'no result (see the log)');
    assert.equal(r1.choice, 'run', `choice ${r1.choice}; calls ${JSON.stringify(input.calls)}`);
    assert.equal(r1.result?.outcome, 'ok', r1.result?.error);
    assert.equal(input.of('confirmTyped').length, 0, 'a sync into a new dataset destroys nothing: no name to type');
    assert.equal(destroyedInDetail(r1.detail!).count, 0);
    // A pair's sync a worker would run unattended can be queued instead.
    assert.deepEqual(input.of('warnModal')[0]!.buttons, ['Run', 'Queue', 'Send to Terminal']);
    const src1 = await snapshotGuids('off1', SRC);
    const dst1 = await snapshotGuids('ovh3', DST);
    assert.deepEqual([...dst1.values()].sort(), [...src1.values()].sort(), 'the target has the same snapshots (guids) as the source');
    assert.equal(dst1.size, 2);
    assert.equal(await pairDescription(SYNC_ID), 'in sync');

    await snapshot('off1', `${SRC}@s3`);
    await run('zfsFleet.refreshPairs');
    assert.equal(await pairDescription(SYNC_ID), 'behind 1');

    // Queue instead of Run: the sync becomes a job in the fleet store, sized from the hosts; nothing runs now.
    input.script({ warnModal: (_m, _d, buttons) => (buttons.includes('Queue') ? 'Queue' : undefined) });
    const queued = await run('zfsFleet.syncPair', SYNC_ID);
    assert.equal(queued.choice, 'queue', `choice ${queued.choice}; calls ${JSON.stringify(input.calls)}`);
    const job = queued.queued!.job;
    assert.equal(queued.queued!.added, true);
    assert.equal(job.name, `off1:${SRC} -> ovh3:${DST}`);
    assert.deepEqual(job.spec, { kind: 'sync', source: `off1:${SRC}`, target: `ovh3:${DST}`, route: 'relay' });
    assert.equal(job.state, 'available');
    assert.ok(job.blocks !== null && job.blocks >= 0, `size ${job.blocks}`);
    assert.ok(typeof job.files === 'number' && job.files >= 1, `files (df -i on off1) ${job.files}`);
    assert.equal(await pairDescription(SYNC_ID), 'behind 1', 'Queue ran nothing');
    const queueRows = (await vscode.commands.executeCommand<{ label: string; children?: { label: string }[] }[]>('zfsFleet.refreshQueue')) ?? [];
    assert.deepEqual(
      queueRows.map((r) => [r.label, r.children?.map((c) => c.label)]),
      [['Available', [job.name]]],
    );
    // Queued again: the pair already has its job; not a second one.
    input.script({ warnModal: (_m, _d, buttons) => (buttons.includes('Queue') ? 'Queue' : undefined) });
    const again = await run('zfsFleet.syncPair', SYNC_ID);
    assert.deepEqual([again.queued?.added, again.queued?.job.id], [false, job.id]);

    input.script({ warnModal: runEverything });
    const r2 = await run('zfsFleet.syncPair', SYNC_ID);
    assert.equal(r2.result?.outcome, 'ok', r2.result?.error);
    assert.match(r2.plan.steps.map((s) => s.description).join('\n'), /Incremental send from @s2 to @s3/);
    const src2 = await snapshotGuids('off1', SRC);
    const dst2 = await snapshotGuids('ovh3', DST);
    assert.equal(dst2.size, 3);
    for (const [name, guid] of src2) assert.equal(dst2.get(name.replace(SRC, DST)), guid, `guid of ${name}`);
    assert.equal(await pairDescription(SYNC_ID), 'in sync');
    // The tooltip holds the whole state summary.
    const tip = api.ctx.replication.pairsView.view(await pairNode(SYNC_ID)).tooltip;
    assert.match(tip.find(([k]) => k === 'State')?.[1] ?? '', /^In sync: the target has the source's newest snapshot @s3\./);
    assert.ok(
      tip.some(([k, v]) => k === 'Last run' && /ok/.test(v)),
      JSON.stringify(tip),
    );
    // The history records both runs of the pair.
    const { entries } = await api.ctx.replication.history.read();
    assert.ok(entries.filter((e) => e.pair === SYNC_ID && e.outcome === 'ok').length >= 2);
  });

  test('Sync Pair with Options…: -i up to a new snapshot taken now; "full" onto an existing target is refused with its reason', async () => {
    const picks: Record<string, string> = { 'send mode': 'Incremental', 'snapshots in between': '-i', 'send up to': 'A new snapshot taken now…' };
    input.script({
      quickPick: (items, options) => items.find((i) => i.label === picks[Object.keys(picks).find((k) => (options.title ?? '').endsWith(k))!]),
      inputBox: () => 'opt1',
      warnModal: runEverything,
    });
    const r = await run('zfsFleet.syncPairWithOptions', SYNC_ID);
    assert.equal(r.result?.outcome, 'ok', r.result?.error);
    assert.ok(r.plan.steps.some((st) => st.op === 'snapshot' && st.type === 'command' && st.argv.at(-1) === `${SRC}@opt1`));
    assert.ok(r.plan.steps.some((st) => st.type === 'pipe' && st.from.argv.includes('-i')));
    const src = await snapshotGuids('off1', SRC);
    const dst = await snapshotGuids('ovh3', DST);
    assert.equal(dst.get(`${DST}@opt1`), src.get(`${SRC}@opt1`));

    picks['send mode'] = 'Full';
    input.script({
      quickPick: (items, options) => items.find((i) => i.label === picks[Object.keys(picks).find((k) => (options.title ?? '').endsWith(k))!]),
      inputBox: () => 'opt2',
      warnModal: runEverything,
    });
    assert.equal(await run('zfsFleet.syncPairWithOptions', SYNC_ID), undefined);
    const err = input.of('error')[0];
    assert.ok(err, 'an error message');
    assert.match(err.message, /already has snapshots; a full send needs a target that does not exist/);
    assert.deepEqual(err.buttons, ['Diagnose Pair']);
    assert.equal(input.of('warnModal').length, 0, 'no plan to confirm');
    assert.ok(!(await exists('off1', `${SRC}@opt2`)), 'nothing ran');
  });

  test("Roll Back past a pair's newest common snapshot: the modal names the pair and what the next sync costs; the dataset's name must be typed", async () => {
    // The pair is in sync at @opt1 (the test before): rolling the target back to @s3 destroys its base.
    input.script({ warnModal: runEverything, confirmTyped: () => false });
    const r1 = await run('zfsFleet.rollbackToSnapshot', snapNode('ovh3', `${DST}@s3`));
    assert.equal(r1.choice, 'cancelled');
    assert.match(
      r1.detail!,
      new RegExp(`this destroys ${DST}@opt1, the newest common snapshot of the pair e2e sync .*the next sync starts from the older common snapshot ${SRC}@s3`),
    );
    const asked = input.of('confirmTyped')[0]!;
    assert.equal(asked.expected, DST, 'the dataset name is what must be typed');
    assert.ok((await snapshotGuids('ovh3', DST)).has(`${DST}@opt1`), 'nothing ran');

    input.script({ warnModal: runEverything, confirmTyped: (_p, expected) => expected === DST });
    const r2 = await run('zfsFleet.rollbackToSnapshot', snapNode('ovh3', `${DST}@s3`));
    assert.equal(r2.result?.outcome, 'ok', r2.result?.error);
    assert.deepEqual([...(await snapshotGuids('ovh3', DST)).keys()].sort(), [`${DST}@s1`, `${DST}@s2`, `${DST}@s3`]);
    await run('zfsFleet.refreshPairs');
    assert.equal(await pairDescription(SYNC_ID), 'behind 1');
  });

  test('Roll Back to This Snapshot: the modal lists exactly the snapshots ZFS then destroys', async () => {
    const ds = `${DST_ROOT}/rb`;
    await makeDataset('ovh3', ds, ['a', 'b', 'c', 'd']);
    const before = await snapshotNames('ovh3', ds);
    input.script({ warnModal: runEverything });
    const r = await run('zfsFleet.rollbackToSnapshot', snapNode('ovh3', `${ds}@b`));
    assert.equal(r.choice, 'run');
    assert.equal(r.result?.outcome, 'ok', r.result?.error);
    const after = await snapshotNames('ovh3', ds);
    const destroyed = before.filter((s) => !after.includes(s));
    const shown = destroyedInDetail(r.detail!);
    assert.deepEqual(shown.lines.sort(), destroyed.map((s) => `ovh3: ${s}`).sort());
    assert.equal(shown.count, destroyed.length);
    assert.deepEqual(destroyed.sort(), [`${ds}@c`, `${ds}@d`]);
    // The rollback step was confirmed on its own.
    assert.equal(r.confirmedSteps?.length, 1);
    const stepModal = input.of('warnModal').find((c) => c.buttons?.includes('Run Step'))!;
    assert.match(stepModal.detail!, /zfs rollback -r/);
  });

  test('Send to Terminal types the plan into a terminal per host without running it', async () => {
    const ds = `${DST_ROOT}/rb`;
    const before = await snapshotNames('ovh3', ds);
    input.script({ warnModal: (_m, _d, buttons) => (buttons.includes('Send to Terminal') ? 'Send to Terminal' : undefined) });
    const r = await run('zfsFleet.rollbackToSnapshot', snapNode('ovh3', `${ds}@a`));
    assert.equal(r.choice, 'terminal');
    assert.equal(r.terminals?.length, 1);
    const t = r.terminals![0]!;
    assert.equal(t.runOn, 'ovh3');
    assert.equal(t.text, `zfs rollback -r ${ds}@a`);
    assert.ok(!/[\r\n]/.test(t.text));
    const term = vscode.window.terminals.find((x) => x.name === t.name);
    assert.ok(term, `terminal ${t.name} not open`);
    assert.equal((term.creationOptions as vscode.TerminalOptions).shellPath, 'ssh');
    await new Promise((res) => setTimeout(res, 2000));
    assert.deepEqual(await snapshotNames('ovh3', ds), before, 'nothing ran');
    term.dispose();
  });

  test('the plan is re-checked right before it runs: a host that changed meanwhile is reported and the plan can be re-made', async () => {
    const ds = `${DST_ROOT}/ch`;
    await makeDataset('ovh3', ds, ['a', 'b', 'c']);
    let modals = 0;
    input.script({
      warnModal: async (_message, _detail, buttons) => {
        if (buttons.includes('Re-plan')) return 'Re-plan';
        if (buttons.includes('Run Step')) return 'Run Step';
        // While the first confirmation is open, someone takes a snapshot of the dataset.
        if (modals++ === 0) await snapshot('ovh3', `${ds}@late`);
        return 'Run';
      },
    });
    const r = await run('zfsFleet.rollbackToSnapshot', snapNode('ovh3', `${ds}@a`));
    assert.equal(r.result?.outcome, 'changed');
    assert.ok(
      r.result?.changes?.some((c) => c.includes('@late')),
      JSON.stringify(r.result?.changes),
    );
    assert.ok(
      r.result!.steps.every((st) => st.status === 'not-run'),
      'nothing ran',
    );
    assert.ok(!r.confirmedSteps?.length, 'no step was even asked for');
    // Re-planned from fresh listings: now @late is in the list, and it is destroyed with the others.
    const again = r.next!;
    assert.equal(again.result?.outcome, 'ok', again.result?.error);
    assert.deepEqual(destroyedInDetail(again.detail!).lines.sort(), [`ovh3: ${ds}@b`, `ovh3: ${ds}@c`, `ovh3: ${ds}@late`]);
    assert.deepEqual(await snapshotNames('ovh3', ds), [`${ds}@a`]);
    const { entries } = await api.ctx.replication.history.read(5);
    assert.ok(entries.some((e) => e.outcome === 'changed' && e.title === r.plan.title));
  });

  test('a blocked rollback offers the rebase instead of Run; rebase, then the rollback re-planned runs', async () => {
    const ds = `${DST_ROOT}/bl`;
    const clone = `${DST_ROOT}/bl-clone`;
    await makeDataset('ovh3', ds, ['a', 'b', 'c']);
    await ssh('ovh3', `zfs clone ${q(`${ds}@c`)} ${q(clone)}`);
    const typed: string[] = [];
    input.script({
      warnModal: (message, _detail, buttons) => {
        if (message.startsWith('Blocked')) return 'Re-base Clone onto…';
        return buttons.includes('Run Step') ? 'Run Step' : 'Run';
      },
      quickPick: (items, options) => {
        if (/onto an older snapshot/.test(options.title ?? '')) return items[0];
        return items.find((i) => i.label === 'Drop its data');
      },
      confirmTyped: (_p, expected) => {
        typed.push(expected);
        return true;
      },
    });
    const r = await run('zfsFleet.rollbackToSnapshot', snapNode('ovh3', `${ds}@a`));
    assert.equal(r.choice, 'blocked');
    assert.match(r.message!, /^Blocked/);
    assert.deepEqual(r.buttons, ['Re-base Clone onto…', 'Roll Back and Destroy Clones (-R)']);
    assert.ok(!r.buttons!.includes('Run'));
    assert.match(r.detail!, new RegExp(`${clone.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    // The rebase: the suggested snapshot (the rollback's) first; its modal; the clone's name typed.
    const ontoPick = input.of('quickPick').find((c) => /onto an older snapshot/.test(c.message))!;
    assert.equal(ontoPick.items![0]!.label, '@a');
    assert.match(ontoPick.items![0]!.description ?? '', /suggested/);
    const rebase = r.next!;
    assert.equal(rebase.plan.kind, 'rebase');
    assert.equal(rebase.result?.outcome, 'ok', rebase.result?.error);
    assert.deepEqual(typed, [clone]);
    assert.ok(destroyedInDetail(rebase.detail!).lines.includes(`ovh3: ${clone} (clone)`));
    assert.equal(await origin('ovh3', clone), `${ds}@a`);
    // Then the rollback, planned again and confirmed again, ran.
    const rollback = rebase.next!;
    assert.equal(rollback.plan.kind, 'rollback');
    assert.equal(rollback.result?.outcome, 'ok', rollback.result?.error);
    assert.deepEqual(await snapshotNames('ovh3', ds), [`${ds}@a`]);
    assert.deepEqual(destroyedInDetail(rollback.detail!).lines.sort(), [`ovh3: ${ds}@b`, `ovh3: ${ds}@c`]);
  });

  test('a blocked rollback also offers "Roll Back and Destroy Clones (-R)": a wrong typed name destroys nothing; then ZFS destroys exactly what both modals listed', async () => {
    // fs@a..d; c1 = clone of fs@c with a child and a snapshot @x of both; "c2 with space" = clone of c1@x (a clone of a clone).
    const top = `${DST_ROOT}/rr`;
    const fs1 = `${top}/fs`;
    const c1 = `${top}/c1`;
    const c2 = `${top}/c2 with space`;
    await makeDataset('ovh3', fs1, ['a', 'b', 'c', 'd']);
    await ssh(
      'ovh3',
      [`zfs clone ${q(`${fs1}@c`)} ${q(c1)}`, `zfs create ${q(`${c1}/child`)}`, `zfs snapshot -r ${q(`${c1}@x`)}`, `zfs clone ${q(`${c1}@x`)} ${q(c2)}`].join(
        '\n',
      ),
    );
    const state = async () => (await ssh('ovh3', `zfs list -H -o name -t all -r ${q(top)}`)).split('\n').filter(Boolean).sort();
    const before = await state();
    const expected = [`${fs1}@c`, `${fs1}@d`, c1, `${c1}@x`, `${c1}/child`, `${c1}/child@x`, c2].sort();
    for (const n of expected) assert.ok(before.includes(n), `${n} exists before`);

    // 1. The blocked modal offers both; the -R plan's modal lists everything; the name typed wrong: nothing runs.
    const typed: string[] = [];
    let blockedModal: { detail: string; buttons: string[] } | undefined;
    input.script({
      warnModal: (message, detail, buttons) => {
        if (message.startsWith('Blocked')) {
          blockedModal = { detail, buttons };
          return 'Roll Back and Destroy Clones (-R)';
        }
        return buttons.includes('Run Step') ? 'Run Step' : 'Run';
      },
      confirmTyped: (_p, expected) => {
        typed.push(expected);
        return false; // the input box accepts only the exact name: a wrong one is never accepted, Escape gives false
      },
    });
    const r1 = await run('zfsFleet.rollbackToSnapshot', snapNode('ovh3', `${fs1}@b`));
    assert.equal(r1.choice, 'blocked');
    assert.deepEqual(r1.buttons, ['Re-base Clone onto…', 'Roll Back and Destroy Clones (-R)']);
    const listedBlocked = blockedModal!.detail.split('\n');
    const at = listedBlocked.findIndex((l) => l.startsWith('"Roll Back and Destroy Clones (-R)" destroys'));
    assert.ok(at > 0, blockedModal!.detail);
    const blockedList = listedBlocked
      .slice(at + 1)
      .filter((l) => l.startsWith('  • '))
      .map((l) => l.slice(4));
    const cancelled = r1.next!;
    assert.equal(cancelled.choice, 'cancelled');
    assert.equal(cancelled.result, undefined, 'nothing was run');
    assert.equal(typed.length, 1, 'asked once, then stopped');
    assert.deepEqual(await state(), before, 'nothing was destroyed');

    // 2. The same with the names typed right: each destroy step confirmed on its own; ZFS destroys exactly the list.
    typed.length = 0;
    input.script({
      warnModal: (message, _detail, buttons) =>
        message.startsWith('Blocked') ? 'Roll Back and Destroy Clones (-R)' : buttons.includes('Run Step') ? 'Run Step' : 'Run',
      confirmTyped: (_p, expected) => {
        typed.push(expected);
        return true;
      },
    });
    const r2 = (await run<FlowResult>('zfsFleet.rollbackToSnapshot', snapNode('ovh3', `${fs1}@b`))).next!;
    assert.equal(r2.plan.kind, 'rollback');
    assert.equal(r2.result?.outcome, 'ok', r2.result?.error);
    const after = await state();
    const destroyed = before.filter((n) => !after.includes(n)).sort();
    assert.deepEqual(destroyed, expected);
    const label = (l: string) => l.replace(/^ovh3: /, '').replace(/ \((clone|dataset)\)$/, '');
    const shown = destroyedInDetail(r2.detail!);
    assert.equal(shown.count, destroyed.length);
    assert.deepEqual(shown.lines.map(label).sort(), destroyed, 'the plan modal lists exactly what ZFS destroyed');
    assert.deepEqual(blockedList.map(label).sort(), destroyed, 'the blocked modal listed exactly that too');
    assert.ok(shown.lines.includes(`ovh3: ${c2} (clone)`) && shown.lines.includes(`ovh3: ${c1}/child (dataset)`), shown.lines.join('\n'));
    // Every clone and dataset destroyed had its name typed; every destroy and the rollback confirmed one by one.
    assert.deepEqual(typed.sort(), [c1, `${c1}/child`, c2].sort());
    assert.deepEqual(
      r2.confirmedSteps,
      r2.plan.steps.filter((s) => s.confirm).map((s) => s.id),
    );
    assert.ok(r2.plan.steps.length >= 3);
    assert.deepEqual(await snapshotNames('ovh3', fs1), [`${fs1}@a`, `${fs1}@b`]);
  });

  test('Diagnose Pair: a report, then the fix plan (roll the target back, send) run step by step', async () => {
    // The source gets a new snapshot, then the target one of its own (newer than anything on the
    // source): a receive needs the target rolled back to the common base first.
    await snapshot('off1', `${SRC}@s4`);
    await snapshot('ovh3', `${DST}@target-only`);
    await run('zfsFleet.refreshPairs');
    assert.match(await pairDescription(SYNC_ID), /target has newer snapshots/);
    input.script({ info: (_m, buttons) => (buttons.includes('Review Fix Plan…') ? 'Review Fix Plan…' : undefined), warnModal: runEverything });
    const d = await run<{ diagnosis: { findings: { kind: string }[] }; report: vscode.Uri; flow?: FlowResult }>('zfsFleet.diagnosePair', SYNC_ID);
    const kinds = d.diagnosis.findings.map((f) => f.kind);
    assert.ok(kinds.includes('target-newer'), kinds.join(', '));
    const report = (await vscode.workspace.openTextDocument(d.report)).getText();
    assert.match(report, /^# Diagnosis: /);
    assert.match(report, /target-only/);
    assert.equal(d.flow?.result?.outcome, 'ok', d.flow?.result?.error);
    assert.deepEqual(destroyedInDetail(d.flow!.detail!).lines, [`ovh3: ${DST}@target-only`]);
    assert.ok(!(await exists('ovh3', `${DST}@target-only`)));
    const src = await snapshotGuids('off1', SRC);
    const dst = await snapshotGuids('ovh3', DST);
    for (const [name, guid] of src) assert.equal(dst.get(name.replace(SRC, DST)), guid, `guid of ${name}`);
    assert.equal(await pairDescription(SYNC_ID), 'in sync');
  });

  test("Destroy Snapshots… refuses the pair's newest common snapshot with the pair named; selected snapshots go, the modal listing exactly what ZFS destroyed", async () => {
    // In sync after the fix: @s4 is the pair's newest common snapshot.
    input.script({ warnModal: runEverything });
    assert.equal(await run('zfsFleet.destroySnapshots', snapNode('off1', `${SRC}@s4`)), undefined);
    const err = input.of('error')[0];
    assert.ok(err, `an error message; calls ${JSON.stringify(input.calls)}`);
    assert.match(err.message, new RegExp(`^Cannot destroy the snapshots: not destroyed: .*${SRC}@s4.*newest common snapshot of the pair e2e sync`));
    assert.equal(input.of('warnModal').length, 0, 'no plan to confirm');
    assert.ok(await exists('off1', `${SRC}@s4`), 'nothing ran');

    const ds = `${SRC_ROOT}/ops`;
    await makeDataset('off1', ds, ['a', 'b', 'c', 'd']);
    const before = await snapshotNames('off1', ds);
    input.script({ warnModal: runEverything });
    const picked = [snapNode('off1', `${ds}@a`), snapNode('off1', `${ds}@c`)];
    const r = await run('zfsFleet.destroySnapshots', picked[0], picked);
    assert.equal(r.result?.outcome, 'ok', r.result?.error ?? JSON.stringify(input.calls));
    const after = await snapshotNames('off1', ds);
    const destroyed = before.filter((x) => !after.includes(x));
    assert.deepEqual(destroyed, [`${ds}@a`, `${ds}@c`]);
    assert.deepEqual(destroyedInDetail(r.detail!).lines.sort(), destroyed.map((x) => `off1: ${x}`).sort());
  });

  test('Take Snapshot…: the name asked (a default offered), the plan confirmed, the snapshot taken', async () => {
    const ds = `${SRC_ROOT}/ops`;
    let offered: string | undefined;
    input.script({
      inputBox: (o) => {
        offered = o.value;
        return 'e2e-manual';
      },
      warnModal: runEverything,
    });
    const r = await run('zfsFleet.takeSnapshot', { kind: 'dataset', id: `test\0off1\0${ds}`, host: 'off1', name: ds });
    assert.match(offered ?? '', /^manual-\d{8}-\d{6}$/);
    assert.equal(r.result?.outcome, 'ok', r.result?.error ?? JSON.stringify(input.calls));
    assert.equal(destroyedInDetail(r.detail!).count, 0);
    assert.ok(await exists('off1', `${ds}@e2e-manual`));
  });

  test('Set Property… and Rename Dataset…: the modal says what else changes, and ZFS then shows it', async () => {
    const ds = `${SRC_ROOT}/ops`;
    await ssh('off1', `zfs create ${q(`${ds}/kid`)}`);
    const node = { kind: 'dataset', id: `test\0off1\0${ds}`, host: 'off1', name: ds };
    input.script({ quickPick: (items) => items.find((i) => i.label === 'compression'), inputBox: () => 'on', warnModal: runEverything });
    const set = await run('zfsFleet.setProperty', node);
    assert.equal(set.result?.outcome, 'ok', set.result?.error ?? JSON.stringify(input.calls));
    assert.match(set.detail!, new RegExp(`What changes:[\\s\\S]*${ds}/kid: off -> on \\(inherited\\)`));
    assert.equal((await ssh('off1', `zfs get -H -o value,source compression ${q(`${ds}/kid`)}`)).trim(), `on\tinherited from ${ds}`);

    const to = `${SRC_ROOT}/ops-renamed`;
    let offered: string | undefined;
    input.script({
      inputBox: (o) => {
        offered = o.value;
        return to;
      },
      warnModal: runEverything,
    });
    const renamed = await run('zfsFleet.renameDataset', node);
    assert.equal(offered, ds, 'the current name offered');
    assert.equal(renamed.result?.outcome, 'ok', renamed.result?.error ?? JSON.stringify(input.calls));
    assert.match(renamed.detail!, new RegExp(`${ds}/kid -> ${to}/kid`));
    assert.equal(destroyedInDetail(renamed.detail!).count, 0);
    assert.ok(await exists('off1', `${to}/kid`));
    assert.ok(!(await exists('off1', ds)));
  });

  test('Fail Over to This Replica…: the modal lists every step and what changes; then the replica is the writable primary, the old one read-only, the fleet file swapped', async () => {
    const folder = vscode.workspace.workspaceFolders![0]!.uri;
    const fleetPath = vscode.Uri.joinPath(folder, '.zfs-fleet.json').fsPath;
    const original = fs.readFileSync(fleetPath, 'utf8');
    const [P, T] = [`${SRC_ROOT}/fo`, `${DST_ROOT}/fo`];
    const id = `off1:${P}->ovh3:${T}`;
    await makeDataset('off1', P, ['a']);
    const json = JSON.parse(original) as { groups?: unknown[] };
    json.groups = [...(json.groups ?? []), { name: 'e2e-fo', primary: `off1:${P}`, replicas: [`ovh3:${T}`] }];
    fs.writeFileSync(fleetPath, JSON.stringify(json, null, 2) + '\n');
    try {
      await api.ctx.replication.pairs.reload();
      input.script({ warnModal: runEverything });
      const sync = await run('zfsFleet.syncPair', id);
      assert.equal(sync.result?.outcome, 'ok', sync.result?.error ?? JSON.stringify(input.calls));
      const node = await pairNode(id);
      assert.equal(api.ctx.replication.pairsView.view(node).contextValue, 'zfs.pair.file.replica');
      await ssh('off1', `printf 'before the failover\\n' > "$(zfs get -H -o value mountpoint ${q(P)})/note"`);

      input.script({ warnModal: runEverything });
      const r = await run('zfsFleet.failOver', node);
      assert.equal(r.result?.outcome, 'ok', r.result?.error ?? JSON.stringify(input.calls));
      assert.deepEqual(r.result?.warnings ?? [], []);
      assert.match(r.detail!, /What changes:[\s\S]*becomes read-only, then its final snapshot @zfs-fleet-failover-/);
      assert.match(r.detail!, /The fleet file .*: group e2e-fo's primary becomes ovh3:/);
      assert.equal(destroyedInDetail(r.detail!).count, 0);
      assert.equal((await ssh('ovh3', `cat "$(zfs get -H -o value mountpoint ${q(T)})/note"`)).trim(), 'before the failover');
      assert.equal((await ssh('ovh3', `zfs get -H -o value zfs-fleet:role ${q(T)}`)).trim(), 'primary');
      assert.equal((await ssh('off1', `zfs get -H -o value zfs-fleet:role ${q(P)}`)).trim(), 'replica');
      assert.match(await ssh('off1', `touch "$(zfs get -H -o value mountpoint ${q(P)})/x" 2>&1 || true`), /Read-only file system/);
      const [gP, gT] = [await snapshotGuids('off1', P), await snapshotGuids('ovh3', T)];
      assert.deepEqual([...gT.values()], [...gP.values()]);
      const group = (JSON.parse(fs.readFileSync(fleetPath, 'utf8')) as { groups: { name: string; primary: string; replicas: string[] }[] }).groups.find(
        (g) => g.name === 'e2e-fo',
      )!;
      assert.deepEqual([group.primary, group.replicas], [`ovh3:${T}`, [`off1:${P}`]]);
      // The Replication view follows the file: the pair now runs from the new primary.
      await api.ctx.replication.pairs.reload();
      await pairNode(`ovh3:${T}->off1:${P}`);
    } finally {
      fs.writeFileSync(fleetPath, original);
      await api.ctx.replication.pairs.reload();
    }
  });

  test('Show Replication History lists the runs', async () => {
    const uri = await run<vscode.Uri>('zfsFleet.showReplicationHistory');
    const text = (await vscode.workspace.openTextDocument(uri)).getText();
    assert.match(text, /^# Replication history/);
    assert.match(text, /OK: Sync off1:/);
    assert.match(text, /OK: Roll back/);
    assert.match(text, /OK: Re-base/);
  });

  test('Add Replication Pair writes the settings; Remove Pair takes it out', async () => {
    const target = `ovh3:${DST_ROOT}/added`;
    const answers = [`off1:${SRC}`, target, 'added pair'];
    input.script({ inputBox: () => answers.shift(), quickPick: (items) => items.find((i) => i.label === 'relay') });
    await run('zfsFleet.addPair');
    const spec = vscode.workspace.getConfiguration('zfsFleet').get<{ source: string; target: string; label?: string }[]>('pairs')!;
    assert.ok(
      spec.some((p) => p.target === target && p.label === 'added pair'),
      JSON.stringify(spec),
    );
    const node = await pairNode(`off1:${SRC}->${target}`);
    await run('zfsFleet.removePair', node);
    const after = vscode.workspace.getConfiguration('zfsFleet').get<{ target: string }[]>('pairs')!;
    assert.ok(!after.some((p) => p.target === target));
    assert.ok(!(await pairNodes()).some((n) => n.kind === 'pair' && n.entry.pair.id === `off1:${SRC}->${target}`));
  });

  test('workspace trust: the mutating commands refuse to run, and their menus ask for a trusted workspace', async () => {
    const pkg = vscode.extensions.getExtension('zfs-fleet.zfs-fleet')!.packageJSON as {
      contributes: { menus: Record<string, { command: string; when?: string }[]> };
      capabilities: { untrustedWorkspaces: { restrictedConfigurations: string[] } };
    };
    const mutating = [
      'zfsFleet.syncPair',
      'zfsFleet.syncPairWithOptions',
      'zfsFleet.rollbackToSnapshot',
      'zfsFleet.rebaseClone',
      'zfsFleet.takeSnapshot',
      'zfsFleet.destroySnapshots',
      'zfsFleet.holdSnapshot',
      'zfsFleet.releaseHold',
      'zfsFleet.createClone',
      'zfsFleet.promoteClone',
      'zfsFleet.setProperty',
      'zfsFleet.renameDataset',
      'zfsFleet.failOver',
      'zfsFleet.takeOver',
      'zfsFleet.demoteReplica',
      'zfsFleet.addPair',
      'zfsFleet.removePair',
      'zfsFleet.importConfig',
    ];
    for (const [menu, items] of Object.entries(pkg.contributes.menus)) {
      for (const i of items) if (mutating.includes(i.command)) assert.match(i.when ?? '', /isWorkspaceTrusted/, `${menu}: ${i.command}`);
    }
    assert.ok(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations.includes('zfsFleet.pairs'));
    const historyBefore = (await api.ctx.replication.history.read()).entries.length;
    const before = await snapshotNames('ovh3', `${DST_ROOT}/rb`);
    api.ctx.replication.trustOverride = false;
    try {
      input.script({ warnModal: runEverything });
      assert.equal(await run('zfsFleet.syncPair', SYNC_ID), undefined);
      assert.equal(await run('zfsFleet.rollbackToSnapshot', snapNode('ovh3', `${DST_ROOT}/rb@a`)), undefined);
      assert.equal(input.calls.length, 0, 'nothing was asked');
    } finally {
      api.ctx.replication.trustOverride = undefined;
    }
    assert.equal((await api.ctx.replication.history.read()).entries.length, historyBefore);
    assert.deepEqual(await snapshotNames('ovh3', `${DST_ROOT}/rb`), before);
    assert.ok(fs.existsSync(api.ctx.replication.history.file));
  });

  test('Import from syncoid/sanoid Config…: the summary, the diff, a modal; Write merges the pairs and host routes into .zfs-fleet.json', async () => {
    const folder = vscode.workspace.workspaceFolders![0]!.uri;
    const fleetUri = vscode.Uri.joinPath(folder, '.zfs-fleet.json');
    const original = fs.readFileSync(fleetUri.fsPath, 'utf8');
    const conf = vscode.Uri.joinPath(folder, 'ovh3-syncoid-args.conf');
    fs.writeFileSync(
      conf.fsPath,
      [
        '# as /etc/sanoid/syncoid-args.conf on ovh3',
        `--no-sync-snap root@127.0.0.1:${SRC_ROOT}/imported ${DST_ROOT}/imported`,
        '--no-sync-snap "unterminated quote',
        '',
      ].join('\n'),
    );
    try {
      // Cancel at the modal: nothing written.
      const script = (answer: string | undefined) =>
        input.script({
          openFile: () => conf,
          quickPick: (items) => (items[0]!.label === 'syncoid-args' ? items[0] : items.find((i) => i.label === 'ovh3')),
          warnModal: () => answer,
        });
      script(undefined);
      assert.equal(await vscode.commands.executeCommand('zfsFleet.importConfig'), undefined);
      assert.equal(fs.readFileSync(fleetUri.fsPath, 'utf8'), original);
      const modal = input.of('warnModal')[0]!;
      assert.match(modal.message, /Write the import of ovh3-syncoid-args\.conf into \.zfs-fleet\.json\?/);
      assert.match(modal.detail!, /1 pair\(s\), 0 policy\(ies\) and 1 host route\(s\) added/);
      assert.match(modal.detail!, /\d+ warning\(s\): see the import document/);
      const summary = vscode.workspace.textDocuments.find((d) => d.uri.path.includes('Import ovh3-syncoid-args.conf'));
      assert.ok(summary, 'the import summary document is open');
      assert.match(summary.getText(), /unparsable|unknown-flag/);
      // Write.
      script('Write');
      const r = (await vscode.commands.executeCommand('zfsFleet.importConfig')) as { written: boolean };
      assert.equal(r.written, true);
      const doc = JSON.parse(fs.readFileSync(fleetUri.fsPath, 'utf8')) as {
        pairs: { source: string; target: string; route: string }[];
        hosts: Record<string, { from?: Record<string, unknown> }>;
      };
      // root@127.0.0.1 is off1 by the ssh config's HostName; how ovh3 reached it is kept as off1's route from ovh3.
      const added = doc.pairs.find((p) => p.target === `ovh3:${DST_ROOT}/imported`);
      assert.deepEqual(added && [added.source, added.route], [`off1:${SRC_ROOT}/imported`, 'pull']);
      assert.deepEqual(doc.hosts.off1?.from?.ovh3, { address: '127.0.0.1', user: 'root' });
      const ids = (await api.ctx.replication.pairs.pairs()).map((p) => p.pair.id);
      assert.ok(ids.includes(`off1:${SRC_ROOT}/imported->ovh3:${DST_ROOT}/imported`), ids.join(', '));
    } finally {
      fs.writeFileSync(fleetUri.fsPath, original);
      fs.rmSync(conf.fsPath, { force: true });
      await api.ctx.replication.pairs.reload();
    }
  });
});
