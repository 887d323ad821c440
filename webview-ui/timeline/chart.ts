/**
 * The chart: lane labels (HTML), one canvas for the marks, links, gaps and clone branches, and an
 * SVG on top for the time axis and the text. d3-zoom drives the time axis (x only); each zoom event
 * asks for one requestAnimationFrame draw of the visible range (frame.ts). Hover and click find the
 * mark with a d3-quadtree of the drawn marks in screen space, rebuilt when a zoom gesture ends.
 */
import { axisTop } from 'd3-axis';
import { quadtree, type Quadtree } from 'd3-quadtree';
import { scaleTime, type ScaleTime } from 'd3-scale';
import { select, type Selection } from 'd3-selection';
import 'd3-transition';
import { zoom, zoomIdentity, ZoomTransform, type ZoomBehavior } from 'd3-zoom';
import { MarkFlag } from '../../src/shared/protocol.js';
import { announcement, axisTickFormat, fullName, laneBadges, laneDetail, tooltipLines } from './format.js';
import { BOOKMARK_DY, buildFrame, Frame, POINT, type View } from './frame.js';
import { move, initialCursor, NAV_KEYS, type Cursor, type NavKey } from './nav.js';
import { BOOKMARK, R_MAX, STACK_DY, STYLE_COUNT, Style, chartHeight, laneBoxes, markAt, nearest, type LaneBox, type Prepared } from './prepare.js';
import { readPalette, type Palette } from './theme.js';

export interface ChartEvents {
  /** The selection changed (click, keys, restore). */
  selected(c: Cursor | undefined): void;
  /** Click or Enter on a mark: reveal it in the tree. */
  activated(c: Cursor): void;
  /** Right click, Shift+F10 or the ContextMenu key on a mark, at client coordinates. */
  contextMenu(c: Cursor, clientX: number, clientY: number): void;
  /** The zoom/pan ended (to persist it). */
  viewChanged(t: { k: number; x: number; y: number }): void;
  /** A zoom/pan event (cheap: called on every one). */
  viewChanging(): void;
}

const MIN_SPAN_MS = 10 * 60_000;
type Point = number;

export class Chart {
  readonly labels: HTMLDivElement;
  readonly plot: HTMLDivElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly svg: Selection<SVGSVGElement, unknown, null, undefined>;
  private readonly axisG: Selection<SVGGElement, unknown, null, undefined>;
  private readonly tooltip: HTMLDivElement;
  private readonly live: HTMLDivElement;
  private readonly zoomer: ZoomBehavior<HTMLDivElement, unknown>;
  private palette: Palette;
  private hatch: CanvasPattern | null = null;

  private p: Prepared | undefined;
  private boxes: LaneBox[] = [];
  private base = scaleTime();
  private width = 0;
  private height = 0;
  private transform: ZoomTransform = zoomIdentity;
  private frame = new Frame();
  private rafId = 0;
  private zooming = false;
  private hit: { tree: Quadtree<Point>; x: Float64Array; y: Float64Array; r: Float64Array; lane: Float64Array; pos: Float64Array } | undefined;
  private hitDirty = true;
  private hover: Cursor | undefined;
  cursor: Cursor | undefined;
  /** Draw times of the last frames (ms), for the benchmark. */
  lastDrawMs = 0;

