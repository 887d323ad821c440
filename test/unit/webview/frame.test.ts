/** What a frame draws for a view (pure: no canvas), on models built from recorded real ZFS listings. */
import { describe, expect, it } from 'vitest';
import { Frame, POINT, buildFrame, timeRange, type View } from '../../../webview-ui/timeline/frame.js';
import { BOOKMARK, STACK_DY, STACK_MAX, STYLE_COUNT, Style, laneBoxes, prepare, type Prepared } from '../../../webview-ui/timeline/prepare.js';
import { openzfsPair, seed000 } from './models.js';

/** A view showing [t0, t1] ms across `width` px. */
function viewOf(p: Prepared, t0: number, t1: number, width = 1000): View {
  const a = width / (t1 - t0);
  return { a, b: -t0 * a, width, boxes: laneBoxes(p.lanes.length) };
}

function drawn(f: Frame): Array<{ bucket: number; lane: number; pos: number; x: number }> {
  const out: Array<{ bucket: number; lane: number; pos: number; x: number }> = [];
  f.points.forEach((r, bucket) => {
    for (let i = 0; i < r.n; i++) out.push({ bucket, lane: r.data[i * 5 + POINT.lane]!, pos: r.data[i * 5 + POINT.pos]!, x: r.data[i * 5 + POINT.x]! });
  });
  return out;
}

describe('seed 000', () => {
  const p = prepare(seed000());
  const [lo, hi] = p.extent!;
  const pad = (hi - lo) * 0.1;

  it('fitted: every mark, the base link, the clone branch with its name', () => {
    const f = buildFrame(p, viewOf(p, lo - pad, hi + pad), new Frame());
    expect(f.visibleMarks).toBe(5);
    expect(f.drawnPoints).toBe(5);
    expect(f.baseLinks.n).toBe(1);
    expect(f.links.n).toBe(0);
    // The base link joins the two lanes at the same x (a received snapshot keeps its creation time).
    const d = f.baseLinks.data;
    expect(d[0]).toBeCloseTo(d[2]!);
    expect(d[1]).toBeLessThan(d[3]!);
    expect(f.clones).toHaveLength(1);
    expect(f.clones[0]!.label).toMatch(/seed000\/clones\/products$/);
    expect(f.clones[0]!.y2).toBeGreaterThan(f.clones[0]!.y);
    const target = drawn(f).filter((m) => m.lane === 1);
    expect(target.map((m) => m.bucket).sort()).toEqual([Style.TargetOnly, Style.TargetOnly, Style.AtRisk].sort());
  });

  it('x grows with time; marks outside the range are not drawn', () => {
    const src = p.lanes[0]!;
    // Only the newest source snapshot (@20230608-1130) in view.
    const t = src.times[1]!;
    const f = buildFrame(p, viewOf(p, t - 500, t + 500), new Frame());
    const srcDrawn = drawn(f).filter((m) => m.lane === 0);
    expect(srcDrawn.map((m) => m.pos)).toEqual([1]);
    expect(srcDrawn[0]!.x).toBeCloseTo(500);
    expect(f.baseLinks.n).toBe(0);
  });

  it('zoomed out so far that every mark falls in one pixel column: one drawn mark per lane and style', () => {
    const f = buildFrame(p, viewOf(p, lo - 1e12, hi + 1e12), new Frame());
    expect(f.visibleMarks).toBe(5);
    // target: AtRisk + TargetOnly x2 -> 2 drawn; source: AtRisk + Unsent -> 2 drawn.
    expect(f.drawnPoints).toBe(4);
    const tgtTargetOnly = f.points[Style.TargetOnly]!;
    expect(tgtTargetOnly.n).toBe(1);
  });

  it('the time range of a view has a margin of the largest mark', () => {
    const v = viewOf(p, 0, 1000, 1000);
    const [t0, t1] = timeRange(v, 10);
    expect(t0).toBeCloseTo(-10);
    expect(t1).toBeCloseTo(1010);
  });

  it('buffers are reused and cleared between frames', () => {
    const f = new Frame();
    buildFrame(p, viewOf(p, lo - pad, hi + pad), f);
    buildFrame(p, viewOf(p, hi + 1e9, hi + 2e9), f);
    expect(f.drawnPoints).toBe(0);
    expect(f.clones).toHaveLength(0);
    expect(f.baseLinks.n + f.links.n).toBe(0);
  });
});

describe('OpenZFS 2.3 pair', () => {
  const p = prepare(openzfsPair());
  const [lo, hi] = p.extent!;
  it('the bookmark is drawn as a bookmark, holds get badges, common links and the base link', () => {
    const f = buildFrame(p, viewOf(p, lo - 86400_000, hi + 86400_000), new Frame());
    const bookmarks = f.points.slice(BOOKMARK).reduce((s, r) => s + r.n, 0);
    expect(bookmarks).toBe(1);
    expect(f.points.slice(0, STYLE_COUNT).reduce((s, r) => s + r.n, 0)).toBe(6);
    expect(f.held.n).toBe(2);
    expect(f.baseLinks.n).toBe(1);
    expect(f.links.n).toBe(2);
  });
});

describe('snapshots of the same second (sanoid: _hourly, _daily, _monthly at once)', () => {
  // The recorded seed000 model with the source's snapshots all given the second of the newest one.
  const model = seed000();
  const src = model.lanes[0]!;
  const t = Math.max(...src.marks.filter((m) => m.kind === 'snapshot').map((m) => m.time));
  for (const m of src.marks) if (m.kind === 'snapshot') m.time = t;
  const p = prepare(model);

  it('are stacked, each drawn and at its own height, in createtxg order', () => {
    const lane = p.lanes[0]!;
    const snaps = [...lane.order].map((_, pos) => pos).filter((pos) => lane.bucket[pos]! < BOOKMARK);
    expect(snaps.map((pos) => lane.stack[pos])).toEqual(snaps.map((_, k) => Math.min(k, STACK_MAX)));
    const f = buildFrame(p, viewOf(p, t * 1000 - 60_000, t * 1000 + 60_000), new Frame());
    const ys = new Set<number>();
    f.points.forEach((r, bucket) => {
      for (let i = 0; i < r.n; i++) if (r.data[i * 5 + POINT.lane] === 0 && bucket < BOOKMARK) ys.add(r.data[i * 5 + POINT.y]!);
    });
    expect(ys.size).toBe(Math.min(snaps.length, STACK_MAX + 1));
    const base = laneBoxes(p.lanes.length)[0]!.y;
    expect([...ys].sort((a, b) => b - a)).toEqual(Array.from({ length: ys.size }, (_, k) => base - k * STACK_DY));
  });
});
