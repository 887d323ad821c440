/**
 * Child processes of the benchmarks that time whole commands (bench/migration.ts,
 * bench/queueOverhead.ts): each run collected and timed, the running ones known so that Ctrl-C
 * can stop them before the clean-up.
 */
import { spawn, type ChildProcess } from 'node:child_process';

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
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}: ${(r.stderr + r.stdout).trim().slice(-4000)}`);
  return r;
}

/** A POSIX shell's single quotes. */
export const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Seconds with one decimal. */
export const secs = (ms: number) => (ms / 1000).toFixed(1);
