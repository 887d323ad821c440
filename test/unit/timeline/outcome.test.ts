/** What the timeline webview hears of an action (actionResult), from what runTimelineAction returned. */
import { describe, expect, it } from 'vitest';
import type { FlowResult } from '../../../src/ui/replication/planFlow.js';
import { NOTHING_RAN, actionOutcome } from '../../../src/ui/timeline/outcome.js';

const flow = (choice: FlowResult['choice'], more: Partial<FlowResult> = {}) => ({ plan: { title: 'Sync' }, choice, ...more }) as unknown as FlowResult;
const ran = (outcome: string, error?: string) => flow('run', { result: { outcome, ...(error ? { error } : {}) } as FlowResult['result'] });

describe('actionOutcome', () => {
  it('a name or a tree id (Copy Name, Reveal): done', () => {
    expect(actionOutcome('rpool/off@s1')).toEqual({ ok: true });
  });
  it('nothing returned: nothing ran, and the extension cannot tell a cancel from an error it already showed', () => {
    expect(actionOutcome(undefined)).toEqual(NOTHING_RAN);
  });
  it('plan flows: run, cancelled at the modal, sent to the terminal, nothing to do, blocked', () => {
    expect(actionOutcome(ran('ok'))).toEqual({ ok: true });
    expect(actionOutcome(ran('failed', 'cannot receive: destination has been modified'))).toEqual({
      ok: false,
      message: 'cannot receive: destination has been modified',
    });
    expect(actionOutcome(ran('changed'))).toEqual({ ok: false, message: 'the run ended changed' });
    expect(actionOutcome(ran('declined'))).toEqual({ ok: false, cancelled: true });
    expect(actionOutcome(flow('cancelled'))).toEqual({ ok: false, cancelled: true });
    expect(actionOutcome(flow('terminal'))).toEqual({ ok: true });
    expect(actionOutcome(flow('nothing'))).toEqual({ ok: true });
    expect(actionOutcome(flow('blocked', { message: 'Blocked: Sync' }))).toEqual({ ok: false, message: 'Blocked: Sync' });
  });
  it('a blocked sync whose re-base ran and then the sync: the last flow decides', () => {
    expect(actionOutcome(flow('blocked', { message: 'Blocked: Sync', next: { ...ran('ok'), next: ran('failed', 'no space') } }))).toEqual({
      ok: false,
      message: 'no space',
    });
  });
  it('several clones re-based: a failure speaks for all, else a cancel', () => {
    expect(actionOutcome([ran('ok'), ran('ok')])).toEqual({ ok: true });
    expect(actionOutcome([ran('ok'), flow('cancelled'), ran('failed', 'x')])).toEqual({ ok: false, message: 'x' });
    expect(actionOutcome([ran('ok'), flow('cancelled')])).toEqual({ ok: false, cancelled: true });
  });
});