  constructor(
    parent: HTMLElement,
    overlayParent: HTMLElement,
    private readonly events: ChartEvents,
  ) {
    this.labels = document.createElement('div');
    this.labels.className = 'labels';
    this.labels.setAttribute('role', 'list');
    this.labels.setAttribute('aria-label', 'Lanes');
    this.plot = document.createElement('div');
    this.plot.className = 'plot';
    this.plot.tabIndex = 0;
    this.plot.setAttribute('role', 'application');
    this.plot.setAttribute('aria-roledescription', 'snapshot timeline');
    this.canvas = document.createElement('canvas');
    this.canvas.setAttribute('aria-hidden', 'true');
    this.ctx = this.canvas.getContext('2d', { alpha: true })!;
    const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.setAttribute('aria-hidden', 'true');
    this.svg = select(svg);
    this.axisG = this.svg.append('g').attr('class', 'axis');
    this.svg.append('g').attr('class', 'rules');
    this.svg
      .append('g')
      .attr('class', 'now')
      .call((g) => {
        g.append('line');
        g.append('text').attr('text-anchor', 'end').text('listed');
      });
    this.svg.append('g').attr('class', 'clones');
    this.svg.append('g').attr('class', 'empties');
    this.plot.append(this.canvas, svg);
    parent.append(this.labels, this.plot);

    this.tooltip = document.createElement('div');
    this.tooltip.className = 'tooltip';
    this.tooltip.setAttribute('role', 'tooltip');
    this.tooltip.id = 'timeline-tooltip';
    this.tooltip.hidden = true;
    this.live = document.createElement('div');
    this.live.className = 'sr-only';
    this.live.setAttribute('aria-live', 'polite');
    this.live.setAttribute('aria-atomic', 'true');
    this.live.id = 'timeline-announcement';
    overlayParent.append(this.tooltip, this.live);

    this.palette = readPalette(this.plot);
    this.makeHatch();

    this.zoomer = zoom<HTMLDivElement, unknown>()
      .scaleExtent([0.5, 1e6])
      .clickDistance(4)
      .filter((e: Event) => {
        const me = e as MouseEvent;
        return (!me.ctrlKey || e.type === 'wheel') && !me.button;
      })
      .constrain((t) => {
        const w = this.width || 1;
        const x = Math.min(0.9 * w, Math.max(0.1 * w - t.k * w, t.x));
        return x === t.x && t.y === 0 ? t : new ZoomTransform(t.k, x, 0);
      })
      .on('start', () => {
        this.zooming = true;
        this.hideTooltip();
      })
      .on('zoom', (e: { transform: ZoomTransform }) => {
        this.transform = e.transform;
        this.requestDraw();
        this.events.viewChanging();
      })
      .on('end', () => {
        this.zooming = false;
        this.buildHitTree();
        const t = this.transform;
        this.events.viewChanged({ k: t.k, x: t.x, y: t.y });
      });
    select(this.plot).call(this.zoomer).on('dblclick.zoom', null);

    this.plot.addEventListener('pointermove', (e) => this.pointerMove(e));
    this.plot.addEventListener('pointerleave', () => this.setHover(undefined));
    this.plot.addEventListener('click', (e) => {
      const c = this.hitAt(e.clientX, e.clientY);
      if (!c) return;
      this.select(c, false);
      this.events.activated(c);
    });
    this.plot.addEventListener('contextmenu', (e) => {
      e.preventDefault();
      const c = this.hitAt(e.clientX, e.clientY) ?? this.cursor;
      if (!c) return;
      this.select(c, false);
      this.events.contextMenu(c, e.clientX, e.clientY);
    });
    this.plot.addEventListener('keydown', (e) => this.key(e));
    new ResizeObserver(() => this.resize()).observe(this.plot);
    this.watchPixelRatio();
  }

  /** Redraws at the new resolution when devicePixelRatio changes (zoom, another monitor). */
  private watchPixelRatio(): void {
    const mq = window.matchMedia(`(resolution: ${window.devicePixelRatio || 1}dppx)`);
    mq.addEventListener(
      'change',
      () => {
        if (this.p) {
          this.layout();
          this.draw();
        }
        this.watchPixelRatio();
      },
      { once: true },
    );
  }

  get prepared(): Prepared | undefined {
    return this.p;
  }

  get currentTransform(): { k: number; x: number; y: number } {
    return { k: this.transform.k, x: this.transform.x, y: this.transform.y };
  }

