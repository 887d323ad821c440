/**
 * The timeline webview app (bundled to dist/webview/timeline.js, loaded by src/ui's panel with a
 * nonce under a CSP without 'unsafe-inline'). It builds its DOM inside #app, validates every
 * message from the extension with parseToWebview, draws models, posts actions (each with a request
 * id; the extension's `actionResult` says how it ended, a failure goes to the status line), and keeps its
 * view state with getState/setState (the panel does not use retainContextWhenHidden).
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import {
  PROTOCOL_VERSION,
  parseToWebview,
  parseViewState,
  unhandled,
  type ActionResultMessage,
  type FromWebview,
  type TimelineAction,
  type TimelineModel,
  type TimelineViewState,
  type ToWebview,
} from '../../src/shared/protocol.js';
import { actionLabel, actionMessage, actionsFor } from './actions.js';
import { Chart } from './chart.js';
import { fullName, timeZoneLabel } from './format.js';
import { ContextMenu } from './menu.js';
import type { Cursor } from './nav.js';
import { findMark, prepare } from './prepare.js';
import { watchTheme } from './theme.js';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

/** Models up to this many marks are kept in the view state (about 3 MB of JSON). */
export const MAX_STATE_MARKS = 20_000;

const LEGEND: Array<[string, string]> = [
  ['common', 'on both sides'],
  ['base', 'common base'],
  ['unsent', 'not sent yet'],
  ['target-only', 'target only / diverged'],
  ['prunes-next', 'pruned next'],
  ['at-risk', 'base pruned next'],
  ['bookmark', 'bookmark'],
  ['gap', 'gap in schedule'],
  ['clone', 'clone'],
];

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function button(label: string, icon: string, title: string, onClick: () => void): HTMLElement {
  const b = document.createElement('vscode-button');
  b.setAttribute('icon', icon);
  b.setAttribute('secondary', '');
  b.setAttribute('title', title);
  b.textContent = label;
  b.addEventListener('click', () => {
    if (!b.hasAttribute('disabled')) onClick();
  });
  return b;
}

class App {
  private readonly vscode: VsCodeApi;
  private readonly titleEl: HTMLElement;
  private readonly summary: HTMLUListElement;
  private readonly status: HTMLElement;
  private readonly statusText: HTMLElement;
  private readonly statusIcon: HTMLElement;
  private readonly refreshBtn: HTMLElement;
  private readonly baseBtn: HTMLElement;
  private readonly chart: Chart;
  private readonly menu: ContextMenu;
  private model: TimelineModel | undefined;
  private busy = false;
  /** Actions posted and not answered yet, by request id. */
  private readonly pending = new Map<number, TimelineAction>();
  private nextRequestId = 1;
  private saveTimer = 0;
  private pendingRestore: TimelineViewState | undefined;

