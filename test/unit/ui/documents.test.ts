/** Plan documents: whatever host text a plan carries (warnings quote property values, errors) reaches the editor escaped. */
import { describe, expect, it, vi } from 'vitest';
import { emptyDestroys, makePlan, renderPlan } from '../../../src/core/replication/plan.js';
import { hasControl } from '../../../src/core/text.js';
import { ReadOnlyDocuments } from '../../../src/ui/replication/documents.js';

// Only the document store is exercised: a stand-in for the two VS Code classes it constructs.
vi.mock('vscode', () => ({
  EventEmitter: class {
    event = () => ({ dispose() {} });
    fire() {}
    dispose() {}
  },
  Uri: { from: (o: { scheme: string; path: string; query: string }) => ({ toString: () => `${o.scheme}:${o.path}?${o.query}` }) },
}));

describe('plan documents', () => {
  it("a plan whose warnings carry a host's control bytes is stored escaped; newlines stay", () => {
    const plan = makePlan({
      kind: 'rebase',
      title: 'Rebase',
      summary: 'Re-base a clone',
      steps: [
        {
          id: 's1',
          type: 'command',
          op: 'clone',
          host: 'ovh3',
          argv: ['zfs', 'clone', 'rpool/a@s', 'rpool/c'],
          description: 'Re-create rpool/c',
          destroys: emptyDestroys(),
          confirm: false,
        },
      ],
      preconditions: [],
      warnings: ['ovh3: the local property user:note of rpool/c is not set again: its value has control characters (\x1b[2J\x15rm -rf ~\r)'],
    });
    const docs = new ReadOnlyDocuments();
    const uri = docs.uri('Rebase.txt');
    docs.set(uri, renderPlan(plan));
    const text = docs.get(uri)!;
    expect(hasControl(text.replace(/\n/g, ''))).toBe(false);
    expect(text).toContain('(\\x1b[2J\\x15rm -rf ~\\x0d)');
    expect(text.split('\n').length).toBeGreaterThan(3);
  });
});