  /** Shows a model: the transform kept, given or fitted; the selection given or none. */
  setModel(p: Prepared, opts: { transform?: { k: number; x: number } | 'keep'; selected?: Cursor }): void {
    this.p = p;
    this.boxes = laneBoxes(p.lanes.length);
    this.height = chartHeight(p.lanes.length);
    this.cursor = opts.selected;
    this.hover = undefined;
    this.hideTooltip();
    const ext = p.extent ?? [Date.now() - 86400_000, Date.now()];
    const pad = Math.max((ext[1] - ext[0]) * 0.02, 60_000);
    this.base = scaleTime().domain([new Date(ext[0] - pad), new Date(ext[1] + pad)]);
    const span = ext[1] - ext[0] + 2 * pad;
    // Zoom in down to 10 minutes across the width, or a fiftieth of the whole for short timelines.
    this.zoomer.scaleExtent([0.5, Math.max(50, span / MIN_SPAN_MS)]);
    this.renderLabels();
    this.plot.setAttribute(
      'aria-label',
      `${p.model.title}: ${p.lanes.length} lane${p.lanes.length === 1 ? '' : 's'}, ${p.marks.toLocaleString('en-US')} marks. ` +
        'Left and Right move between snapshots of a lane, Up and Down between lanes, Home and End to the oldest and newest, ' +
        'plus and minus zoom, Enter reveals in the tree, Shift+F10 opens the actions.',
    );
    this.layout();
    if (opts.transform === 'keep') {
      // keep this.transform
    } else if (opts.transform) {
      this.setTransform(new ZoomTransform(opts.transform.k, opts.transform.x, 0));
    } else if (p.model.focus) {
      const l = p.lanes[p.model.focus.lane]!;
      this.cursor = { lane: p.model.focus.lane, pos: l.pos[p.model.focus.mark]! };
      // About 60 of the lane's intervals across the width (a twentieth of the whole when it has no schedule).
      const shown = l.lane.interval ? l.lane.interval * 1000 * 60 : span / 20;
      this.zoomAround(l.times[this.cursor.pos]!, Math.max(1, Math.min(span / shown, this.zoomer.scaleExtent()[1])));
    } else {
      this.setTransform(zoomIdentity);
    }
    this.renderEmpties();
  }

  private renderLabels(): void {
    const p = this.p!;
    this.labels.replaceChildren(
      ...p.lanes.map((pl, i) => {
        const lane = pl.lane;
        const el = document.createElement('div');
        el.className = 'lane-label';
        el.setAttribute('role', 'listitem');
        el.style.top = `${this.boxes[i]!.top}px`;
        el.style.height = `${this.boxes[i]!.height}px`;
        const name = document.createElement('div');
        name.className = 'name';
        name.textContent = `${lane.host}:${lane.dataset}`;
        name.title = `${lane.host}:${lane.dataset}`;
        const detail = document.createElement('div');
        detail.className = 'detail';
        detail.textContent = laneDetail(lane);
        const badges = document.createElement('div');
        badges.className = 'badges';
        for (const b of laneBadges(lane)) {
          const s = document.createElement('span');
          s.className = `badge ${b.kind}`;
          s.textContent = b.text;
          s.title = b.title;
          s.setAttribute('aria-label', `${b.text}: ${b.title}`);
          badges.append(s);
        }
        el.append(name, detail, badges);
        if (pl.base >= 0) {
          const m = lane.marks[pl.base]!;
          const sr = document.createElement('span');
          sr.className = 'sr-only';
          sr.textContent = `common base ${fullName(lane, m)}`;
          el.append(sr);
        }
        return el;
      }),
    );
    this.labels.style.height = `${this.height}px`;
  }

  private renderEmpties(): void {
    const p = this.p!;
    const rows = p.lanes.map((l, i) => ({ i, text: l.times.length ? '' : (l.lane.problem ?? 'no snapshots') })).filter((r) => r.text);
    this.svg
      .select<SVGGElement>('g.empties')
      .selectAll<SVGTextElement, { i: number; text: string }>('text')
      .data(rows)
      .join('text')
      .attr('class', 'empty')
      .attr('x', 8)
      .attr('y', (d) => this.boxes[d.i]!.y + 4)
      .text((d) => d.text);
  }

  private layout(): void {
    const w = Math.max(1, Math.floor(this.plot.clientWidth));
    this.width = w;
    const h = this.height;
    const dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(h * dpr);
    this.canvas.style.width = `${w}px`;
    this.canvas.style.height = `${h}px`;
    this.plot.style.height = `${h}px`;
    this.svg.attr('width', w).attr('height', h);
    this.base.range([0, w]);
    this.zoomer.extent([
      [0, 0],
      [w, h],
    ]);
    this.svg
      .select<SVGGElement>('g.rules')
      .selectAll<SVGLineElement, LaneBox>('line')
      .data(this.boxes.slice(1))
      .join('line')
      .attr('class', 'lane-rule')
      .attr('x1', 0)
      .attr('x2', w)
      .attr('y1', (b) => b.top + 0.5)
      .attr('y2', (b) => b.top + 0.5);
  }

  private resize(): void {
    if (!this.p) return;
    if (Math.floor(this.plot.clientWidth) === this.width) return;
    this.layout();
    this.draw();
  }

