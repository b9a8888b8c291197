// Layout of the PGR interval chart: pure numbers (unit-tested); main.ts turns it into SVG elements.

export interface ChartInput {
  label: string;
  mean: number | null;
  lo: number | null;
  hi: number | null;
  verified: boolean;
}

export interface ChartBar extends ChartInput {
  y: number;
  meanX: number | null;
  loX: number | null;
  hiX: number | null;
}

export interface ChartLayout {
  width: number;
  height: number;
  plotLeft: number;
  plotRight: number;
  axisY: number;
  zeroX: number | null;
  ticks: { x: number; label: string }[];
  bars: ChartBar[];
  domain: [number, number];
}

export function chartLayout(rows: readonly ChartInput[], width = 720, rowHeight = 26, labelWidth = 160): ChartLayout {
  const finite = (v: number | null): v is number => typeof v === 'number' && Number.isFinite(v);
  const values = rows.flatMap((r) => [r.mean, r.lo, r.hi]).filter(finite);
  let min = Math.min(0, ...values);
  let max = Math.max(1, ...values);
  if (max - min < 1e-9) max = min + 1;
  const pad = (max - min) * 0.05;
  min -= pad;
  max += pad;
  const plotLeft = labelWidth;
  const plotRight = width - 16;
  const x = (v: number | null) => (finite(v) ? plotLeft + ((v - min) / (max - min)) * (plotRight - plotLeft) : null);
  const top = 12;
  const bars = rows.map((r, i) => ({ ...r, y: top + i * rowHeight + rowHeight / 2, meanX: x(r.mean), loX: x(r.lo), hiX: x(r.hi) }));
  const axisY = top + Math.max(1, rows.length) * rowHeight + 4;
  const ticks: { x: number; label: string }[] = [];
  const step = niceStep((max - min) / 6);
  for (let v = Math.ceil(min / step) * step; v <= max + 1e-9; v += step) ticks.push({ x: x(v)!, label: Number(v.toFixed(6)).toString() });
  return { width, height: axisY + 24, plotLeft, plotRight, axisY, zeroX: min < 0 && max > 0 ? x(0) : null, ticks, bars, domain: [min, max] };
}

