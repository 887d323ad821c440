/**
 * "Send to Terminal" as plain data: what is typed into which terminal. A plan's command lines
 * (planToShell) are grouped by where they run (a host, or `local` for relay pipes that join two
 * ssh commands on this machine); each group becomes ONE line, its commands in plan order joined
 * with ` && `, typed WITHOUT Enter, so the user reviews it and runs it (or not). A shell cannot take
 * a comment without a newline, so the step descriptions go into the preview document instead.
 *
 * The hold/release steps are left out: during an automatic run they keep the base from being pruned
 * while the stream is sent, but typed into per-host terminals a host's hold and release would be
 * joined into one line and undo each other before the send runs. Every other step is kept.
 */
import { planToShell, type Plan } from '../../core/replication/plan.js';
import { hasControl, safeLine } from '../../core/text.js';

export class TerminalTextError extends Error {
  constructor(runOn: string, text: string) {
    super(
      `Not typed into a terminal: the commands for ${runOn} contain control characters from a host (${safeLine(text).slice(0, 200)}). Run the plan instead, or copy the commands from the preview.`,
    );
    this.name = 'TerminalTextError';
  }
}

export interface TerminalGroup {
  /** A fleet host, or 'local' (this machine). */
  runOn: string;
  /** The one line typed into the terminal (never followed by Enter). */
  text: string;
  lines: string[];
  descriptions: string[];
  destructive: boolean;
}

export interface TerminalScript {
  /** In the order they must be run. */
  groups: TerminalGroup[];
  /** Steps left out (descriptions). */
  leftOut: string[];
  /** Some host's commands are not contiguous in the plan: running the groups one after the other changes the order. */
  interleaved: boolean;
}

export function terminalScript(plan: Plan, ssh: (host: string) => string[]): TerminalScript {
  const { lines } = planToShell(plan, { ssh });
  const ops = new Map(plan.steps.map((s) => [s.id, s.op]));
  const groups: TerminalGroup[] = [];
  const leftOut: string[] = [];
  let interleaved = false;
  let current: TerminalGroup | undefined;
  for (const l of lines) {
    const op = ops.get(l.stepId);
    if (op === 'hold' || op === 'release') {
      leftOut.push(l.description);
      continue;
    }
    const runOn = l.runOn === 'local' ? 'local' : l.runOn;
    let g = groups.find((x) => x.runOn === runOn);
    if (g && g !== current) interleaved = true;
    if (!g) {
      g = { runOn, text: '', lines: [], descriptions: [], destructive: false };
      groups.push(g);
    }
    g.lines.push(l.line);
    g.descriptions.push(l.description);
    g.destructive ||= l.destructive;
    current = g;
  }
  for (const g of groups) {
    g.text = g.lines.join(' && ');
    // Typed text is keystrokes: a control byte from a host (a property value copied into a command)
    // could erase the line and run another. Such a plan is run, or copied from the preview, never typed.
    if (hasControl(g.text)) throw new TerminalTextError(g.runOn, g.text);
  }
  return { groups, leftOut, interleaved };
}
