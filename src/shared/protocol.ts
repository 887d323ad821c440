/**
 * The typed messages between the extension and the timeline webview (webview-ui/timeline). Both
 * sides import this file, and each validates every message it receives with the parsers below:
 * a message that does not match is dropped with an error naming what is wrong, never acted on.
 *
 * Names arrive from hosts: the webview never puts them into HTML (textContent / SVG text only).
 */

export const PROTOCOL_VERSION = 1;

export type MarkKind = 'snapshot' | 'bookmark';

/** Bits of TimelineMark.flags. */
export const MarkFlag = {
  /** The same guid is on the other lane of the pair (a link joins them). */
  Common: 1 << 0,
  /** The newest common base: where the next incremental send starts. */
  Base: 1 << 1,
  /** Target only, newer than the base: a rollback to the base (or a sync that needs one) destroys it. */
  TargetOnly: 1 << 2,
  /** Source only, newer than the base: the next sync sends it. */
  Unsent: 1 << 3,
  /** Same name as a snapshot on the other lane, different guid: not the same snapshot. */
  Clash: 1 << 4,
  /** Retention prunes it next (the lane's oldest snapshot), and it is the common base: pruning it breaks the replication. */
  AtRisk: 1 << 5,
  /** Has user holds. */
  Held: 1 << 6,
  /** Datasets are cloned from it (TimelineMark.clones). */
  HasClones: 1 << 7,
  /** The interval before it is more than twice the lane's usual interval: a gap in the schedule. */
  GapBefore: 1 << 8,
  /** The lane's oldest snapshot: the next one a count/age-based retention prunes. */
  PrunesNext: 1 << 9,
} as const;

export interface TimelineMark {
  /** Short name: what follows '@' (snapshot) or '#' (bookmark). */
  name: string;
  kind: MarkKind;
  /** Creation time, seconds since the epoch. */
  time: number;
  createtxg?: number;
  /** Decimal string (64 bits). */
  guid?: string;
  /** Bytes (snapshot `used`). */
  used?: number;
  /** Number of user holds. */
  holds?: number;
  /** Datasets cloned from this snapshot (full names, on the lane's host). */
  clones?: string[];
  /** MarkFlag bits. */
  flags: number;
}

export type LaneRole = 'source' | 'target' | 'replica' | 'dataset';

export interface TimelineLane {
  /** `${host}:${dataset}`: what actions name. */
  id: string;
  host: string;
  dataset: string;
  role: LaneRole;
  /** Oldest first (createtxg, else creation time). */
  marks: TimelineMark[];
  /** Written since its newest snapshot: 'unknown' where the host has no `written` property. */
  modified?: 'yes' | 'no' | 'unknown';
  /** Bytes written since the newest snapshot, where known. */
  written?: number;
  /** A partially received stream can be resumed (receive_resume_token is set). */
  resumeToken?: boolean;
  /** Why the lane has no marks: host unreachable, dataset missing. */
  problem?: string;
  /** The lane's usual interval between snapshots in seconds (median), when it has enough snapshots to tell. */
  interval?: number;
}

/** A line between two marks with the same guid: [lane index, mark index] at each end. */
export interface TimelineLink {
  from: [number, number];
  to: [number, number];
  /** The newest common base. */
  base?: boolean;
}

/** What a timeline shows: a replication pair (by id), or a dataset on a host with the pairs it is in. */
export type TimelineSubject = { kind: 'pair'; pairId: string } | { kind: 'dataset'; host: string; dataset: string };

export interface TimelineModel {
  title: string;
  /** What the panel shows (so a panel restored from the webview's saved model knows what to rebuild). */
  subject?: TimelineSubject;
  /** When the newest listing was taken, ms since the epoch. */
  takenAt: number;
  /** Set when the timeline shows a replication pair: its actions (sync up to here) use it. */
  pairId?: string;
  lanes: TimelineLane[];
  links: TimelineLink[];
  /** The state in words: in sync / behind / diverged, retention warnings. */
  summary: string[];
  /** The mark to centre on at first render (e.g. opened from a snapshot). */
  focus?: { lane: number; mark: number };
}

export type TimelineAction = 'reveal' | 'syncTo' | 'rollbackTo' | 'rebaseClones' | 'copyName';

