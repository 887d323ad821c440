/**
 * The retention forecast (core/retention/forecast.ts) against sanoid's prune rule. The recorded
 * listings hold only three sanoid snapshots (no series), so the snapshots here are built: their
 * names follow sanoid's format as its source writes them (`autosnap_$datestamp{'sortable'}_$type`,
 * `YYYY-MM-DD_HH:MM:SS`, TZ=UTC as the Debian units run it), taken at the runs sanoid's default
 * schedule takes them (daily at 23:59 -> the 00:00 run, hourly at :00), with a creation one second
 * after the run, consistent with the name. This is data in sanoid's format, not invented ZFS output.
 */
import { describe, expect, it } from 'vitest';
import { SNAPSHOT_PERIODS } from '../../../src/core/fleet/import/types.js';
import {
  forecastRetention,
  formatUtc,
  nextPreferred,
  prunePeriodSeconds,
  sanoidType,
  SANOID_DEFAULT_SCHEDULE,
  type RetentionPolicy,
} from '../../../src/core/retention/forecast.js';
import { at, dailies, hourlies, policy, sanoidSnap } from './sanoidSnapshots.js';

const DS = 'zfs-hdd/off/products';

describe('sanoid names', () => {
  it('reads the type as getsnaps does, and ignores what is not autosnap_..._*ly', () => {
    expect(sanoidType(`${DS}@autosnap_2026-12-01_00:00:01_daily`)).toBe('daily');
    expect(sanoidType('autosnap_2026-12-01_00:00:01_hourly')).toBe('hourly');
    expect(sanoidType(`${DS}@syncoid_off1_2026-12-01:00:00:01-GMT00:00`)).toBeUndefined();
    expect(sanoidType(`${DS}@manual_daily`)).toBeUndefined();
    expect(sanoidType(`${DS}@autosnap_2026-12-01_00:00:01_daily-keep`)).toBeUndefined();
  });

  it('takes at sanoid default times (UTC): daily 23:59, hourly :00, weekly Monday 23:30, monthly the 1st', () => {
    const s = SANOID_DEFAULT_SCHEDULE;
    expect(formatUtc(nextPreferred('daily', at('2026-12-03T00:00:01Z'), s))).toBe('2026-12-03 23:59 UTC');
    expect(formatUtc(nextPreferred('hourly', at('2026-12-03T10:00:01Z'), s))).toBe('2026-12-03 11:00 UTC');
    expect(formatUtc(nextPreferred('weekly', at('2026-12-03T00:00:00Z'), s))).toBe('2026-12-07 23:30 UTC');
    expect(formatUtc(nextPreferred('monthly', at('2026-12-03T00:00:00Z'), s))).toBe('2027-01-01 00:00 UTC');
    expect(formatUtc(nextPreferred('frequently', at('2026-12-03T10:07:00Z'), s))).toBe('2026-12-03 10:15 UTC');
  });
});

