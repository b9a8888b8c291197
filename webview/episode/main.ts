// Episode webview: one agent episode's evidence on one page and the one decision about the agent. Keyboard
// first: the note field has the focus; Ctrl/Cmd+Enter resumes; Alt+P probation, Alt+V review individually,
// Alt+X retire (each asks once more). Agent-written strings only ever become text nodes (dom.ts h()).
import '../common/elements';
import { connect, errorText, showNotice } from '../common/ipc';
import { button, h, replace } from '../common/dom';
import { fmtTime, oneLine } from '../common/text';
import { EPISODE_SURFACE, EpisodeStateNote, OpenReview, ReleaseHeld, ResolveEpisode, type EpisodeDecision, type EpisodeState } from '../../src/shared/episodeProtocol';

const { rpc } = connect(EPISODE_SURFACE);
const app = document.getElementById('app')!;
let state: EpisodeState | undefined;
let busy = false;

rpc.onNotification(EpisodeStateNote, (s) => {
  const first = !state;
  state = s;
  render(first);
});

const LABEL: Record<EpisodeDecision, string> = { resume: 'resumed', probation: 'resumed on probation', review: 'held proposals released for individual review', retire: 'retired' };

function noteField(): HTMLTextAreaElement {
  return document.getElementById('episode-note') as HTMLTextAreaElement;
}

async function decide(action: EpisodeDecision): Promise<void> {
  const s = state;
  if (!s || s.view.episode.resolution || busy) return;
  const note = noteField()?.value.trim() ?? '';
  if (!note) return showNotice('Write a note first: it goes to the agent and the ledger', 'error');
  const probation = action === 'probation' ? (document.getElementById('episode-probation') as HTMLInputElement | null)?.value.trim() : undefined;
  if (action === 'probation' && !probation) return showNotice('Probation needs a condition (a CEL expression, e.g. gpu_hours <= 0.5)', 'error');
  busy = true;
  try {
    await rpc.request(ResolveEpisode, { action, note, ...(probation ? { probation } : {}) });
    showNotice(`${s.view.episode.agentId} ${LABEL[action]}`, 'info');
  } catch (err) {
    showNotice(errorText(err), 'error');
  } finally {
    busy = false;
  }
}

document.addEventListener('keydown', (e) => {
  if (!state || state.view.episode.resolution) return;
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
    e.preventDefault();
    void decide('resume');
  } else if (e.altKey && !e.ctrlKey && !e.metaKey) {
    const k = e.key.toLowerCase();
    const action: EpisodeDecision | undefined = k === 'p' ? 'probation' : k === 'v' ? 'review' : k === 'x' ? 'retire' : undefined;
    if (action) {
      e.preventDefault();
      void decide(action);
    }
  }
});

function section(title: string, id: string, body: (Node | string | null)[] | Node | string | null): HTMLElement {
  return h('section', { class: 'card', id }, h('h2', null, title), body);
}

