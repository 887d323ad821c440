/**
 * The timeline's WebviewPanel host: one panel per subject (a pair, or a dataset on a host), revealed
 * when it is already open. The page is minimal (html.ts); the webview app posts `ready` and gets the
 * model built from the Hosts view's cached listings (loaded if missing). Every message from the
 * webview goes through parseFromWebview (invalid: logged and dropped), and an action names a lane
 * and a mark that must be in the model last sent, and is answered with an `actionResult` carrying
 * its requestId (done, failed and why, or cancelled). The panels follow the Hosts view: when a host of
 * theirs is listed again they get a new model. View state is the webview's (getState/setState, no
 * retainContextWhenHidden); a panel restored after a reload is rebuilt from the subject it saved.
 */
import * as vscode from 'vscode';
import type { ReplicationPair } from '../../core/fleet/pairs.js';
import { datasetTimeline, pairTimeline, type Listings, type TimelineOptions } from '../../core/timeline/model.js';
import {
  parseFromWebview,
  unhandled,
  type ActionMessage,
  type ActionResultMessage,
  type FromWebview,
  type TimelineModel,
  type TimelineSubject,
  type ToWebview,
} from '../../shared/protocol.js';
import type { FleetContext } from '../context.js';
import { makeNonce, restoredSubject, timelineHtml } from './html.js';
import { runTimelineAction } from './actions.js';
import { actionOutcome, type ActionOutcome } from './outcome.js';

export const VIEW_TYPE = 'zfsFleet.timeline';
const BUNDLE = ['dist', 'webview'] as const;
const PAIRS_KEY = '\u0000pairs';

export function subjectKey(s: TimelineSubject): string {
  return s.kind === 'pair' ? `pair:${s.pairId}` : `dataset:${s.host}:${s.dataset}`;
}

/** What a test (zfsFleet.timeline.debugState) sees of a panel. */
export interface TimelinePanelState {
  key: string;
  subject: TimelineSubject;
  title: string;
  visible: boolean;
  /** Models posted to the webview so far. */
  modelsSent: number;
  /** The model last posted. */
  model?: TimelineModel;
  /** The webview's last `rendered` report, and how many it sent. */
  rendered?: { marks: number; links: number; ms: number; at: number };
  renders: number;
  /** Messages dropped because they did not match the protocol. */
  invalidMessages: number;
  busy: boolean;
  /** The last `actionResult` posted to the webview. */
  lastActionResult?: ActionResultMessage;
  /** The HTML's problem (bundle not built), if any. */
  problem?: string;
}

export class TimelinePanel implements vscode.Disposable {
  readonly key: string;
  model?: TimelineModel;
  modelsSent = 0;
  rendered?: TimelinePanelState['rendered'];
  renders = 0;
  invalidMessages = 0;
  busy = false;
  lastActionResult?: ActionResultMessage;
  problem?: string;
  /** Centre on this mark in the next model (opened from a snapshot), until the webview rendered it. */
  private focus?: TimelineOptions['focus'];
  private focusSent = false;
  private readonly disposables: vscode.Disposable[] = [];
  private pending?: ReturnType<typeof setTimeout>;
  private sending?: Promise<void>;
  private disposed = false;
  /** The host states the last model was built from (a tree event with the same states changes nothing). */
  private builtFrom = new Map<string, unknown>();

