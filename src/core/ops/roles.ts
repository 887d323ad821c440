/**
 * Roles on the datasets themselves (issue 12 §1): a group's primary and its replicas carry user
 * properties, as zrep does with its `zrep:*` ones, so `zfs get` on any host says what a dataset is,
 * and the replicas are read-only (`readonly=on`) so nothing writes to them by mistake (a write there
 * is lost at the next sync, which must roll it back first). Pure: the plan that sets what differs,
 * from the hosts' listings and the `zfs get` rows of these properties; one `zfs set` per property
 * (zfs-fuse's `zfs set` takes one).
 */
import type { HostListing } from '../fleet/listing.js';
import { makePlan, PlanError, StepIds, type Plan, type PlanStep, type Precondition } from '../replication/plan.js';
import { commandStep } from '../replication/steps.js';
import { readonlyOn, type PropertyRow } from '../zfs/properties.js';
import { safeLine } from '../text.js';
import { ROLE_COLUMN } from '../zfs/commands.js';
import type { OpOptions } from './snapshots.js';

export const ROLE_PROPERTY = ROLE_COLUMN;
export const GROUP_PROPERTY = 'zfs-fleet:group';
export const PRIMARY_PROPERTY = 'zfs-fleet:primary';
/** What `zfs get` reads of each end before the plan is made. */
export const ROLE_PROPERTIES = [ROLE_PROPERTY, GROUP_PROPERTY, PRIMARY_PROPERTY, 'readonly'];

export interface GroupEnd {
  host: string;
  dataset: string;
}

export interface RoleGroup {
  name: string;
  primary: GroupEnd;
  replicas: GroupEnd[];
}

export const endLabel = (e: GroupEnd): string => `${e.host}:${e.dataset}`;
const label = endLabel;
const key = (e: GroupEnd) => `${e.host}\0${e.dataset}`;
export const endKey = key;

/** What each end should carry: its role, the group, the primary; replicas read-only too. */
export function wantedProperties(group: RoleGroup, end: GroupEnd): Record<string, string> {
  const replica = key(end) !== key(group.primary);
  return {
    [ROLE_PROPERTY]: replica ? 'replica' : 'primary',
    [GROUP_PROPERTY]: group.name,
    [PRIMARY_PROPERTY]: label(group.primary),
    ...(replica ? { readonly: 'on' } : {}),
  };
}

/**
 * The role properties an end carries now (from the `zfs get` rows of ROLE_PROPERTIES; an unset
 * user property reads `-`), readonly as its host enforces it (zfs-fuse reports its readonly=on as
 * `off temporary`). Refused when the host's zfs get does not read user properties.
 */
export function currentRoleProps(rows: readonly PropertyRow[], listing: HostListing, end: GroupEnd): Map<string, string> {
  const have = new Map(rows.map((r) => [r.property, r.value]));
  const ro = rows.find((r) => r.property === 'readonly');
  if (ro) have.set('readonly', readonlyOn(ro, listing.capabilities.implementation) ? 'on' : 'off');
  if (!have.has(ROLE_PROPERTY)) throw new PlanError('unsupported', `${end.host}: zfs get did not read the user property ${ROLE_PROPERTY} of ${end.dataset}`);
  return have;
}

/** One `zfs set` per property of `end`'s role in `group` that differs from what it has (`have`). */
export function roleSetSteps(
  group: RoleGroup,
  end: GroupEnd,
  have: ReadonlyMap<string, string>,
  ids: StepIds,
  zfs: string,
): { steps: PlanStep[]; effects: string[] } {
  const steps: PlanStep[] = [];
  const effects: string[] = [];
  for (const [prop, value] of Object.entries(wantedProperties(group, end))) {
    const now = have.get(prop);
    if (now === value) continue;
    steps.push(commandStep(ids.next(), 'set', end.host, [zfs, 'set', `${prop}=${value}`, end.dataset], `Set ${prop}=${value} on ${label(end)}`));
    effects.push(`${label(end)}: ${prop} ${safeLine(now ?? '-')} -> ${value}`);
  }
  return { steps, effects };
}

/**
 * Set the role properties (and readonly=on on replicas) where they differ. `rows`: by endKey, the
 * `zfs get` of ROLE_PROPERTIES on that end (an unset user property reads `-`). An end that does not
 * exist yet (never received) is said in the effects and left for a run after its first sync.
 */
export function planRoles(
  group: RoleGroup,
  listings: ReadonlyMap<string, HostListing>,
  rows: ReadonlyMap<string, readonly PropertyRow[]>,
  o: OpOptions = {},
): Plan {
  const zfs = o.zfs ?? 'zfs';
  const ids = new StepIds();
  const steps: PlanStep[] = [];
  const preconditions: Precondition[] = [];
  const effects: string[] = [];
  const warnings: string[] = [];
  for (const end of [group.primary, ...group.replicas]) {
    const l = listings.get(end.host);
    if (!l) throw new PlanError('not-found', `${end.host}: not listed`);
    const e = l.datasets.get(end.dataset);
    if (!e) {
      effects.push(`${label(end)} does not exist yet: its first sync creates it; run roles again after it.`);
      continue;
    }
    const have = currentRoleProps(rows.get(key(end)) ?? [], l, end);
    const want = wantedProperties(group, end);
    const other = have.get(GROUP_PROPERTY);
    if (other && other !== '-' && other !== group.name)
      warnings.push(
        `${label(end)} is marked as a member of group '${safeLine(other)}': the plan marks it as ${want[ROLE_PROPERTY]} of '${group.name}' instead`,
      );
    if (key(end) === key(group.primary) && have.get('readonly') === 'on')
      warnings.push(
        `the primary ${label(end)} is read-only (readonly=on): nothing can write to it until it is set off (zfs-fleet set ${label(end)} readonly=off)`,
      );
    const part = roleSetSteps(group, end, have, ids, zfs);
    if (part.steps.length)
      preconditions.push({ kind: 'dataset-exists', host: end.host, dataset: end.dataset, ...(e.object.guid ? { guid: e.object.guid } : {}) });
    steps.push(...part.steps);
    effects.push(...part.effects);
  }
  const n = steps.length;
  return makePlan({
    kind: 'roles',
    ...(o.id ? { id: o.id } : {}),
    ...(o.now ? { now: o.now } : {}),
    title: `Roles of group ${group.name}`,
    summary: n
      ? `Mark ${label(group.primary)} as the primary of group ${group.name} and its ${group.replicas.length} replica${group.replicas.length === 1 ? '' : 's'} as read-only replicas (${n} propert${n === 1 ? 'y' : 'ies'} to set). Nothing is destroyed.`
      : `Every dataset of group ${group.name} carries its role${group.replicas.length ? ', and its replicas are read-only' : ''}.`,
    steps,
    preconditions,
    warnings,
    ...(effects.length ? { effects } : {}),
  });
}
