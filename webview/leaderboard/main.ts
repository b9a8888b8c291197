// Leaderboard webview: mean PGR with 95% bootstrap CI per agent (SVG drawn with DOM APIs, no HTML strings),
// verified vs self-reported badges, probing alerts.
import '../common/elements';
import { connect, errorText, showNotice } from '../common/ipc';
import { h, replace } from '../common/dom';
import { fmtNum, fmtPct, fmtTime, oneLine } from '../common/text';
import { LEADERBOARD_SURFACE, LeaderboardStateNote, OpenAgent, OpenExperiment, type LeaderRow, type LeaderboardState } from '../../src/shared/leaderboardProtocol';
import { chartLayout } from './chart';

const { rpc } = connect(LEADERBOARD_SURFACE);
const app = document.getElementById('app')!;
let state: LeaderboardState | undefined;

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
  const L = chartLayout(rows.map((r) => ({ label: oneLine(r.name, 40), mean: r.meanPgr, lo: r.ci?.lo ?? null, hi: r.ci?.hi ?? null, verified: r.verified > 0 && r.unverified === 0 })));
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

function render(): void {
  const s = state!;
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
    h('section', { class: 'card' },
      h('table', { id: 'leaderboard' },
        h('thead', null, h('tr', null,
          h('th', null, '#'), h('th', null, 'Agent'), h('th', null, 'Method'), h('th', { class: 'num' }, 'Runs'), h('th', { class: 'num' }, 'Mean PGR'), h('th', { class: 'num' }, '95% CI'), h('th', { class: 'num' }, 'Best'), h('th', null, 'Evidence'),
        )),
        h('tbody', null, s.rows.map((r, i) =>
          h('tr', { dataset: { agent: r.agentId } },
            h('td', null, String(i + 1)),
            h('td', null, h('button', { class: 'link', on: { click: () => void call(rpc.request(OpenAgent, { agentId: r.agentId })) } }, oneLine(r.name, 80))),
            h('td', { class: 'muted' }, oneLine(r.method, 140)),
            h('td', { class: 'num' }, String(r.n)),
            h('td', { class: 'num' }, fmtNum(r.meanPgr, 3)),
            h('td', { class: 'num' }, r.ci ? `[${fmtNum(r.ci.lo, 3)}, ${fmtNum(r.ci.hi, 3)}]` : '—'),
            h('td', { class: 'num' }, r.runs[0] ? h('button', { class: 'link', title: oneLine(r.runs[0].title, 200), on: { click: () => void call(rpc.request(OpenExperiment, { experimentId: r.runs[0].experimentId })) } }, `${fmtNum(r.best, 3)}`) : '—'),
            h('td', null,
              r.verified ? h('span', { class: 'badge-ok', title: 'scored by the evaluation server' }, `✓ ${r.verified} verified `) : null,
              r.unverified ? h('span', { class: 'badge-warn', title: 'not verified' }, `? ${r.unverified} unverified `) : null,
              r.probing ? h('span', { class: 'danger' }, `⚠ ${r.probing} probing alert${r.probing > 1 ? 's' : ''}`) : null,
              r.runs.length ? h('span', { class: 'muted' }, ` acc ${fmtPct(r.runs[0].transferAcc)}`) : null,
            ),
          ),
        )),
      ),
    ),
  );
}
