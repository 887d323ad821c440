/**
 * The JSON Schema of `.zfs-fleet.json` (contributed with jsonValidation, so VS Code completes and
 * checks the file): one definition of a pair with the `zfsFleet.pairs` setting, the same keys the
 * loader accepts, and it accepts what the product itself writes (an import merged into the file)
 * and refuses what the loader refuses. Validated with Ajv, as an editor validates it.
 */
import Ajv from 'ajv';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeFleetFile } from '../../src/core/fleet/import/fleetFile.js';
import { importSanoidConf } from '../../src/core/fleet/import/sanoid.js';
import { importSyncoidArgs } from '../../src/core/fleet/import/syncoid.js';
import { OPTION_KEYS } from '../../src/core/fleet/pairSpecs.js';
import { fileEntries } from '../../src/core/fleet/definition.js';

const root = path.resolve(__dirname, '../..');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  contributes: {
    jsonValidation: { fileMatch: string | string[]; url: string }[];
    configuration: { properties: Record<string, { items?: unknown }> } | { properties: Record<string, { items?: unknown }> }[];
  };
};
const contribution = manifest.contributes.jsonValidation.find((j) => [j.fileMatch].flat().includes('.zfs-fleet.json'))!;
const schema = JSON.parse(fs.readFileSync(path.join(root, contribution.url), 'utf8')) as {
  properties: { pairs: { items: { properties: Record<string, unknown> & { options: { properties: Record<string, unknown> } } } } };
};
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
const configs = path.join(root, 'test/fixtures/configs');
const read = (f: string) => fs.readFileSync(path.join(configs, f), 'utf8');

describe('the .zfs-fleet.json schema', () => {
  it('is contributed for .zfs-fleet.json (and ~/.config/zfs-fleet/fleet.json) and shipped in the package', () => {
    expect(contribution.url).toBe('./schemas/zfs-fleet.schema.json');
    expect([contribution.fileMatch].flat()).toContain('**/zfs-fleet/fleet.json');
    expect(fs.readFileSync(path.join(root, '.vscodeignore'), 'utf8')).toContain('!schemas/zfs-fleet.schema.json');
  });

  it('describes a pair exactly as the zfsFleet.pairs setting does (plus the import record the file may carry)', () => {
    const conf = manifest.contributes.configuration;
    const props = Object.assign({}, ...(Array.isArray(conf) ? conf : [conf]).map((c) => c.properties)) as Record<string, { items?: unknown }>;
    const { imported, ...rest } = schema.properties.pairs.items.properties;
    expect(imported).toBeDefined();
    expect({ ...schema.properties.pairs.items, properties: rest }).toEqual(props['zfsFleet.pairs']!.items);
    expect(Object.keys(schema.properties.pairs.items.properties.options.properties).sort()).toEqual([...OPTION_KEYS, 'bwlimit'].sort());
  });

  it('accepts the file an import writes, and the loader reads every pair of it', () => {
    const pairs = importSyncoidArgs(read('ovh3.syncoid-args.conf'), {
      file: 'ovh3.syncoid-args.conf',
      host: 'ovh3',
      fleetHosts: [{ alias: 'off2', hostName: 'off2.openfoodfacts.org', user: 'ovh3operator' }],
    });
    const policies = importSanoidConf(read('ovh3.sanoid.conf'), { file: 'ovh3.sanoid.conf', host: 'ovh3' });
    const text = mergeFleetFile(mergeFleetFile(undefined, pairs).text, policies).text;
    const doc = JSON.parse(text) as { pairs: unknown[]; policies: Record<string, unknown> };
    expect(doc.pairs.length).toBeGreaterThan(0);
    expect(Object.keys(doc.policies).length).toBeGreaterThan(0);
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    expect(fileEntries({ file: '.zfs-fleet.json', text }).every((e) => e.ok)).toBe(true);
  });

  it('refuses what the loader refuses: an unknown key, an unknown route, a source without a host, an option that is not a boolean', () => {
    const bad = [
      { source: 'off1:tank/a', target: 'ovh3:rpool/a', schedule: 'hourly' },
      { source: 'off1:tank/a', target: 'ovh3:rpool/a', route: 'rsync' },
      { source: 'tank/a', target: 'ovh3:rpool/a' },
      { source: 'off1:tank/a', target: 'ovh3:rpool/a', options: { recursive: 'yes' } },
    ];
    for (const entry of bad) {
      const text = JSON.stringify({ pairs: [entry] });
      expect(validate(JSON.parse(text)), text).toBe(false);
      expect(fileEntries({ file: '.zfs-fleet.json', text })[0]!.ok, text).toBe(false);
    }
  });

  it('accepts hosts and groups as the loader reads them, and refuses what the loader refuses in them', () => {
    const good = {
      hosts: {
        off1: { labels: ['production'], address: '10.0.0.1' },
        off2: { from: { ovh3: { user: 'ovh3operator', address: 'off2.example.org', port: 22 } } },
      },
      groups: [
        { name: 'products', primary: 'off1:tank/a', replicas: ['off2:tank/a', 'ovh3:rpool/a'], route: 'push', options: { recursive: true }, maxLag: '1d' },
      ],
    };
    expect(validate(good), JSON.stringify(validate.errors)).toBe(true);
    expect(fileEntries({ file: '.zfs-fleet.json', text: JSON.stringify(good) }).map((e) => e.ok)).toEqual([true, true]);
    const bad = [
      { hosts: { off1: { port: 0 } } },
      { hosts: { off1: { from: { off2: { login: 'x' } } } } },
      { groups: [{ name: 'g', primary: 'off1:tank/a', replicas: [] }] },
      { groups: [{ name: 'g', primary: 'off1:tank/a', replicas: ['off2:tank/a'], route: 'rsync' }] },
      { groups: [{ name: 'g', primary: 'off1:tank/a', replicas: ['off2:tank/a'], options: { recursive: 'yes' } }] },
    ];
    for (const doc of bad) {
      const text = JSON.stringify(doc);
      expect(validate(doc), text).toBe(false);
      expect(
        fileEntries({ file: '.zfs-fleet.json', text }).some((e) => !e.ok),
        text,
      ).toBe(true);
    }
  });

  it('accepts a policy written by hand as the loader reads it, and refuses what the loader refuses in one', () => {
    const good = { policies: { 'off1:zfs-hdd/off/products': { retention: { hourly: 24, daily: 7 }, autoprune: true, recursive: 'zfs' } } };
    expect(validate(good), JSON.stringify(validate.errors)).toBe(true);
    expect(fileEntries({ file: '.zfs-fleet.json', text: JSON.stringify(good) })).toEqual([]);
    const bad = [
      { retention: { daily: -1 } },
      { retention: { daly: 7 } },
      { retention: {}, autoprune: 'yes' },
      { retention: {}, keep: 7 },
      { autoprune: true },
    ];
    for (const policy of bad) {
      const doc = { policies: { 'off1:zfs-hdd/off/products': policy } };
      const text = JSON.stringify(doc);
      expect(validate(doc), text).toBe(false);
      expect(
        fileEntries({ file: '.zfs-fleet.json', text }).some((e) => !e.ok),
        text,
      ).toBe(true);
    }
  });
});
