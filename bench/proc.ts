/**
 * Child processes of the benchmarks that time whole commands (bench/migration.ts,
 * bench/queueOverhead.ts): each run collected and timed, the running ones known so that Ctrl-C
 * can stop them before the clean-up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';

/** Children running now: killed on Ctrl-C before the clean-up. */
export const children = new Set<ChildProcess>();

export interface Exec {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export function exec(cmd: string, args: string[], o: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Exec> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const c = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...(o.env ? { env: o.env } : {}) });
    children.add(c);
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    c.on('error', (e) => (children.delete(c), reject(e)));
    c.on('close', (code) => {
      children.delete(c);
      resolve({ code, stdout, stderr, ms: performance.now() - t0 });
    });
    c.stdin.on('error', () => undefined);
    c.stdin.end(o.input ?? '');
  });
}

/** The command's result, or an error naming `what` with the end of its output when it did not exit 0. */
export async function must(what: string, p: Promise<Exec>): Promise<Exec> {
  const r = await p;
  // stderr first, each its own tail: a long stdout (200 syncs' lines) must not push the error out.
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}\nstderr: ${r.stderr.trim().slice(-3000)}\nstdout: ${r.stdout.trim().slice(-1000)}`);
  return r;
}

/** A POSIX shell's single quotes. */
export const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Seconds with one decimal. */
export const secs = (ms: number) => (ms / 1000).toFixed(1);

/** Set when Ctrl-C or SIGTERM arrived (the benchmark then exits 130 after its clean-up). */
export const stop = { requested: false };

/**
 * One clean-up, whoever asks first (the end, a failure, Ctrl-C/SIGTERM); later calls wait for the
 * same one. The running children get SIGTERM first (a worker puts its job back). On a signal the
 * clean-up runs a second later and the process exits 130.
 */
export function cleanupOnce(work: () => Promise<void>): () => Promise<void> {
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      for (const c of children) c.kill('SIGTERM');
      await work();
    })());
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.on(sig, () => {
      if (stop.requested) return;
      stop.requested = true;
      console.error(`\n${sig}: cleaning up`);
      for (const c of children) c.kill('SIGTERM');
      setTimeout(() => void cleanup().finally(() => process.exit(130)), 1000);
    });
  return cleanup;
}

/** This machine's 1-minute load average, sampled every 10 s and when asked, for the report. */
export function loadSampler(): { loads: number[]; sample(): void; stop(): void } {
  const loads: number[] = [];
  const sample = () => void loads.push(Number(fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]));
  const timer = setInterval(sample, 10_000);
  return { loads, sample, stop: () => clearInterval(timer) };
}

/** The median of timings. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Ours and the peer `runs` times each, alternating which goes first, so that neither always runs on the warmer cache. */
export function alternate(runs: number, ours: () => void, peer: () => void): void {
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) {
      ours();
      peer();
    } else {
      peer();
      ours();
    }
  }
}