  private setTransform(t: ZoomTransform): void {
    select(this.plot).call(this.zoomer.transform, t);
    this.transform = t;
  }

  private view(): View {
    const [d0, d1] = this.base.domain().map(Number) as [number, number];
    const a0 = this.width / (d1 - d0);
    const t = this.transform;
    return { a: a0 * t.k, b: -d0 * a0 * t.k + t.x, width: this.width, boxes: this.boxes };
  }

  private xOf(time: number): number {
    const v = this.view();
    return time * v.a + v.b;
  }

  private scale(): ScaleTime<number, number> {
    return this.transform.rescaleX(this.base);
  }

  requestDraw(): void {
    if (this.rafId) return;
    this.rafId = requestAnimationFrame(() => {
      this.rafId = 0;
      this.draw();
    });
  }

  setPalette(): void {
    this.palette = readPalette(this.plot);
    this.makeHatch();
    if (this.p) this.draw();
  }

  private makeHatch(): void {
    const c = document.createElement('canvas');
    c.width = c.height = 8;
    const g = c.getContext('2d')!;
    g.strokeStyle = this.palette.gap;
    g.globalAlpha = 0.55;
    g.lineWidth = 1.5;
    g.beginPath();
    g.moveTo(0, 8);
    g.lineTo(8, 0);
    g.moveTo(-2, 2);
    g.lineTo(2, -2);
    g.moveTo(6, 10);
    g.lineTo(10, 6);
    g.stroke();
    this.hatch = this.ctx.createPattern(c, 'repeat');
  }

  /**
   * Draws the whole chart now (synchronously), back to front: the canvas (gaps, links, clone
   * branches, marks, holds, lane states, rings), then the SVG (axis, listing time, clone labels),
   * then the hit index. Each step sets the canvas state it uses.
   */
  draw(): void {
    if (!this.p) return;
    if (this.rafId) {
      cancelAnimationFrame(this.rafId);
      this.rafId = 0;
    }
    const t0 = performance.now();
    const f = this.beginFrame(this.p);
    this.drawGaps(f);
    this.drawLinks(f);
    this.drawCloneBranches(f);
    this.drawSnapshots(f);
    this.drawBookmarks(f);
    this.drawHolds(f);
    const xNow = this.xOf(this.p.model.takenAt);
    this.drawLaneStates(this.p, xNow);
    // Hover and selection rings.
    this.ring(this.hover, this.palette.fg, 1);
    this.ring(this.cursor, this.palette.focus, 2);
    this.drawAxis();
    this.drawListingTime(xNow);
    this.drawCloneLabels(f);
    this.indexHits();
    this.lastDrawMs = performance.now() - t0;
    performance.measure('zfs-timeline-draw', { start: t0, end: t0 + this.lastDrawMs });
  }

  /** A cleared canvas at the device pixel ratio, and the frame (what is visible) of the current view. */
  private beginFrame(p: Prepared): Frame {
    const dpr = window.devicePixelRatio || 1;
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    this.ctx.clearRect(0, 0, this.width, this.height);
    return buildFrame(p, this.view(), this.frame);
  }

  /** Gaps in the schedule: hatched bands. */
  private drawGaps(f: Frame): void {
    if (f.gaps.n === 0 || !this.hatch) return;
    const ctx = this.ctx;
    ctx.fillStyle = this.hatch;
    const d = f.gaps.data;
    for (let i = 0; i < f.gaps.n; i++) ctx.fillRect(d[i * 4]!, d[i * 4 + 1]!, d[i * 4 + 2]!, d[i * 4 + 3]!);
  }

  /** Links between the same snapshot on two lanes: one stroke for all, then the base link emphasised. */
  private drawLinks(f: Frame): void {
    const ctx = this.ctx;
    const pal = this.palette;
    ctx.lineWidth = 1;
    ctx.strokeStyle = pal.link;
    ctx.globalAlpha = pal.highContrast ? 0.8 : 0.4;
    strokeSegments(ctx, f.links.data, f.links.n);
    ctx.globalAlpha = 1;
    ctx.lineWidth = 3;
    ctx.strokeStyle = pal.baseLink;
    strokeSegments(ctx, f.baseLinks.data, f.baseLinks.n);
  }

