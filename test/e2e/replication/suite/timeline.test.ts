/**
 * The timeline panel inside a real VS Code (code-server's extension host) with the real webview
 * bundle, against the lab's zfs-fuse hosts. The webview draws each model and reports `rendered`;
 * the test reads the panel through `zfsFleet.timeline.debugState`, and sends actions through the
 * panel's own message handler (`zfsFleet.timeline.debugPost`, ZFS_FLEET_TEST=1 only), exactly as the
 * webview posts them, with the modals answered by ScriptedInput. What the model claims is checked
 * against the hosts with the operator's own ssh. Datasets: `<root>/timeline` on off1 and ovh3.
 */
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as vscode from 'vscode';
import type { TestApi } from '../../../../src/extension.js';
import type { FlowResult } from '../../../../src/ui/replication/planFlow.js';
import type { TimelinePanelState } from '../../../../src/ui/timeline/panel.js';
import { MarkFlag, type TimelineLane, type TimelineModel } from '../../../../src/shared/protocol.js';
import { destroyRoot, DST_ROOT, labReady, makeDataset, origin, q, ROOT, snapshot, snapshotGuids, SRC_ROOT, SSH_CONFIG, ssh } from './lab.js';
import { ScriptedInput } from './scriptedInput.js';

const SRC = `${SRC_ROOT}/timeline/src`;
const DST = `${DST_ROOT}/timeline/dst`;
const PAIR_ID = `off1:${SRC}->ovh3:${DST}`;

let api: TestApi;
const input = new ScriptedInput();
let savedPairs: unknown;

const runEverything = (_m: string, _d: string, buttons: string[]) => (buttons.includes('Run Step') ? 'Run Step' : buttons.includes('Run') ? 'Run' : undefined);

async function debugState(): Promise<TimelinePanelState[]> {
  return ((await vscode.commands.executeCommand('zfsFleet.timeline.debugState')) as TimelinePanelState[]) ?? [];
}

async function panel(key: string): Promise<TimelinePanelState> {
  const p = (await debugState()).find((x) => x.key === key);
  assert.ok(p, `no timeline ${key} open`);
  return p;
}

