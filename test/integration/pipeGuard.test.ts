/**
 * The pipe guard (src/core/execute/pipeGuard.ts) run by real shells on this machine (dash is
 * Debian's sh, bash is root's login shell on the lab hosts): the pipe's exit status passes through;
 * the end of its input or a TERM kills every process of the pipe, grandchildren included.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { guardedPipeArgv } from '../../src/core/execute/pipeGuard.js';

const shells = ['dash', 'bash'].filter((s) => spawnSync('sh', ['-c', `command -v ${s}`]).status === 0);

/** Processes whose command line contains `mark` (the guard's pipes sleep for "30.<mark>" seconds). */
function alive(mark: string): string[] {
  const out = spawnSync('ps', ['-ww', '-eo', 'args='], { encoding: 'utf8' }).stdout;
  return out.split('\n').filter((l) => l.includes(mark) && !l.includes('ps -ww'));
}

async function until(f: () => boolean, ms = 5000): Promise<boolean> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (f()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return f();
}

/** Start the guard with `pipeline`; stdin stays open until `closeInput()`. */
function start(shell: string, pipeline: string) {
  const [, ...args] = guardedPipeArgv(pipeline);
  const child = spawn(shell, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  const done = new Promise<{ code: number | null; stdout: string }>((res) => child.on('close', (code) => res({ code, stdout })));
  return { child, done, closeInput: () => child.stdin.end() };
}

describe.each(shells)('the pipe guard under %s', (shell) => {
  it('passes the pipe through: output, and the exit status of its last command', async () => {
    const a = start(shell, "printf '%s\\n' 'a b' | tr a-z A-Z");
    const b = start(shell, 'true | (exit 3)');
    const ra = await a.done;
    const rb = await b.done;
    a.closeInput();
    b.closeInput();
    expect(ra).toEqual({ code: 0, stdout: 'A B\n' });
    expect(rb.code).toBe(3);
  });

  it('the end of its input kills the whole pipe, a grandchild included', async () => {
    const mark = randomBytes(4).readUInt32BE(0).toString();
    const g = start(shell, `sleep 30.${mark} | sh -c 'sleep 31.${mark}; cat'`);
    expect(await until(() => alive(mark).length >= 2)).toBe(true);
    g.closeInput();
    const r = await g.done;
    expect(r.code).toBe(143);
    expect(await until(() => alive(mark).length === 0)).toBe(true);
  });

  it('TERM (a cancel) kills the whole pipe', async () => {
    const mark = randomBytes(4).readUInt32BE(0).toString();
    const g = start(shell, `sleep 30.${mark} | sleep 31.${mark}`);
    expect(await until(() => alive(mark).length >= 2)).toBe(true);
    g.child.kill('SIGTERM');
    expect((await g.done).code).toBe(143);
    expect(await until(() => alive(mark).length === 0)).toBe(true);
    g.closeInput();
  });
});
