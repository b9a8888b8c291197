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
