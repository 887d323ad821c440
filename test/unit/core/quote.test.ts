import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ShellQuoteError, shellJoin, shellPipeline, shellQuote } from '../../../src/core/zfs/quote.js';

/** The login shells sshd may run a remote command with; fish and tcsh come from the test set-up (apt). */
const SHELLS = ['sh', 'bash', 'fish', 'tcsh'];

function have(shell: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0;
}

/** Let a real shell split the joined line and print each argument NUL-terminated. */
function through(shell: string, line: string): string[] {
  const r = spawnSync(shell, ['-c', `printf '%s\\0' ${line}`], { encoding: 'utf8' });
  expect(r.status, `${shell}: ${r.stderr}`).toBe(0);
  return r.stdout.split('\0').slice(0, -1);
}

describe('quoting for every login shell (the one quoting function)', () => {
  const nasty = [
    'zfs',
    'send',
    '-I',
    'zfs-hdd/off/my data@2023 05',
    "it's",
    '$(rm -rf /)',
    '`x`',
    'a"b',
    'back\\slash',
    "a\\'b",
    'x\\\\y',
    '*',
    '~',
    '~root',
    'semi;colon',
    '',
    '-',
    'é ü',
    'x'.repeat(255),
    '!bang',
    'a!b',
    '%self',
    '{a,b}',
    '=ls',
    'a=b',
    '#c',
    '^x',
    '\x1b[31mred',
    'tab\tx',
    '\x15kill',
    '\x7f',
    '$HOME',
    '&',
    '|',
    '<>',
    '(x)',
  ];

  for (const shell of SHELLS) {
    it.runIf(have(shell))(`round-trips through a real ${shell} exactly`, () => {
      expect(through(shell, shellJoin(nasty))).toEqual(nasty);
    });

    it.runIf(have(shell))(`survives two layers: ${shell} as the login shell running sh -c (a pipeline's script)`, () => {
      const inner = shellJoin(['printf', '%s\\0', ...nasty]);
      const r = spawnSync(shell, ['-c', shellJoin(['sh', '-c', inner])], { encoding: 'utf8' });
      expect(r.stdout.split('\0').slice(0, -1)).toEqual(nasty);
    });
  }

  it('checks fish and tcsh in CI (the test set-up installs them)', () => {
    if (process.env.CI) for (const s of SHELLS) expect(have(s), `${s} is not installed`).toBe(true);
  });

  it('refuses a line break, which tcsh cannot take inside a quoted word', () => {
    expect(() => shellQuote('new\nline')).toThrow(ShellQuoteError);
    expect(() => shellJoin(['zfs', 'set', 'user:x=a\rb', 'p'])).toThrow(/line break/);
  });

  it('leaves plain words bare and quotes the rest', () => {
    expect(shellQuote('zfs-hdd/off/products@20230501-0000')).toBe('zfs-hdd/off/products@20230501-0000');
    expect(shellQuote('my data')).toBe("'my data'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('%s')).toBe("'%s'");
    expect(shellQuote('a!b')).toBe("'a'\\!'b'");
    expect(
      shellPipeline([
        ['zfs', 'send', 'a b@s'],
        ['zfs', 'recv', 'c'],
      ]),
    ).toBe("zfs send 'a b@s' | zfs recv c");
  });
});
