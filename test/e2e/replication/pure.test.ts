/**
 * The vscode-free parts of the replication UI, on the recorded lab fixtures of test/unit/replication:
 * which pairs the settings and `.zfs-fleet.json` give (and why an entry is rejected), the short state
 * in the Replication view, and what "Send to Terminal" types.
 */
import { describe, expect, it } from 'vitest';
import { planRollback } from '../../../src/core/replication/rollback.js';
import { planSync } from '../../../src/core/replication/sync.js';
import { collectPairs } from '../../../src/core/fleet/definition.js';
import { describeOrigin, type InvalidPair, type ValidPair } from '../../../src/core/fleet/pairSpecs.js';
import { invalidPairView, validPairView } from '../../../src/ui/replication/pairView.js';
import { historyMarkdown, mdEscape } from '../../../src/ui/replication/reports.js';
import { terminalScript } from '../../../src/ui/replication/terminalText.js';
import { fuseListing, openzfsListing, pair as makePair, R1, R2, scenarioPair } from '../../unit/replication/fixtures.js';

const ssh = (h: string) => ['ssh', '-F', '/lab/ssh config', h];

describe('pairs from the settings and the workspace file', () => {
  const a = { source: 'off1:zfs-hdd/off/products', target: 'ovh3:rpool/off/products' };
  it('settings first, then the file; the settings entry wins on the same id and says so', () => {
    const out = collectPairs({ value: [{ ...a, label: 'settings' }], scope: 'user' }, [
      {
        file: '.zfs-fleet.json',
        text: JSON.stringify({
          pairs: [
            { ...a, label: 'file' },
            { source: 'off1:zfs-hdd/off/images', target: 'ovh3:rpool/off/images', route: 'pull' },
          ],
        }),
      },
    ]);
    expect(out.map((e) => e.ok && [e.pair.label ?? e.pair.id, e.origin.kind])).toEqual([
      ['settings', 'settings'],
      ['off1:zfs-hdd/off/images->ovh3:rpool/off/images', 'file'],
    ]);
    expect((out[0] as ValidPair).overrides).toEqual({ kind: 'file', file: '.zfs-fleet.json', index: 0 });
    expect((out[1] as ValidPair).pair.route).toBe('pull');
  });

  it('every invalid entry is kept with its reason', () => {
    const out = collectPairs(
      {
        value: [
          'off1:x',
          { source: 'off1:zfs-hdd/a' },
          { ...a, route: 'sideways' },
          { ...a, options: { recursve: true } },
          { ...a, options: { recursive: 'yes' } },
          { ...a, colour: 'red' },
          { source: 'off1:zfs-hdd/a@snap', target: 'ovh3:rpool/a' },
          { source: 'off1:zfs-hdd/a', target: 'off1:zfs-hdd/a' },
          a,
          a,
        ],
        scope: 'workspace',
      },
      [
        { file: '.zfs-fleet.json', text: '{"pairs": [' },
        { file: 'b/.zfs-fleet.json', text: '{"pairs": {}}' },
        { file: 'c/.zfs-fleet.json', error: 'EACCES' },
      ],
    );
    const reasons = out.filter((e): e is InvalidPair => !e.ok).map((e) => `${describeOrigin(e.origin)}: ${e.reason}`);
    expect(reasons).toEqual([
      'workspace settings (zfsFleet.pairs #1): an entry must be an object {"source": "HOST:DATASET", "target": "HOST:DATASET"}',
      'workspace settings (zfsFleet.pairs #2): "target" is missing (HOST:DATASET)',
      'workspace settings (zfsFleet.pairs #3): "route" must be relay, push or pull (got "sideways")',
      'workspace settings (zfsFleet.pairs #4): unknown option "recursve" (known: recursive, raw, compressed, largeBlocks, properties, intermediates, decrypt, exclude, bwlimit)',
      'workspace settings (zfsFleet.pairs #5): option "recursive" must be true or false',
      'workspace settings (zfsFleet.pairs #6): unknown key "colour" (expected source, target, route, label, options, imported)',
      expect.stringMatching(/^workspace settings \(zfsFleet.pairs #7\): .*not a snapshot/),
      expect.stringMatching(/^workspace settings \(zfsFleet.pairs #8\): .*same dataset/),
      'workspace settings (zfsFleet.pairs #10): duplicate: the pair off1:zfs-hdd/off/products->ovh3:rpool/off/products is already defined in workspace settings (zfsFleet.pairs #9)',
      expect.stringMatching(/^\.zfs-fleet\.json: is not valid JSON: /),
      'b/.zfs-fleet.json: "pairs" must be an array',
      'c/.zfs-fleet.json: cannot be read: EACCES',
    ]);
    expect(out.filter((e) => e.ok)).toHaveLength(1);
    const v = invalidPairView(out[1] as InvalidPair);
    expect(v).toMatchObject({ label: 'Invalid pair: off1:zfs-hdd/a → ?', contextValue: 'zfs.pair.invalid', icon: 'error' });
  });

  it('a settings value that is not an array is one invalid entry', () => {
    const out = collectPairs({ value: { source: 'x' }, scope: 'user' }, []);
    expect(out).toHaveLength(1);
    expect(out[0]!.ok).toBe(false);
  });
});

describe('the Replication view row of a pair', () => {
  const row = (scenario: string) => {
    const pair = scenarioPair(scenario);
    const v: ValidPair = { ok: true, pair, spec: { source: '', target: '' }, origin: { kind: 'settings', scope: 'user', index: 0 } };
    return validPairView(v, { state: 'ok', listing: fuseListing(scenario, 'off1') }, { state: 'ok', listing: fuseListing(scenario, 'ovh3') });
  };
  it.each([
    ['insync', 'in sync', 'pass'],
    ['behind', 'behind 2', 'arrow-circle-right'],
    ['newer', 'target has newer snapshots', 'warning'],
    ['pruned', 'no common base', 'error'],
    ['neversent', 'never sent', 'circle-large-outline'],
  ])('%s: "%s"', (scenario, description, icon) => {
    const v = row(scenario);
    expect(v.description).toBe(description);
    expect(v.icon).toBe(icon);
    expect(v.tooltip[0]![0]).toBe('State');
    expect(v.tooltip[0]![1]).toBe(v.state!.summary);
    expect(v.contextValue).toBe('zfs.pair.settings');
  });
  it('a partially received stream on OpenZFS 2.3: "resume token" while resumable, "stale resume token" once the snapshot it sends is gone', () => {
    const p = makePair('zfsvm:tank/it5-rec', 'zfsvm:backup/it5-rec');
    const v: ValidPair = { ok: true, pair: p, spec: { source: '', target: '' }, origin: { kind: 'settings', scope: 'user', index: 0 } };
    const target = { state: 'ok' as const, listing: openzfsListing('root_resume_list_backup', 'zfsvm') };
    const live = validPairView(v, { state: 'ok', listing: openzfsListing('root_resume_list_tank', 'zfsvm') }, target);
    expect(live).toMatchObject({ description: 'resume token, behind 1', icon: 'debug-pause', iconColor: 'list.warningForeground' });
    const stale = validPairView(v, { state: 'ok', listing: openzfsListing('root_resume_list_tank_stale', 'zfsvm') }, target);
    expect(stale.description).toMatch(/^stale resume token\b/);
    expect(stale).toMatchObject({ icon: 'debug-pause', iconColor: 'errorForeground' });
    expect(stale.state!.summary).toContain('its resume token is stale: @s2 no longer exists on the source');
  });
  it('an unreachable host: "unreachable", with the reason in the tooltip', () => {
    const pair = scenarioPair('insync');
    const v = validPairView(
      { ok: true, pair, spec: { source: '', target: '' }, origin: { kind: 'file', file: '.zfs-fleet.json', index: 0 } },
      { state: 'ok', listing: fuseListing('insync', 'off1') },
      { state: 'error', error: new Error('connect ECONNREFUSED 127.0.0.1:2232') },
    );
    expect(v).toMatchObject({ description: 'unreachable', hosts: 'unreachable', contextValue: 'zfs.pair.file' });
    expect(v.tooltip[0]![1]).toContain('ovh3: connect ECONNREFUSED');
  });
});

describe('Send to Terminal', () => {
  it('a sync: the relay line for this machine; the holds/releases left out (joined per host they would undo each other)', () => {
    const pair = scenarioPair('behind');
    const plan = planSync(pair, fuseListing('behind', 'off1'), fuseListing('behind', 'ovh3'));
    const s = terminalScript(plan, ssh);
    expect(s.groups.map((g) => g.runOn)).toEqual(['local']);
    expect(s.groups[0]!.text).toBe(
      `ssh -F '/lab/ssh config' off1 'zfs send -I ${R1}/behind/fs@20230515-0000 ${R1}/behind/fs@20230608-1130' | ssh -F '/lab/ssh config' ovh3 'zfs recv ${R2}/behind/fs'`,
    );
    expect(s.leftOut).toHaveLength(4);
    expect(s.interleaved).toBe(false);
  });
  it('a rollback: one line on the host, never a newline', () => {
    const plan = planRollback('ovh3', fuseListing('newer', 'ovh3'), `${R2}/newer/fs@20230515-0000`);
    const s = terminalScript(plan, ssh);
    expect(s.groups).toEqual([
      {
        runOn: 'ovh3',
        text: `zfs rollback -r ${R2}/newer/fs@20230515-0000`,
        lines: [`zfs rollback -r ${R2}/newer/fs@20230515-0000`],
        descriptions: [expect.any(String)],
        destructive: true,
      },
    ]);
    expect(s.groups[0]!.text).not.toMatch(/[\r\n]/);
  });
  it('a sync that rolls the target back first: the target host, then this machine, in plan order', () => {
    const pair = scenarioPair('newer');
    const src = fuseListing('newer', 'off1');
    const plan = planSync(pair, src, fuseListing('newer', 'ovh3'), { newSnapshotName: 'now' });
    const s = terminalScript(plan, ssh);
    expect(s.groups.map((g) => g.runOn)).toEqual(['off1', 'ovh3', 'local']);
    expect(s.groups[1]!.text).toMatch(/^zfs rollback -r /);
  });
});

describe('documents', () => {
  it('names from hosts cannot become markdown', () => {
    expect(mdEscape('pool/a_b*c [x](y) <b>')).toBe('pool/a\\_b\\*c \\[x\\](y) \\<b\\>');
    expect(historyMarkdown([], 0, '/h.jsonl')).toContain('Nothing has run yet.');
  });
});