  /** Clone branches: down from the origin snapshot, then along to the clone's label. */
  private drawCloneBranches(f: Frame): void {
    if (f.clones.length === 0) return;
    const ctx = this.ctx;
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = this.palette.clone;
    ctx.beginPath();
    for (const c of f.clones) {
      ctx.moveTo(c.x, c.y);
      ctx.lineTo(c.x, c.y2);
      ctx.lineTo(c.x2, c.y2);
    }
    ctx.stroke();
  }

  /** Snapshots: one path and one fill per style bucket, the common base ringed. */
  private drawSnapshots(f: Frame): void {
    const ctx = this.ctx;
    const pal = this.palette;
    for (let s = 0; s < STYLE_COUNT; s++) {
      const rec = f.points[s]!;
      if (rec.n === 0) continue;
      ctx.fillStyle = pal.style[s]!;
      circles(ctx, rec.data, rec.n, 0);
      ctx.fill();
      if (pal.contrast && pal.contrast !== 'transparent') {
        ctx.lineWidth = 1;
        ctx.strokeStyle = pal.contrast;
        ctx.stroke();
      }
      if (s === Style.Base || s === Style.AtRisk) {
        // The common base: a ring around it, so it stands out of its lane at any zoom.
        ctx.lineWidth = 2;
        ctx.strokeStyle = s === Style.AtRisk ? pal.atRiskRing : pal.style[Style.Base]!;
        circles(ctx, rec.data, rec.n, 4);
        ctx.stroke();
      }
    }
  }

  /** Bookmarks: hollow diamonds, one path per style bucket. */
  private drawBookmarks(f: Frame): void {
    const ctx = this.ctx;
    const pal = this.palette;
    for (let s = 0; s < STYLE_COUNT; s++) {
      const rec = f.points[s + BOOKMARK]!;
      if (rec.n === 0) continue;
      ctx.fillStyle = pal.bg;
      ctx.strokeStyle = pal.style[s]!;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      const d = rec.data;
      for (let i = 0; i < rec.n; i++) {
        const x = d[i * 5]!;
        const y = d[i * 5 + 1]!;
        const r = d[i * 5 + 2]! + 1;
        ctx.moveTo(x, y - r);
        ctx.lineTo(x + r, y);
        ctx.lineTo(x, y + r);
        ctx.lineTo(x - r, y);
        ctx.closePath();
      }
      ctx.fill();
      ctx.stroke();
    }
  }

  /** Holds: a small padlock above the mark (body filled, then the shackles stroked). */
  private drawHolds(f: Frame): void {
    if (f.held.n === 0) return;
    const ctx = this.ctx;
    const pal = this.palette;
    ctx.fillStyle = pal.fg;
    ctx.strokeStyle = pal.fg;
    ctx.lineWidth = 1.2;
    const d = f.held.data;
    const x = (i: number) => d[i * 3]! + 3;
    const y = (i: number) => d[i * 3 + 1]! - d[i * 3 + 2]! - 8;
    ctx.beginPath();
    for (let i = 0; i < f.held.n; i++) ctx.rect(x(i) - 3, y(i), 6, 4.5);
    ctx.fill();
    ctx.beginPath();
    for (let i = 0; i < f.held.n; i++) {
      ctx.moveTo(x(i) - 1.8, y(i));
      ctx.arc(x(i), y(i), 1.8, Math.PI, 0);
    }
    ctx.stroke();
  }

  /** Per lane, at the listing time: written since the newest snapshot (a triangle), a resumable receive (a dashed ring). */
  private drawLaneStates(p: Prepared, xNow: number): void {
    const ctx = this.ctx;
    const pal = this.palette;
    p.lanes.forEach((l, i) => {
      const y = this.boxes[i]!.y;
      if (l.lane.modified === 'yes') {
        ctx.fillStyle = pal.style[Style.TargetOnly]!;
        ctx.beginPath();
        ctx.moveTo(xNow, y - 6);
        ctx.lineTo(xNow + 6, y + 5);
        ctx.lineTo(xNow - 6, y + 5);
        ctx.closePath();
        ctx.fill();
      }
      if (l.lane.resumeToken) {
        ctx.strokeStyle = pal.style[Style.PrunesNext]!;
        ctx.lineWidth = 1.5;
        ctx.setLineDash([2, 2]);
        ctx.beginPath();
        ctx.arc(xNow + 14, y, 5, 0, 2 * Math.PI);
        ctx.stroke();
        ctx.setLineDash([]);
      }
    });
  }