  constructor(
    private readonly host: TimelineHost,
    readonly panel: vscode.WebviewPanel,
    readonly subject: TimelineSubject,
    focus?: TimelineOptions['focus'],
  ) {
    this.key = subjectKey(subject);
    this.focus = focus;
    const root = vscode.Uri.joinPath(host.ctx.extension.extensionUri, ...BUNDLE);
    panel.webview.options = { enableScripts: true, localResourceRoots: [root] };
    panel.title = titleOf(subject);
    panel.iconPath = vscode.Uri.joinPath(host.ctx.extension.extensionUri, 'media', 'zfs-fleet.svg');
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: unknown) => void this.receive(m)),
      panel.onDidDispose(() => this.dispose()),
    );
    void this.render();
  }

  /** A fresh page (and nonce). */
  async render(): Promise<void> {
    const ctx = this.host.ctx;
    const root = vscode.Uri.joinPath(ctx.extension.extensionUri, ...BUNDLE);
    const file = (f: string) => vscode.Uri.joinPath(root, f);
    const missing: string[] = [];
    for (const f of ['timeline.js', 'timeline.css', 'codicon.css']) {
      try {
        await vscode.workspace.fs.stat(file(f));
      } catch {
        missing.push(`dist/webview/${f}`);
      }
    }
    // Closed while the bundle was looked for: the panel's webview is gone (reading it throws).
    if (this.disposed) return;
    const w = this.panel.webview;
    const uri = (f: string) => w.asWebviewUri(file(f)).toString();
    const scriptMissing = missing.includes('dist/webview/timeline.js');
    this.problem = missing.length ? `not built: ${missing.join(', ')}` : undefined;
    if (missing.length) ctx.log.error(`timeline ${this.key}: the webview bundle is not built (${missing.join(', ')})`);
    w.html = timelineHtml(
      {
        cspSource: w.cspSource,
        ...(scriptMissing ? {} : { script: uri('timeline.js') }),
        ...(missing.includes('dist/webview/timeline.css') ? {} : { style: uri('timeline.css') }),
        ...(missing.includes('dist/webview/codicon.css') ? {} : { codicons: uri('codicon.css') }),
      },
      makeNonce(),
      scriptMissing ? 'dist/webview/timeline.js' : undefined,
    );
  }

  state(): TimelinePanelState {
    return {
      key: this.key,
      subject: this.subject,
      title: this.panel.title,
      visible: this.panel.visible,
      modelsSent: this.modelsSent,
      ...(this.model ? { model: this.model } : {}),
      ...(this.rendered ? { rendered: this.rendered } : {}),
      renders: this.renders,
      invalidMessages: this.invalidMessages,
      busy: this.busy,
      ...(this.lastActionResult ? { lastActionResult: this.lastActionResult } : {}),
      ...(this.problem ? { problem: this.problem } : {}),
    };
  }

  /** Opened again (from another snapshot): show it, centred there. */
  reveal(focus?: TimelineOptions['focus']): void {
    if (focus) {
      this.focus = focus;
      this.focusSent = false;
    }
    this.panel.reveal();
    if (focus) void this.sendModel(false);
  }

  post(m: ToWebview): Thenable<boolean> {
    if (this.disposed) return Promise.resolve(false);
    return this.panel.webview.postMessage(m);
  }

  /** A message from the webview (or a test, through the same path). */
  async receive(raw: unknown): Promise<unknown> {
    let m: FromWebview;
    try {
      m = parseFromWebview(raw);
    } catch (e) {
      this.invalidMessages++;
      this.host.ctx.log.error(`timeline ${this.key}: dropped an invalid message from the webview: ${(e as Error).message}`);
      return undefined;
    }
    switch (m.type) {
      case 'ready':
        // A page loaded while an action runs (shown again after the plan's preview covered it).
        if (this.busy) void this.post({ type: 'busy', busy: true });
        return this.sendModel(false);
      case 'refresh':
        return this.sendModel(true);
      case 'rendered':
        this.rendered = { marks: m.marks, links: m.links, ms: m.ms, at: Date.now() };
        this.renders++;
        if (this.focusSent) this.focus = undefined;
        this.host.ctx.log.debug(`timeline ${this.key}: rendered ${m.marks} marks, ${m.links} links in ${m.ms.toFixed(0)} ms`);
        return undefined;
      case 'action':
        return this.action(m);
      default:
        return unhandled(m, `timeline ${this.key}`);
    }
  }

  /** Runs an action and answers it (`actionResult`); returns what the action returned (tests read it). */
  private async action(m: ActionMessage): Promise<unknown> {
    const ctx = this.host.ctx;
    const model = this.model;
    const laneNo = model ? model.lanes.findIndex((l) => l.id === m.lane) : -1;
    const lane = model?.lanes[laneNo];
    const mark = lane?.marks.find((x) => x.kind === m.kind && x.name === m.name);
    if (!model || !lane || !mark) {
      this.invalidMessages++;
      ctx.log.error(`timeline ${this.key}: dropped action ${m.action} on ${m.lane} ${m.kind} ${JSON.stringify(m.name)}: not in the timeline shown`);
      this.answer(m, { ok: false, message: `${m.kind} ${m.name} is not in the timeline shown` });
      return undefined;
    }
    if (this.busy) {
      void ctx.input.info('The timeline is already running an action: wait for it to end.');
      this.answer(m, { ok: false, message: 'another action is running: wait for it to end' });
      return undefined;
    }
    this.busy = true;
    void this.post({ type: 'busy', busy: true });
    let outcome: ActionOutcome = { ok: false, message: 'the action did not end' };
    try {
      const result = await runTimelineAction(ctx, { action: m.action, model, lane, mark, pairs: await this.host.pairs() });
      outcome = actionOutcome(result);
      return result;
    } catch (e) {
      if ((e as Error)?.name === 'UserCancelled') {
        outcome = { ok: false, cancelled: true };
        return undefined;
      }
      const msg = e instanceof Error ? e.message : String(e);
      outcome = { ok: false, message: msg };
      ctx.log.error(`timeline ${this.key}: ${m.action}: ${msg}`);
      void ctx.input.error(`ZFS Fleet: ${msg}`);
      return undefined;
    } finally {
      this.busy = false;
      // The plan's preview document may have covered the panel: back to the timeline it started from
      // (without taking the focus); shown again, the webview asks for the model of the refreshed hosts.
      if (!this.disposed && !this.panel.visible) this.panel.reveal(this.panel.viewColumn, true);
      void this.post({ type: 'busy', busy: false });
      this.answer(m, outcome);
    }
  }

  /** The action's result, after `busy: false` (a page reloaded meanwhile has no pending request of that id: it still shows a failure). */
  private answer(m: ActionMessage, outcome: ActionOutcome): void {
    if (!outcome.ok)
      this.host.ctx.log.info(
        `timeline ${this.key}: ${m.action} (request ${m.requestId}) ${outcome.cancelled ? 'cancelled' : `failed: ${outcome.message ?? ''}`}`,
      );
    this.lastActionResult = { type: 'actionResult', requestId: m.requestId, ...outcome };
    void this.post(this.lastActionResult);
  }

  private async pairsSignature(): Promise<string> {
    return (await this.host.pairs()).map((p) => `${p.id}\u0000${p.label ?? ''}`).join('\n');
  }

  /** The hosts this panel's model is built from. */
  async hosts(): Promise<string[]> {
    if (this.subject.kind === 'dataset') {
      const out = new Set([this.subject.host]);
      for (const p of await this.host.pairs()) {
        if (isEnd(p.source, this.subject) || isEnd(p.target, this.subject)) out.add(p.source.host).add(p.target.host);
      }
      return [...out];
    }
    const pair = (await this.host.pairs()).find((p) => p.id === (this.subject as { pairId: string }).pairId);
    if (!pair) return [];
    const out = new Set([pair.source.host, pair.target.host]);
    for (const p of await this.host.pairs()) if (sameEndpoint(p.source, pair.source)) out.add(p.target.host);
    return [...out];
  }

  /** Build the model from the Hosts view's listings and post it. force: ask the hosts again first. */
  sendModel(force: boolean): Promise<void> {
    const run = async () => {
      const ctx = this.host.ctx;
      const tree = ctx.tree.model;
      try {
        const hosts = await this.hosts();
        const missing = hosts.filter((h) => force || !tree.state(h));
        const loading = () => hosts.some((h) => tree.state(h)?.state === 'loading');
        if (missing.length || loading()) void this.post({ type: 'loading', title: this.panel.title });
        if (missing.length) await Promise.all(missing.map((h) => ctx.tree.loadHost(h, force)));
        // A host someone else is listing (Refresh All, a plan's refresh): wait for its listing, not a half-empty timeline.
        if (loading()) {
          await new Promise<void>((resolve) => {
            // A host's listing ending, or the host list changing (a host forgotten is not loading any more).
            const check = () => {
              if (loading()) return;
              for (const sub of subs) sub.dispose();
              resolve();
            };
            const subs = [tree.onDidChangeHost(check), tree.onDidChangeHostList(check)];
            check();
          });
        }
        const states = new Map<string, unknown>(hosts.map((h) => [h, tree.state(h)]));
        states.set(PAIRS_KEY, await this.pairsSignature());
        const model = await this.build();
        if (this.disposed) return;
        this.builtFrom = states;
        this.model = model;
        this.panel.title = `Timeline: ${model.title}`;
        if (model.focus) this.focusSent = true;
        this.modelsSent++;
        await this.post({ type: 'model', model });
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        ctx.log.error(`timeline ${this.key}: ${msg}`);
        await this.post({ type: 'error', message: msg });
      }
    };
    // One build at a time, in order.
    this.sending = (this.sending ?? Promise.resolve()).then(run, run);
    return this.sending;
  }

  private async build(): Promise<TimelineModel> {
    const tree = this.host.ctx.tree.model;
    const listings: Listings = (h) => {
      const s = tree.state(h);
      if (s?.state === 'ok') return s.listing;
      if (s?.state === 'error') return { problem: s.error.message.split('\n')[0]! };
      return undefined;
    };
    const options: TimelineOptions = this.focus ? { focus: this.focus } : {};
    const pairs = await this.host.pairs();
    if (this.subject.kind === 'dataset') return datasetTimeline(this.subject.host, this.subject.dataset, listings, pairs, options);
    const id = this.subject.pairId;
    const pair = pairs.find((p) => p.id === id);
    if (!pair) throw new Error(`The replication pair ${id} is not configured any more (zfsFleet.pairs or .zfs-fleet.json).`);
    return pairTimeline(pair, listings, pairs, options);
  }

  /** A host of this panel was listed again: a new model, once the burst of events settles. */
  hostChanged(): void {
    if (this.disposed) return;
    if (this.pending) clearTimeout(this.pending);
    this.pending = setTimeout(() => {
      this.pending = undefined;
      // A hidden webview is not running (no retainContextWhenHidden): it asks with `ready` when shown.
      // A host still loading sends another event when done.
      if (!this.panel.visible) return;
      void this.hosts().then(async (hosts) => {
        const tree = this.host.ctx.tree.model;
        if (hosts.some((h) => tree.state(h)?.state === 'loading')) return;
        if (
          hosts.length + 1 === this.builtFrom.size &&
          hosts.every((h) => this.builtFrom.get(h) === tree.state(h)) &&
          this.builtFrom.get(PAIRS_KEY) === (await this.pairsSignature())
        )
          return;
        void this.sendModel(false);
      });
    }, 150);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.pending) clearTimeout(this.pending);
    this.host.forget(this);
    for (const d of this.disposables) d.dispose();
    this.panel.dispose();
  }
}