  constructor(root: HTMLElement) {
    this.vscode = acquireVsCodeApi();

    const toolbar = el('div', 'toolbar');
    toolbar.setAttribute('role', 'toolbar');
    toolbar.setAttribute('aria-label', 'Timeline');
    this.titleEl = el('h1', 'title');
    this.titleEl.setAttribute('aria-level', '1');
    this.refreshBtn = button('Refresh', 'refresh', 'List the hosts again', () => this.post({ type: 'refresh' }));
    const fit = button('Zoom to Fit', 'screen-full', 'Show every snapshot (0)', () => this.chart.zoomToFit());
    this.baseBtn = button('Common Base', 'target', 'Zoom to the newest common base and what follows it', () => this.chart.zoomToBase());
    const legend = el('ul', 'legend');
    legend.setAttribute('aria-label', 'Legend');
    for (const [cls, text] of LEGEND) {
      const li = el('li');
      const sw = el('span', `swatch ${cls}`);
      sw.setAttribute('aria-hidden', 'true');
      li.append(sw, text);
      legend.append(li);
    }
    const held = el('li');
    const lock = el('span', 'codicon codicon-lock');
    lock.setAttribute('aria-hidden', 'true');
    held.append(lock, 'held');
    legend.append(held);
    // The axis is in local time, 24-hour clock; the tooltips add UTC.
    const tz = el('li', 'tz');
    tz.textContent = timeZoneLabel();
    legend.append(tz);
    toolbar.append(this.titleEl, this.refreshBtn, fit, this.baseBtn, el('span', 'spacer'), legend);

    this.summary = el('ul', 'summary');
    this.summary.setAttribute('aria-label', 'Summary');
    this.status = el('div', 'status');
    this.status.setAttribute('role', 'status');
    this.statusIcon = el('span', 'codicon');
    this.statusIcon.setAttribute('aria-hidden', 'true');
    this.statusText = el('span');
    this.status.append(this.statusIcon, this.statusText);
    this.status.hidden = true;

    const chartBox = el('div', 'chart');
    root.append(toolbar, this.summary, this.status, chartBox);
    this.chart = new Chart(chartBox, root, {
      selected: () => this.saveSoon(),
      activated: (c) => this.action(c, 'reveal'),
      contextMenu: (c, x, y) => this.openMenu(c, x, y),
      viewChanged: () => this.saveSoon(),
      viewChanging: () => this.saveSoon(),
    });
    this.menu = new ContextMenu(root);
    watchTheme(() => this.chart.setPalette());
    window.addEventListener('message', (e: MessageEvent) => this.receive(e.data));
    // Exposed for the tests and the benchmark (read-only views of what is drawn).
    (window as unknown as { __zfsTimeline: unknown }).__zfsTimeline = {
      point: (lane: number, name: string, kind = 'snapshot') => {
        const p = this.chart.prepared;
        const m = p?.lanes[lane]?.lane.marks.findIndex((x) => x.name === name && x.kind === kind) ?? -1;
        return p && m >= 0 ? this.chart.clientPoint({ lane, pos: p.lanes[lane]!.pos[m]! }) : undefined;
      },
      lastDrawMs: () => this.chart.lastDrawMs,
      view: () => ({ transform: this.chart.currentTransform, selected: this.selectedKey() }),
    };

    const saved = parseViewState(this.vscode.getState());
    if (saved?.model) this.show(saved.model, saved, performance.now());
    // A state without its model (too large to keep): the zoom and selection wait for the extension's model.
    else if (saved) this.pendingRestore = saved;
    this.post({ type: 'ready' });
  }

  private post(m: FromWebview): void {
    this.vscode.postMessage(m);
  }

  private receive(data: unknown): void {
    let msg: ToWebview;
    const t0 = performance.now();
    try {
      msg = parseToWebview(data);
    } catch (e) {
      // Not acted on: named in the status line and the developer console.
      console.error('zfs-fleet timeline: dropped an invalid message:', (e as Error).message);
      this.setStatus('error', `Invalid message from the extension: ${(e as Error).message}`);
      return;
    }
    switch (msg.type) {
      case 'model':
        this.setStatus(undefined, '');
        this.show(msg.model, undefined, t0);
        break;
      case 'loading':
        this.setStatus('loading', `Loading ${msg.title}…`);
        break;
      case 'error':
        this.setStatus('error', msg.message);
        break;
      case 'busy':
        this.busy = msg.busy;
        this.refreshBtn.toggleAttribute('disabled', msg.busy);
        this.setStatus(msg.busy ? 'loading' : undefined, msg.busy ? 'An action is running…' : '');
        break;
      case 'actionResult':
        this.actionEnded(msg);
        break;
      default:
        unhandled(msg, 'timeline webview');
    }
  }

  /**
   * An action's result (after the extension's `busy: false`): a failure goes to the status line; done
   * or cancelled leaves it as `busy` left it. A result for a request this page did not send (it was
   * reloaded while the action ran) is shown all the same.
   */
  private actionEnded(r: ActionResultMessage): void {
    const action = this.pending.get(r.requestId);
    this.pending.delete(r.requestId);
    if (r.ok || r.cancelled) return;
    const what = action ? actionLabel(action) : 'The action';
    this.setStatus('error', `${what} failed${r.message ? `: ${r.message}` : ''}`);
  }

