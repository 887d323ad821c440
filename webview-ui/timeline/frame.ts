/**
 * What one frame draws, computed without touching the DOM: for the visible time range only
 * (binary search per lane), marks grouped by style bucket (one canvas fill per bucket), collapsed
 * to one per 2-pixel column and bucket when zoomed out (the largest radius kept), links collapsed the
 * same way, gap bands, hold badges and clone branches. The buffers are reused between frames.
 */
import { BOOKMARK, R_MAX, STACK_DY, STACK_MAX, STYLE_COUNT, lowerBound, visibleRange, type LaneBox, type Prepared } from './prepare.js';

/** A growable Float64Array of fixed-size records. */
export class Records {
  data: Float64Array;
  n = 0;
  constructor(
    readonly size: number,
    capacity = 256,
  ) {
    this.data = new Float64Array(size * capacity);
  }
  clear(): void {
    this.n = 0;
  }
  /** Index of a new record (its fields are written by the caller at data[i * size + f]). */
  add(): number {
    if ((this.n + 1) * this.size > this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    return this.n++;
  }
}

/** x = t * a + b for a time t in ms. */
export interface View {
  a: number;
  b: number;
  width: number;
  boxes: LaneBox[];
}

export const POINT = { x: 0, y: 1, r: 2, lane: 3, pos: 4 } as const;
export const MAX_CLONE_LABELS = 60;
/** Bookmarks are drawn this far below the lane's snapshots: a bookmark usually has the creation time of its snapshot. */
export const BOOKMARK_DY = 11;
export const CLONE_FAN = 3;

export interface CloneBranch {
  x: number;
  y: number;
  x2: number;
  y2: number;
  lane: number;
  mark: number;
  name: string;
  /** Label text: the clone's name, or "+N more" on the last branch of a crowded mark. */
  label: string;
  key: string;
}

export class Frame {
  /** One Records(5) per bucket: style (0..7) + 8 for bookmarks. */
  readonly points: Records[] = Array.from({ length: STYLE_COUNT * 2 }, () => new Records(5));
  /** x1, y1, x2, y2. */
  readonly links = new Records(4);
  readonly baseLinks = new Records(4);
  /** x, top, width, height. */
  readonly gaps = new Records(4);
  /** x, y (of the mark), r. */
  readonly held = new Records(3);
  clones: CloneBranch[] = [];
  /** Marks in the visible time range (before collapsing) and records drawn. */
  visibleMarks = 0;
  drawnPoints = 0;

