/**
 * The one byte formatter: the Hosts view, the CLI and the timeline webview show the same size the
 * same way (the views' texts are built from listings recorded from real ZFS).
 */
import { describe, expect, it } from 'vitest';
import { formatBytes } from '../../../src/core/format.js';
import type { Fleet } from '../../../src/core/fleet/fleet.js';
import { FleetTreeModel } from '../../../src/core/fleet/treeModel.js';
import { tooltipLines } from '../../../webview-ui/timeline/format.js';
import { fuseListing } from '../replication/fixtures.js';
import { seed000 } from '../webview/models.js';

describe('formatBytes', () => {
  it('binary units with their names: one decimal below 10, none above', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1024)).toBe('1.0 KiB');
    expect(formatBytes(90112)).toBe('88 KiB');
    expect(formatBytes(1258291)).toBe('1.2 MiB');
    expect(formatBytes(1.5 * 2 ** 30)).toBe('1.5 GiB');
    expect(formatBytes(123.4 * 2 ** 40)).toBe('123 TiB');
    expect(formatBytes(2 ** 70)).toBe('1024 EiB');
  });
  it('a value that would read 1024 goes up a unit', () => {
    expect(formatBytes(1023.6)).toBe('1.0 KiB');
    expect(formatBytes(2 ** 20 - 1)).toBe('1.0 MiB');
    expect(formatBytes(1023.4 * 1024)).toBe('1023 KiB');
  });
  it('fractions of a byte (a rate) are rounded; unknown sizes read as the caller says', () => {
    expect(formatBytes(123.456)).toBe('123 B');
    expect(formatBytes(-2048)).toBe('-2.0 KiB');
    expect(formatBytes(undefined)).toBe('-');
    expect(formatBytes(Number.NaN)).toBe('-');
    expect(formatBytes(undefined, 'unknown')).toBe('unknown');
  });
});

describe('the same size reads the same in the Hosts view and the timeline', () => {
  it("seed 000's target-only snapshot", async () => {
    const m = seed000();
    const lane = m.lanes[1]!;
    const mark = lane.marks.find((x) => x.name === '20230515-0000')!;
    const listing = fuseListing('seed000', 'ovh3');
    const fleet = { names: ['ovh3'], host: () => ({ listing: async () => listing }) } as unknown as Fleet;
    const tree = new FleetTreeModel(fleet);
    expect((await tree.loadHost('ovh3', false)).state).toBe('ok');
    const name = `${lane.dataset}@${mark.name}`;
    const description = tree.view({ kind: 'snapshot', id: `ovh3/${name}`, host: 'ovh3', name }).description!;
    const used = Object.fromEntries(tooltipLines(lane, mark, m.takenAt)).used!;
    expect(used).toBe('88 KiB');
    expect(description.split(' · ')).toContain(used);
  });
});