function isEnd(e: ReplicationPair['source'], s: { host: string; dataset: string }): boolean {
  return e.host === s.host && e.name?.full === s.dataset;
}

function sameEndpoint(a: ReplicationPair['source'], b: ReplicationPair['source']): boolean {
  return a.host === b.host && a.name?.full === b.name?.full;
}

function titleOf(s: TimelineSubject): string {
  return `Timeline: ${s.kind === 'pair' ? s.pairId : `${s.host}:${s.dataset}`}`;
}

/** Every open timeline; created once in activate (registerTimeline). */
export class TimelineHost implements vscode.Disposable {
  private readonly panels = new Map<string, TimelinePanel>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(readonly ctx: FleetContext) {
    this.disposables.push(
      ctx.tree.model.onDidChangeHost(({ host }) => void this.hostsChanged(host)),
      ctx.tree.model.onDidChangeHostList(() => void this.hostsChanged(undefined)),
      // The pairs changed (settings, .zfs-fleet.json, a run in the history): lanes may come or go.
      ctx.replication.pairs.onDidChange(() => void this.hostsChanged(undefined)),
      vscode.window.registerWebviewPanelSerializer(VIEW_TYPE, { deserializeWebviewPanel: (panel, state) => this.restore(panel, state) }),
    );
  }

