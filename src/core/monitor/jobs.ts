/**
 * The job queue in `check`: a pair whose newest finished job failed is a finding until a later job
 * of that pair succeeds (or the failed one is retried and succeeds). A cancelled job is the
 * operator's doing, not a finding. Pure: the CLI reads the jobs from the fleet store.
 */
import { failureMeaning, type Job } from '../queue/job.js';
import { safeLine } from '../text.js';
import type { Finding } from './check.js';

/** One finding (WARNING) per pair (or job name, for a job without a pair) whose newest finished job failed; `inScope` keeps the jobs of the hosts checked. */
export function failedJobFindings(jobs: readonly Job[], inScope: (j: Job) => boolean = () => true): Finding[] {
  const newest = new Map<string, Job>();
  for (const j of jobs) {
    if (j.finishedAt === null || !inScope(j)) continue;
    const key = j.pairId ?? j.name;
    const seen = newest.get(key);
    if (!seen || j.finishedAt > seen.finishedAt! || (j.finishedAt === seen.finishedAt && j.id > seen.id)) newest.set(key, j);
  }
  const out: Finding[] = [];
  for (const j of newest.values()) {
    if (j.state !== 'failed') continue;
    const name = safeLine(j.name);
    const error = j.error ? `: ${safeLine(j.error.split('\n')[0]!)}` : '';
    out.push({
      severity: 'warning',
      kind: 'job-failed',
      subject: j.pairId ?? name,
      short: `job ${j.id} ${name} failed`,
      message: `job ${j.id} ${name} failed (exit ${j.sync}, ${failureMeaning(j.sync)}, attempt ${j.attempts}, ${j.finishedAt})${error}; retry it with: zfs-fleet queue retry ${j.id}`,
    });
  }
  return out.sort((a, b) => a.short.localeCompare(b.short));
}
