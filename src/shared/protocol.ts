/**
 * The typed messages between the extension and the timeline webview (webview-ui/timeline). Both
 * sides import this file, and each validates every message it receives with the parsers below:
 * a message that does not match is dropped with an error naming what is wrong, never acted on.
 *
 * The messages are written once, as the tables TO_WEBVIEW and FROM_WEBVIEW below: their types
 * (ToWebview, FromWebview) are derived from the same tables the parsers check, so a field cannot be
 * typed one way and validated another. The closed sets of words (mark kinds, roles, actions) are
 * `as const` arrays with their types derived the same way.
 *
 * Names arrive from hosts: the webview never puts them into HTML (textContent / SVG text only).
 */

export const PROTOCOL_VERSION = 1;

export const MARK_KINDS = ['snapshot', 'bookmark'] as const;
export type MarkKind = (typeof MARK_KINDS)[number];
export const LANE_ROLES = ['source', 'target', 'replica', 'dataset'] as const;
export type LaneRole = (typeof LANE_ROLES)[number];
export const TIMELINE_ACTIONS = ['reveal', 'syncTo', 'rollbackTo', 'rebaseClones', 'copyName'] as const;
export type TimelineAction = (typeof TIMELINE_ACTIONS)[number];
const MODIFIED = ['yes', 'no', 'unknown'] as const;
const SUBJECT_KINDS = ['pair', 'dataset'] as const;

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

export interface TimelineLane {
  /** `${host}:${dataset}`: what actions name. */
  id: string;
  host: string;
  dataset: string;
  role: LaneRole;
  /** Oldest first (createtxg, else creation time). */
  marks: TimelineMark[];
  /** Written since its newest snapshot: 'unknown' where the host has no `written` property. */
  modified?: (typeof MODIFIED)[number];
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
  if (oneOf(s, 'kind', SUBJECT_KINDS, where) === 'pair') {
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
    oneOf(lane, 'role', LANE_ROLES, w);
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

// ---------------------------------------------------------------------------------------------
// The messages: one table per direction. A field is required unless wrapped in optional(); the
// message types are derived from the tables (Messages<...>), and parseMessage checks the same tables.

/** A field of a message: how to check it, and whether it may be left out. */
interface Field<T, Opt extends boolean> {
  readonly optional: Opt;
  check(v: unknown, where: string): T;
}
type Req<T> = Field<T, false>;
type Shape = Readonly<Record<string, Field<unknown, boolean>>>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
type FieldsOf<S extends Shape> = Simplify<
  { -readonly [K in keyof S as S[K]['optional'] extends false ? K : never]: ReturnType<S[K]['check']> } & {
    -readonly [K in keyof S as S[K]['optional'] extends true ? K : never]?: ReturnType<S[K]['check']>;
  }
>;
/** The union of `{ type, ...fields }` of a table of messages. */
type Messages<M extends Readonly<Record<string, Shape>>> = { [T in keyof M & string]: Simplify<{ type: T } & FieldsOf<M[T]>> }[keyof M & string];

const field = <T>(check: (v: unknown, where: string) => T): Req<T> => ({ optional: false, check });
const optional = <T>(f: Req<T>): Field<T, true> => ({ optional: true, check: f.check });
const string = field((v, w) => (typeof v === 'string' ? v : fail(`${w}: expected a string`)));
const finite = field((v, w) => (typeof v === 'number' && Number.isFinite(v) ? v : fail(`${w}: expected a finite number`)));
const boolean = field((v, w) => (typeof v === 'boolean' ? v : fail(`${w}: expected true or false`)));
/** A request id: a non-negative safe integer the webview picks, echoed in the action's result. */
const requestId = field((v, w) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : fail(`${w}: expected a non-negative integer`)));
const oneOfField = <T extends string>(values: readonly T[]) =>
  field((v, w): T => (typeof v === 'string' && (values as readonly string[]).includes(v) ? (v as T) : fail(`${w}: expected one of ${values.join(', ')}`)));
const model = field((v, w) => checkModel(v, w));

/** Extension -> webview. */
const TO_WEBVIEW = {
  model: { model },
  loading: { title: string },
  error: { message: string },
  /** An action the webview asked for is running (true) or ended (false); sent again on `ready`. */
  busy: { busy: boolean },
  /**
   * How the action with this requestId ended: ok, or not (message: why; cancelled: the user said
   * no, which is not a failure). Sent after `busy: false`, and for an action refused outright.
   */
  actionResult: { requestId, ok: boolean, message: optional(string), cancelled: optional(boolean) },
} as const satisfies Record<string, Shape>;

/** Webview -> extension. */
const FROM_WEBVIEW = {
  ready: {},
  refresh: {},
  /** Run an action on a mark; the extension answers with `actionResult` and the same requestId. */
  action: { requestId, action: oneOfField(TIMELINE_ACTIONS), lane: string, kind: oneOfField(MARK_KINDS), name: string },
  /** After each full render: what is drawn, for tests and the log. */
  rendered: { marks: finite, links: finite, ms: finite },
} as const satisfies Record<string, Shape>;

export type ToWebview = Messages<typeof TO_WEBVIEW>;
export type FromWebview = Messages<typeof FROM_WEBVIEW>;
export type ActionMessage = Extract<FromWebview, { type: 'action' }>;
export type ActionResultMessage = Extract<ToWebview, { type: 'actionResult' }>;
/** The message types of each direction, in the order of the tables (for tests). */
export const TO_WEBVIEW_TYPES = Object.keys(TO_WEBVIEW) as Array<ToWebview['type']>;
export const FROM_WEBVIEW_TYPES = Object.keys(FROM_WEBVIEW) as Array<FromWebview['type']>;

function parseMessage<M extends Readonly<Record<string, Shape>>>(table: M, x: unknown): Messages<M> {
  const m = obj(x, 'message');
  const shape: Shape | undefined = typeof m.type === 'string' && Object.hasOwn(table, m.type) ? table[m.type] : undefined;
  if (!shape) fail(`message.type: unknown ${JSON.stringify(m.type)}`);
  for (const [k, f] of Object.entries(shape)) {
    if (m[k] === undefined && f.optional) continue;
    f.check(m[k], `message.${k}`);
  }
  return m as Messages<M>;
}

/** Validates a message from the extension (in the webview). */
export function parseToWebview(x: unknown): ToWebview {
  return parseMessage(TO_WEBVIEW, x);
}

/** Validates a message from the webview (in the extension). */
export function parseFromWebview(x: unknown): FromWebview {
  return parseMessage(FROM_WEBVIEW, x);
}

/** The `default` of a switch over a message type: a compile error when a type is not handled. */
export function unhandled(x: never, where: string): never {
  throw new ProtocolError(`${where}: unhandled message ${JSON.stringify(x)}`);
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