describe('forecastRetention', () => {
  const now = at('2026-12-03T12:05:00Z');

  it('hourly=24 daily=7 keeps the newest 24 hourly and 7 daily; the older ones go at the next run', () => {
    const snaps = [...dailies(DS, '2026-11-24T00:00:00Z', 10), ...hourlies(DS, '2026-12-02T08:00:00Z', 29)];
    const f = forecastRetention(policy({ hourly: 24, daily: 7 }), snaps, { now });
    expect(f.nextRun).toBe(at('2026-12-03T12:15:00Z'));
    const pruned = f.snapshots.filter((s) => !s.kept).map((s) => s.name.split('@')[1]);
    expect(pruned).toEqual([
      'autosnap_2026-11-24_00:00:01_daily',
      'autosnap_2026-11-25_00:00:01_daily',
      'autosnap_2026-11-26_00:00:01_daily',
      'autosnap_2026-12-02_08:00:01_hourly',
      'autosnap_2026-12-02_09:00:01_hourly',
      'autosnap_2026-12-02_10:00:01_hourly',
      'autosnap_2026-12-02_11:00:01_hourly',
      'autosnap_2026-12-02_12:00:01_hourly',
    ]);
    expect(f.snapshots.filter((s) => s.kept && s.period === 'daily')).toHaveLength(7);
    expect(f.snapshots.filter((s) => s.kept && s.period === 'hourly')).toHaveLength(24);
    expect(f.next).toEqual({ at: f.nextRun, snapshots: expect.arrayContaining([`${DS}@autosnap_2026-11-24_00:00:01_daily`]) as unknown });
    expect(f.next!.snapshots).toHaveLength(8);
    const newestDaily = f.snapshots.find((s) => s.name.endsWith('2026-12-03_00:00:01_daily'))!;
    expect(newestDaily.slot).toEqual({ period: 'daily', rank: 1, of: 7 });
  });

  it('an hourly newer than the 24 kept is kept by its count, an old one beyond the count only once old enough', () => {
    // 25 hourlies but the oldest is only 24 h 5 min old - 1 s: older than 24 x 1 h, so it goes at the next run.
    const f = forecastRetention(policy({ hourly: 24 }), hourlies(DS, '2026-12-02T12:00:00Z', 25), { now });
    expect(f.snapshots.filter((s) => !s.kept).map((s) => s.name)).toEqual([`${DS}@autosnap_2026-12-02_12:00:01_hourly`]);
    // Without the age: beyond the count but younger than 24 h, it waits until 24 h have passed.
    const young = forecastRetention(policy({ hourly: 24 }), hourlies(DS, '2026-12-02T12:00:00Z', 25), { now: at('2026-12-03T11:40:00Z') });
    expect(young.snapshots[0]).toMatchObject({ kept: true, pruneAt: at('2026-12-03T12:00:00Z') });
  });

  it('the oldest daily of 7 (daily=7) is pruned at the next run after the 8th daily appears', () => {
    const snaps = dailies(DS, '2026-11-27T00:00:00Z', 7);
    const f = forecastRetention(policy({ daily: 7 }), snaps, { now });
    const oldest = f.snapshots[0]!;
    expect(oldest).toMatchObject({ period: 'daily', kept: true, slot: { period: 'daily', rank: 7, of: 7 } });
    // The 8th daily: preferred 2026-12-03 23:59, taken at the 00:00 run; the prune of that run (after the take, within its minute) sees it and the oldest 7 days old.
    expect(formatUtc(oldest.pruneAt!)).toBe('2026-12-04 00:00 UTC');
    expect(oldest.reason).toContain('until 1 more is taken');
    expect(f.next).toEqual({ at: at('2026-12-04T00:00:00Z'), snapshots: [oldest.name] });
    // The second oldest needs a 9th daily: a day later.
    expect(formatUtc(f.snapshots[1]!.pruneAt!)).toBe('2026-12-05 00:00 UTC');
    // A prune that reads the clock right at the slot (no window): the next run, 00:15.
    expect(formatUtc(forecastRetention(policy({ daily: 7 }), snaps, { now, runWindowSeconds: 0 }).snapshots[0]!.pruneAt!)).toBe('2026-12-04 00:15 UTC');
  });

  it('runs every 15 minutes by default, or as configured: a snapshot off the grid goes at the first run after its age', () => {
    // 25 hourlies, the oldest taken by hand at 12:07:29 (sanoid --take-snapshots run then): 24 h old at 12:07:30 the next day.
    const snaps = [sanoidSnap(DS, '2026-12-02T12:07:29Z', 'hourly'), ...hourlies(DS, '2026-12-02T13:00:00Z', 24)];
    const every15 = forecastRetention(policy({ hourly: 24 }), snaps, { now: at('2026-12-03T11:00:00Z') });
    expect(formatUtc(every15.snapshots[0]!.pruneAt!)).toBe('2026-12-03 12:15 UTC');
    const every5 = forecastRetention(policy({ hourly: 24 }), snaps, { now: at('2026-12-03T11:00:00Z'), runEverySeconds: 300 });
    expect(formatUtc(every5.snapshots[0]!.pruneAt!)).toBe('2026-12-03 12:10 UTC');
  });

  it('without autosnap, only the snapshots there count: 7 dailies of daily=7 are kept for good', () => {
    const f = forecastRetention(policy({ daily: 7 }, { autosnap: false }), dailies(DS, '2026-11-27T00:00:00Z', 7), { now });
    expect(f.snapshots.every((s) => s.kept && s.pruneAt === undefined)).toBe(true);
    expect(f.snapshots[0]!.reason).toContain('autosnap is off');
    expect(f.next).toBeUndefined();
  });

  it('autoprune=no prunes nothing; process_children_only prunes nothing on the dataset itself', () => {
    const snaps = dailies(DS, '2026-11-01T00:00:00Z', 30);
    for (const more of [{ autoprune: false }, { processChildrenOnly: true }]) {
      const f = forecastRetention(policy({ daily: 7 }, more), snaps, { now });
      expect(f.snapshots.every((s) => s.kept && s.pruneAt === undefined)).toBe(true);
      expect(f.next).toBeUndefined();
    }
  });

  it('a period kept 0 times: its snapshots go at the next run', () => {
    const f = forecastRetention(policy({ daily: 7 }), [...dailies(DS, '2026-12-01T00:00:00Z', 2), ...hourlies(DS, '2026-12-03T10:00:00Z', 2)], { now });
    expect(f.snapshots.filter((s) => !s.kept).map((s) => s.period)).toEqual(['hourly', 'hourly']);
  });

  it('snapshots not named by sanoid are never pruned, and say so', () => {
    const f = forecastRetention(
      policy({ daily: 1 }),
      [
        { name: `${DS}@syncoid_ovh3_2026-11-01:00:00:00-GMT00:00`, creation: at('2026-11-01T00:00:00Z') },
        { name: `${DS}@before-upgrade`, creation: at('2026-10-01T00:00:00Z') },
      ],
      { now },
    );
    expect(f.snapshots.map((s) => [s.kept, s.pruneAt])).toEqual([
      [true, undefined],
      [true, undefined],
    ]);
    expect(f.snapshots[0]!.reason).toBe('not named by sanoid (autosnap_..._<period>ly): sanoid never prunes it');
  });

  it('a held snapshot: sanoid tries, and the destroy fails while the hold stays', () => {
    const [a, b] = dailies(DS, '2026-11-01T00:00:00Z', 2);
    const f = forecastRetention(policy({ daily: 1 }), [{ ...a!, userrefs: 1 }, b!], { now });
    expect(f.snapshots[0]).toMatchObject({ kept: false, held: true });
    expect(f.snapshots[0]!.reason).toContain('held');
  });
});

