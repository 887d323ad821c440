/** The prepared model and the binary searches a frame relies on (models from recorded real ZFS listings). */
import { describe, expect, it } from 'vitest';
import { MarkFlag } from '../../../src/shared/protocol.js';
import {
  BOOKMARK,
  R_MAX,
  R_MIN,
  Style,
  findMark,
  laneAtY,
  laneBoxes,
  lowerBound,
  markAt,
  nearest,
  prepare,
  radiusFor,
  styleOf,
  visibleRange,
} from '../../../webview-ui/timeline/prepare.js';
import { openzfsPair, seed000 } from './models.js';

describe('binary searches on sorted times', () => {
  const times = Float64Array.from([10, 20, 20, 30, 40]);
  it('lowerBound: the first index at or after t', () => {
    expect([0, 10, 15, 20, 21, 40, 41].map((t) => lowerBound(times, t))).toEqual([0, 0, 1, 1, 3, 4, 5]);
    expect(lowerBound(new Float64Array(0), 5)).toBe(0);
  });
  it('visibleRange includes both ends and equal times', () => {
    expect(visibleRange(times, 20, 30)).toEqual([1, 4]);
    expect(visibleRange(times, 0, 9)).toEqual([0, 0]);
    expect(visibleRange(times, 41, 50)).toEqual([5, 5]);
    expect(visibleRange(times, 0, 100)).toEqual([0, 5]);
  });
  it('nearest: ties go to the older mark', () => {
    expect([0, 14, 15, 16, 26, 100].map((t) => nearest(times, t))).toEqual([0, 0, 0, 1, 3, 4]);
    expect(nearest(new Float64Array(0), 1)).toBe(-1);
  });
});

describe('styles and sizes', () => {
  it('the most important flag wins', () => {
    expect(styleOf(MarkFlag.Common | MarkFlag.Base | MarkFlag.AtRisk | MarkFlag.PrunesNext)).toBe(Style.AtRisk);
    expect(styleOf(MarkFlag.Common | MarkFlag.Base)).toBe(Style.Base);
    expect(styleOf(MarkFlag.TargetOnly | MarkFlag.HasClones)).toBe(Style.TargetOnly);
    expect(styleOf(MarkFlag.Common | MarkFlag.PrunesNext)).toBe(Style.PrunesNext);
    expect(styleOf(MarkFlag.Unsent)).toBe(Style.Unsent);
    expect(styleOf(MarkFlag.Common | MarkFlag.Held)).toBe(Style.Common);
    expect(styleOf(0)).toBe(Style.Other);
  });
  it('radius grows with used space (area), bounded', () => {
    expect(radiusFor(undefined, 100)).toBe(R_MIN);
    expect(radiusFor(0, 100)).toBe(R_MIN);
    expect(radiusFor(100, 100)).toBe(R_MAX);
    expect(radiusFor(25, 100)).toBeCloseTo(R_MIN + (R_MAX - R_MIN) / 2);
    expect(radiusFor(1000, 100)).toBe(R_MAX);
  });
});

describe('prepare: seed 000 (zfs-fuse)', () => {
  const model = seed000();
  const p = prepare(model);
  it('lanes sorted by time, base found on both lanes', () => {
    expect(p.marks).toBe(5);
    expect(p.lanes.map((l) => l.lane.role)).toEqual(['source', 'target']);
    for (const l of p.lanes) {
      for (let i = 1; i < l.times.length; i++) expect(l.times[i]).toBeGreaterThanOrEqual(l.times[i - 1]!);
      expect(l.lane.marks[l.base]!.name).toBe('20230501-0000');
    }
  });
  it('buckets: the base is at risk (retention prunes it next), the target-only ones red', () => {
    const src = p.lanes[0]!;
    expect(src.bucket[src.pos[src.base]!]).toBe(Style.AtRisk);
    const tgt = p.lanes[1]!;
    const names = Array.from(tgt.order, (i) => tgt.lane.marks[i]!.name);
    expect(names).toEqual(['20230501-0000', '20230515-0000', '20230530-2330']);
    expect(Array.from(tgt.bucket)).toEqual([Style.AtRisk, Style.TargetOnly, Style.TargetOnly]);
    expect(Array.from(src.bucket)).toEqual([Style.AtRisk, Style.Unsent]);
  });
  it('links carry the base; clones are listed with their origin', () => {
    expect(p.links.count).toBe(1);
    expect(p.links.base[0]).toBe(1);
    expect(p.links.maxSpan).toBe(0);
    expect(p.clones).toEqual([expect.objectContaining({ lane: 1, name: expect.stringMatching(/seed000\/clones\/products$/), nth: 0 })]);
    expect(markAt(p, 1, p.lanes[1]!.pos[p.clones[0]!.mark]!).name).toBe('20230515-0000');
  });
  it('extent covers every mark; findMark by lane id, kind and name', () => {
    const [lo, hi] = p.extent!;
    expect(lo).toBe(model.lanes[0]!.marks[0]!.time * 1000);
    expect(hi).toBeGreaterThanOrEqual(model.lanes[0]!.marks[1]!.time * 1000);
    expect(findMark(p, model.lanes[1]!.id, 'snapshot', '20230530-2330')).toEqual({ lane: 1, mark: 2 });
    expect(findMark(p, model.lanes[1]!.id, 'bookmark', '20230530-2330')).toBeUndefined();
    expect(findMark(p, 'nowhere:x', 'snapshot', '20230530-2330')).toBeUndefined();
  });
});

describe('prepare: OpenZFS 2.3 (bookmark, holds, clone)', () => {
  const p = prepare(openzfsPair());
  it('the bookmark gets the bookmark shape; held snapshots are listed', () => {
    const src = p.lanes[0]!;
    const kinds = Array.from(src.order, (i) => src.lane.marks[i]!.kind);
    expect(kinds.filter((k) => k === 'bookmark')).toHaveLength(1);
    const bi = kinds.indexOf('bookmark');
    expect(src.bucket[bi]! >= BOOKMARK).toBe(true);
    const held = Array.from(src.held, (pos) => src.lane.marks[src.order[pos]!]!.name);
    expect(held).toEqual(['20230501-0000', '20230515-0000']);
    // A snapshot and its bookmark were created at the same second: sorted stably, both kept.
    expect(src.times[0]).toBe(src.times[1]);
  });
});

describe('vertical layout', () => {
  it('lanes stack under the axis, a y maps back to its lane', () => {
    const boxes = laneBoxes(3);
    expect(boxes[1]!.top).toBe(boxes[0]!.top + boxes[0]!.height);
    expect(laneAtY(boxes, boxes[2]!.y)).toBe(2);
    expect(laneAtY(boxes, 0)).toBe(-1);
  });
});