  /** SVG: the time axis along the top, local time, 24-hour clock. */
  private drawAxis(): void {
    this.axisG.attr('transform', `translate(0,${18})`).call(
      axisTop<Date>(this.scale())
        .ticks(Math.max(2, Math.floor(this.width / 110)))
        .tickFormat(axisTickFormat)
        .tickSizeOuter(0),
    );
  }

  /** SVG: the vertical line at the time of the listing. */
  private drawListingTime(xNow: number): void {
    this.svg
      .select('g.now')
      .attr('transform', `translate(${Math.round(xNow) + 0.5},0)`)
      .call((g) => {
        g.select('line')
          .attr('y1', 20)
          .attr('y2', this.height - 4);
        g.select('text')
          .attr('x', -3)
          .attr('y', this.height - 6);
      });
  }

  /** SVG: the clones' names at the end of their branches (host text: SVG text only). */
  private drawCloneLabels(f: Frame): void {
    this.svg
      .select<SVGGElement>('g.clones')
      .selectAll<SVGTextElement, (typeof f.clones)[number]>('text')
      .data(f.clones, (c) => c.key)
      .join('text')
      .attr('class', 'clone-label')
      .attr('x', (c) => c.x2 + 3)
      .attr('y', (c) => c.y2 + 3.5)
      .text((c) => c.label);
  }

  /** The hit index of what was drawn: rebuilt now, or when a zoom gesture ends (not on each of its frames). */
  private indexHits(): void {
    this.hitDirty = true;
    if (!this.zooming) this.buildHitTree();
  }

  private ring(c: Cursor | undefined, colour: string, width: number): void {
    if (!c || !this.p) return;
    const l = this.p.lanes[c.lane];
    if (!l || c.pos >= l.times.length) return;
    const x = this.xOf(l.times[c.pos]!);
    if (x < -20 || x > this.width + 20) return;
    const ctx = this.ctx;
    ctx.strokeStyle = colour;
    ctx.lineWidth = width;
    ctx.beginPath();
    ctx.arc(x, this.markY(c), l.radius[c.pos]! + (l.bucket[c.pos]! % BOOKMARK >= Style.Base ? 7 : 3.5), 0, 2 * Math.PI);
    ctx.stroke();
  }

  private buildHitTree(): void {
    if (!this.hitDirty) return;
    const f = this.frame;
    const n = f.drawnPoints;
    const x = new Float64Array(n);
    const y = new Float64Array(n);
    const r = new Float64Array(n);
    const lane = new Float64Array(n);
    const pos = new Float64Array(n);
    let k = 0;
    // Later buckets are painted on top: they win ties, so they go in last and find() prefers... the nearest; ties are rare.
    for (const rec of f.points) {
      for (let i = 0; i < rec.n; i++, k++) {
        x[k] = rec.data[i * 5 + POINT.x]!;
        y[k] = rec.data[i * 5 + POINT.y]!;
        r[k] = rec.data[i * 5 + POINT.r]!;
        lane[k] = rec.data[i * 5 + POINT.lane]!;
        pos[k] = rec.data[i * 5 + POINT.pos]!;
      }
    }
    const tree = quadtree<Point>()
      .x((i) => x[i]!)
      .y((i) => y[i]!);
    for (let i = 0; i < n; i++) tree.add(i);
    this.hit = { tree, x, y, r, lane, pos };
    this.hitDirty = false;
  }

  /** The mark under client coordinates, if any. */
  hitAt(clientX: number, clientY: number): Cursor | undefined {
    if (!this.p) return undefined;
    if (this.hitDirty) this.buildHitTree();
    const h = this.hit;
    if (!h) return undefined;
    const rect = this.plot.getBoundingClientRect();
    const mx = clientX - rect.left;
    const my = clientY - rect.top;
    const i = h.tree.find(mx, my, R_MAX + 3);
    if (i === undefined) return undefined;
    const lane = h.lane[i]!;
    const dx = clientX - rect.left;
    // Zoomed out, a drawn mark stands for several in its pixel column: pick the nearest in time of its style.
    const pl = this.p.lanes[lane]!;
    let pos = h.pos[i]!;
    const t = (dx - this.view().b) / this.view().a;
    const near = nearest(pl.times, t);
    if (near >= 0 && pl.bucket[near] === pl.bucket[pos] && Math.abs(this.xOf(pl.times[near]!) - h.x[i]!) < 2) pos = near;
    return { lane, pos };
  }