function render(first: boolean): void {
  const s = state!;
  const v = s.view;
  const ep = v.episode;
  const kept = first ? '' : (noteField()?.value ?? '');
  app.setAttribute('aria-busy', 'false');
  const open = !ep.resolution;
  const note = h('textarea', { id: 'episode-note', rows: 3, placeholder: 'Note to the agent (required): what it did and what it must not do again', aria: { label: 'Note to the agent' }, disabled: !open }) as HTMLTextAreaElement;
  note.value = kept;
  const probation = h('input', { id: 'episode-probation', type: 'text', placeholder: 'probation condition, e.g. gpu_hours <= 0.5', aria: { label: 'Probation condition (CEL)' }, disabled: !open });
  replace(
    app,
    h('header', null,
      h('h1', { id: 'episode-title' }, `Episode ${ep.id}: agent ${oneLine(ep.agentId, 64)}`),
      h('div', { class: 'row' },
        h('vscode-badge', null, ep.trigger.replace('_', ' ')),
        h('span', { class: 'muted' }, `opened ${fmtTime(ep.openedAt)} · ${v.held.length} held proposal${v.held.length === 1 ? '' : 's'}`),
      ),
      h('p', { id: 'episode-reason' }, oneLine(ep.reason, 2000)),
      ep.resolution
        ? h('p', { id: 'episode-resolution', class: 'muted' }, `${LABEL[ep.resolution.action]} by ${oneLine(ep.resolution.by, 64)} ${fmtTime(ep.resolution.ts)}: ${oneLine(ep.resolution.note, 2000)}`)
        : null,
    ),
    open
      ? section('Decision', 'decision', [
          note,
          h('div', { class: 'row' }, probation),
          h('div', { class: 'row' },
            button('Resume (Ctrl+Enter)', () => void decide('resume'), { id: 'resume' }),
            button('Resume on probation (Alt+P)', () => void decide('probation'), { id: 'probation', secondary: true }),
            button('Review held individually (Alt+V)', () => void decide('review'), { id: 'review', secondary: true }),
            button('Retire agent (Alt+X)', () => void decide('retire'), { id: 'retire', secondary: true }),
          ),
          h('p', { class: 'muted' }, 'Resume: held proposals screening flagged are vetoed with your note, open probing alerts are lifted, the rest go back to the queue. Retire: every held proposal is vetoed and the agent stays paused.'),
        ])
      : null,
    section(`Held proposals (${v.held.length})`, 'held', v.held.length
      ? h('table', null,
          h('thead', null, h('tr', null, h('th', null, 'Proposal'), h('th', null, 'Risk'), h('th', null, 'Screening'), h('th', null, ''))),
          h('tbody', null, v.held.map((x) => h('tr', null,
            h('td', null, h('button', { class: 'link', on: { click: () => void rpc.request(OpenReview, { experimentId: x.id }).catch((err) => showNotice(errorText(err), 'error')) } }, `${x.id} ${oneLine(x.title, 120)}`)),
            h('td', null, x.risk?.level ?? ''),
            h('td', null, x.screening ? (x.screening.gaming ? '⚠ gaming' : `${x.screening.findings.length} finding(s)`) : 'not screened'),
            h('td', null, open ? button('Release', () => void rpc.request(ReleaseHeld, { experimentId: x.id }).then(() => showNotice(`${x.id} released: decide it at its own pin`, 'info'), (err) => showNotice(errorText(err), 'error')), { secondary: true }) : null),
          ))))
      : h('p', { class: 'muted' }, 'Nothing held.')),
    section(`Vetoes (${v.vetoes.length})`, 'vetoes', v.vetoes.length ? h('ul', null, v.vetoes.map((q) => h('li', null, `${q.experimentId}${q.gaming ? ' ⚠ gaming' : ''} — ${oneLine(q.title, 120)}: ${oneLine(q.reason, 500)} (by ${oneLine(q.by, 64)})`))) : h('p', { class: 'muted' }, 'None.')),
    section(`Probing alerts (${v.openAlerts} open)`, 'alerts', v.alerts.length ? h('ul', null, v.alerts.map((a) => h('li', null, `${fmtTime(a.ts)} ${oneLine(a.dataset, 60)}/${oneLine(a.split, 30)}${a.suspended ? ' (evaluation suspended)' : ''}`))) : h('p', { class: 'muted' }, 'None.')),
    section(`Findings (${v.findings.length})`, 'findings', v.findings.length ? h('ul', null, v.findings.map((f) => h('li', null, `${f.severity} ${oneLine(f.kind, 60)} in ${f.experimentId} at ${oneLine(f.file, 200)}:${f.line} — ${oneLine(f.explanation, 500)}`))) : h('p', { class: 'muted' }, 'None.')),
    section(`Runs with violations (${v.runs.length})`, 'runs', v.runs.length ? h('ul', null, v.runs.map((r) => h('li', null, `${r.experimentId} ${oneLine(r.title, 120)}: ${r.violations} violation(s) — ${oneLine(r.summary, 500)}`))) : h('p', { class: 'muted' }, 'None.')),
    v.earlier.length ? section('Earlier episodes', 'earlier', h('ul', null, v.earlier.map((e) => h('li', null, `${e.id}: ${e.action} by ${oneLine(e.by, 64)} — ${oneLine(e.note, 300)}`)))) : null,
    v.probation ? h('p', { class: 'muted', id: 'probation-now' }, `On probation: ${oneLine(v.probation, 500)}`) : null,
  );
  if (first && open) note.focus();
}
