// Schedules of the fleet file: `every DURATION` and 5-field cron (UTC), and when a pair's syncs are due.
import { describe, expect, it } from 'vitest';
import { readFleetDefinition } from '../../../src/core/fleet/definition.js';
import { isDue, lastFire, parseSchedule } from '../../../src/core/queue/schedule.js';

const t = (iso: string) => new Date(iso);

describe('schedules', () => {
  it('every DURATION: due when that long has passed since the pair was last queued, or never queued', () => {
    const s = parseSchedule('every 1h');
    expect(s).toMatchObject({ kind: 'every', seconds: 3600 });
    expect(isDue(s, undefined, t('2026-12-04T06:00:00Z'))).toBe(true);
    expect(isDue(s, t('2026-12-04T05:00:01Z'), t('2026-12-04T06:00:00Z'))).toBe(false);
    expect(isDue(s, t('2026-12-04T05:00:00Z'), t('2026-12-04T06:00:00Z'))).toBe(true);
  });

  it('cron: due when it fired since the pair was last queued', () => {
    const s = parseSchedule('0 3 * * *');
    expect(lastFire(s, t('2026-12-04T06:00:00Z'))!.toISOString()).toBe('2026-12-04T03:00:00.000Z');
    expect(lastFire(s, t('2026-12-04T03:00:00Z'))!.toISOString()).toBe('2026-12-04T03:00:00.000Z');
    expect(isDue(s, t('2026-12-04T02:59:00Z'), t('2026-12-04T03:00:30Z'))).toBe(true);
    expect(isDue(s, t('2026-12-04T03:00:30Z'), t('2026-12-04T23:59:00Z'))).toBe(false);
    expect(isDue(s, t('2026-12-04T03:00:30Z'), t('2026-12-05T03:00:00Z'))).toBe(true);
    expect(isDue(parseSchedule('15 * * * 1-5'), t('2026-12-05T09:15:00Z'), t('2026-12-06T12:00:00Z'))).toBe(false); // a Saturday
  });

  it('says what is wrong with a schedule', () => {
    expect(() => parseSchedule('hourly')).toThrow('"hourly" is neither "every DURATION" (every 1h, every 30m) nor a cron expression of 5 fields');
    expect(() => parseSchedule('every 10s')).toThrow('at most once a minute');
    expect(() => parseSchedule('every soon')).toThrow(/^"every soon": /);
    expect(() => parseSchedule('61 * * * *')).toThrow(/^"61 \* \* \* \*": /);
  });

  it("a group's schedule reaches its replicas' pairs; a bad one is an invalid entry naming the group", () => {
    const def = readFleetDefinition({
      file: '/w/.zfs-fleet.json',
      text: JSON.stringify({
        groups: [
          { name: 'products', primary: 'off1:zfs-hdd/off/products', replicas: ['ovh3:rpool/off/products'], schedule: 'every 1h' },
          { name: 'images', primary: 'off1:zfs-hdd/off/images', replicas: ['ovh3:rpool/off/images'], schedule: 'at noon' },
        ],
      }),
    });
    const ok = def.entries.filter((e) => e.ok);
    expect(ok.map((e) => (e.ok ? [e.pair.group, e.pair.schedule?.text] : []))).toEqual([['products', 'every 1h']]);
    const bad = def.entries.find((e) => !e.ok);
    expect(bad && !bad.ok ? bad.reason : '').toMatch(/group images: "schedule": "at noon" is neither/);
  });
});
