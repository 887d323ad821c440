/**
 * Send to Terminal types text into the user's interactive shell: a control byte in it is a
 * keystroke. On a real pty (bash through python3's pty module) a plan line carrying C-u (kill the
 * line) and C-o (bash's operate-and-get-next: run it) runs a command nobody pressed Enter for;
 * terminalScript refuses to type such a plan, and an ordinary plan's line runs nothing until Enter.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { emptyDestroys, makePlan, planToShell, type PlanStep } from '../../../src/core/replication/plan.js';
import { TerminalTextError, terminalScript } from '../../../src/ui/replication/terminalText.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zf-pty-'));

/** Type `text` (no Enter) into an interactive bash on a pty, wait, hang up. */
function typeIntoPty(text: string): void {
  const py = [
    'import os, pty, sys, time',
    'pid, fd = pty.fork()',
    'if pid == 0:',
    "    os.execvp('bash', ['bash', '--norc', '--noprofile', '-i'])",
    'time.sleep(0.5)',
    'os.write(fd, sys.stdin.buffer.read())',
    'time.sleep(1.0)',
    'os.kill(pid, 9)',
  ].join('\n');
  const r = spawnSync('python3', ['-c', py], { input: Buffer.from(text, 'utf8'), cwd: dir, env: { ...process.env, HOME: dir, PS1: '$ ' } });
  expect(r.status, r.stderr?.toString()).toBe(0);
}

function plan(argv: string[]) {
  const step: PlanStep = { id: 's1', type: 'command', op: 'snapshot', host: 'ovh3', argv, description: 'step', destroys: emptyDestroys(), confirm: false };
  return makePlan({ kind: 'rollback', title: 't', summary: 's', steps: [step], preconditions: [], warnings: [] });
}

describe('text typed into a terminal', () => {
  it('a line with C-u and C-o runs a command on a real pty without Enter: such a plan is refused', () => {
    const marker = path.join(dir, 'ran-without-enter');
    const hostile = plan(['zfs', 'set', `user:note=x\x15touch ${marker}\x0f`, 'rpool/off/products']);
    const raw = planToShell(hostile).lines[0]!.line;
    typeIntoPty(`${raw.slice(raw.indexOf('\x15'), raw.indexOf('\x0f') + 1)}`);
    expect(fs.existsSync(marker), 'the threat is real: typed C-u ... C-o runs the command').toBe(true);
    expect(() => terminalScript(hostile, (h) => ['ssh', h])).toThrow(TerminalTextError);
    expect(() => terminalScript(hostile, (h) => ['ssh', h])).toThrow(/contain control characters from a host \(zfs set 'user:note=x\\x15touch/);
  });

  it("an ordinary plan's line, typed, runs nothing until the user presses Enter", () => {
    const marker = path.join(dir, 'ordinary');
    const s = terminalScript(plan(['touch', marker]), (h) => ['ssh', h]);
    expect(s.groups[0]!.text).toBe(`touch ${marker}`);
    typeIntoPty(s.groups[0]!.text);
    expect(fs.existsSync(marker)).toBe(false);
  });
});
