/**
 * The fleet file's hosts, groups and pairs (core/fleet/definition.ts): groups expand to pairs, host
 * entries say how the other hosts reach a host (push/pull plans use it), one host pipes locally,
 * group limits reach check; every invalid entry names its place. Plans and checks on listings
 * recorded from the zfs-fuse lab (test/unit/replication/fixtures).
 */
import { describe, expect, it } from 'vitest';
import { collectDefinition, readFleetDefinition, reachSpec, type FleetHost } from '../../../src/core/fleet/definition.js';
import { describeOrigin, type InvalidPair, type ValidPair } from '../../../src/core/fleet/pairSpecs.js';
import { DEFAULT_THRESHOLDS, evaluateCheck } from '../../../src/core/monitor/check.js';
import { fleetFacts } from '../../../src/core/monitor/facts.js';
import { planSync } from '../../../src/core/replication/sync.js';
import { fuseListing, R1, R2, RECORDED } from '../replication/fixtures.js';

const file = (doc: unknown) => ({ file: '.zfs-fleet.json', text: JSON.stringify(doc) });
const valid = (es: readonly (ValidPair | InvalidPair)[]) => es.filter((e): e is ValidPair => e.ok);
const invalid = (es: readonly (ValidPair | InvalidPair)[]) => es.filter((e): e is InvalidPair => !e.ok);

const FLEET = {
  hosts: {
    off1: { labels: ['production'], address: '10.0.0.1' },
    off2: { address: 'off2.example.org', from: { off1: { user: 'off1operator', address: '10.0.0.2' }, ovh3: { user: 'ovh3operator' } } },
    ovh3: { user: 'root', port: 2222 },
  },
  groups: [
    {
      name: 'products',
      primary: 'off1:zfs-hdd/off/products',
      replicas: ['off2:zfs-nvme/off/products', 'ovh3:rpool/off/products'],
      route: 'push',
      options: { recursive: true },
      staleAfter: '2h',
      maxLag: '1d',
    },
  ],
  pairs: [{ source: 'off2:zfs-nvme/obf', target: 'ovh3:rpool/obf', route: 'pull' }],
};