/** Extension -> webview. */
export type ToWebview =
  | { type: 'model'; model: TimelineModel }
  | { type: 'loading'; title: string }
  | { type: 'error'; message: string }
  /** An action the webview asked for is running (true) or ended (false). */
  | { type: 'busy'; busy: boolean };

/** Webview -> extension. */
export type FromWebview =
  | { type: 'ready' }
  | { type: 'refresh' }
  | { type: 'action'; action: TimelineAction; lane: string; kind: MarkKind; name: string }
  /** After each full render: what is drawn, for tests and the log. */
  | { type: 'rendered'; marks: number; links: number; ms: number };

/** What the webview keeps with getState/setState (restored when the panel is shown again or VS Code restarts). */
export interface TimelineViewState {
  version: typeof PROTOCOL_VERSION;
  /** d3-zoom transform of the time axis. */
  transform?: { k: number; x: number; y: number };
  /** The selected mark. */
  selected?: { lane: string; kind: MarkKind; name: string };
  /** The last model, so a restored panel draws before the extension answers. */
  model?: TimelineModel;
  /** What the panel shows (the extension rebuilds a restored panel from it; `model.subject` is the fallback). */
  subject?: TimelineSubject;
}

// ---------------------------------------------------------------------------------------------
// Runtime validation

export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

type Obj = Record<string, unknown>;

function obj(x: unknown, where: string): Obj {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new ProtocolError(`${where}: expected an object`);
  return x as Obj;
}
function str(o: Obj, k: string, where: string): string {
  const v = o[k];
  if (typeof v !== 'string') throw new ProtocolError(`${where}.${k}: expected a string`);
  return v;
}
function num(o: Obj, k: string, where: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ProtocolError(`${where}.${k}: expected a finite number`);
  return v;
}
function optNum(o: Obj, k: string, where: string): void {
  if (o[k] !== undefined) num(o, k, where);
}
function optStr(o: Obj, k: string, where: string): void {
  if (o[k] !== undefined) str(o, k, where);
}
function bool(o: Obj, k: string, where: string): boolean {
  if (typeof o[k] !== 'boolean') throw new ProtocolError(`${where}.${k}: expected true or false`);
  return o[k] as boolean;
}
function oneOf<T extends string>(o: Obj, k: string, values: readonly T[], where: string): T {
  const v = o[k];
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) throw new ProtocolError(`${where}.${k}: expected one of ${values.join(', ')}`);
  return v as T;
}
function arr(o: Obj, k: string, where: string): unknown[] {
  const v = o[k];
  if (!Array.isArray(v)) throw new ProtocolError(`${where}.${k}: expected an array`);
  return v;
}
function index(v: unknown, max: number, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= max) throw new ProtocolError(`${where}: expected an index below ${max}`);
  return v;
}

const MARK_KINDS: readonly MarkKind[] = ['snapshot', 'bookmark'];
const ROLES: readonly LaneRole[] = ['source', 'target', 'replica', 'dataset'];
const ACTIONS: readonly TimelineAction[] = ['reveal', 'syncTo', 'rollbackTo', 'rebaseClones', 'copyName'];
const MODIFIED = ['yes', 'no', 'unknown'] as const;

function checkMark(x: unknown, where: string): void {
  const m = obj(x, where);
  str(m, 'name', where);
  oneOf(m, 'kind', MARK_KINDS, where);
  num(m, 'time', where);
  num(m, 'flags', where);
  optNum(m, 'createtxg', where);
  optStr(m, 'guid', where);
  optNum(m, 'used', where);
  optNum(m, 'holds', where);
  if (m.clones !== undefined) arr(m, 'clones', where).forEach((c, i) => typeof c === 'string' || fail(`${where}.clones[${i}]: expected a string`));
}

function fail(message: string): never {
  throw new ProtocolError(message);
}

function checkSubject(x: unknown, where: string): TimelineSubject {
  const s = obj(x, where);
  if (oneOf(s, 'kind', ['pair', 'dataset'] as const, where) === 'pair') {
    str(s, 'pairId', where);
  } else {
    str(s, 'host', where);
    str(s, 'dataset', where);
  }
  return s as unknown as TimelineSubject;
}

