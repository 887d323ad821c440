/** Imported pairs and policies merged into .zfs-fleet.json: existing entries kept, no duplicates, and the file still loads. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeFleetFile, unifiedDiff } from '../../../src/core/fleet/import/fleetFile.js';
import { importSanoidConf } from '../../../src/core/fleet/import/sanoid.js';
import { importSyncoidArgs } from '../../../src/core/fleet/import/syncoid.js';
import { fileEntries } from '../../../src/core/fleet/definition.js';

const dir = path.resolve(__dirname, '../../fixtures/configs');
const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');
const pairs = importSyncoidArgs(read('ovh3.syncoid-args.conf'), {
  file: 'ovh3.syncoid-args.conf',
  host: 'ovh3',
  fleetHosts: [{ alias: 'off2', hostName: 'off2.openfoodfacts.org', user: 'ovh3operator' }],
});
const policies = importSanoidConf(read('ovh3.sanoid.conf'), { file: 'ovh3.sanoid.conf', host: 'ovh3' });

describe('merging into the fleet file', () => {
  it('a new file: every pair and policy, and the loader accepts every entry', () => {
    const m = mergeFleetFile(undefined, { ...pairs, policies: policies.policies });
    expect(m.addedPairs).toHaveLength(pairs.pairs.length);
    expect(m.addedPolicies).toEqual(['ovh3:rpool/off', 'ovh3:rpool/off-backups', 'ovh3:rpool/staging-clones']);
    const entries = fileEntries({ file: '.zfs-fleet.json', text: m.text });
    expect(entries.filter((e) => !e.ok)).toEqual([]);
    expect(entries).toHaveLength(pairs.pairs.length);
    const doc = JSON.parse(m.text);
    // How ovh3 reaches off2 (its lines' ovh3operator@off2.openfoodfacts.org): the pulls use it.
    expect(doc.hosts).toEqual({ off2: { from: { ovh3: { address: 'off2.openfoodfacts.org', user: 'ovh3operator' } } } });
    expect(m.addedReach).toEqual(['off2 from ovh3']);
    const pull = entries.find((e) => e.ok && e.pair.route === 'pull');
    expect(pull?.ok && pull.pair.reach).toEqual({ source: 'ovh3operator@off2.openfoodfacts.org' });
    expect(doc.pairs[0]).toEqual({
      source: 'off2:zfs-hdd/off',
      target: 'ovh3:rpool/off',
      route: 'pull',
      options: { recursive: true, raw: false, compressed: false, largeBlocks: false, properties: false, intermediates: true },
      imported: { from: 'ovh3.syncoid-args.conf:4' },
    });
    expect(doc.policies['ovh3:rpool/off']).toMatchObject({ recursive: 'yes', autosnap: false, from: 'ovh3.sanoid.conf:6' });
  });

  it('keeps existing entries and keys, adds no duplicates, and is idempotent', () => {
    const existing =
      JSON.stringify(
        {
          comment: 'kept',
          pairs: [
            { source: 'off2:zfs-hdd/off', target: 'ovh3:rpool/off', route: 'relay', label: 'mine' },
            { source: 'a:p/x', target: 'b:p/x' },
          ],
          policies: { 'ovh3:rpool/off': { retention: { daily: 7 }, autoprune: false } },
        },
        null,
        2,
      ) + '\n';
    const m = mergeFleetFile(existing, { ...pairs, policies: policies.policies });
    const doc = JSON.parse(m.text);
    expect(doc.comment).toBe('kept');
    expect(doc.pairs[0]).toEqual({ source: 'off2:zfs-hdd/off', target: 'ovh3:rpool/off', route: 'relay', label: 'mine' });
    expect(doc.pairs).toHaveLength(2 + pairs.pairs.length - 1);
    expect(doc.policies['ovh3:rpool/off']).toEqual({ retention: { daily: 7 }, autoprune: false });
    expect(m.kept.map((k) => k.id)).toEqual(['off2:zfs-hdd/off->ovh3:rpool/off', 'ovh3:rpool/off']);
    expect(m.kept[0]!.note).toContain('another route or options');
    const again = mergeFleetFile(m.text, { ...pairs, policies: policies.policies });
    expect(again.text).toBe(m.text);
    expect(again.addedPairs).toEqual([]);
    expect(fileEntries({ file: 'f', text: m.text }).every((e) => e.ok)).toBe(true);
  });

  it('refuses a file that is not a fleet file', () => {
    expect(() => mergeFleetFile('[1]', pairs)).toThrow(/must be an object/);
    expect(() => mergeFleetFile('{', pairs)).toThrow(/not valid JSON/);
    expect(() => mergeFleetFile('{"pairs": {}}', pairs)).toThrow(/"pairs" must be an array/);
    expect(() => mergeFleetFile('{"policies": []}', pairs)).toThrow(/"policies" must be an object/);
  });

  it('the loader takes the new keys and refuses a bad "imported"', () => {
    const text = JSON.stringify({ pairs: [{ source: 'a:p/x', target: 'b:p/x', imported: { from: 'f:1', flags: { compress: 'lz4' } } }], policies: {} });
    expect(fileEntries({ file: 'f', text }).map((e) => e.ok)).toEqual([true]);
    const bad = JSON.stringify({ pairs: [{ source: 'a:p/x', target: 'b:p/x', imported: 'yes' }] });
    expect(fileEntries({ file: 'f', text: bad })[0]).toMatchObject({ ok: false, reason: '"imported" must be an object (what zfs-fleet import recorded)' });
  });
});

describe('unified diff', () => {
  it('hunks with context, and nothing for equal texts', () => {
    const a = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'].join('\n') + '\n';
    const b = ['1', '2', 'three', '4', '5', '6', '7', '8', '9', '10', '11', '12', '13'].join('\n') + '\n';
    expect(unifiedDiff(a, b, 'a/f', 'b/f')).toBe(
      ['--- a/f', '+++ b/f', '@@ -1,6 +1,6 @@', ' 1', ' 2', '-3', '+three', ' 4', ' 5', ' 6', '@@ -10,3 +10,4 @@', ' 10', ' 11', ' 12', '+13', ''].join('\n'),
    );
    expect(unifiedDiff(a, a, 'a', 'b')).toBe('');
    expect(unifiedDiff('', 'x\n', '/dev/null', 'b/f')).toBe('--- /dev/null\n+++ b/f\n@@ -0,0 +1,1 @@\n+x\n');
  });
});