describe('the fleet file', () => {
  it('expands a group to one pair per replica, with its route, options, limits and group; pairs follow', () => {
    const def = readFleetDefinition(file(FLEET));
    expect(invalid(def.entries)).toEqual([]);
    expect(def.hosts.map((h) => h.name)).toEqual(['off1', 'off2', 'ovh3']);
    expect(def.groups.map((g) => [g.name, g.staleAfterSeconds, g.maxLagSeconds])).toEqual([['products', 7200, 86400]]);
    const pairs = valid(def.entries).map((e) => e.pair);
    expect(pairs.map((p) => [p.id, p.route, p.group, p.options.recursive])).toEqual([
      ['off1:zfs-hdd/off/products->off2:zfs-nvme/off/products', 'push', 'products', true],
      ['off1:zfs-hdd/off/products->ovh3:rpool/off/products', 'push', 'products', true],
      ['off2:zfs-nvme/obf->ovh3:rpool/obf', 'pull', undefined, false],
    ]);
    expect(pairs[0]!.limits).toEqual({ staleAfterSeconds: 7200, maxLagSeconds: 86400 });
    expect(describeOrigin(valid(def.entries)[1]!.origin)).toBe('.zfs-fleet.json (groups #1 "products", replica #2)');
  });

  it('says how each host is reached: per reaching host, else the entry, else its name', () => {
    const def = readFleetDefinition(file(FLEET));
    const hosts = new Map(def.hosts.map((h): [string, FleetHost] => [h.name, h]));
    expect(reachSpec(hosts, 'off2', 'off1')).toBe('off1operator@10.0.0.2');
    expect(reachSpec(hosts, 'off2', 'ovh3')).toBe('ovh3operator@off2.example.org');
    expect(reachSpec(hosts, 'off2', 'other')).toBe('off2.example.org');
    expect(reachSpec(hosts, 'ovh3', 'off1')).toBe('root@ovh3:2222');
    expect(reachSpec(hosts, 'unknown', 'off1')).toBeUndefined();
    const v6 = new Map([
      ['h', { name: 'h', labels: [], reach: { address: 'fd00::2', port: 22 }, from: {}, origin: { kind: 'file', file: 'f', index: 0 } } as FleetHost],
    ]);
    expect(reachSpec(v6, 'h', 'x')).toBe('[fd00::2]:22');
    // The pairs carry it: push reaches the target, pull the source.
    const [toOff2, toOvh3, pull] = valid(def.entries).map((e) => e.pair);
    expect(toOff2!.reach).toEqual({ target: 'off1operator@10.0.0.2', source: '10.0.0.1' });
    expect(toOvh3!.reach?.target).toBe('root@ovh3:2222');
    expect(pull!.reach?.source).toBe('ovh3operator@off2.example.org');
  });

  it('names every invalid host, group or pair with its place and reason, and keeps the rest', () => {
    const def = readFleetDefinition(
      file({
        hosts: { 'bad host': {}, off1: { port: 70000 }, off2: { from: { off1: { user: 'a b' } } }, off3: { labels: 'x' }, ok: { address: 'ok.example' } },
        groups: [
          { name: 'g', primary: 'off1:p/a', replicas: [] },
          { name: 'g2', primary: 'off1:p/a', replicas: ['off2:p/a', 'off2:p/a@snap'], maxLag: 'soon' },
          { name: 'g3', primary: 'off1:p/a', replicas: ['off2:p/a', 'off3:p/a'] },
          { name: 'g3', primary: 'off1:p/b', replicas: ['off2:p/b'] },
          { name: 'g4', primary: 'off1:p/c', replicas: ['off2:p/c'], schedule: 'hourly' },
        ],
        pairs: [{ source: 'off1:p/x' }],
      }),
    );
    expect(invalid(def.entries).map((e) => `${describeOrigin(e.origin)}: ${e.reason}`)).toEqual([
      '.zfs-fleet.json (hosts "bad host"): invalid host or dataset "bad host": a host cannot contain white space',
      '.zfs-fleet.json (hosts "off1"): host off1: "port" must be a number 1-65535 (got 70000)',
      '.zfs-fleet.json (hosts "off2"): host off2, from off1: "user" must be a user name (got "a b")',
      '.zfs-fleet.json (hosts "off3"): host off3: "labels" must be an array of non-empty strings',
      '.zfs-fleet.json (groups #1 "g"): group g: "replicas" must be a non-empty array of HOST:DATASET',
      `.zfs-fleet.json (groups #2 "g2"): group g2: "maxLag": 'soon' is not a duration (like 90s, 30m, 7h, 2d, 1w or 1h30m)`,
      '.zfs-fleet.json (groups #4 "g3"): duplicate: the group g3 is already defined in .zfs-fleet.json (groups #3 "g3")',
      '.zfs-fleet.json (groups #5 "g4"): group g4: "schedule": "hourly" is neither "every DURATION" (every 1h, every 30m) nor a cron expression of 5 fields ("15 * * * *")',
      '.zfs-fleet.json (pairs #1): "target" is missing (HOST:DATASET)',
    ]);
    expect(def.hosts.map((h) => h.name)).toEqual(['ok']);
    expect(valid(def.entries).map((e) => e.pair.id)).toEqual(['off1:p/a->off2:p/a', 'off1:p/a->off3:p/a']);
  });

  it('one replica target twice (a group and a pair) is a duplicate; the settings win over the file and get its hosts', () => {
    const def = collectDefinition({ value: [{ source: 'off2:zfs-nvme/obf', target: 'ovh3:rpool/obf', route: 'push' }], scope: 'workspace' }, [file(FLEET)]);
    const settings = valid(def.entries).find((e) => e.origin.kind === 'settings')!;
    expect(settings.overrides).toBeDefined();
    expect(settings.pair.reach).toEqual({ target: 'root@ovh3:2222', source: 'ovh3operator@off2.example.org' });
    const twice = collectDefinition({ value: [], scope: 'user' }, [
      file({ ...FLEET, pairs: [{ source: 'off1:zfs-hdd/off/products', target: 'ovh3:rpool/off/products' }] }),
    ]);
    expect(invalid(twice.entries).map((e) => e.reason)).toEqual([
      'duplicate: the pair off1:zfs-hdd/off/products->ovh3:rpool/off/products is already defined in .zfs-fleet.json (groups #1 "products", replica #2)',
    ]);
  });
});

