/**
 * The benchmark's PEER renderer (bench/timeline-webview.mjs), not part of the product (not in the
 * extension's bundle; it lives here because it is browser code, type-checked with webview-ui): the same
 * model drawn the way a first d3 version usually is, one SVG element per mark and per link, and a
 * d3-zoom handler that moves every element on each zoom event. It reads the same messages through
 * the same (fake) webview API and posts the same 'rendered' report, so the benchmark drives both
 * the same way. Built for the browser by the benchmark (esbuild, iife).
 */
import { scaleTime } from 'd3-scale';
import { select } from 'd3-selection';
import { zoom, type ZoomTransform } from 'd3-zoom';
import { MarkFlag, parseToWebview, type TimelineModel } from '../../src/shared/protocol.js';

declare function acquireVsCodeApi(): { postMessage(m: unknown): void };

const vscode = acquireVsCodeApi();
const root = document.getElementById('app')!;
const LANE = 64;
const TOP = 26;

interface Dot {
  t: number;
  lane: number;
}
interface Line {
  t1: number;
  t2: number;
  y1: number;
  y2: number;
}

function colour(flags: number, cs: CSSStyleDeclaration): string {
  const v = (n: string) => cs.getPropertyValue(n).trim() || '#888';
  if (flags & MarkFlag.Base) return v('--vscode-charts-green');
  if (flags & MarkFlag.TargetOnly) return v('--vscode-charts-red');
  if (flags & MarkFlag.Unsent) return v('--vscode-charts-purple');
  if (flags & MarkFlag.Common) return v('--vscode-charts-blue');
  return v('--vscode-descriptionForeground');
}

function render(model: TimelineModel): void {
  root.replaceChildren();
  const width = root.clientWidth || 1000;
  const height = TOP + model.lanes.length * LANE;
  const cs = getComputedStyle(document.body);
  let lo = Infinity;
  let hi = -Infinity;
  for (const l of model.lanes) {
    for (const m of l.marks) {
      lo = Math.min(lo, m.time);
      hi = Math.max(hi, m.time);
    }
  }
  const x0 = scaleTime()
    .domain([new Date(lo * 1000), new Date(hi * 1000)])
    .range([0, width]);
  const svg = select(root).append('svg').attr('width', width).attr('height', height).attr('class', 'peer');
  const dots: Dot[] = [];
  const lines: Line[] = model.links.map((k) => ({
    t1: model.lanes[k.from[0]]!.marks[k.from[1]]!.time * 1000,
    t2: model.lanes[k.to[0]]!.marks[k.to[1]]!.time * 1000,
    y1: TOP + k.from[0] * LANE + LANE * 0.4,
    y2: TOP + k.to[0] * LANE + LANE * 0.4,
  }));
  const link = svg
    .append('g')
    .attr('stroke', cs.getPropertyValue('--vscode-charts-blue').trim() || '#888')
    .attr('stroke-opacity', 0.4)
    .selectAll('line')
    .data(lines)
    .join('line')
    .attr('x1', (d) => x0(d.t1))
    .attr('x2', (d) => x0(d.t2))
    .attr('y1', (d) => d.y1)
    .attr('y2', (d) => d.y2);
  model.lanes.forEach((l, li) => l.marks.forEach((m) => dots.push({ t: m.time * 1000, lane: li })));
  const fills = model.lanes.flatMap((l) => l.marks.map((m) => colour(m.flags, cs)));
  const dot = svg
    .append('g')
    .selectAll('circle')
    .data(dots)
    .join('circle')
    .attr('cx', (d) => x0(d.t))
    .attr('cy', (d) => TOP + d.lane * LANE + LANE * 0.4)
    .attr('r', 3.5)
    .attr('fill', (_d, i) => fills[i]!);
  svg.call(
    zoom<SVGSVGElement, unknown>()
      .scaleExtent([0.5, 1e6])
      .on('zoom', (e: { transform: ZoomTransform }) => {
        const x = e.transform.rescaleX(x0);
        dot.attr('cx', (d) => x(d.t));
        link.attr('x1', (d) => x(d.t1)).attr('x2', (d) => x(d.t2));
      }),
  );
}

window.addEventListener('message', (e: MessageEvent) => {
  const t0 = performance.now();
  const msg = parseToWebview(e.data);
  if (msg.type !== 'model') return;
  render(msg.model);
  vscode.postMessage({
    type: 'rendered',
    marks: msg.model.lanes.reduce((s, l) => s + l.marks.length, 0),
    links: msg.model.links.length,
    ms: performance.now() - t0,
  });
});
vscode.postMessage({ type: 'ready' });