  async pairs(): Promise<ReplicationPair[]> {
    return (await this.ctx.replication.pairs.pairs()).map((v) => v.pair);
  }

  open(subject: TimelineSubject, focus?: TimelineOptions['focus']): TimelinePanel {
    const key = subjectKey(subject);
    const open = this.panels.get(key);
    if (open) {
      open.reveal(focus);
      return open;
    }
    const panel = vscode.window.createWebviewPanel(VIEW_TYPE, titleOf(subject), vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(this.ctx.extension.extensionUri, ...BUNDLE)],
    });
    const p = new TimelinePanel(this, panel, subject, focus);
    this.panels.set(key, p);
    return p;
  }

  get(key: string): TimelinePanel | undefined {
    return this.panels.get(key);
  }

  all(): TimelinePanel[] {
    return [...this.panels.values()];
  }

  forget(p: TimelinePanel): void {
    if (this.panels.get(p.key) === p) this.panels.delete(p.key);
  }

  /** A panel VS Code restores after a reload: its subject from the state the webview saved. */
  private async restore(panel: vscode.WebviewPanel, raw: unknown): Promise<void> {
    const subject = restoredSubject(raw);
    if (!subject) {
      this.ctx.log.warn('timeline: a restored panel has no subject in its saved state; closing it');
      panel.dispose();
      return;
    }
    const key = subjectKey(subject);
    const open = this.panels.get(key);
    if (open) {
      // Already open (restored twice): keep one.
      panel.dispose();
      open.reveal();
      return;
    }
    this.panels.set(key, new TimelinePanel(this, panel, subject));
  }

  /** A host was listed again (or, undefined, the host list or the pairs changed): the panels it concerns get a new model. */
  private async hostsChanged(host: string | undefined): Promise<void> {
    for (const p of this.all()) {
      if (host === undefined || (await p.hosts()).includes(host)) p.hostChanged();
    }
  }

  dispose(): void {
    for (const p of this.all()) p.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
