import { describe, expect, it } from 'vitest';
import {
  isValidName,
  parentDataset,
  parseZfsName,
  shortName,
  validateDatasetName,
  validateName,
  validatePoolName,
  validateSnapshotName,
  ZfsNameError,
} from '../../../src/core/zfs/names.js';

describe('OpenZFS name rules (zfs_namecheck.c)', () => {
  it('accepts the names of the seeds, names with spaces, colons and dots', () => {
    for (const n of ['zfs-hdd/off/products', 'rpool/off/clones/products', 'zfs-hdd/off/my data', 'tank/a:b.c_d-e', 'rpool'])
      expect(isValidName(n, 'dataset') || isValidName(n, 'pool')).toBe(true);
    expect(validateSnapshotName('rpool/off/products@20230501-0000')).toMatchObject({
      pool: 'rpool',
      dataset: 'rpool/off/products',
      snapshot: '20230501-0000',
      kind: 'snapshot',
    });
    expect(validateName('tank/x#mark')).toMatchObject({ dataset: 'tank/x', bookmark: 'mark', kind: 'bookmark' });
  });

  it('names the problem', () => {
    const reason = (n: string, k: Parameters<typeof validateName>[1] = 'any') => {
      try {
        validateName(n, k);
        return 'ok';
      } catch (e) {
        expect(e).toBeInstanceOf(ZfsNameError);
        return (e as ZfsNameError).reason;
      }
    };
    expect(reason('tank/a$b')).toBe("invalid character '$' in name");
    expect(reason('tank/a\tb')).toBe('invalid character a tab in name');
    expect(reason('/tank')).toBe('leading slash in name');
    expect(reason('tank/')).toBe('trailing slash in name');
    expect(reason('tank//a')).toMatch(/empty component/);
    expect(reason('tank/a@b@c')).toMatch(/multiple '@'/);
    expect(reason('tank/a@b#c')).toMatch(/multiple '@'/);
    expect(reason('tank/a@b/c')).toMatch(/cannot contain '\/'/);
    expect(reason('tank/.')).toMatch(/'\.'/);
    expect(reason('tank/..')).toMatch(/'\.\.'/);
    expect(reason('tank/a@')).toMatch(/empty component/);
    expect(reason('tank/a', 'snapshot')).toMatch(/missing '@'/);
    expect(reason('tank/a@s', 'dataset')).toMatch(/cannot contain '@'/);
    expect(reason('tank/a%b')).toBe("invalid character '%' in name");
    expect(reason('1tank/a')).toBe('pool name must begin with a letter');
    expect(reason('mirror', 'pool')).toMatch(/reserved/);
    expect(reason('c0t0d0', 'pool')).toMatch(/disk name/);
    expect(reason('')).toBe('empty name');
  });

  it('enforces 255 characters and 50 levels', () => {
    const long = 'tank/' + 'x'.repeat(250);
    expect(long.length).toBe(255);
    expect(isValidName(long, 'dataset')).toBe(true);
    expect(() => validateDatasetName(long + 'y')).toThrow(/too long \(256 characters; at most 255\)/);
    const deep = 'tank' + '/d'.repeat(49);
    expect(isValidName(deep, 'dataset')).toBe(true);
    expect(() => validateDatasetName(deep + '/d')).toThrow(/nested too deeply/);
    expect(() => validatePoolName('p'.repeat(240))).toThrow(/too long/);
  });

  it('parses names read from hosts leniently (temporary % names) but still refuses non-names', () => {
    expect(parseZfsName('tank/a%recv').kind).toBe('dataset');
    expect(() => parseZfsName('tank/a\nb')).toThrow(ZfsNameError);
  });

  it('parent and short names', () => {
    expect(parentDataset('rpool/off/products')).toBe('rpool/off');
    expect(parentDataset('rpool')).toBeUndefined();
    expect(shortName('zfs-hdd/off/my data')).toBe('my data');
    expect(shortName('rpool/off/products@20230501-0000')).toBe('20230501-0000');
    expect(shortName('rpool')).toBe('rpool');
  });
});
