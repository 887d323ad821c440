/**
 * Records the unit-test fixtures of test/unit/replication/fixtures from the lab's real zfs-fuse:
 * builds every scenario under zfs-hdd/rtest-fx (off1) and rpool/rtest-fx (ovh3), records the
 * product's own commands' raw output through the product's runners, then destroys the scenarios.
 *
 *   npx vite-node test/integration/replication/recordFixtures.ts
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listAllCommand } from '../../../src/core/zfs/commands.js';
import { localPropertiesCommand } from '../../../src/core/replication/cloneRebase.js';
import { mountUsersCommand, processListCommand } from '../../../src/core/replication/processes.js';
import { labFleet, ssh } from '../lab.js';
import {
  DST,
  SNAPS,
  SRC,
  destroyRoot,
  destroySnapshot,
  makeSource,
  mountpoint,
  q,
  replicate,
  sh,
  snapshot,
  startStalledRecv,
  waitForRecv,
  writeFile,
} from './scenarios.js';

/** Run from the repository root. */
const OUT = path.resolve('test/unit/replication/fixtures');
const R1 = 'zfs-hdd/rtest-fx';
const R2 = 'rpool/rtest-fx';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function build(): Promise<void> {
  sh(SRC, `zfs create ${q(R1)}`);
  sh(DST, `zfs create ${q(R2)}`);
  const [a, b, c, d] = SNAPS as [string, string, string, string];

  // in-sync: three snapshots, all received.
  await makeSource(`${R1}/insync/fs`, [a, b, c]);
  sh(DST, `zfs create -p ${q(`${R2}/insync`)}`);
  replicate(`${R1}/insync/fs`, `${R2}/insync/fs`, a, c);

  // behind by 2: four snapshots a second apart, two received.
  await makeSource(`${R1}/behind/fs`, [a, b, c, d], { gapSeconds: 1 });
  sh(DST, `zfs create -p ${q(`${R2}/behind`)}`);
  replicate(`${R1}/behind/fs`, `${R2}/behind/fs`, a, b);

  // target modified: in sync, then a file written into the replica's mountpoint.
  await makeSource(`${R1}/modified/fs`, [a, b]);
  sh(DST, `zfs create -p ${q(`${R2}/modified`)}`);
  replicate(`${R1}/modified/fs`, `${R2}/modified/fs`, a, b);
  writeFile(DST, `${mountpoint(DST, `${R2}/modified/fs`)}/written-on-the-replica.txt`, 8, 'modified after the last receive');

  // target has a newer snapshot: in sync, then a snapshot taken on the target.
  await makeSource(`${R1}/newer/fs`, [a, b]);
  sh(DST, `zfs create -p ${q(`${R2}/newer`)}`);
  replicate(`${R1}/newer/fs`, `${R2}/newer/fs`, a, b);
  await sleep(1100);
  snapshot(DST, `${R2}/newer/fs@taken-on-target`);

  // no common (pruned on source): two snapshots received, then the source keeps taking snapshots and prunes those two.
  await makeSource(`${R1}/pruned/fs`, ['20230401-0000', '20230415-0000']);
  sh(DST, `zfs create -p ${q(`${R2}/pruned`)}`);
  replicate(`${R1}/pruned/fs`, `${R2}/pruned/fs`, '20230401-0000', '20230415-0000');
  await sleep(1100);
  writeFile(SRC, `${mountpoint(SRC, `${R1}/pruned/fs`)}/later.txt`, 4, 'after the pruned ones');
  snapshot(SRC, `${R1}/pruned/fs@${a}`);
  snapshot(SRC, `${R1}/pruned/fs@${b}`);
  await destroySnapshot(SRC, `${R1}/pruned/fs@20230401-0000`);
  await destroySnapshot(SRC, `${R1}/pruned/fs@20230415-0000`);

  // never sent: the target does not exist; and a target that exists without snapshots.
  await makeSource(`${R1}/neversent/fs`, [a, b]);
  await makeSource(`${R1}/neversent/empty`, [a]);
  sh(DST, `zfs create -p ${q(`${R2}/neversent/empty`)}`);

  // unrelated: the target was created on its own, with snapshots of the same names.
  await makeSource(`${R1}/unrelated/fs`, [a, b]);
  await makeSource(`${R2}/unrelated/fs`, [a, b], { host: DST });

  // names with spaces: dataset "my data", snapshots "snap one", "snap two"; one received.
  await makeSource(`${R1}/spaces/my data`, ['snap one', 'snap two'], { gapSeconds: 1 });
  sh(DST, `zfs create -p ${q(`${R2}/spaces`)}`);
  replicate(`${R1}/spaces/my data`, `${R2}/spaces/my data`, 'snap one');

  // seed 000: replica received up to c; clone of b on the target; replica modified; the source takes d and prunes b and c.
  await makeSource(`${R1}/seed000/products`, [a, b, c]);
  sh(DST, `zfs create -p ${q(`${R2}/seed000/clones`)}`);
  replicate(`${R1}/seed000/products`, `${R2}/seed000/products`, a, c);
  sh(DST, `zfs clone -o atime=off -o 'org.zfs-fleet:purpose=staging over NFS' ${q(`${R2}/seed000/products@${b}`)} ${q(`${R2}/seed000/clones/products`)}`);
  writeFile(DST, `${mountpoint(DST, `${R2}/seed000/clones/products`)}/staging-only.txt`, 2, 'written in the staging clone');
  writeFile(DST, `${mountpoint(DST, `${R2}/seed000/products`)}/stray.txt`, 4, 'written into the replica');
  await sleep(1100);
  writeFile(SRC, `${mountpoint(SRC, `${R1}/seed000/products`)}/june.txt`, 4, 'june');
  snapshot(SRC, `${R1}/seed000/products@${d}`);
  await destroySnapshot(SRC, `${R1}/seed000/products@${b}`);
  await destroySnapshot(SRC, `${R1}/seed000/products@${c}`);

  // a clone chain on one host: fs@a,b,c; c1 = clone of fs@b (with a child and a snapshot @x); c2 = clone of c1@x.
  await makeSource(`${R2}/clonechain/fs`, [a, b, c], { host: DST });
  sh(
    DST,
    [
      `zfs clone ${q(`${R2}/clonechain/fs@${b}`)} ${q(`${R2}/clonechain/c1`)}`,
      `zfs create ${q(`${R2}/clonechain/c1/child`)}`,
      `zfs snapshot -r ${q(`${R2}/clonechain/c1@x`)}`,
      `zfs clone ${q(`${R2}/clonechain/c1@x`)} ${q(`${R2}/clonechain/c2`)}`,
    ].join('\n'),
  );
}