/** Waits until the panel satisfies `ok` (the webview answers asynchronously). */
async function waitPanel(key: string, ok: (p: TimelinePanelState) => boolean, what: string, timeoutMs = 60_000): Promise<TimelinePanelState> {
  const end = Date.now() + timeoutMs;
  let last: TimelinePanelState | undefined;
  while (Date.now() < end) {
    last = (await debugState()).find((x) => x.key === key);
    if (last && ok(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  const { model, ...rest } = last ?? ({} as Partial<TimelinePanelState>);
  throw new Error(
    `timeline ${key}: ${what} did not happen in ${timeoutMs / 1000} s; last state ${JSON.stringify(rest)}; summary ${JSON.stringify(model?.summary)}`,
  );
}

function post(key: string, message: unknown): Promise<unknown> {
  return Promise.resolve(vscode.commands.executeCommand('zfsFleet.timeline.debugPost', key, message));
}

const names = (lane: TimelineLane, flag: number) => lane.marks.filter((m) => m.flags & flag).map((m) => m.name);
const lane = (m: TimelineModel, host: string) => m.lanes.find((l) => l.host === host)!;

/** `zfs send ... | zfs recv ...` between two lab hosts with the operator's OpenSSH (set-up, not the product). */
function pipe(from: string, send: string, to: string, recv: string): Promise<void> {
  const cmd = `ssh -F ${q(SSH_CONFIG)} ${from} ${q(send)} | ssh -F ${q(SSH_CONFIG)} ${to} ${q(recv)}`;
  return new Promise((resolve, reject) =>
    execFile('bash', ['-o', 'pipefail', '-c', cmd], (err, _o, stderr) => (err ? reject(new Error(`${cmd}: ${stderr}`)) : resolve())),
  );
}

suite('timeline (lab: off1 -> ovh3)', function () {
  this.timeout(180_000);

  suiteSetup(async function () {
    if (!labReady()) throw new Error('the lab is not up or ZFS_FLEET_E2E_ROOT is not set (run test/e2e/replication/run.mjs)');
    const ext = vscode.extensions.getExtension<TestApi>('zfs-fleet.zfs-fleet');
    assert.ok(ext, 'extension zfs-fleet.zfs-fleet not found');
    api = (await ext.activate())!;
    assert.ok(api?.ctx, 'the extension returned no test API: is ZFS_FLEET_TEST=1 set?');
    api.setUserInput(input);
    // The source: t1..t4; the target received t1 and t2: behind by 2, base t2.
    await makeDataset('off1', SRC, ['t1', 't2', 't3', 't4']);
    await ssh('ovh3', `zfs create -p ${q(`${DST_ROOT}/timeline`)}`);
    await pipe('off1', `zfs send ${q(`${SRC}@t1`)}`, 'ovh3', `zfs recv ${q(DST)}`);
    await pipe('off1', `zfs send -I ${q(`${SRC}@t1`)} ${q(`${SRC}@t2`)}`, 'ovh3', `zfs recv ${q(DST)}`);
    // The timeline draws the Hosts view's cached listings (an earlier suite may have listed these hosts
    // before the datasets existed): list them again, as Refresh in the Hosts view does.
    await Promise.all(['off1', 'ovh3'].map((h) => api.ctx.tree.loadHost(h, true)));
    // The pair, added to the user settings (restored at the end).
    const cfg = vscode.workspace.getConfiguration('zfsFleet');
    savedPairs = cfg.inspect('pairs')?.globalValue;
    const pairs = Array.isArray(savedPairs) ? [...savedPairs] : [];
    await cfg.update('pairs', [...pairs, { source: `off1:${SRC}`, target: `ovh3:${DST}`, label: 'timeline e2e' }], vscode.ConfigurationTarget.Global);
    for (let i = 0; i < 100 && !(await api.ctx.replication.pairs.pairs()).some((p) => p.pair.id === PAIR_ID); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(
      (await api.ctx.replication.pairs.pairs()).some((p) => p.pair.id === PAIR_ID),
      'the pair did not appear',
    );
  });

  suiteTeardown(async function () {
    api?.setUserInput(undefined);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.workspace.getConfiguration('zfsFleet').update('pairs', savedPairs, vscode.ConfigurationTarget.Global);
    if (ROOT) {
      await destroyRoot('ovh3', DST_ROOT);
      await destroyRoot('off1', SRC_ROOT);
    }
  });

  test('Show Timeline of a pair: the webview renders the model; base, links and unsent agree with the hosts', async () => {
    const key = (await vscode.commands.executeCommand('zfsFleet.openTimeline', PAIR_ID)) as string;
    assert.equal(key, `pair:${PAIR_ID}`);
    const p = await waitPanel(key, (x) => !!x.rendered && !!x.model, 'a rendered model');
    assert.equal(p.problem, undefined, 'the webview bundle is built');
    const m = p.model!;
    assert.equal(m.pairId, PAIR_ID);
    assert.deepEqual(m.subject, { kind: 'pair', pairId: PAIR_ID });
    assert.deepEqual(
      m.lanes.map((l) => [l.role, l.id]),
      [
        ['source', `off1:${SRC}`],
        ['target', `ovh3:${DST}`],
      ],
    );
    // What the webview drew is the model.
    assert.equal(
      p.rendered!.marks,
      m.lanes.reduce((s, l) => s + l.marks.length, 0),
    );
    assert.equal(p.rendered!.links, m.links.length);
    // Against the hosts: a link for every guid both have, the newest of them the base.
    const src = await snapshotGuids('off1', SRC);
    const dst = await snapshotGuids('ovh3', DST);
    const common = [...src.entries()].filter(([, g]) => [...dst.values()].includes(g));
    assert.equal(m.links.length, common.length);
    assert.equal(common.length, 2);
    const s = lane(m, 'off1');
    const d = lane(m, 'ovh3');
    assert.deepEqual(names(s, MarkFlag.Base), ['t2']);
    assert.deepEqual(names(d, MarkFlag.Base), ['t2']);
    assert.equal(s.marks.find((x) => x.name === 't2')!.guid, src.get(`${SRC}@t2`));
    assert.deepEqual(names(s, MarkFlag.Unsent), ['t3', 't4']);
    assert.deepEqual(names(d, MarkFlag.TargetOnly), []);
    assert.match(m.summary[0]!, /^Behind by 2 snapshots \(@t3, @t4\)/);
    // Opened again: the same panel, not a second one.
    assert.equal(await vscode.commands.executeCommand('zfsFleet.openTimeline', PAIR_ID), key);
    assert.equal((await debugState()).filter((x) => x.key === key).length, 1);
  });

  test('invalid messages are dropped: not in the protocol, or a mark the timeline does not show', async () => {
    const key = `pair:${PAIR_ID}`;
    const before = await panel(key);
    await post(key, { type: 'action', requestId: 1, action: 'destroy', lane: `off1:${SRC}`, kind: 'snapshot', name: 't1' });
    await post(key, { type: 'action', requestId: 2, action: 'syncTo', lane: `off1:${SRC}`, kind: 'snapshot', name: 'not-there' });
    // A mark the timeline does not show: refused, and the webview is told so.
    assert.deepEqual((await panel(key)).lastActionResult, {
      type: 'actionResult',
      requestId: 2,
      ok: false,
      message: 'snapshot not-there is not in the timeline shown',
    });
    await post(key, 'ready');
    const after = await panel(key);
    assert.equal(after.invalidMessages, before.invalidMessages + 3);
    // The panel's own Refresh asks the hosts again and sends a model.
    await post(key, { type: 'refresh' });
    assert.equal((await panel(key)).modelsSent, after.modelsSent + 1);
    assert.equal(after.busy, false);
    assert.equal(input.calls.length, 0, 'nothing was asked');
  });

  test('"Sync up to here" from the panel: the plan sends exactly up to @t3; the tree refresh re-renders the panel', async () => {
    const key = `pair:${PAIR_ID}`;
    const before = await panel(key);
    input.script({ warnModal: runEverything });
    const r = (await post(key, { type: 'action', requestId: 3, action: 'syncTo', lane: `off1:${SRC}`, kind: 'snapshot', name: 't3' })) as FlowResult;
    assert.ok(r, `no result; calls ${JSON.stringify(input.calls)}`);
    assert.equal(r.choice, 'run');
    assert.equal(r.result?.outcome, 'ok', r.result?.error);
    assert.match(r.plan.summary, /up to @t3/);
    assert.deepEqual((await panel(key)).lastActionResult, { type: 'actionResult', requestId: 3, ok: true });
    const src = await snapshotGuids('off1', SRC);
    const dst = await snapshotGuids('ovh3', DST);
    assert.deepEqual([...dst.keys()].sort(), [`${DST}@t1`, `${DST}@t2`, `${DST}@t3`], 'exactly up to @t3, not @t4');
    for (const [name, guid] of dst) assert.equal(guid, src.get(name.replace(DST, SRC)), `guid of ${name}`);
    // The plan refreshed both hosts; the panel got a new model and the webview drew it.
    // Each host's refresh sends a model; wait for the webview's report of drawing the last one.
    const p = await waitPanel(
      key,
      (x) => x.renders > before.renders && !!x.model && names(lane(x.model, 'off1'), MarkFlag.Base).includes('t3') && x.rendered?.links === 3,
      're-render after the refresh',
    );
    assert.ok(p.modelsSent > before.modelsSent);
    assert.deepEqual(names(lane(p.model!, 'off1'), MarkFlag.Unsent), ['t4']);
    assert.equal(p.model!.links.length, 3);
    assert.equal(p.rendered!.links, 3);
    assert.equal(p.busy, false);
  });

  test('live: a snapshot taken on the target shows as target-only when the Hosts view refreshes; "Roll back to here" from the panel destroys exactly it', async () => {
    const key = `pair:${PAIR_ID}`;
    await snapshot('ovh3', `${DST}@own`);
    const before = await panel(key);
    assert.equal(before.visible, true, 'the panel is shown again after the action it started');
    // Refresh Host in the Hosts view (not the panel's own Refresh): the open timeline follows it.
    await vscode.commands.executeCommand('zfsFleet.refreshHost', api.ctx.tree.model.hostNode('ovh3'));
    const p = await waitPanel(
      key,
      (x) => x.renders > before.renders && !!x.model && names(lane(x.model, 'ovh3'), MarkFlag.TargetOnly).includes('own'),
      'target-only @own',
    );
    assert.deepEqual(names(lane(p.model!, 'ovh3'), MarkFlag.TargetOnly), ['own']);
    assert.match(p.model!.summary.join('\n'), /The target has 1 snapshot newer than the common base @t3 \(@own\)/);

    input.script({ warnModal: runEverything });
    const r = (await post(key, { type: 'action', requestId: 4, action: 'rollbackTo', lane: `ovh3:${DST}`, kind: 'snapshot', name: 't3' })) as FlowResult;
    assert.equal(r?.result?.outcome, 'ok', r?.result?.error ?? JSON.stringify(input.calls));
    assert.match(r.detail!, /This destroys 1 object:\n {2}• ovh3: .*@own/);
    assert.deepEqual([...(await snapshotGuids('ovh3', DST)).keys()].sort(), [`${DST}@t1`, `${DST}@t2`, `${DST}@t3`]);
    await waitPanel(key, (x) => !!x.model && names(lane(x.model, 'ovh3'), MarkFlag.TargetOnly).length === 0, 'target-only gone');
  });

  test('a clone on its origin snapshot; "Rebase clones of this snapshot" from the panel re-bases it onto an older one', async () => {
    const key = `pair:${PAIR_ID}`;
    const clone = `${DST_ROOT}/timeline/staging`;
    await ssh('ovh3', `zfs clone ${q(`${DST}@t2`)} ${q(clone)}`);
    await vscode.commands.executeCommand('zfsFleet.refreshHost', api.ctx.tree.model.hostNode('ovh3'));
    const p = await waitPanel(key, (x) => !!x.model && !!lane(x.model, 'ovh3').marks.find((m) => m.name === 't2')?.clones?.length, 'the clone on @t2');
    const t2 = lane(p.model!, 'ovh3').marks.find((m) => m.name === 't2')!;
    assert.deepEqual(t2.clones, [clone]);
    assert.ok(t2.flags & MarkFlag.HasClones);

    input.script({
      quickPick: (items) => items.find((i) => i.label === '@t1') ?? items.find((i) => i.label === 'Drop its data'),
      warnModal: runEverything,
      confirmTyped: (_prompt, expected) => expected === clone,
    });
    const r = (await post(key, { type: 'action', requestId: 5, action: 'rebaseClones', lane: `ovh3:${DST}`, kind: 'snapshot', name: 't2' })) as FlowResult;
    assert.equal(r?.result?.outcome, 'ok', r?.result?.error ?? JSON.stringify(input.calls.map((c) => [c.method, c.message])));
    assert.equal(await origin('ovh3', clone), `${DST}@t1`);
    const after = await waitPanel(key, (x) => !!x.model && !!lane(x.model, 'ovh3').marks.find((m) => m.name === 't1')?.clones?.length, 'the clone on @t1');
    assert.deepEqual(lane(after.model!, 'ovh3').marks.find((m) => m.name === 't2')!.clones, undefined);
  });

  test('Show Timeline from a snapshot row: the dataset timeline with its pair, centred on that snapshot; Reveal selects it in the Hosts view', async () => {
    const snapNode = { kind: 'snapshot', id: `x\u0000ovh3\u0000${DST}@t2`, host: 'ovh3', name: `${DST}@t2` };
    const key = (await vscode.commands.executeCommand('zfsFleet.openTimeline', snapNode)) as string;
    assert.equal(key, `dataset:ovh3:${DST}`);
    const p = await waitPanel(key, (x) => !!x.rendered && !!x.model, 'a rendered model');
    const m = p.model!;
    assert.deepEqual(
      m.lanes.map((l) => [l.role, l.id]),
      [
        ['source', `off1:${SRC}`],
        ['dataset', `ovh3:${DST}`],
      ],
    );
    assert.ok(m.focus, 'focused');
    assert.equal(m.lanes[m.focus.lane]!.marks[m.focus.mark]!.name, 't2');
    assert.equal(m.lanes[m.focus.lane]!.host, 'ovh3');

    const id = (await post(key, { type: 'action', requestId: 1, action: 'reveal', lane: `ovh3:${DST}`, kind: 'snapshot', name: 't2' })) as string;
    assert.ok(id, 'revealed');
    const sel = api.ctx.view.selection;
    assert.equal(sel.length, 1);
    assert.equal(sel[0]!.kind === 'snapshot' && sel[0]!.name, `${DST}@t2`);
  });
});