  private setStatus(kind: 'loading' | 'error' | undefined, text: string): void {
    this.status.hidden = !kind;
    this.status.classList.toggle('error', kind === 'error');
    this.statusIcon.className = kind === 'loading' ? 'codicon codicon-loading codicon-modifier-spin' : kind === 'error' ? 'codicon codicon-error' : 'codicon';
    this.statusText.textContent = text;
  }

  /** Draws a model; `restore` is a saved view state (panel shown again), else the view is kept for the same lanes. */
  private show(model: TimelineModel, restore: TimelineViewState | undefined, t0: number): void {
    const prev = this.model;
    const prevSel = this.selectedKey();
    if (!restore && !prev && this.pendingRestore) restore = this.pendingRestore;
    this.pendingRestore = undefined;
    const p = prepare(model);
    this.model = model;
    this.titleEl.textContent = model.title;
    this.summary.replaceChildren(...model.summary.map((s) => el('li', undefined, s)));
    const hasBase = p.lanes.some((l) => l.base >= 0);
    this.baseBtn.toggleAttribute('disabled', !hasBase);

    const sameLanes = !!prev && prev.lanes.length === model.lanes.length && prev.lanes.every((l, i) => l.id === model.lanes[i]!.id);
    const selKey = restore ? restore.selected : sameLanes ? prevSel : undefined;
    const found = selKey ? findMark(p, selKey.lane, selKey.kind, selKey.name) : undefined;
    const selected: Cursor | undefined = found ? { lane: found.lane, pos: p.lanes[found.lane]!.pos[found.mark]! } : undefined;
    const transform = restore?.transform ?? (sameLanes ? 'keep' : undefined);
    this.chart.setModel(p, { transform, selected });
    this.chart.draw();
    this.post({ type: 'rendered', marks: p.marks, links: model.links.length, ms: Math.round((performance.now() - t0) * 10) / 10 });
    this.saveSoon();
  }

  private selectedKey(): TimelineViewState['selected'] {
    const p = this.chart.prepared;
    const c = this.chart.cursor;
    if (!p || !c) return undefined;
    const lane = p.lanes[c.lane]!;
    const m = lane.lane.marks[lane.order[c.pos]!]!;
    return { lane: lane.lane.id, kind: m.kind, name: m.name };
  }

  /**
   * Persists the view state half a second after the last change (setState serialises the whole state
   * synchronously: never during a gesture). The model is kept up to MAX_STATE_MARKS marks; a larger
   * one (megabytes of JSON on every save, stored by VS Code for the panel's restore) is left out, and
   * a restored panel shows it when the extension sends it again (it re-lists on 'ready').
   */
  private saveSoon(): void {
    clearTimeout(this.saveTimer);
    this.saveTimer = window.setTimeout(() => {
      const m = this.model;
      const marks = m ? m.lanes.reduce((s, l) => s + l.marks.length, 0) : 0;
      const state: TimelineViewState = { version: PROTOCOL_VERSION, transform: this.chart.currentTransform, selected: this.selectedKey() };
      if (m && marks <= MAX_STATE_MARKS) state.model = m;
      if (m?.subject) state.subject = m.subject;
      this.vscode.setState(state);
    }, 500);
  }

  private markIndex(c: Cursor): number {
    return this.chart.prepared!.lanes[c.lane]!.order[c.pos]!;
  }

  private action(c: Cursor, action: TimelineAction): void {
    if (!this.model) return;
    const requestId = this.nextRequestId++;
    this.pending.set(requestId, action);
    this.post(actionMessage(this.model, c.lane, this.markIndex(c), action, requestId));
  }

  private openMenu(c: Cursor, x: number, y: number): void {
    if (!this.model) return;
    const mark = this.markIndex(c);
    const lane = this.model.lanes[c.lane]!;
    const actions = actionsFor(this.model, c.lane, mark);
    this.menu.show(actions, `Actions for ${fullName(lane, lane.marks[mark]!)}`, x, y, this.busy, this.chart.plot, (a) => this.action(c, a));
  }
}

const root = document.getElementById('app');
if (root) new App(root);
