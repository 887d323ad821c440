/**
 * The model prepared for drawing: per lane, the marks sorted by time in typed arrays (so a frame
 * finds its visible marks by binary search and never walks objects), each mark's style bucket and
 * radius, the links sorted by time, the gaps and the clones. Pure: no DOM, tested in test/unit/webview.
 */
import { MarkFlag, type TimelineLane, type TimelineMark, type TimelineModel } from '../../src/shared/protocol.js';

/** Style buckets: one canvas fill pass per bucket and shape. Order = paint order (last on top). */
export const Style = {
  Other: 0,
  Common: 1,
  Unsent: 2,
  TargetOnly: 3,
  Clash: 4,
  PrunesNext: 5,
  Base: 6,
  AtRisk: 7,
} as const;
export type StyleId = (typeof Style)[keyof typeof Style];
export const STYLE_COUNT = 8;
export const STYLE_NAMES = ['other', 'common', 'unsent', 'target-only', 'clash', 'prunes-next', 'base', 'at-risk'] as const;

/** The one style of a mark: the most important of its flags wins. */
export function styleOf(flags: number): StyleId {
  if (flags & MarkFlag.AtRisk) return Style.AtRisk;
  if (flags & MarkFlag.Base) return Style.Base;
  if (flags & MarkFlag.Clash) return Style.Clash;
  if (flags & MarkFlag.TargetOnly) return Style.TargetOnly;
  if (flags & MarkFlag.PrunesNext) return Style.PrunesNext;
  if (flags & MarkFlag.Unsent) return Style.Unsent;
  if (flags & MarkFlag.Common) return Style.Common;
  return Style.Other;
}

export const R_MIN = 2.5;
export const R_MAX = 7;
/** Marks with the same creation second are stacked this many px apart, up to STACK_MAX steps. */
export const STACK_DY = 7;
export const STACK_MAX = 3;

/** Radius of a mark by its used space: area proportional to used, relative to the largest on any lane. */
export function radiusFor(used: number | undefined, maxUsed: number): number {
  if (!used || used <= 0 || maxUsed <= 0) return R_MIN;
  return R_MIN + (R_MAX - R_MIN) * Math.sqrt(Math.min(1, used / maxUsed));
}

export interface PreparedLane {
  lane: TimelineLane;
  /** Sorted position -> index in lane.marks. */
  order: Uint32Array;
  /** Mark index -> sorted position. */
  pos: Uint32Array;
  /** Creation times in ms, sorted (by position). */
  times: Float64Array;
  /** By position: Style id + 8 if a bookmark. */
  bucket: Uint8Array;
  /** By position: radius in px. */
  radius: Float32Array;
  /**
   * By position: 0, or how many marks of the same kind (snapshot or bookmark) before it have the same
   * creation second (sanoid's hourly, daily and monthly at once), capped at STACK_MAX: such marks are
   * drawn stacked upwards by STACK_DY each, so every one can be seen and hovered.
   */
  stack: Uint8Array;
  /** Positions of held marks (sorted). */
  held: Uint32Array;
  /** Gaps in the schedule: [start ms, end ms] pairs, sorted by start. */
  gaps: Float64Array;
  /** Mark index of the newest common base on this lane, -1 if none. */
  base: number;
}

export interface PreparedClone {
  lane: number;
  mark: number;
  time: number;
  name: string;
  /** Which of the mark's clones (0-based): branches of one mark fan out. */
  nth: number;
}

export interface Prepared {
  model: TimelineModel;
  lanes: PreparedLane[];
  /** Links as parallel arrays sorted by the earlier end's time. */
  links: {
    count: number;
    tMin: Float64Array;
    laneA: Uint16Array;
    posA: Uint32Array;
    laneB: Uint16Array;
    posB: Uint32Array;
    base: Uint8Array;
    /** Largest |tA - tB| (0 when every link joins marks of the same time, as replicated snapshots are). */
    maxSpan: number;
  };
  clones: PreparedClone[];
  /** Oldest and newest time in ms over every lane (and the listing time), or undefined when there is no mark. */
  extent: [number, number] | undefined;
  marks: number;
}

export const BOOKMARK = 8;

function prepareLane(lane: TimelineLane, maxUsed: number): PreparedLane {
  const n = lane.marks.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const marks = lane.marks;
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) if (marks[i]!.time < marks[i - 1]!.time) sorted = false;
  // Oldest first by createtxg is the model's order; equal or inverted clock times are sorted stably.
  if (!sorted) order.sort((a, b) => marks[a]!.time - marks[b]!.time || a - b);
  const pos = new Uint32Array(n);
  const times = new Float64Array(n);
  const bucket = new Uint8Array(n);
  const radius = new Float32Array(n);
  const stack = new Uint8Array(n);
  const lastTime = [NaN, NaN];
  const lastStack = [0, 0];
  const held: number[] = [];
  const gaps: number[] = [];
  let base = -1;
  for (let p = 0; p < n; p++) {
    const i = order[p]!;
    const m = marks[i]!;
    pos[i] = p;
    times[p] = m.time * 1000;
    bucket[p] = styleOf(m.flags) + (m.kind === 'bookmark' ? BOOKMARK : 0);
    radius[p] = radiusFor(m.used, maxUsed);
    const g = m.kind === 'bookmark' ? 1 : 0;
    stack[p] = times[p] === lastTime[g] ? Math.min(STACK_MAX, lastStack[g]! + 1) : 0;
    lastTime[g] = times[p]!;
    lastStack[g] = stack[p]!;
    if (m.flags & MarkFlag.Held || (m.holds ?? 0) > 0) held.push(p);
    if (m.flags & MarkFlag.GapBefore && p > 0) gaps.push(times[p - 1]!, times[p]!);
    if (m.flags & MarkFlag.Base) base = i;
  }
  return { lane, order, pos, times, bucket, radius, stack, held: Uint32Array.from(held), gaps: Float64Array.from(gaps), base };
}

