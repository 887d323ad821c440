import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LocalRunner } from '../../../src/transport/local.js';
import { RunnerError } from '../../../src/core/runner.js';

const r = new LocalRunner();

async function expectRunnerError(p: Promise<unknown>, code: string): Promise<RunnerError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(RunnerError);
    expect((e as RunnerError).code, (e as Error).message).toBe(code);
    return e as RunnerError;
  }
  throw new Error(`expected RunnerError ${code}`);
}

describe('LocalRunner', () => {
  it('runs argv without a shell and returns stdout, stderr, exit code', async () => {
    const chunks: string[] = [];
    const res = await r.run(['sh', '-c', 'printf "%s\\n" "$@"; echo bad >&2; exit 4', 'sh', 'a b', '$HOME', "it's"], { onStderr: (c) => chunks.push(c) });
    expect(res).toEqual({ exitCode: 4, stdout: "a b\n$HOME\nit's\n", stderr: 'bad\n' });
    expect(chunks.join('')).toBe('bad\n');
    expect((await r.run(['echo', '$(id)', '*'])).stdout).toBe('$(id) *\n');
  });

  it('reports a signal exit', async () => {
    const res = await r.run(['sh', '-c', 'kill -KILL $$']);
    expect(res.exitCode).toBeNull();
    expect(res.exitSignal).toBe('SIGKILL');
  });

  it('feeds stdin from a string, a Buffer, a stream; none means end of file', async () => {
    expect((await r.run(['cat'], { stdin: 'text' })).stdout).toBe('text');
    expect((await r.run(['cat'], { stdin: Buffer.from('buf') })).stdout).toBe('buf');
    const data = Buffer.alloc(3 * 1024 * 1024, 7);
    const res = await r.run(['sha256sum'], { stdin: Readable.from([data.subarray(0, 1000), data.subarray(1000)]) });
    expect(res.stdout.split(' ')[0]).toBe(createHash('sha256').update(data).digest('hex'));
    expect((await r.run(['cat'], { timeoutMs: 5000 })).stdout).toBe('');
  });

  it('pipes stdout into a Writable with the exact byte count and ends it', async () => {
    let bytes = 0;
    let finished = false;
    const dest = new Writable({
      highWaterMark: 16 * 1024,
      write(c: Buffer, _e, cb) {
        bytes += c.length;
        setImmediate(cb);
      },
    });
    dest.on('finish', () => (finished = true));
    const res = await r.run(['head', '-c', String(20 * 1024 * 1024), '/dev/zero'], { stdout: dest });
    expect(res).toEqual({ exitCode: 0, stdout: '', stderr: '' });
    expect(bytes).toBe(20 * 1024 * 1024);
    expect(finished).toBe(true);
  });

  it('times out with a timeout error', async () => {
    const t0 = Date.now();
    await expectRunnerError(r.run(['sleep', '10'], { timeoutMs: 200 }), 'timeout');
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('aborts with an aborted error, and refuses to start when already aborted', async () => {
    const ac = new AbortController();
    const p = r.run(['sleep', '10'], { signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    await expectRunnerError(p, 'aborted');
    await expectRunnerError(r.run(['true'], { signal: ac.signal }), 'aborted');
  });

  it('does not end the destination when the command is aborted', async () => {
    const ac = new AbortController();
    let finished = false;
    const dest = new Writable({ write: (_c, _e, cb) => cb() });
    dest.on('finish', () => (finished = true));
    const p = r.run(['sh', '-c', 'echo partial; sleep 3'], { stdout: dest, signal: ac.signal });
    setTimeout(() => ac.abort(), 200);
    await expectRunnerError(p, 'aborted');
    expect(finished).toBe(false);
  });

  it('names the executable that cannot be started', async () => {
    const e = await expectRunnerError(r.run(['zfs-fleet-no-such-program', 'list']), 'spawn');
    expect(e.message).toContain('zfs-fleet-no-such-program');
    expect(e.message).toContain('ENOENT');
    await expectRunnerError(r.run([]), 'spawn');
  });
});
