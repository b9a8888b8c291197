// Leaderboard webview: mean PGR with 95% bootstrap CI per agent (SVG drawn with DOM APIs, no HTML strings),
// verified vs self-reported badges, probing alerts.
import '../common/elements';
import { connect, errorText, showNotice } from '../common/ipc';
import { button, h, replace } from '../common/dom';
import { fmtNum, fmtPct, fmtTime, oneLine } from '../common/text';
import {
  LEADERBOARD_SURFACE,
  LeaderboardStateNote,
  OpenAgent,
  OpenExperiment,
  RunFinalEvaluation,
  type AgentPgrSeries,
  type DiversityView,
  type FinalResultView,
  type LeaderRow,
  type LeaderboardState,
  rankByTransfer,
} from '../../src/shared/leaderboardProtocol';
import { nameBadgeEl } from '../common/names';
import { chartLayout, sparklineLayout, timeSeriesLayout } from './chart';

/** Chart labels sit in a 160 px column: cut to fit, with an ellipsis (the table shows the full name). */
function chartLabel(name: string, max = 22): string {
  const t = oneLine(name, 200);
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

const { rpc } = connect(LEADERBOARD_SURFACE);
const app = document.getElementById('app')!;
let state: LeaderboardState | undefined;
/** Rank agents by visible PGR (default) or by their PGR on the fleet's hidden transfer task. */
let rankBy: 'visible' | 'transfer' = 'visible';

rpc.onNotification(LeaderboardStateNote, (s) => {
  state = s;
  render();
});

async function call<T>(p: Promise<T>): Promise<void> {
  try {
    await p;
  } catch (err) {
    showNotice(errorText(err), 'error');
  }
}

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

function chart(rows: LeaderRow[]): SVGElement {
  const L = chartLayout(rows.map((r) => ({ label: chartLabel(r.name), mean: r.meanPgr, lo: r.ci?.lo ?? null, hi: r.ci?.hi ?? null, verified: r.verified > 0 && r.unverified === 0 })));
  const root = svg('svg', { class: 'chart', id: 'chart', viewBox: `0 0 ${L.width} ${L.height}`, role: 'img', 'aria-label': 'Mean PGR with 95% confidence interval per agent' });
  root.append(svg('line', { class: 'axis', x1: L.plotLeft, x2: L.plotRight, y1: L.axisY, y2: L.axisY }));
  for (const t of L.ticks) {
    root.append(svg('line', { class: 'axis', x1: t.x, x2: t.x, y1: L.axisY, y2: L.axisY + 4 }));
    root.append(svg('text', { x: t.x, y: L.axisY + 16, 'text-anchor': 'middle' }, t.label));
  }
  if (L.zeroX !== null) root.append(svg('line', { class: 'zero', x1: L.zeroX, x2: L.zeroX, y1: 4, y2: L.axisY }));
  for (const b of L.bars) {
    root.append(svg('text', { x: L.plotLeft - 8, y: b.y + 4, 'text-anchor': 'end' }, b.label));
    if (b.loX !== null && b.hiX !== null) root.append(svg('line', { class: 'ci', x1: b.loX, x2: b.hiX, y1: b.y, y2: b.y }));
    if (b.meanX !== null) {
      const dot = svg('circle', { class: `mean${b.verified ? '' : ' unverified'}`, cx: b.meanX, cy: b.y, r: 5 });
      dot.append(svg('title', {}, `${b.label}: ${fmtNum(b.mean, 3)} [${fmtNum(b.lo, 3)}, ${fmtNum(b.hi, 3)}]`));
      root.append(dot);
    } else root.append(svg('text', { x: L.plotLeft + 4, y: b.y + 4, class: 'muted' }, 'no scores'));
  }
  return root;
}

/**
 * PGR of every scored experiment over time, one line per agent (theme colours, dashes once colours repeat);
 * hollow points are unverified scores. Names, ids and times are text nodes only; clicking a point opens its review.
 */
function timeChart(series: AgentPgrSeries[]): SVGElement {
  const L = timeSeriesLayout(series.map((s) => ({ agentId: s.agentId, name: chartLabel(s.name, 20), points: s.points })), 720, 240);
  const root = svg('svg', { class: 'chart', id: 'pgr-time', viewBox: `0 0 ${L.width} ${L.height}`, role: 'img', 'aria-label': 'PGR of each scored experiment over time, one line per agent' });
  root.append(svg('line', { class: 'axis', x1: L.plotLeft, x2: L.plotRight, y1: L.plotBottom, y2: L.plotBottom }));
  root.append(svg('line', { class: 'axis', x1: L.plotLeft, x2: L.plotLeft, y1: L.plotTop, y2: L.plotBottom }));
  for (const t of L.yTicks) {
    root.append(svg('line', { class: 'axis', x1: L.plotLeft - 4, x2: L.plotLeft, y1: t.y, y2: t.y }));
    root.append(svg('text', { x: L.plotLeft - 6, y: t.y + 4, 'text-anchor': 'end' }, t.label));
  }
  for (const t of L.xTicks) {
    root.append(svg('line', { class: 'axis', x1: t.x, x2: t.x, y1: L.plotBottom, y2: L.plotBottom + 4 }));
    // Keep the last label inside the viewBox.
    root.append(svg('text', { x: t.x, y: L.plotBottom + 16, 'text-anchor': t.x > L.plotRight - 40 ? 'end' : 'middle' }, t.label));
  }
  if (L.zeroY !== null) root.append(svg('line', { class: 'zero', x1: L.plotLeft, x2: L.plotRight, y1: L.zeroY, y2: L.zeroY }));
  root.append(svg('text', { x: 4, y: L.plotTop + 2, class: 'muted' }, 'PGR'));
  for (const line of L.lines) {
    const g = svg('g', { class: `series s${line.colour} d${line.dash}`, 'data-agent': line.agentId });
    const path = svg('path', { class: 'series-line', d: line.d, fill: 'none' });
    path.append(svg('title', {}, line.name));
    g.append(path);
    for (const p of line.points) {
      const dot = svg('circle', { class: `series-point${p.verified ? '' : ' unverified'}`, cx: p.x, cy: p.y, r: 3.5, tabindex: 0 });
      dot.append(svg('title', {}, `${oneLine(p.experimentId, 80)} (${line.name}): PGR ${fmtNum(p.pgr, 3)} · ${fmtTime(p.ts)} · #${p.seq}${p.verified ? '' : ' · unverified'}`));
      const open = () => void call(rpc.request(OpenExperiment, { experimentId: p.experimentId }));
      dot.addEventListener('click', open);
      dot.addEventListener('keydown', (ev) => {
        if ((ev as KeyboardEvent).key === 'Enter') open();
      });
      g.append(dot);
    }
    root.append(g);
  }
  const legend = svg('g', { class: 'legend', id: 'pgr-time-legend' });
  for (const item of L.legend) {
    const g = svg('g', { class: `series s${item.colour} d${item.dash}` });
    g.append(svg('line', { class: 'series-line', x1: item.x, x2: item.x + 18, y1: item.y, y2: item.y }));
    g.append(svg('text', { x: item.x + 24, y: item.y + 4 }, item.name));
    legend.append(g);
  }
  root.append(legend);
  return root;
}

function timeSection(series: AgentPgrSeries[]): HTMLElement {
  const any = series.some((s) => s.points.length > 0);
  return h('section', { class: 'card', id: 'pgr-time-section' },
    h('h2', null, 'PGR over time'),
    any
      ? h('p', { class: 'muted' }, `Each scored experiment by when it was scored${series.length > 6 ? '; dashed lines once the colours repeat' : ''}. Filled: verified by the evaluation server; hollow: unverified. Click a point to open its review.`)
      : null,
    any ? timeChart(series) : h('p', { class: 'muted', id: 'pgr-time-empty' }, 'No scored experiment with a PGR yet.'),
  );
}

/** Mean pairwise similarity over time (0..1, fixed scale); every label is a text node. */
function sparkline(d: DiversityView): SVGElement {
  const L = sparklineLayout(d.history.map((p) => ({ seq: p.seq, value: p.meanSimilarity, converged: p.converged })), 320, 64, d.threshold ?? undefined);
  const root = svg('svg', { class: 'chart', id: 'diversity-sparkline', viewBox: `0 0 ${L.width} ${L.height}`, width: L.width, height: L.height, role: 'img', 'aria-label': 'Mean pairwise similarity of the agents over time' });
  root.append(svg('line', { class: 'axis', x1: 0, x2: L.width, y1: L.height - 1, y2: L.height - 1 }));
  if (L.thresholdY !== null) {
    const t = svg('line', { class: 'zero', x1: 0, x2: L.width, y1: L.thresholdY, y2: L.thresholdY });
    t.append(svg('title', {}, `convergence threshold ${fmtNum(d.threshold, 2)}`));
    root.append(t);
  }
  if (L.dots.length > 1) root.append(svg('polyline', { class: 'ci', fill: 'none', points: L.points }));
  for (const p of L.dots) {
    const dot = svg('circle', { class: `mean${p.converged ? ' unverified' : ''}`, cx: p.x, cy: p.y, r: 2.5 });
    dot.append(svg('title', {}, `#${p.seq}: mean similarity ${fmtNum(p.value, 3)}${p.converged ? ' (converged)' : ''}`));
    root.append(dot);
  }
  return root;
}

function diversitySection(d: DiversityView | null): HTMLElement {
  if (!d) {
    return h('section', { class: 'card', id: 'diversity' },
      h('h2', null, 'Diversity of ideas'),
      h('p', { class: 'muted' }, 'No diversity measurement yet: the fleet records one as agents propose experiments and post findings.'),
    );
  }
  return h('section', { class: 'card', id: 'diversity' },
    h('h2', null, 'Diversity of ideas'),
    d.converged
      ? h('div', { class: 'danger', id: 'diversity-warning', role: 'alert' }, '⚠ The agents are converging: their proposals and findings are becoming similar. Consider redirecting some agents to different directions.')
      : null,
    h('p', null,
      h('span', { id: 'diversity-mean' }, `Mean pairwise similarity ${fmtNum(d.meanSimilarity, 3)}`),
      h('span', { class: 'muted' }, ` · recent window ${fmtNum(d.currentMeanSimilarity, 3)} · ${d.agents} agents, ${d.documents} documents · measured ${fmtTime(d.ts)}`),
    ),
    h('p', { class: 'muted' }, 'TF-IDF cosine similarity of each agent\'s proposals and posts (0 = unrelated, 1 = identical).'),
    d.history.length ? sparkline(d) : null,
    d.topPairs.length
      ? h('table', { id: 'diversity-pairs' },
          h('thead', null, h('tr', null, h('th', null, 'Most similar agents'), h('th', { class: 'num' }, 'Similarity'))),
          h('tbody', null, d.topPairs.map((p) =>
            h('tr', null, h('td', null, `${oneLine(p.a, 64)} ↔ ${oneLine(p.b, 64)}`), h('td', { class: 'num' }, fmtNum(p.similarity, 3))),
          )),
        )
      : null,
    d.flags.length ? h('ul', { class: 'alerts', id: 'diversity-flags' }, d.flags.map((f) => h('li', null, oneLine(f, 300)))) : null,
  );
}

function ci(c: [number, number] | null): string {
  return c ? ` [${fmtNum(c[0], 3)}, ${fmtNum(c[1], 3)}]` : '';
}

function finalsSection(finals: FinalResultView[]): HTMLElement {
  return h('section', { class: 'card', id: 'finals' },
    h('h2', null, 'Final evaluation (held-out split)'),
    h('p', { class: 'muted' }, 'Exact held-out scores with 95% bootstrap intervals, run by a human. Held-out queries are limited: evaluate only final candidates.'),
    button('Run Final Evaluation…', () => void call(rpc.request(RunFinalEvaluation, {})), { id: 'run-final', title: 'Choose an experiment and dataset, then confirm' }),
    finals.length
      ? h('table', { id: 'finals-table' },
          h('thead', null, h('tr', null,
            h('th', null, 'When'), h('th', null, 'Experiment'), h('th', null, 'Agent'), h('th', null, 'Dataset'), h('th', { class: 'num' }, 'transfer_acc'), h('th', { class: 'num' }, 'PGR'), h('th', { class: 'num' }, 'n'), h('th', null, 'By'),
          )),
          h('tbody', null, finals.map((f) =>
            h('tr', { dataset: { seq: String(f.seq) } },
              h('td', null, fmtTime(f.ts)),
              h('td', null, f.experimentId
                ? h('button', { class: 'link', title: oneLine(f.title ?? '', 200), on: { click: () => void call(rpc.request(OpenExperiment, { experimentId: f.experimentId! })) } }, oneLine(f.title || f.experimentId, 80))
                : h('span', { class: 'muted' }, '—')),
              h('td', null, oneLine(f.agentId ?? '—', 64)),
              h('td', null, `${oneLine(f.dataset, 80)} / ${oneLine(f.split, 32)}`),
              h('td', { class: 'num' }, `${fmtNum(f.transferAcc, 3)}${ci(f.transferAccCi)}`),
              h('td', { class: 'num' }, `${fmtNum(f.pgr, 3)}${ci(f.pgrCi)}`),
              h('td', { class: 'num' }, f.total === null ? '—' : String(f.total)),
              h('td', { class: 'muted' }, oneLine(f.by, 64)),
            ),
          )),
        )
      : h('p', { class: 'muted', id: 'finals-empty' }, 'No final evaluation yet.'),
  );
}

function render(): void {
  const s = state!;
  const hasTransfer = s.rows.some((r) => r.runs.some((x) => x.replication !== null));
  const rows = hasTransfer && rankBy === 'transfer' ? rankByTransfer(s.rows) : s.rows;
  app.setAttribute('aria-busy', 'false');
  replace(
    app,
    h('h1', null, 'Leaderboard'),
    h('p', { class: 'muted' }, 'Mean PGR of scored experiments per agent, 95% bootstrap interval over runs. Filled dots: every run verified by the evaluation server; hollow: includes self-reported or unverified scores.'),
    s.warnings.length ? h('div', { class: 'warnings' }, s.warnings.map((w) => h('div', null, oneLine(w, 500)))) : null,
    s.alerts.length
      ? h('section', { class: 'card', id: 'alerts' },
          h('h2', null, `Probing alerts (${s.alerts.length})`),
          h('ul', { class: 'alerts' }, s.alerts.slice(0, 50).map((a) => h('li', null, `⚠ ${fmtTime(a.ts)} ${oneLine(a.agentId, 64)}: ${oneLine(a.summary, 500)}`))),
        )
      : null,
    h('section', { class: 'card' }, chart(s.rows)),
    timeSection(s.series ?? []),
    h('section', { class: 'card' },
      hasTransfer
        ? h('p', { id: 'rank-by' },
            h('span', { class: 'muted' }, 'Rank by: '),
            button('Visible PGR', () => ((rankBy = 'visible'), render()), { id: 'rank-visible', secondary: rankBy !== 'visible', title: 'PGR on the task the agents work on' }),
            ' ',
            button('Hidden-task PGR', () => ((rankBy = 'transfer'), render()), { id: 'rank-transfer', secondary: rankBy !== 'transfer', title: 'PGR of the replication jobs on the hidden transfer task the agents never saw' }),
          )
        : null,
      h('table', { id: 'leaderboard' },
        h('thead', null, h('tr', null,
          h('th', null, '#'), h('th', null, 'Agent'), h('th', null, 'Method'), h('th', { class: 'num' }, 'Runs'), h('th', { class: 'num' }, 'Mean PGR'), h('th', { class: 'num' }, '95% CI'), hasTransfer ? h('th', { class: 'num', title: 'mean PGR of its replications on the hidden transfer task' }, 'Hidden-task PGR') : null, h('th', { class: 'num' }, 'Best'), h('th', null, 'Evidence'),
        )),
        h('tbody', null, rows.map((r, i) =>
          h('tr', { dataset: { agent: r.agentId } },
            h('td', null, String(i + 1)),
            h('td', null, h('button', { class: 'link', on: { click: () => void call(rpc.request(OpenAgent, { agentId: r.agentId })) } }, oneLine(r.name, 80)), nameBadgeEl(r.name, 'agent') ? ' ' : '', nameBadgeEl(r.name, 'agent')),
            h('td', { class: 'muted' }, oneLine(r.method, 140)),
            h('td', { class: 'num' }, String(r.n)),
            h('td', { class: 'num' }, fmtNum(r.meanPgr, 3)),
            h('td', { class: 'num' }, r.ci ? `[${fmtNum(r.ci.lo, 3)}, ${fmtNum(r.ci.hi, 3)}]` : '—'),
            hasTransfer ? h('td', { class: 'num transfer-pgr' }, r.meanTransferPgr === null ? '—' : fmtNum(r.meanTransferPgr, 3)) : null,
            h('td', { class: 'num' }, r.runs[0] ? h('button', { class: 'link', title: oneLine(r.runs[0].title, 200), on: { click: () => void call(rpc.request(OpenExperiment, { experimentId: r.runs[0].experimentId })) } }, `${fmtNum(r.best, 3)}`) : '—'),
            h('td', null,
              r.verified ? h('span', { class: 'badge-ok', title: 'scored by the evaluation server' }, `✓ ${r.verified} verified `) : null,
              r.unverified ? h('span', { class: 'badge-warn', title: 'not verified' }, `? ${r.unverified} unverified `) : null,
              r.replicated ? h('span', { class: 'badge-ok', title: 'replicated on the hidden transfer task' }, `↻ ${r.replicated} replicated `) : null,
              r.notReplicated ? h('span', { class: 'danger', title: 'did not replicate on the hidden transfer task' }, `✗ ${r.notReplicated} did not replicate `) : null,
              r.probing ? h('span', { class: 'danger' }, `⚠ ${r.probing} probing alert${r.probing > 1 ? 's' : ''}`) : null,
              r.runs.length ? h('span', { class: 'muted' }, ` acc ${fmtPct(r.runs[0].transferAcc)}`) : null,
            ),
          ),
        )),
      ),
    ),
    finalsSection(s.finals ?? []),
    diversitySection(s.diversity ?? null),
  );
}
