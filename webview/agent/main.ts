// Agent webview: direction, budget use, experiments with scores, commit timeline.
import '../common/elements';
import { connect, errorText, showNotice } from '../common/ipc';
import { button, h, replace } from '../common/dom';
import { markdownElement } from '../common/sanitize';
import { nameBadgeEl } from '../common/names';
import { fmtNum, fmtPct, fmtTime, oneLine } from '../common/text';
import { AGENT_SURFACE, AgentStateNote, OpenReview, PauseAgent, ResumeAgent, type AgentState } from '../../src/shared/agentProtocol';

const { rpc } = connect(AGENT_SURFACE);
const app = document.getElementById('app')!;
let state: AgentState | undefined;

rpc.onNotification(AgentStateNote, (s) => {
  state = s;
  render();
});

async function call<T>(p: Promise<T>, ok?: string): Promise<void> {
  try {
    await p;
    if (ok) showNotice(ok, 'info');
  } catch (err) {
    showNotice(errorText(err), 'error');
  }
}

function meter(label: string, used: number, total: number, fmt: (n: number) => string): HTMLElement {
  const bar = h('div', { class: 'bar', role: 'img', aria: { label: `${label}: ${fmt(used)} of ${fmt(total)}` } });
  const fill = h('div', { class: `bar-used` });
  fill.style.width = `${total > 0 ? Math.min(100, (used / total) * 100) : 0}%`;
  bar.append(fill);
  return h('div', { class: 'meter' }, h('div', null, `${label}: ${fmt(used)} of ${fmt(total)}`), bar);
}

function render(): void {
  const s = state!;
  const a = s.detail.agent;
  const b = s.detail.budget;
  app.setAttribute('aria-busy', 'false');
  const reason = h('vscode-textfield', { id: 'pause-reason', placeholder: 'Reason to pause', aria: { label: 'Pause reason' } }) as HTMLElement & { value: string };
  const scored = s.experiments.filter((x) => x.score);
  replace(
    app,
    h('header', null,
      h('h1', { id: 'agent-name' }, oneLine(a.name, 200), ' ', nameBadgeEl(a.name, 'agent')),
      h('div', { class: 'row' },
        h('vscode-badge', null, a.status),
        h('span', { class: 'muted' }, `${a.id} · ${s.experiments.length} experiments · ${scored.length} scored`),
        a.pausedReason ? h('span', { class: 'danger' }, `paused: ${oneLine(a.pausedReason, 500)}`) : null,
      ),
    ),
    s.warnings.length ? h('div', { class: 'warnings' }, s.warnings.map((w) => h('div', null, oneLine(w, 500)))) : null,
    h('section', { class: 'card' }, h('h2', null, 'Direction'), markdownElement(a.direction, { human: true })),
    h('section', { class: 'card', id: 'budget' },
      h('h2', null, 'Budget use'),
      meter('GPU-hours', b.used.gpuHours, b.budget.gpuHours, (n) => fmtNum(n, 1)),
      meter('Model spend', b.used.usd, b.budget.usd, (n) => `$${fmtNum(n, 2)}`),
      meter('Eval queries', b.used.evalQueries, b.budget.evalQueries, (n) => String(Math.round(n))),
      h('p', { class: 'muted' }, `Tokens in ${b.used.tokensIn.toLocaleString('en-US')} · out ${b.used.tokensOut.toLocaleString('en-US')} · agent-hours ${fmtNum(b.used.agentHours, 1)}`),
      h('div', { class: 'row' },
        a.status === 'active'
          ? [reason, button('Pause agent', () => {
              const r = reason.value.trim();
              if (!r) return showNotice('Give a reason to pause', 'error');
              void call(rpc.request(PauseAgent, { reason: r }), `${a.id} paused`);
            }, { id: 'pause', secondary: true })]
          : button('Resume agent', () => void call(rpc.request(ResumeAgent, {}), `${a.id} resumed`), { id: 'resume' }),
      ),
    ),
    h('section', { class: 'card' },
      h('h2', null, `Experiments (${s.experiments.length})`),
      s.experiments.length
        ? h('table', { id: 'experiments' },
            h('thead', null, h('tr', null, h('th', null, 'Experiment'), h('th', null, 'State'), h('th', { class: 'num' }, 'GPU-h'), h('th', { class: 'num' }, 'PGR'), h('th', { class: 'num' }, 'Acc'), h('th', null, 'Screening'))),
            h('tbody', null, s.experiments.map((x) =>
              h('tr', null,
                h('td', null, h('button', { class: 'link', on: { click: () => void call(rpc.request(OpenReview, { experimentId: x.id })) } }, `${x.id} ${oneLine(x.title, 120)}`)),
                h('td', null, x.state.replace('_', ' ')),
                h('td', { class: 'num' }, fmtNum(x.resources.gpuHours, 1)),
                h('td', { class: 'num' }, x.score ? `${fmtNum(x.score.pgr, 3)}${x.score.verified ? ' ✓' : ''}` : ''),
                h('td', { class: 'num' }, x.score ? fmtPct(x.score.transferAcc) : ''),
                h('td', null, x.screening ? `${x.screening.gaming ? '⚠ ' : ''}${fmtNum(x.screening.score, 2)}` : ''),
              ),
            )),
          )
        : h('p', { class: 'muted' }, 'No experiments yet.'),
    ),
    h('section', { class: 'card' },
      h('h2', null, `Commits (${s.commits.length})`),
      h('div', { class: 'muted', id: 'branches' }, 'Branches: ', s.detail.branches.length ? s.detail.branches.map((br, i) => h('span', { class: 'branch' }, i ? ', ' : '', `${oneLine(br.name, 100)} @ ${br.commit.slice(0, 8)}`, nameBadgeEl(br.name, 'branch') ? ' ' : '', nameBadgeEl(br.name, 'branch'))) : 'none'),
      h('ol', { class: 'timeline', id: 'commits' }, s.commits.map((c) =>
        h('li', null, h('span', { class: 'sha' }, c.sha.slice(0, 10)), ' ', oneLine(c.subject, 300), h('span', { class: 'muted' }, ` — ${oneLine(c.author, 80)}, ${fmtTime(c.date)}`)),
      )),
    ),
  );
}
