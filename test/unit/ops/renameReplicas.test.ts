/** A rename with its replicas, from listings recorded on the zfs-fuse lab (the scenario pair off1 -> ovh3). */
import { describe, expect, it } from 'vitest';
import { renameEndpoints } from '../../../src/core/fleet/editFile.js';
import { planRenameWithReplicas, renameMoves, replicaName } from '../../../src/core/ops/renameReplicas.js';
import { R1, R2, fuseListing, pair, planError, scenarioPair } from '../replication/fixtures.js';

const listings = new Map([
  ['off1', fuseListing('behind', 'off1')],
  ['ovh3', fuseListing('behind', 'ovh3')],
]);
const none = () => ({ rows: [], parentRows: [] });

describe('replicaName', () => {
  it('the part of the replica named as the source below its pool changes the same way; else only a changed last component is followed', () => {
    expect(replicaName('tank/data/app', 'tank/apps/app', 'backup/host1/data/app')).toBe('backup/host1/apps/app');
    expect(replicaName('tank/data/app', 'tank/data/app2', 'backup/elsewhere')).toBe('backup/app2');
    expect(replicaName('tank/data/app', 'tank/apps/app', 'backup/elsewhere')).toBeUndefined();
  });
});

describe('planRenameWithReplicas', () => {
  it('the replica first, then the source; the fleet file named; refused without a pair or for a replica not named after its source', () => {
    const p = scenarioPair('behind');
    const moves = renameMoves('off1', `${R1}/behind/fs`, `${R1}/behind/fs2`, [p]);
    expect(moves.map((m) => `${m.host}:${m.from} -> ${m.to}`)).toEqual([
      `ovh3:${R2}/behind/fs -> ${R2}/behind/fs2`,
      `off1:${R1}/behind/fs -> ${R1}/behind/fs2`,
    ]);
    const plan = planRenameWithReplicas(moves, listings, none, { pairs: [p], fleetFile: '.zfs-fleet.json' });
    expect(plan.steps.map((s) => (s.type === 'command' ? `${s.host}$ ${s.argv.join(' ')}` : ''))).toEqual([
      `ovh3$ zfs rename ${R2}/behind/fs ${R2}/behind/fs2`,
      `off1$ zfs rename ${R1}/behind/fs ${R1}/behind/fs2`,
    ]);
    expect(plan.steps.map((s) => s.id)).toEqual(['s1', 's2']);
    expect(plan.warnings.join('\n')).not.toMatch(/edit the fleet file/);
    expect(plan.effects!.at(-1)).toMatch(/^The fleet file \.zfs-fleet\.json: every pair and group naming a renamed dataset names its new path/);
    expect(plan.destroys).toEqual({ snapshots: [], bookmarks: [], clones: [], datasets: [] });
    expect(planError(() => planRenameWithReplicas(renameMoves('off1', `${R1}/behind/fs`, `${R1}/behind/fs2`, []), listings, none)).reason).toMatch(
      /no pair of the fleet file sends from/,
    );
    const odd = pair(`off1:${R1}/behind/fs`, 'ovh3:rpool/x');
    expect(planError(() => renameMoves('off1', `${R1}/behind/fs`, `${R1}/other/fs`, [odd])).reason).toMatch(/is not named after its source/);
  });

  it('the fleet file: every endpoint naming a renamed dataset (or one below it) gets the new path, the rest as written', () => {
    const text = `{\n  "groups": [{ "name": "g", "primary": "off1:tank/a", "replicas": ["ovh3:backup/a", "off2:x/a"] }],\n  "pairs": [\n    { "source": "off1:tank/a/kid", "target": "ovh3:backup/a/kid" },\n    { "source": "off1:tank/ab", "target": "ovh3:backup/ab" }\n  ]\n}\n`;
    const out = renameEndpoints(text, [
      { host: 'ovh3', from: 'backup/a', to: 'backup/b' },
      { host: 'off1', from: 'tank/a', to: 'tank/b' },
    ]);
    expect(out).toBe(
      text
        .replace('"off1:tank/a"', '"off1:tank/b"')
        .replace('"ovh3:backup/a"', '"ovh3:backup/b"')
        .replace('off1:tank/a/kid', 'off1:tank/b/kid')
        .replace('ovh3:backup/a/kid', 'ovh3:backup/b/kid'),
    );
  });
});