describe('the forecast against sanoid run by run', () => {
  /**
   * sanoid's take and prune steps replayed every 15 minutes (the take first, as the Debian units
   * order them; creation 1 s after the slot, the prune's clock 30 s after it), written after
   * take_snapshots and prune_snapshots: what the forecast computes in one go must be what the runs do.
   */
  function replay(keep: RetentionPolicy['retention'], from: number, to: number, snaps: { name: string; creation: number }[], pruned: Map<string, number>) {
    const s = SANOID_DEFAULT_SCHEDULE;
    for (let t = from; t < to; t += 900) {
      for (const period of SNAPSHOT_PERIODS) {
        if (keep[period] <= 0) continue;
        const mine = snaps.filter((x) => sanoidType(x.name) === period);
        const newest = mine.length ? Math.max(...mine.map((x) => x.creation)) : -Infinity;
        if (newest === -Infinity || nextPreferred(period, newest, s) <= t) snaps.push(sanoidSnap(DS, new Date(t * 1000).toISOString(), period));
      }
      const clock = t + 30;
      for (const period of SNAPSHOT_PERIODS) {
        const mine = snaps.filter((x) => sanoidType(x.name) === period).sort((a, b) => a.creation - b.creation);
        const maxage = clock - keep[period] * prunePeriodSeconds(period);
        let num = mine.length;
        for (const x of mine)
          if (x.creation < maxage && num > keep[period]) {
            snaps.splice(snaps.indexOf(x), 1);
            pruned.set(x.name, t);
            num--;
          }
      }
    }
  }

  it.each([
    [{ frequently: 0, hourly: 24, daily: 7, weekly: 2, monthly: 2, yearly: 0 }, 24 + 7 + 2 + 2],
    [{ frequently: 4, hourly: 36, daily: 3, weekly: 0, monthly: 0, yearly: 0 }, 4 + 36 + 3],
  ])('%o: every snapshot goes at the run the forecast said', (keep, count) => {
    const snaps: { name: string; creation: number }[] = [];
    const pruned = new Map<string, number>();
    const now = at('2026-12-03T12:05:00Z');
    replay(keep, at('2026-09-01T00:00:00Z'), now, snaps, pruned);
    expect(snaps.length).toBe(count);
    const f = forecastRetention(policy(keep), snaps, { now });
    pruned.clear();
    replay(keep, f.nextRun, at('2027-03-01T00:00:00Z'), snaps, pruned);
    expect(f.snapshots.every((x) => x.pruneAt !== undefined)).toBe(true);
    for (const x of f.snapshots) expect([x.name, x.pruneAt]).toEqual([x.name, pruned.get(x.name)]);
  });
});
