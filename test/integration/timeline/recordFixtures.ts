/**
 * Records the timeline's own unit-test fixtures (test/unit/timeline/fixtures) from the lab's real
 * zfs-fuse: a source with a regular schedule and a gap in it, a held oldest snapshot, and two
 * replicas at different points. The replication fixtures (test/unit/replication/fixtures) have no
 * schedule (their snapshots are taken within seconds in any order) and no hold, so the timeline's
 * gap and retention rules need this one. Output recorded through the product's own listing command
 * and runners, then the scenario is destroyed.
 *
 *   npx vite-node test/integration/timeline/recordFixtures.ts
 *
 * The scenario (`schedule`), under zfs-hdd/rtest-tl (off1) and rpool/rtest-tl (ovh3):
 *   off1 schedule/fs: @s1 … @s5 one second apart (the usual interval), 6 s without a snapshot,
 *     then @s6 and @s7 one second apart; `zfs hold keep @s1`.
 *   ovh3 schedule/fs: received @s1 … @s5 (behind by 2).
 *   ovh3 schedule/second: received @s1 … @s3 (a second replica, behind by 4).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listAllCommand } from '../../../src/core/zfs/commands.js';
import { labFleet } from '../lab.js';
import { DST, SRC, destroyRoot, makeSource, q, replicate, sh } from '../replication/scenarios.js';

/** Run from the repository root. */
const OUT = path.resolve('test/unit/timeline/fixtures');
const R1 = 'zfs-hdd/rtest-tl';
const R2 = 'rpool/rtest-tl';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function build(): Promise<void> {
  sh(SRC, `zfs create ${q(R1)}`);
  sh(DST, `zfs create -p ${q(`${R2}/schedule`)}`);
  const src = `${R1}/schedule/fs`;
  await makeSource(src, ['s1', 's2', 's3', 's4', 's5'], { gapSeconds: 1 });
  await sleep(6000);
  const mp = sh(SRC, `zfs get -H -o value mountpoint ${q(src)}`).trim();
  sh(
    SRC,
    [
      `date > ${q(`${mp}/after-the-gap.txt`)}`,
      `zfs snapshot ${q(`${src}@s6`)}`,
      'sleep 1',
      `date >> ${q(`${mp}/after-the-gap.txt`)}`,
      `zfs snapshot ${q(`${src}@s7`)}`,
    ].join('\n'),
  );
  sh(SRC, `zfs hold keep ${q(`${src}@s1`)}`);
  replicate(src, `${R2}/schedule/fs`, 's1', 's5');
  replicate(src, `${R2}/schedule/second`, 's1', 's3');
}

async function record(): Promise<void> {
  const fleet = labFleet([SRC, DST]);
  const meta: { recordedAt: string; recordedEnd?: string; roots: Record<string, string>; commands: Record<string, string> } = {
    recordedAt: new Date().toISOString(),
    roots: { [SRC]: R1, [DST]: R2 },
    commands: {},
  };
  try {
    fs.mkdirSync(OUT, { recursive: true });
    for (const [h, root] of [
      [SRC, `${R1}/schedule`],
      [DST, `${R2}/schedule`],
    ] as const) {
      const caps = await fleet.host(h).capabilities();
      const cmd = listAllCommand(caps, 'zfs', root);
      const r = await fleet.host(h).runner.run(cmd.argv);
      if (r.exitCode !== 0) throw new Error(`${h}: ${cmd.argv.join(' ')}: ${r.stderr}`);
      const file = `schedule.${h}.txt`;
      fs.writeFileSync(path.join(OUT, file), r.stdout);
      meta.commands[file] = cmd.argv.join(' ');
    }
    meta.recordedEnd = new Date().toISOString();
    fs.writeFileSync(path.join(OUT, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
  } finally {
    await fleet.dispose();
  }
}

async function main(): Promise<void> {
  await destroyRoot(DST, R2);
  await destroyRoot(SRC, R1);
  try {
    await build();
    await record();
  } finally {
    // The hold would stop the destroy: release it first.
    sh(SRC, `zfs release keep ${q(`${R1}/schedule/fs@s1`)} 2>/dev/null || true`);
    await destroyRoot(DST, R2);
    await destroyRoot(SRC, R1);
  }
  console.log(`fixtures written to ${OUT}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
