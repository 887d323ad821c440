/**
 * The one step factory: every plan step is built here, so a step's shape (what it destroys,
 * whether it is confirmed on its own, what it cleans up after) is written down once. Pure data.
 */
import { emptyDestroys, type CommandStep, type Destroys, type PipeEnd, type PipeRoute, type PipeStep, type StepOp } from './plan.js';

/** What a step adds to the defaults (destroys nothing, not confirmed on its own). */
export interface StepExtras {
  destroys?: Destroys;
  confirm?: boolean;
  estimate?: boolean;
  cleanupOf?: string;
  mayFail?: string;
}

function extras(x: StepExtras): Pick<CommandStep, 'destroys' | 'confirm' | 'estimate' | 'cleanupOf' | 'mayFail'> {
  return {
    destroys: x.destroys ?? emptyDestroys(),
    confirm: x.confirm ?? false,
    ...(x.estimate !== undefined ? { estimate: x.estimate } : {}),
    ...(x.cleanupOf !== undefined ? { cleanupOf: x.cleanupOf } : {}),
    ...(x.mayFail !== undefined ? { mayFail: x.mayFail } : {}),
  };
}

/** One command on one host. */
export function commandStep(id: string, op: StepOp, host: string, argv: string[], description: string, more: StepExtras = {}): CommandStep {
  return { id, type: 'command', op, host, argv, description, ...extras(more) };
}

/** A send/recv pipe; `exec` is the one command that runs it all (push, pull, local), absent for relay. */
export function pipeStep(
  id: string,
  route: PipeRoute,
  from: PipeEnd,
  to: PipeEnd,
  description: string,
  exec?: PipeEnd,
  more: StepExtras & { bwlimit?: number } = {},
): PipeStep {
  return {
    id,
    type: 'pipe',
    op: 'send',
    route,
    from,
    to,
    ...(exec ? { exec } : {}),
    ...(more.bwlimit ? { bwlimit: more.bwlimit } : {}),
    description,
    ...extras(more),
  };
}
