/** Tooltip lines, announcements and badges from models built from recorded real ZFS listings. */
import { describe, expect, it } from 'vitest';
import {
  announcement,
  axisTickFormat,
  formatAge,
  formatInterval,
  formatUtc,
  laneBadges,
  laneDetail,
  markStates,
  timeZoneLabel,
  tooltipLines,
} from '../../../webview-ui/timeline/format.js';
import { openzfsPair, openzfsResumePair, seed000 } from './models.js';

describe('numbers and times', () => {
  it('ages, both directions', () => {
    const now = 1_700_000_000_000;
    expect(formatAge(now / 1000 - 30, now)).toBe('just now');
    expect(formatAge(now / 1000 - 3 * 86400, now)).toBe('3 days ago');
    expect(formatAge(now / 1000 - 3600, now)).toBe('1 hour ago');
    expect(formatAge(now / 1000 + 7200, now)).toBe('in 2 hours');
    expect(formatAge(now / 1000 - 400 * 86400, now)).toBe('13 months ago');
  });
  it('UTC and intervals', () => {
    expect(formatUtc(1684108800)).toBe('2023-05-15 00:00:00 UTC');
    expect(formatInterval(3600)).toBe('60 minutes');
    expect(formatInterval(86400)).toBe('24 hours');
    expect(formatInterval(14 * 86400)).toBe('14 days');
  });
});

describe('seed 000', () => {
  const m = seed000();
  const [src, tgt] = m.lanes;
  it('the tooltip of the cloned target-only snapshot', () => {
    const mark = tgt!.marks.find((x) => x.name === '20230515-0000')!;
    const lines = Object.fromEntries(tooltipLines(tgt!, mark, m.takenAt).filter(([k]) => k));
    expect(tooltipLines(tgt!, mark, m.takenAt)[0]).toEqual(['', `${tgt!.dataset}@20230515-0000`]);
    expect(lines.host).toBe('ovh3 (target)');
    expect(lines.used).toBe('88 KiB');
    expect(lines.guid).toBe(mark.guid);
    expect(lines.createtxg).toBe(String(mark.createtxg));
    expect(lines.holds).toBe('0');
    expect(lines.clones).toMatch(/seed000\/clones\/products$/);
    expect(lines.state).toBe('target only: a rollback to the base destroys it');
  });
  it('the announcement of the base', () => {
    const base = src!.marks[0]!;
    expect(announcement(src!, base, m.takenAt)).toBe(
      `off1 ${src!.dataset} @20230501-0000, common base, at risk: retention prunes the common base next, ${formatAge(base.time, m.takenAt)}, 88 KiB`,
    );
    expect(markStates(base)).toContain('common base');
  });
  it('lane detail and badges (zfs-fuse cannot tell whether the target was written)', () => {
    expect(laneDetail(tgt!)).toBe('target · 3 snapshots');
    expect(laneBadges(tgt!)).toEqual([expect.objectContaining({ kind: 'unknown', text: 'modified?' })]);
    expect(laneBadges(src!)).toEqual([]);
  });
});

describe('OpenZFS 2.3', () => {
  const m = openzfsPair();
  const [src] = m.lanes;
  it('a written source: a neutral badge with the bytes written (a replica written to would be a problem)', () => {
    expect(laneBadges(src!)).toEqual([{ kind: 'written', text: 'written', title: 'Written to: 200 KiB written since the newest snapshot' }]);
    expect(laneBadges({ ...src!, role: 'target' })).toEqual([
      {
        kind: 'modified',
        text: 'modified',
        title: 'Written to: 200 KiB written since the newest snapshot; the next receive needs a rollback, which discards it',
      },
    ]);
    expect(laneDetail(src!)).toBe('source · 3 snapshots · 1 bookmark');
  });

  it('an interrupted first receive (OpenZFS, no snapshot yet on the target): "resumable", and no "modified?" (nothing to compare with)', () => {
    const [src, tgt] = openzfsResumePair().lanes;
    expect(tgt!.marks.filter((m) => m.kind === 'snapshot')).toEqual([]);
    expect(laneBadges(tgt!)).toEqual([
      { kind: 'resume', text: 'resumable', title: 'A partially received stream can be resumed (receive_resume_token is set)' },
    ]);
    expect(laneBadges(src!).map((b) => b.kind)).not.toContain('resume');
  });
  it('a bookmark has no used line; a held snapshot says how many holds', () => {
    const b = src!.marks.find((x) => x.kind === 'bookmark')!;
    expect(tooltipLines(src!, b, m.takenAt).map(([k]) => k)).not.toContain('used');
    expect(tooltipLines(src!, b, m.takenAt)[0]![1]).toBe('tank/off/products#20230501-0000');
    const held = src!.marks.find((x) => x.kind === 'snapshot' && x.name === '20230501-0000')!;
    expect(Object.fromEntries(tooltipLines(src!, held, m.takenAt)).holds).toBe('1');
    expect(markStates(held)).toContain('held');
  });
});

describe('the time axis', () => {
  it('ticks on a 24-hour clock in local time, and says the zone', () => {
    expect(axisTickFormat(new Date(2026, 11, 3, 15, 5))).toBe('15:05');
    expect(axisTickFormat(new Date(2026, 11, 3, 3, 5))).toBe('03:05');
    expect(axisTickFormat(new Date(2026, 11, 3, 15, 5, 30))).toBe(':30');
    expect(axisTickFormat(new Date(2026, 11, 1))).toBe('December');
    expect(axisTickFormat(new Date(2026, 0, 1))).toBe('2026');
    expect(timeZoneLabel()).toMatch(/^local time, UTC[+-]\d{2}:\d{2}$/);
  });
});