function niceStep(raw: number): number {
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / p;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

export interface SparkInput {
  seq: number;
  value: number | null;
  converged: boolean;
}

export interface SparkLayout {
  width: number;
  height: number;
  /** SVG polyline `points` through the finite values (empty when fewer than one). */
  points: string;
  dots: { x: number; y: number; value: number; seq: number; converged: boolean }[];
  /** y of the convergence threshold line, when given. */
  thresholdY: number | null;
}

/** Sparkline of a similarity series on a fixed [0, 1] scale (values are clamped), oldest left. Pure. */
export function sparklineLayout(series: readonly SparkInput[], width = 320, height = 64, threshold?: number): SparkLayout {
  const pad = 4;
  const n = series.length;
  const x = (i: number) => (n <= 1 ? width / 2 : pad + (i / (n - 1)) * (width - 2 * pad));
  const y = (v: number) => pad + (1 - Math.min(1, Math.max(0, v))) * (height - 2 * pad);
  const round = (v: number) => Math.round(v * 100) / 100;
  const dots: SparkLayout['dots'] = [];
  series.forEach((p, i) => {
    if (typeof p.value === 'number' && Number.isFinite(p.value)) dots.push({ x: round(x(i)), y: round(y(p.value)), value: p.value, seq: p.seq, converged: p.converged });
  });
  return {
    width,
    height,
    points: dots.map((d) => `${d.x},${d.y}`).join(' '),
    dots,
    thresholdY: typeof threshold === 'number' && Number.isFinite(threshold) ? round(y(threshold)) : null,
  };
}

export interface TimePointInput {
  seq: number;
  ts: string;
  pgr: number;
  verified: boolean;
  experimentId: string;
}

export interface TimeSeriesInput {
  agentId: string;
  name: string;
  points: readonly TimePointInput[];
}

export interface TimePoint extends TimePointInput {
  x: number;
  y: number;
}

export interface TimeLine {
  agentId: string;
  name: string;
  /** Colour slot 0..SERIES_COLOURS-1 (CSS class `s<n>`), and dash style 0..2 for when colours repeat. */
  colour: number;
  dash: number;
  /** SVG path `d` through the points in x order ("M x,y L x,y ..."); a lone point gives just "M x,y". */
  d: string;
  points: TimePoint[];
}

export interface TimeSeriesLayout {
  width: number;
  /** Total height including the legend rows. */
  height: number;
  plotLeft: number;
  plotRight: number;
  plotTop: number;
  plotBottom: number;
  /** 'time' when every point has a parseable timestamp, else 'seq' (ledger order). */
  xMode: 'time' | 'seq';
  xDomain: [number, number];
  yDomain: [number, number];
  xTicks: { x: number; label: string }[];
  yTicks: { y: number; label: string }[];
  zeroY: number | null;
  lines: TimeLine[];
  legend: { x: number; y: number; colour: number; dash: number; agentId: string; name: string }[];
}

/** How many distinct theme colours the CSS defines for series (`.chart .s0` ... `.s5`). */
export const SERIES_COLOURS = 6;
export const LEGEND_ITEM_WIDTH = 160;

/**
 * PGR over time, one line per agent. x is the scoring time when every point has a valid timestamp, otherwise the
 * ledger seq; y is PGR on a scale that always includes [0, 1]. `height` is the plot's height; the legend adds rows
 * below it (LEGEND_ITEM_WIDTH px per agent). Pure: no DOM; names are passed through untouched.
 */
export function timeSeriesLayout(series: readonly TimeSeriesInput[], width = 720, height = 240): TimeSeriesLayout {
  const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  const round = (v: number) => Math.round(v * 100) / 100;
  const all = series.flatMap((s) => s.points.filter((p) => finite(p.pgr)));
  const xMode: 'time' | 'seq' = all.length > 0 && all.every((p) => Number.isFinite(Date.parse(p.ts))) ? 'time' : 'seq';
  const xv = (p: TimePointInput) => (xMode === 'time' ? Date.parse(p.ts) : p.seq);

  const xs = all.map(xv).filter(finite);
  let xmin = xs.length ? Math.min(...xs) : 0;
  let xmax = xs.length ? Math.max(...xs) : 1;
  if (xmax - xmin <= 0) {
    const half = xMode === 'time' ? 30 * 60_000 : 1;
    xmin -= half;
    xmax += half;
  }
  const dataXmin = xmin;
  const dataXmax = xmax;
  const xpad = (xmax - xmin) * 0.03;
  xmin -= xpad;
  xmax += xpad;

  const ys = all.map((p) => p.pgr);
  let ymin = Math.min(0, ...ys);
  let ymax = Math.max(1, ...ys);
  const ypad = (ymax - ymin) * 0.05;
  ymin -= ypad;
  ymax += ypad;

  const plotLeft = 44;
  const plotRight = width - 12;
  const plotTop = 10;
  const plotBottom = Math.max(plotTop + 20, height - 26);
  const X = (v: number) => round(plotLeft + ((v - xmin) / (xmax - xmin)) * (plotRight - plotLeft));
  const Y = (v: number) => round(plotBottom - ((v - ymin) / (ymax - ymin)) * (plotBottom - plotTop));

  const yTicks: TimeSeriesLayout['yTicks'] = [];
  const ystep = niceStep((ymax - ymin) / 5);
  for (let v = Math.ceil(ymin / ystep) * ystep; v <= ymax + 1e-9; v += ystep) yTicks.push({ y: Y(v), label: Number(v.toFixed(6)).toString() });

  const xTicks: TimeSeriesLayout['xTicks'] = [];
  if (xMode === 'seq') {
    const step = Math.max(1, Math.ceil(niceStep((dataXmax - dataXmin) / 6)));
    for (let v = Math.ceil(dataXmin / step) * step; v <= dataXmax + 1e-9; v += step) xTicks.push({ x: X(v), label: `#${v}` });
  } else {
    const span = dataXmax - dataXmin;
    const fmt = (ms: number) => {
      const iso = new Date(ms).toISOString();
      if (span < 20 * 60_000) return iso.slice(11, 19);
      if (span < 36 * 3_600_000) return iso.slice(5, 16).replace('T', ' ');
      return iso.slice(0, 10);
    };
    const n = 4;
    for (let i = 0; i <= n; i++) {
      const v = dataXmin + (i / n) * span;
      xTicks.push({ x: X(v), label: fmt(v) });
    }
  }

  const lines: TimeLine[] = series.map((s, i) => {
    const points = s.points
      .filter((p) => finite(p.pgr) && finite(xv(p)))
      .map((p) => ({ ...p, x: X(xv(p)), y: Y(p.pgr) }))
      .sort((a, b) => a.x - b.x || a.seq - b.seq);
    const d = points.map((p, j) => `${j ? 'L' : 'M'}${p.x},${p.y}`).join(' ');
    return { agentId: s.agentId, name: s.name, colour: i % SERIES_COLOURS, dash: Math.floor(i / SERIES_COLOURS) % 3, d, points };
  });

  const perRow = Math.max(1, Math.floor((width - plotLeft) / LEGEND_ITEM_WIDTH));
  const legendTop = height + 6;
  const legend = lines.map((l, i) => ({
    x: plotLeft + (i % perRow) * LEGEND_ITEM_WIDTH,
    y: legendTop + Math.floor(i / perRow) * 16,
    colour: l.colour,
    dash: l.dash,
    agentId: l.agentId,
    name: l.name,
  }));
  const legendRows = Math.ceil(lines.length / perRow);

  return {
    width,
    height: height + (legendRows ? legendRows * 16 + 8 : 0),
    plotLeft,
    plotRight,
    plotTop,
    plotBottom,
    xMode,
    xDomain: [xmin, xmax],
    yDomain: [ymin, ymax],
    xTicks,
    yTicks,
    zeroY: ymin < 0 && ymax > 0 ? Y(0) : null,
    lines,
    legend,
  };
}