describe('two fleet files (a multi-root workspace)', () => {
  it('a host or group defined in both: the first wins, the second is an invalid entry naming the first', () => {
    const a = { file: 'a/.zfs-fleet.json', text: JSON.stringify({ hosts: { off1: { address: '10.0.0.1' } }, groups: [FLEET.groups[0]] }) };
    const b = {
      file: 'b/.zfs-fleet.json',
      text: JSON.stringify({ hosts: { off1: { address: '10.9.9.9' } }, groups: [{ ...FLEET.groups[0], replicas: ['ovh3:rpool/x'] }] }),
    };
    const def = collectDefinition({ value: undefined, scope: 'workspace' }, [a, b]);
    expect(def.hosts.map((h) => [h.name, h.reach.address])).toEqual([['off1', '10.0.0.1']]);
    expect(def.groups.map((g) => g.replicas.length)).toEqual([2]);
    expect(invalid(def.entries).map((e) => `${describeOrigin(e.origin)}: ${e.reason}`)).toEqual([
      'b/.zfs-fleet.json (hosts "off1"): duplicate: the host off1 is already defined in a/.zfs-fleet.json (hosts "off1")',
      'b/.zfs-fleet.json (groups #1 "products"): duplicate: the group products is already defined in a/.zfs-fleet.json (groups #1 "products")',
      'b/.zfs-fleet.json (groups #1 "products", replica #1): the group products is already defined in a/.zfs-fleet.json (groups #1 "products")',
    ]);
    expect(valid(def.entries).map((e) => e.pair.target.host)).toEqual(['off2', 'ovh3']);
  });
});

describe('plans with the fleet file', () => {
  const off1 = fuseListing('behind', 'off1');
  const ovh3 = fuseListing('behind', 'ovh3');
  const doc = (route: string) => ({
    hosts: { ovh3: { from: { off1: { user: 'off1operator', address: '10.0.0.2' } } }, off1: { address: 'off1.example.org', user: 'ovh3operator' } },
    groups: [{ name: 'fs', primary: `off1:${R1}/behind/fs`, replicas: [`ovh3:${R2}/behind/fs`], route, maxLag: '1s' }],
  });
  const pairOf = (route: string) => valid(readFleetDefinition(file(doc(route))).entries)[0]!.pair;
  const sendLine = (plan: ReturnType<typeof planSync>) => {
    const s = plan.steps.find((x) => x.op === 'send')!;
    return s.type === 'pipe' ? s.exec?.argv : undefined;
  };

  it('push: the source reaches the target as the host entry says (not the operator alias)', () => {
    const line = sendLine(planSync(pairOf('push'), off1, ovh3));
    expect(line?.[2]).toMatch(/^zfs send .* \| ssh -o BatchMode=yes -- off1operator@10\.0\.0\.2 'zfs recv /);
  });

  it('pull: the target reaches the source as the host entry says', () => {
    const line = sendLine(planSync(pairOf('pull'), off1, ovh3));
    expect(line?.[2]).toMatch(/^ssh -o BatchMode=yes -- ovh3operator@off1\.example\.org 'zfs send .*' \| zfs recv /);
  });

  it('both sides on one host: the pipe runs on it, no ssh to itself', () => {
    const p = valid(readFleetDefinition(file({ pairs: [{ source: `off1:${R1}/behind/fs`, target: `off1:${R1}/behind/copy`, route: 'push' }] })).entries)[0]!
      .pair;
    const plan = planSync(p, off1, off1);
    const s = plan.steps.find((x) => x.op === 'send')!;
    expect(s.type === 'pipe' && s.exec?.host).toBe('off1');
    expect(sendLine(plan)?.[2]).toMatch(/^zfs send .* \| zfs recv .*behind\/copy$/);
    expect(sendLine(plan)?.[2]).not.toContain('ssh');
  });

  it("check judges a group replica's lag against the group's maxLag", () => {
    const p = pairOf('push');
    const facts = fleetFacts({
      hosts: [
        { host: 'off1', listing: off1 },
        { host: 'ovh3', listing: ovh3 },
      ],
      pairs: [p],
      now: RECORDED.getTime(),
    });
    expect(facts.pairs[0]!.behind).toBeGreaterThan(0);
    const behind = (pair = p) =>
      evaluateCheck({ ...facts, pairs: facts.pairs.map((f) => ({ ...f, pair })) }, { ...DEFAULT_THRESHOLDS, staleAfterSeconds: 1e9 }).findings.find(
        (f) => f.kind === 'pair-behind',
      )!;
    expect(behind().severity).toBe('warning');
    expect(behind().message).toMatch(/\(over 1s\)$/);
    expect(behind({ ...p, limits: {} }).severity).toBe('ok');
  });
});