export function checkModel(x: unknown, where = 'model'): TimelineModel {
  const m = obj(x, where);
  str(m, 'title', where);
  if (m.subject !== undefined) checkSubject(m.subject, `${where}.subject`);
  num(m, 'takenAt', where);
  optStr(m, 'pairId', where);
  const lanes = arr(m, 'lanes', where);
  const sizes: number[] = [];
  lanes.forEach((l, i) => {
    const w = `${where}.lanes[${i}]`;
    const lane = obj(l, w);
    str(lane, 'id', w);
    str(lane, 'host', w);
    str(lane, 'dataset', w);
    oneOf(lane, 'role', ROLES, w);
    if (lane.modified !== undefined) oneOf(lane, 'modified', MODIFIED, w);
    optNum(lane, 'written', w);
    if (lane.resumeToken !== undefined) bool(lane, 'resumeToken', w);
    optStr(lane, 'problem', w);
    optNum(lane, 'interval', w);
    const marks = arr(lane, 'marks', w);
    for (let j = 0; j < marks.length; j++) checkMark(marks[j], `${w}.marks[${j}]`);
    sizes.push(marks.length);
  });
  arr(m, 'links', where).forEach((l, i) => {
    const w = `${where}.links[${i}]`;
    const link = obj(l, w);
    for (const end of ['from', 'to'] as const) {
      const e = link[end];
      if (!Array.isArray(e) || e.length !== 2) fail(`${w}.${end}: expected [lane, mark]`);
      const lane = index(e[0], sizes.length, `${w}.${end}[0]`);
      index(e[1], sizes[lane]!, `${w}.${end}[1]`);
    }
    if (link.base !== undefined) bool(link, 'base', w);
  });
  arr(m, 'summary', where).forEach((s, i) => typeof s === 'string' || fail(`${where}.summary[${i}]: expected a string`));
  if (m.focus !== undefined) {
    const f = obj(m.focus, `${where}.focus`);
    const lane = index(f.lane, sizes.length, `${where}.focus.lane`);
    index(f.mark, sizes[lane]!, `${where}.focus.mark`);
  }
  return m as unknown as TimelineModel;
}

/** Validates a message from the extension (in the webview). */
export function parseToWebview(x: unknown): ToWebview {
  const m = obj(x, 'message');
  switch (m.type) {
    case 'model':
      checkModel(m.model, 'message.model');
      break;
    case 'loading':
      str(m, 'title', 'message');
      break;
    case 'error':
      str(m, 'message', 'message');
      break;
    case 'busy':
      bool(m, 'busy', 'message');
      break;
    default:
      fail(`message.type: unknown ${JSON.stringify(m.type)}`);
  }
  return m as unknown as ToWebview;
}

/** Validates a message from the webview (in the extension). */
export function parseFromWebview(x: unknown): FromWebview {
  const m = obj(x, 'message');
  switch (m.type) {
    case 'ready':
    case 'refresh':
      break;
    case 'action':
      oneOf(m, 'action', ACTIONS, 'message');
      str(m, 'lane', 'message');
      oneOf(m, 'kind', MARK_KINDS, 'message');
      str(m, 'name', 'message');
      break;
    case 'rendered':
      num(m, 'marks', 'message');
      num(m, 'links', 'message');
      num(m, 'ms', 'message');
      break;
    default:
      fail(`message.type: unknown ${JSON.stringify(m.type)}`);
  }
  return m as unknown as FromWebview;
}

/** Validates a stored view state; anything else (an older version, garbage) is dropped. */
export function parseViewState(x: unknown): TimelineViewState | undefined {
  try {
    const s = obj(x, 'state');
    if (s.version !== PROTOCOL_VERSION) return undefined;
    if (s.transform !== undefined) {
      const t = obj(s.transform, 'state.transform');
      num(t, 'k', 'state.transform');
      num(t, 'x', 'state.transform');
      num(t, 'y', 'state.transform');
    }
    if (s.selected !== undefined) {
      const sel = obj(s.selected, 'state.selected');
      str(sel, 'lane', 'state.selected');
      oneOf(sel, 'kind', MARK_KINDS, 'state.selected');
      str(sel, 'name', 'state.selected');
    }
    if (s.model !== undefined) checkModel(s.model, 'state.model');
    if (s.subject !== undefined) checkSubject(s.subject, 'state.subject');
    return s as unknown as TimelineViewState;
  } catch {
    return undefined;
  }
}
