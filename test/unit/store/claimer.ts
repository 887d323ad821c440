// One worker process of the queue's concurrency test: claims jobs until none is left, finishing each
// at once (a no-op job), and prints the id of each job it claimed.
import { openStore } from '../../../src/store/index.js';
import { JobQueue } from '../../../src/store/queue.js';

async function main(): Promise<void> {
  const [url, worker] = process.argv.slice(2) as [string, string];
  const store = await openStore(url, { busyTimeoutMs: 60_000 });
  const q = new JobQueue(store);
  for (;;) {
    const j = await q.claim({ worker });
    if (!j) break;
    process.stdout.write(`${j.id}\n`);
    if (!(await q.finish(j.id, worker, { sync: 0 }))) throw new Error(`job ${j.id} was no longer ${worker}'s`);
  }
  await store.close();
}
main().catch((e) => {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(1);
});
