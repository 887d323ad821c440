/**
 * What the webview hears of an action it asked for (the `actionResult` message): read from what
 * runTimelineAction returned (a name, a tree id, a plan flow's FlowResult, several of them, or
 * nothing). Pure: tested without VS Code.
 */
import type { ActionResultMessage } from '../../shared/protocol.js';
import type { FlowResult } from '../replication/planFlow.js';

export type ActionOutcome = Omit<ActionResultMessage, 'type' | 'requestId'>;

/** The command wrapper returns nothing when it showed an error itself, or the user cancelled: it cannot tell which. */
export const NOTHING_RAN: ActionOutcome = { ok: false, message: 'nothing ran (cancelled, or stopped with a notification)' };

function isFlowResult(x: unknown): x is FlowResult {
  return typeof x === 'object' && x !== null && typeof (x as FlowResult).choice === 'string' && typeof (x as FlowResult).plan === 'object';
}

/** A plan flow's outcome: the last flow it led to (a blocked plan's re-base, then the sync it unblocked). */
function flowOutcome(r: FlowResult): ActionOutcome {
  if (r.next) return flowOutcome(r.next);
  switch (r.choice) {
    case 'nothing':
    case 'terminal':
    case 'queue':
      return { ok: true };
    case 'cancelled':
      return { ok: false, cancelled: true };
    case 'blocked':
      return { ok: false, message: r.message ?? 'the plan is blocked' };
    case 'run': {
      const outcome = r.result?.outcome;
      if (outcome === 'ok') return { ok: true };
      if (outcome === 'cancelled' || outcome === 'declined') return { ok: false, cancelled: true };
      return { ok: false, message: r.result?.error ?? `the run ended ${outcome ?? 'without a result'}` };
    }
  }
}

export function actionOutcome(result: unknown): ActionOutcome {
  if (result === undefined) return NOTHING_RAN;
  if (Array.isArray(result)) {
    // Several clones re-based one after the other: a failure speaks for all, else a cancel.
    const outcomes = result.map(actionOutcome);
    return outcomes.find((o) => !o.ok && !o.cancelled) ?? outcomes.find((o) => !o.ok) ?? { ok: true };
  }
  return isFlowResult(result) ? flowOutcome(result) : { ok: true };
}