export function prepare(model: TimelineModel): Prepared {
  let maxUsed = 0;
  let marks = 0;
  for (const l of model.lanes) {
    marks += l.marks.length;
    for (const m of l.marks) if (m.used !== undefined && m.used > maxUsed) maxUsed = m.used;
  }
  const lanes = model.lanes.map((l) => prepareLane(l, maxUsed));

  const count = model.links.length;
  const idx = new Uint32Array(count);
  const tMinRaw = new Float64Array(count);
  let maxSpan = 0;
  for (let i = 0; i < count; i++) {
    const l = model.links[i]!;
    const ta = model.lanes[l.from[0]]!.marks[l.from[1]]!.time * 1000;
    const tb = model.lanes[l.to[0]]!.marks[l.to[1]]!.time * 1000;
    tMinRaw[i] = Math.min(ta, tb);
    maxSpan = Math.max(maxSpan, Math.abs(ta - tb));
    idx[i] = i;
  }
  idx.sort((a, b) => tMinRaw[a]! - tMinRaw[b]! || a - b);
  const links = {
    count,
    tMin: new Float64Array(count),
    laneA: new Uint16Array(count),
    posA: new Uint32Array(count),
    laneB: new Uint16Array(count),
    posB: new Uint32Array(count),
    base: new Uint8Array(count),
    maxSpan,
  };
  for (let j = 0; j < count; j++) {
    const i = idx[j]!;
    const l = model.links[i]!;
    links.tMin[j] = tMinRaw[i]!;
    links.laneA[j] = l.from[0];
    links.posA[j] = lanes[l.from[0]]!.pos[l.from[1]]!;
    links.laneB[j] = l.to[0];
    links.posB[j] = lanes[l.to[0]]!.pos[l.to[1]]!;
    links.base[j] = l.base ? 1 : 0;
  }

  const clones: PreparedClone[] = [];
  model.lanes.forEach((l, li) =>
    l.marks.forEach((m, mi) => {
      (m.clones ?? []).forEach((name, nth) => clones.push({ lane: li, mark: mi, time: m.time * 1000, name, nth }));
    }),
  );
  clones.sort((a, b) => a.time - b.time);

  let lo = Infinity;
  let hi = -Infinity;
  for (const l of lanes) {
    if (l.times.length === 0) continue;
    lo = Math.min(lo, l.times[0]!);
    hi = Math.max(hi, l.times[l.times.length - 1]!);
  }
  // The listing time is in view when it is near the newest mark (a quarter of the span, at least an hour).
  const extent: [number, number] | undefined =
    lo <= hi ? [lo, model.takenAt > hi && model.takenAt - hi <= Math.max((hi - lo) / 4, 3600_000) ? model.takenAt : hi] : undefined;
  return { model, lanes, links, clones, extent, marks };
}

/** First index i with xs[i] >= t (xs sorted ascending); xs.length when none. */
export function lowerBound(xs: ArrayLike<number>, t: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The positions [start, end) of the marks with t0 <= time <= t1. */
export function visibleRange(times: ArrayLike<number>, t0: number, t1: number): [number, number] {
  const start = lowerBound(times, t0);
  let end = lowerBound(times, t1);
  while (end < times.length && times[end]! <= t1) end++;
  return [start, end];
}

/** The position of the mark nearest to t (ties: the older); -1 for an empty lane. */
export function nearest(times: ArrayLike<number>, t: number): number {
  if (times.length === 0) return -1;
  const i = lowerBound(times, t);
  if (i === 0) return 0;
  if (i === times.length) return times.length - 1;
  return t - times[i - 1]! <= times[i]! - t ? i - 1 : i;
}

export function markAt(p: Prepared, lane: number, position: number): TimelineMark {
  const l = p.lanes[lane]!;
  return l.lane.marks[l.order[position]!]!;
}

/** Finds a mark by (lane id, kind, name), e.g. the selection kept in the view state. */
export function findMark(p: Prepared, laneId: string, kind: string, name: string): { lane: number; mark: number } | undefined {
  const lane = p.lanes.findIndex((l) => l.lane.id === laneId);
  if (lane < 0) return undefined;
  const mark = p.lanes[lane]!.lane.marks.findIndex((m) => m.kind === kind && m.name === name);
  return mark < 0 ? undefined : { lane, mark };
}

// ---------------------------------------------------------------------------------------------
// Vertical layout

export const AXIS_HEIGHT = 26;
export const LANE_HEIGHT = 64;
/** The lane's marks sit at this fraction of its height; clone branches hang below. */
export const LANE_MARK_Y = 0.38;

export interface LaneBox {
  top: number;
  height: number;
  /** Where the marks are drawn. */
  y: number;
}

export function laneBoxes(count: number): LaneBox[] {
  const boxes: LaneBox[] = [];
  for (let i = 0; i < count; i++) {
    const top = AXIS_HEIGHT + i * LANE_HEIGHT;
    boxes.push({ top, height: LANE_HEIGHT, y: Math.round(top + LANE_HEIGHT * LANE_MARK_Y) + 0.5 });
  }
  return boxes;
}

export function chartHeight(count: number): number {
  return AXIS_HEIGHT + Math.max(1, count) * LANE_HEIGHT + 8;
}

/** The lane under a y coordinate, or -1. */
export function laneAtY(boxes: LaneBox[], y: number): number {
  return boxes.findIndex((b) => y >= b.top && y < b.top + b.height);
}
