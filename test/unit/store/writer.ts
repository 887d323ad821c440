// One of the processes of the concurrency test: opens the store (maybe creating it at the same time
// as the other process) and writes N transactions of a host observation and a run.
import { openStore } from '../../../src/store/index.js';

async function main(): Promise<void> {
  const [url, who, count] = process.argv.slice(2) as [string, string, string];
  const store = await openStore(url, { busyTimeoutMs: 30_000 });
  for (let i = 0; i < Number(count); i++) {
    const at = new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
    await store.recordHosts([{ host: who, observedAt: at, reachable: true, latencyMs: i }]);
    await store.recordRuns([
      {
        planId: `${who}-${i}`,
        kind: 'sync',
        title: `run ${i}`,
        hosts: [who],
        outcome: 'ok',
        startedAt: at,
        finishedAt: at,
        durationMs: 1,
        bytes: i,
        steps: [],
      },
    ]);
  }
  await store.close();
}
main().catch((e) => {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(1);
});