  private pointerMove(e: PointerEvent): void {
    if (this.zooming || e.buttons) return;
    this.setHover(this.hitAt(e.clientX, e.clientY), e.clientX, e.clientY);
  }

  private setHover(c: Cursor | undefined, clientX = 0, clientY = 0): void {
    const same = c && this.hover && c.lane === this.hover.lane && c.pos === this.hover.pos;
    if (!c) {
      if (this.hover) {
        this.hover = undefined;
        this.requestDraw();
      }
      this.hideTooltip();
      return;
    }
    if (!same) {
      this.hover = c;
      this.requestDraw();
      this.fillTooltip(c);
    }
    this.placeTooltip(clientX, clientY);
  }

  private fillTooltip(c: Cursor): void {
    const p = this.p!;
    const lane = p.lanes[c.lane]!.lane;
    const m = markAt(p, c.lane, c.pos);
    const table = document.createElement('table');
    for (const [k, v] of tooltipLines(lane, m, p.model.takenAt)) {
      const tr = document.createElement('tr');
      if (!k && table.rows.length === 0) tr.className = 'head';
      const th = document.createElement('th');
      th.textContent = k;
      const td = document.createElement('td');
      td.textContent = v;
      tr.append(th, td);
      table.append(tr);
    }
    this.tooltip.replaceChildren(table);
    this.tooltip.hidden = false;
  }

  private placeTooltip(clientX: number, clientY: number): void {
    const r = this.tooltip.getBoundingClientRect();
    const x = clientX + 14 + r.width > window.innerWidth ? clientX - r.width - 10 : clientX + 14;
    const y = clientY + 16 + r.height > window.innerHeight ? clientY - r.height - 10 : clientY + 16;
    this.tooltip.style.left = `${Math.max(0, x)}px`;
    this.tooltip.style.top = `${Math.max(0, y)}px`;
  }

  hideTooltip(): void {
    this.tooltip.hidden = true;
  }

  /** Selects a mark, announces it, and pans it into view when asked. */
  select(c: Cursor | undefined, reveal: boolean): void {
    this.cursor = c;
    if (c && this.p) {
      const lane = this.p.lanes[c.lane]!;
      this.live.textContent = announcement(lane.lane, markAt(this.p, c.lane, c.pos), this.p.model.takenAt);
      if (reveal) {
        const x = this.xOf(lane.times[c.pos]!);
        if (x < 20 || x > this.width - 20) this.setTransform(this.transform.translate((this.width / 2 - x) / this.transform.k, 0));
      }
    }
    this.events.selected(c);
    this.draw();
  }

  /** The client position of a mark (for the context menu from the keyboard, and tests). */
  clientPoint(c: Cursor): { x: number; y: number } {
    const rect = this.plot.getBoundingClientRect();
    return { x: rect.left + this.xOf(this.p!.lanes[c.lane]!.times[c.pos]!), y: rect.top + this.markY(c) };
  }

  private markY(c: Cursor): number {
    const l = this.p!.lanes[c.lane]!;
    return this.boxes[c.lane]!.y + (l.bucket[c.pos]! >= BOOKMARK ? BOOKMARK_DY : 0) - l.stack[c.pos]! * STACK_DY;
  }

  private key(e: KeyboardEvent): void {
    if (!this.p) return;
    if (NAV_KEYS.includes(e.key)) {
      const [t0, t1] = this.scale().domain().map(Number) as [number, number];
      const from = this.cursor ?? initialCursor(this.p, (t0 + t1) / 2);
      if (!from) return;
      // Without a selection the first key selects the mark nearest the centre (Home/End: the lane's ends).
      const to = this.cursor || e.key === 'Home' || e.key === 'End' ? move(this.p, from, e.key as NavKey) : from;
      this.select(to, true);
      e.preventDefault();
      return;
    }
    switch (e.key) {
      case '+':
      case '=':
        this.zoomBy(2);
        break;
      case '-':
      case '_':
        this.zoomBy(0.5);
        break;
      case '0':
        this.zoomToFit();
        break;
      case 'Enter':
        if (this.cursor) this.events.activated(this.cursor);
        break;
      case 'ContextMenu':
        this.openMenuFromKeyboard();
        break;
      case 'F10':
        if (!e.shiftKey) return;
        this.openMenuFromKeyboard();
        break;
      case 'Escape':
        this.setHover(undefined);
        break;
      default:
        return;
    }
    e.preventDefault();
  }

