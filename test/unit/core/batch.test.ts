/** The batch runs in a real /bin/sh (LocalRunner): each command's stdout (exact bytes), exit code and stderr come back apart. */
import { describe, expect, it } from 'vitest';
import { BatchOutputError, batchArgv, parseBatch, runBatch } from '../../../src/core/zfs/batch.js';
import { LocalRunner } from '../../../src/transport/local.js';

const logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

describe('runBatch: several commands in one', () => {
  it('returns each command its own stdout, stderr and exit code, in order, through a real sh', async () => {
    const runner = new LocalRunner({ logger });
    const r = await runBatch(runner, [
      ['printf', 'a\\tb\\nc\\n'],
      ['sh', '-c', 'echo out; echo err >&2; exit 3'],
      ['printf', 'no newline'],
      ['true'],
      ['sh', '-c', 'printf "\\n\\n"; printf "e1\\ne2\\n\\n" >&2'],
      ['no-such-command-zfs-fleet'],
      ['printf', '%s', "it's a 'name' with \\ and !"],
    ]);
    expect(r.map((x) => x.exitCode)).toEqual([0, 3, 0, 0, 0, 127, 0]);
    expect(r[0]!.stdout).toBe('a\tb\nc\n');
    expect(r[1]).toEqual({ exitCode: 3, stdout: 'out\n', stderr: 'err' });
    expect(r[2]!.stdout).toBe('no newline');
    expect(r[3]).toEqual({ exitCode: 0, stdout: '', stderr: '' });
    expect(r[4]).toEqual({ exitCode: 0, stdout: '\n\n', stderr: 'e1\ne2' });
    expect(r[5]!.stderr).toMatch(/not found/);
    expect(r[6]!.stdout).toBe("it's a 'name' with \\ and !");
  });

  it('a batch cut short is an error naming the command that did not report, never a short result', () => {
    const marker = 'zfs-fleet-batch-test';
    const full = `x\n\n${marker} 0 0\n\n${marker}\n`;
    expect(parseBatch(full, 1, marker)).toEqual([{ exitCode: 0, stdout: 'x\n', stderr: '' }]);
    expect(() => parseBatch(full, 2, marker, 'off1')).toThrow(BatchOutputError);
    expect(() => parseBatch(full.slice(0, -3), 1, marker, 'off1')).toThrow(/ended without its marker/);
  });

  it('takes only a plain marker', () => {
    expect(() => batchArgv([['true']], "x'; rm -rf /")).toThrow(/invalid batch marker/);
  });
});
