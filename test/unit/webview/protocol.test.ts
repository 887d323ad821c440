/**
 * The webview protocol's parsers (src/shared/protocol.ts): every message type of each direction
 * passes as the other side builds it, and what does not match the tables is refused with an error
 * naming the field. Models are built by the product's builder from recorded real ZFS listings.
 */
import { describe, expect, it } from 'vitest';
import {
  FROM_WEBVIEW_TYPES,
  TIMELINE_ACTIONS,
  TO_WEBVIEW_TYPES,
  parseFromWebview,
  parseToWebview,
  type FromWebview,
  type ToWebview,
} from '../../../src/shared/protocol.js';
import { seed000 } from './models.js';

/** What crosses postMessage: JSON-like (structured clone), so the tests send it through JSON. */
const wire = <T>(m: T): unknown => JSON.parse(JSON.stringify(m));

describe('extension -> webview', () => {
  const valid: ToWebview[] = [
    { type: 'model', model: seed000() },
    { type: 'loading', title: 'off1:zfs-hdd/off' },
    { type: 'error', message: 'ovh3: unreachable' },
    { type: 'busy', busy: true },
    { type: 'actionResult', requestId: 3, ok: true },
    { type: 'actionResult', requestId: 4, ok: false, message: 'cannot receive: destination has been modified' },
    { type: 'actionResult', requestId: 0, ok: false, cancelled: true },
  ];
  it('every message type passes as the extension sends it', () => {
    for (const m of valid) expect(parseToWebview(wire(m))).toEqual(m);
    expect(new Set(valid.map((m) => m.type))).toEqual(new Set(TO_WEBVIEW_TYPES));
  });
  it.each([
    [{ type: 'actionResult', ok: true }, 'message.requestId: expected a non-negative integer'],
    [{ type: 'actionResult', requestId: 1.5, ok: true }, 'message.requestId: expected a non-negative integer'],
    [{ type: 'actionResult', requestId: -1, ok: true }, 'message.requestId: expected a non-negative integer'],
    [{ type: 'actionResult', requestId: 1, ok: 'yes' }, 'message.ok: expected true or false'],
    [{ type: 'actionResult', requestId: 1, ok: false, message: 42 }, 'message.message: expected a string'],
    [{ type: 'actionResult', requestId: 1, ok: false, cancelled: 1 }, 'message.cancelled: expected true or false'],
    [{ type: 'busy' }, 'message.busy: expected true or false'],
    [{ type: 'loading', title: null }, 'message.title: expected a string'],
    [{ type: 'model', model: { title: 't' } }, 'message.model.takenAt: expected a finite number'],
    [{ type: 'toString' }, 'message.type: unknown "toString"'],
    [{ type: '__proto__' }, 'message.type: unknown "__proto__"'],
    [{ busy: true }, 'message.type: unknown undefined'],
    [['busy'], 'message: expected an object'],
    [null, 'message: expected an object'],
  ])('refuses %j', (m, error) => {
    expect(() => parseToWebview(m)).toThrow(error);
  });
  it('a link to a mark that is not in the model is refused', () => {
    const model = wire(seed000()) as { links: Array<{ to: number[] }> };
    model.links[0]!.to = [1, 99];
    expect(() => parseToWebview({ type: 'model', model })).toThrow(/message\.model\.links\[0\]\.to\[1\]: expected an index below/);
  });
});

describe('webview -> extension', () => {
  const valid: FromWebview[] = [
    { type: 'ready' },
    { type: 'refresh' },
    ...TIMELINE_ACTIONS.map((action, i): FromWebview => ({
      type: 'action',
      requestId: i + 1,
      action,
      lane: 'off1:zfs-hdd/off/products',
      kind: 'snapshot',
      name: '20230501-0000',
    })),
    { type: 'action', requestId: 9, action: 'reveal', lane: 'src:tank/off/products', kind: 'bookmark', name: 'b1' },
    { type: 'rendered', marks: 5, links: 1, ms: 12.5 },
  ];
  it('every message type and every action passes as the webview sends it', () => {
    for (const m of valid) expect(parseFromWebview(wire(m))).toEqual(m);
    expect(new Set(valid.map((m) => m.type))).toEqual(new Set(FROM_WEBVIEW_TYPES));
  });
  const action = { type: 'action', requestId: 1, action: 'syncTo', lane: 'off1:zfs-hdd/off/products', kind: 'snapshot', name: 's1' };
  it.each([
    [{ ...action, requestId: undefined }, 'message.requestId: expected a non-negative integer'],
    [{ ...action, requestId: '1' }, 'message.requestId: expected a non-negative integer'],
    [{ ...action, action: 'destroy' }, 'message.action: expected one of reveal, syncTo, rollbackTo, rebaseClones, copyName'],
    [{ ...action, kind: 'clone' }, 'message.kind: expected one of snapshot, bookmark'],
    [{ ...action, lane: 1 }, 'message.lane: expected a string'],
    [{ ...action, name: undefined }, 'message.name: expected a string'],
    [{ type: 'rendered', marks: 5, links: 1, ms: Number.NaN }, 'message.ms: expected a finite number'],
    [{ type: 'rendered', marks: 5, links: 1 }, 'message.ms: expected a finite number'],
    [{ type: 'hasOwnProperty' }, 'message.type: unknown "hasOwnProperty"'],
    ['ready', 'message: expected an object'],
  ])('refuses %j', (m, error) => {
    expect(() => parseFromWebview(m)).toThrow(error);
  });
});
