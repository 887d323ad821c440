import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellJoin, shellPipeline, shellQuote } from '../../../src/core/zfs/quote.js';

/** Let the real /bin/sh split the joined line and print each argument NUL-terminated. */
function throughSh(line: string): string[] {
  const r = spawnSync('sh', ['-c', `printf '%s\\0' ${line}`], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  return r.stdout.split('\0').slice(0, -1);
}

describe('POSIX quoting (the one quoting function)', () => {
  const nasty = ['zfs', 'send', '-I', 'zfs-hdd/off/my data@2023 05', "it's", '$(rm -rf /)', '`x`', 'a"b', 'back\\slash', '*', '~', 'semi;colon', 'new\nline', '', '-', 'é ü', 'x'.repeat(255)];

  it('round-trips through a real shell exactly', () => {
    expect(throughSh(shellJoin(nasty))).toEqual(nasty);
  });

  it('survives two shell layers (ssh host "cmd" inside a local shell)', () => {
    const inner = shellJoin(['printf', '%s\\0', ...nasty]);
    const r = spawnSync('sh', ['-c', shellJoin(['sh', '-c', inner])], { encoding: 'utf8' });
    expect(r.stdout.split('\0').slice(0, -1)).toEqual(nasty);
  });

  it('leaves plain words bare and quotes the rest', () => {
    expect(shellQuote('zfs-hdd/off/products@20230501-0000')).toBe('zfs-hdd/off/products@20230501-0000');
    expect(shellQuote('my data')).toBe("'my data'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellPipeline([['zfs', 'send', 'a b@s'], ['zfs', 'recv', 'c']])).toBe("zfs send 'a b@s' | zfs recv c");
  });
});