async function record(): Promise<void> {
  const fleet = labFleet([SRC, DST]);
  const write = (name: string, text: string) => fs.writeFileSync(path.join(OUT, name), text);
  try {
    fs.mkdirSync(OUT, { recursive: true });
    for (const h of [SRC, DST]) {
      const caps = await fleet.host(h).capabilities();
      write(`capabilities.${h}.json`, JSON.stringify(caps, null, 2) + '\n');
    }
    const run = async (host: string, argv: string[]) => {
      const r = await fleet.host(host).runner.run(argv);
      if (r.exitCode !== 0) throw new Error(`${host}: ${argv.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const scenarios = ['insync', 'behind', 'modified', 'newer', 'pruned', 'neversent', 'unrelated', 'spaces', 'seed000', 'clonechain'];
    // the stalled receive of seed 000 and a process in the clone's mountpoint, for ps and mount-users
    const stalled = startStalledRecv(DST, `${R2}/seed000/products`);
    const cloneMp = mountpoint(DST, `${R2}/seed000/clones/products`);
    const userToken = String(100000 + Math.floor(Math.random() * 899999));
    sh(DST, `cd ${q(cloneMp)} && (nohup sleep 120.${userToken} >/dev/null 2>&1 </dev/null &)`);
    try {
      await waitForRecv(DST, `${R2}/seed000/products`);
      await sleep(3000);
      const meta: Record<string, unknown> = { recordedAt: new Date().toISOString(), roots: { [SRC]: R1, [DST]: R2 } };
      for (const s of scenarios) {
        for (const [h, root] of [
          [SRC, `${R1}/${s}`],
          [DST, `${R2}/${s}`],
        ] as const) {
          const caps = await fleet.host(h).capabilities();
          const exists = datasetExists(h, root);
          if (!exists) continue;
          const cmd = listAllCommand(caps, 'zfs', root);
          write(`${s}.${h}.txt`, await run(h, cmd.argv));
          meta.commands ??= {} as Record<string, string>;
          (meta.commands as Record<string, string>)[`${s}.${h}.txt`] = cmd.argv.join(' ');
        }
      }
      const ps = await run(DST, processListCommand().argv);
      // The sandbox's own tooling (JSON environment dumps) is left out; every other line is as ps printed it.
      write(
        'seed000.ovh3.ps.txt',
        ps
          .split('\n')
          .filter((l) => !/binary_backend|qemu-system/.test(l))
          .join('\n'),
      );
      write('seed000.ovh3.local-props.txt', await run(DST, localPropertiesCommand('zfs', `${R2}/seed000/clones/products`).argv));
      write('seed000.ovh3.mount-users.txt', await run(DST, mountUsersCommand(cloneMp).argv));
      meta.recordedEnd = new Date().toISOString();
      write('meta.json', JSON.stringify(meta, null, 2) + '\n');
    } finally {
      await stalled.stop();
      const ps = ssh(DST, 'ps -ww -eo pid=,args=');
      const m = ps.split('\n').find((l) => l.trim().endsWith(`sleep 120.${userToken}`));
      if (m) ssh(DST, `kill ${m.trim().split(/\s+/)[0]} || true`);
    }
  } finally {
    await fleet.dispose();
  }
}

function datasetExists(host: string, root: string): boolean {
  return ssh(host, `zfs list -H -o name ${q(root)} >/dev/null 2>&1 && echo y || echo n`).trim() === 'y';
}

async function main(): Promise<void> {
  await destroyRoot(SRC, R1);
  await destroyRoot(DST, R2);
  try {
    await build();
    await record();
  } finally {
    await destroyRoot(DST, R2);
    await destroyRoot(SRC, R1);
  }
  console.log(`fixtures written to ${OUT}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