  clear(): void {
    for (const p of this.points) p.clear();
    this.links.clear();
    this.baseLinks.clear();
    this.gaps.clear();
    this.held.clear();
    this.clones = [];
    this.visibleMarks = 0;
    this.drawnPoints = 0;
  }
}

/** The visible time range of a view, with a margin of the largest mark's radius. */
export function timeRange(v: View, margin = R_MAX + 1): [number, number] {
  return [(-margin - v.b) / v.a, (v.width + margin - v.b) / v.a];
}

export function buildFrame(p: Prepared, v: View, f: Frame): Frame {
  f.clear();
  const [t0, t1] = timeRange(v);
  const lastCol = new Float64Array(STYLE_COUNT * 2);
  const lastRec = new Int32Array(STYLE_COUNT * 2);

  p.lanes.forEach((lane, li) => {
    const y = v.boxes[li]!.y;
    const [start, end] = visibleRange(lane.times, t0, t1);
    f.visibleMarks += end - start;
    lastCol.fill(-Infinity);
    for (let i = start; i < end; i++) {
      const x = lane.times[i]! * v.a + v.b;
      const bucket = lane.bucket[i]!;
      const r = lane.radius[i]!;
      // Two-pixel columns: closer marks cannot be told apart (the smallest is 5 px wide). Marks of
      // the same second are stacked (lane.stack) and each drawn: a column per stack level.
      const stack = lane.stack[i]!;
      const col = Math.round(x * 0.5) * (STACK_MAX + 1) + stack;
      const rec = f.points[bucket]!;
      if (col === lastCol[bucket]) {
        // Same pixel column and style as the previous mark: one drawn mark stands for both.
        const at = lastRec[bucket]! * 5 + POINT.r;
        if (r > rec.data[at]!) rec.data[at] = r;
        continue;
      }
      lastCol[bucket] = col;
      const k = rec.add();
      lastRec[bucket] = k;
      const d = rec.data;
      d[k * 5] = x;
      d[k * 5 + 1] = (bucket >= BOOKMARK ? y + BOOKMARK_DY : y) - stack * STACK_DY;
      d[k * 5 + 2] = r;
      d[k * 5 + 3] = li;
      d[k * 5 + 4] = i;
    }

    // Held marks: one badge per pixel column.
    let lastHeld = -Infinity;
    for (let j = lowerBound(lane.held, start); j < lane.held.length && lane.held[j]! < end; j++) {
      const i = lane.held[j]!;
      const x = lane.times[i]! * v.a + v.b;
      if (Math.round(x * 0.5) === lastHeld) continue;
      lastHeld = Math.round(x * 0.5);
      const k = f.held.add();
      f.held.data[k * 3] = x;
      f.held.data[k * 3 + 1] = y;
      f.held.data[k * 3 + 2] = lane.radius[i]!;
    }

    // Gaps: [start, end) pairs; visible when they overlap [t0, t1]. At least 2 px wide, so a gap stays visible zoomed out.
    const box = v.boxes[li]!;
    for (let j = 0; j < lane.gaps.length; j += 2) {
      const gs = lane.gaps[j]!;
      const ge = lane.gaps[j + 1]!;
      if (ge < t0 || gs > t1) continue;
      let x1 = gs * v.a + v.b;
      let x2 = ge * v.a + v.b;
      if (x2 - x1 < 2) {
        const c = (x1 + x2) / 2;
        x1 = c - 1;
        x2 = c + 1;
      }
      x1 = Math.max(x1, -2);
      x2 = Math.min(x2, v.width + 2);
      const k = f.gaps.add();
      f.gaps.data.set([x1, box.top + 4, x2 - x1, box.height - 8], k * 4);
    }
  });

  // Links whose earlier end is in [t0 - maxSpan, t1].
  const L = p.links;
  const from = lowerBound(L.tMin, t0 - L.maxSpan);
  const to = lowerBound(L.tMin, t1 + 1);
  let last1 = NaN;
  let last2 = NaN;
  let lastPair = -1;
  for (let j = from; j < to; j++) {
    const la = L.laneA[j]!;
    const lb = L.laneB[j]!;
    const x1 = p.lanes[la]!.times[L.posA[j]!]! * v.a + v.b;
    const x2 = p.lanes[lb]!.times[L.posB[j]!]! * v.a + v.b;
    if (Math.max(x1, x2) < -2 || Math.min(x1, x2) > v.width + 2) continue;
    const isBase = L.base[j] === 1;
    const c1 = Math.round(x1 * 0.5);
    const c2 = Math.round(x2 * 0.5);
    const pair = la * 65536 + lb;
    if (!isBase && c1 === last1 && c2 === last2 && pair === lastPair) continue;
    if (!isBase) {
      last1 = c1;
      last2 = c2;
      lastPair = pair;
    }
    const rec = isBase ? f.baseLinks : f.links;
    const k = rec.add();
    rec.data[k * 4] = x1;
    rec.data[k * 4 + 1] = v.boxes[la]!.y;
    rec.data[k * 4 + 2] = x2;
    rec.data[k * 4 + 3] = v.boxes[lb]!.y;
  }

  // Clone branches: a short line down from the origin mark, fanned out per clone, with the clone's name.
  const cs = p.clones;
  let lo = 0;
  let hi = cs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cs[mid]!.time < t0 - 200 / v.a) lo = mid + 1;
    else hi = mid;
  }
  for (let j = lo; j < cs.length && cs[j]!.time <= t1 && f.clones.length < MAX_CLONE_LABELS; j++) {
    const c = cs[j]!;
    if (c.nth >= CLONE_FAN) continue;
    const lane = p.lanes[c.lane]!;
    const clonesOfMark = lane.lane.marks[c.mark]!.clones!.length;
    const x = c.time * v.a + v.b;
    const y = v.boxes[c.lane]!.y;
    const label = c.nth === CLONE_FAN - 1 && clonesOfMark > CLONE_FAN ? `+${clonesOfMark - CLONE_FAN + 1} more clones` : c.name;
    f.clones.push({ x, y, x2: x + 9, y2: y + 13 + c.nth * 11, lane: c.lane, mark: c.mark, name: c.name, label, key: `${c.lane}/${c.mark}/${c.nth}` });
  }

  f.drawnPoints = f.points.reduce((s, r) => s + r.n, 0);
  return f;
}

export function isBookmarkBucket(bucket: number): boolean {
  return bucket >= BOOKMARK;
}