  private openMenuFromKeyboard(): void {
    if (!this.cursor) return;
    const pt = this.clientPoint(this.cursor);
    this.events.contextMenu(this.cursor, pt.x + 8, pt.y + 8);
  }

  /** Zooms by a factor around the selection (or the centre). */
  zoomBy(factor: number): void {
    const c = this.cursor;
    const x = c && this.p ? this.xOf(this.p.lanes[c.lane]!.times[c.pos]!) : this.width / 2;
    const px = x >= 0 && x <= this.width ? x : this.width / 2;
    select(this.plot).transition().duration(150).call(this.zoomer.scaleBy, factor, [px, 0]);
  }

  /** Shows [t0, t1] (ms) across the width. */
  zoomToSpan(t0: number, t1: number, animate = true): void {
    const [d0, d1] = this.base.domain().map(Number) as [number, number];
    const [kMin, kMax] = this.zoomer.scaleExtent();
    const k = Math.min(kMax, Math.max(kMin, (d1 - d0) / Math.max(t1 - t0, 1)));
    const x = -this.base(new Date(t0))! * k;
    const t = new ZoomTransform(k, x, 0);
    if (animate) select(this.plot).transition().duration(300).call(this.zoomer.transform, t);
    else this.setTransform(t);
  }

  zoomToFit(animate = true): void {
    if (animate) select(this.plot).transition().duration(300).call(this.zoomer.transform, zoomIdentity);
    else this.setTransform(zoomIdentity);
  }

  private zoomAround(time: number, k: number): void {
    const x = this.width / 2 - this.base(new Date(time))! * k;
    this.setTransform(new ZoomTransform(k, x, 0));
  }

  /** From a little before the newest common base to the newest mark: the gap and the divergence. */
  zoomToBase(animate = true): boolean {
    const p = this.p;
    if (!p) return false;
    let tb = Infinity;
    for (const l of p.lanes) if (l.base >= 0) tb = Math.min(tb, l.times[l.pos[l.base]!]!);
    if (!Number.isFinite(tb)) return false;
    let newest = tb;
    let interval = Infinity;
    for (const l of p.lanes) {
      if (l.times.length) newest = Math.max(newest, l.times[l.times.length - 1]!);
      if (l.lane.interval) interval = Math.min(interval, l.lane.interval * 1000);
    }
    newest = Math.max(newest, Math.min(p.model.takenAt, newest + (Number.isFinite(interval) ? interval : 3600_000)));
    // At least a dozen of the schedule's intervals (a minute when there is no schedule to tell).
    const span = Math.max(newest - tb, Number.isFinite(interval) ? interval * 12 : 60_000);
    this.zoomToSpan(tb - span * 0.25, tb + span * 1.1, animate);
    const bl = p.lanes.findIndex((l) => l.base >= 0);
    this.select({ lane: bl, pos: p.lanes[bl]!.pos[p.lanes[bl]!.base]! }, false);
    return true;
  }

  /** Whether the mark is the base (for tests through the debug hook). */
  isBase(c: Cursor): boolean {
    return !!this.p && (markAt(this.p, c.lane, c.pos).flags & MarkFlag.Base) !== 0;
  }
}

/** One path of circles from point records (x, y, r per 5 numbers), each `grow` wider than its radius. */
function circles(ctx: CanvasRenderingContext2D, d: Float64Array, n: number, grow: number): void {
  ctx.beginPath();
  for (let i = 0; i < n; i++) {
    const x = d[i * 5]!;
    const y = d[i * 5 + 1]!;
    const r = d[i * 5 + 2]! + grow;
    ctx.moveTo(x + r, y);
    ctx.arc(x, y, r, 0, 2 * Math.PI);
  }
}

function strokeSegments(ctx: CanvasRenderingContext2D, d: Float64Array, n: number): void {
  if (n === 0) return;
  ctx.beginPath();
  for (let i = 0; i < n; i++) {
    ctx.moveTo(d[i * 4]!, d[i * 4 + 1]!);
    ctx.lineTo(d[i * 4 + 2]!, d[i * 4 + 3]!);
  }
  ctx.stroke();
}
