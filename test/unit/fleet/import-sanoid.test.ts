/** sanoid.conf to policies, merged as sanoid's init does (defaults, template_default, use_template in order, the section), on the sample configs. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { convertTimePeriod, importSanoidConf } from '../../../src/core/fleet/import/sanoid.js';

const dir = path.resolve(__dirname, '../../fixtures/configs');
const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');
const off2 = () => importSanoidConf(read('off2.sanoid.conf'), { file: 'off2.sanoid.conf', host: 'off2' });
const ovh3 = () => importSanoidConf(read('ovh3.sanoid.conf'), { file: 'ovh3.sanoid.conf', host: 'ovh3' });
const H = 3600;

describe('sanoid time periods (convertTimePeriod)', () => {
  it('units, the fallback unit, and what is not a time', () => {
    expect(convertTimePeriod('90m', 60)).toBe(90 * 60);
    expect(convertTimePeriod('28H', 3600)).toBe(28 * H);
    expect(convertTimePeriod('2d', 1)).toBe(48 * H);
    expect(convertTimePeriod('1w', 1)).toBe(7 * 24 * H);
    expect(convertTimePeriod('1y', 1)).toBe(60 * 60 * 24 * 31 * 365);
    expect(convertTimePeriod('2880', 60)).toBe(48 * H);
    expect(convertTimePeriod('0', 60)).toBe(0);
    expect(convertTimePeriod('soon', 60)).toBeUndefined();
  });
});

describe('import sanoid (off2: production)', () => {
  it('one policy per dataset section, templates applied in order, the section last', () => {
    const r = off2();
    expect(r.pairs).toEqual([]);
    expect(r.policies.map((p) => [p.dataset, p.templates, p.recursive, p.line])).toEqual([
      ['off2:zfs-hdd/off', ['prod_data'], 'yes', 3],
      ['off2:zfs-hdd/off/images', ['prod_data', 'bulky'], false, 8],
      ['off2:zfs-nvme/off/products', ['prod_data'], 'zfs', 12],
      ['off2:zfs-hdd/off-backups', ['backup_target'], 'yes', 18],
      ['off2:zfs-hdd/obf', ['prod_data'], false, 23],
      ['off2:zfs-hdd/opff', ['prod_data'], false, 28],
    ]);
    const images = r.policies[1]!;
    // prod_data, then bulky's daily 7 and monthly 0, then the section's hourly 12.
    expect(images.retention).toEqual({ frequently: 0, hourly: 12, daily: 7, weekly: 4, monthly: 0, yearly: 0 });
    expect(r.policies[0]!.processChildrenOnly).toBe(true);
    expect(r.policies[5]!.retention.daily).toBe(10);
  });

  it("freshness: sanoid's defaults, units, bare numbers in the period below, nothing for a period not kept", () => {
    const [off, images, products, backups] = off2().policies;
    // process_children_only: sanoid --monitor-snapshots skips the section itself.
    expect(off!.freshness.hourly).toEqual({ warnSeconds: 0, critSeconds: 0 });
    expect(images!.freshness.hourly).toEqual({ warnSeconds: 90 * 60, critSeconds: 360 * 60 });
    expect(images!.freshness.daily).toEqual({ warnSeconds: 28 * H, critSeconds: 32 * H });
    expect(images!.freshness.monthly).toEqual({ warnSeconds: 0, critSeconds: 0 });
    expect(products!.freshness.daily).toEqual({ warnSeconds: 48 * H, critSeconds: 72 * H });
    expect(products!.freshness.monthly).toEqual({ warnSeconds: 32 * 24 * H, critSeconds: 40 * 24 * H });
    // hourly_warn = 2880 (minutes), daily_warn = 48 (hours)
    expect(backups!.freshness.hourly).toEqual({ warnSeconds: 48 * H, critSeconds: 60 * H });
    expect(backups!.freshness.daily).toEqual({ warnSeconds: 48 * H, critSeconds: 60 * H });
    expect(backups!.autosnap).toBe(false);
    expect(backups!.autoprune).toBe(true);
  });

  it('says what sanoid would refuse or ignore, with the line', () => {
    expect(off2().warnings.map((w) => [w.line, w.kind])).toEqual([
      [9, 'ignored-key'],
      [24, 'unknown-template'],
      [25, 'unknown-key'],
      [31, 'ignored-key'],
      [34, 'unparsable'],
    ]);
  });
});

describe('import sanoid (ovh3: replicas)', () => {
  it("a user [template_default] applies to every section; without it sanoid's own defaults", () => {
    const [off, backups, clones] = ovh3().policies;
    expect(off!.templates).toEqual(['default', 'hotspare']);
    expect(off!.autosnap).toBe(false);
    expect(backups!.retention.monthly).toBe(24);
    expect(off!.freshness.hourly).toEqual({ warnSeconds: 4 * H, critSeconds: 6 * H });
    // template_ignore: sanoid's default retention (hourly 48, daily 90, monthly 6), no monitoring.
    expect(clones!.retention).toEqual({ frequently: 0, hourly: 48, daily: 90, weekly: 0, monthly: 6, yearly: 0 });
    expect(clones!.monitor).toBe(false);
    expect(clones!.autoprune).toBe(false);
    expect(clones!.freshness.daily).toEqual({ warnSeconds: 0, critSeconds: 0 });
  });

  it('an empty section gets exactly sanoid.defaults.conf', () => {
    const [p] = importSanoidConf('[tank/x]\n', { file: 'f', host: 'h' }).policies;
    expect(p).toMatchObject({
      dataset: 'h:tank/x',
      recursive: false,
      autosnap: true,
      autoprune: true,
      monitor: true,
      retention: { frequently: 0, hourly: 48, daily: 90, weekly: 0, monthly: 6, yearly: 0 },
      freshness: { hourly: { warnSeconds: 90 * 60, critSeconds: 6 * H }, daily: { warnSeconds: 28 * H, critSeconds: 32 * H } },
    });
  });

  it('bad values and garbage are warnings, never a crash', () => {
    const r = importSanoidConf('key = before section\n[tank/y]\nhourly = lots\ndaily_warn = soon\n[bad name!]\n[]\n\u0000', { file: 'f', host: 'h' });
    expect(r.warnings.map((w) => [w.line, w.kind])).toEqual([
      [1, 'unparsable'],
      [3, 'unparsable'],
      [4, 'unparsable'],
      [5, 'unparsable'],
      [6, 'unparsable'],
      [7, 'unparsable'],
    ]);
    expect(r.policies[0]!.retention.hourly).toBe(0);
    expect(r.policies[0]!.freshness.daily.warnSeconds).toBe(1);
  });
});
