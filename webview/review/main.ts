// Review webview: one experiment in full, the awaiting-review queue, and keyboard triage
// (a approve · r request changes · v veto · j/k next/previous · x select for batch · Ctrl+Enter submit).
// A sweep shows its representative member's review plus the table of members with their varying values,
// and sweep actions deciding every open member at the pin shown in the table.
import '../common/elements';
import { connect, errorText, showNotice } from '../common/ipc';
import { button, h, replace, type Child } from '../common/dom';
import { markdownElement } from '../common/sanitize';
import { nameBadgeEl } from '../common/names';
import { parseUnifiedDiff } from '../common/diff';
import { fmtNum, fmtTime, oneLine, plain } from '../common/text';
import {
  AcceptResult,
  BatchApprove,
  Decide,
  DecideSweep,
  OpenDiff,
  REVIEW_SURFACE,
  ReviewStateNote,
  ShowExperiment,
  sweepApproval,
  type Decision,
  type ReviewState,
  type SweepDecision,
  type SweepReview,
} from '../../src/shared/reviewProtocol';
import type { Experiment, ScreeningFinding } from '../../src/core/model';

const { rpc } = connect(REVIEW_SURFACE);
const app = document.getElementById('app')!;
let state: ReviewState | undefined;
let pending: Exclude<Decision, 'approve'> | undefined;
const selected = new Set<string>();
let busy = false;
/** Sweep mode: the confirmation box of "Approve sweep" is open; a veto / request for changes awaits its reason. */
let sweepConfirming = false;
let sweepPending: Exclude<SweepDecision, 'approve'> | undefined;

const UNDECIDED = new Set(['proposed', 'screening', 'awaiting_review']);
const SEV_ORDER = ['critical', 'high', 'medium', 'low', 'info'];

rpc.onNotification(ReviewStateNote, (s) => {
  const switched = state?.experiment.id !== s.experiment.id || state?.sweep?.id !== s.sweep?.id;
  // what a confirmation was about must not change under it: a new member set closes the box
  if (sweepKey(state?.sweep) !== sweepKey(s.sweep)) sweepConfirming = false;
  state = s;
  for (const id of [...selected]) if (!s.queue.some((q) => q.id === id)) selected.delete(id);
  if (switched) {
    pending = undefined;
    sweepPending = undefined;
  }
  render(switched);
  if (s.sweep?.note) showNotice(oneLine(s.sweep.note, 500), 'error');
});

function sweepKey(sw: SweepReview | undefined): string {
  return sw ? `${sw.id}|${sw.members.map((m) => `${m.id}@${m.commit}:${m.open ? 1 : 0}:${m.risk?.level ?? '-'}:${m.gaming ? 1 : 0}`).join(',')}` : '';
}

function x(): Experiment {
  return state!.experiment;
}

function undecided(): boolean {
  return UNDECIDED.has(x().state);
}

// ------------------------------------------------------------------ rendering

function render(scrollTop: boolean): void {
  const s = state!;
  const e = s.experiment;
  app.setAttribute('aria-busy', 'false');
  const reasonValue = (document.getElementById('reason') as HTMLTextAreaElement | null)?.value ?? '';
  replace(
    app,
    h('div', { class: 'layout' },
      renderQueue(s),
      h('div', { class: 'main' },
        h('header', { class: 'head' },
          h('h1', { id: 'title' }, oneLine(e.title, 300), ' ', nameBadgeEl(e.title, 'title')),
          h('div', { class: 'meta' },
            h('vscode-badge', { class: `state state-${e.state}`, id: 'state' }, e.state.replace('_', ' ')),
            e.screening?.gaming ? h('vscode-badge', { class: 'badge-danger', id: 'gaming' }, 'possible gaming') : null,
            e.risk ? h('vscode-badge', { class: `risk risk-${e.risk.level}${e.risk.level === 'high' || e.risk.level === 'critical' ? ' badge-danger' : ''}`, id: 'risk' }, `${e.risk.level} risk`) : null,
            h('span', null, ' by '),
            h('strong', { id: 'agent' }, oneLine(s.agent?.name ?? e.agentId, 100)), ' ', nameBadgeEl(s.agent?.name ?? e.agentId, 'agent'),
            h('span', { class: 'muted' }, ` · ${e.id} · pinned ${e.commit.slice(0, 12)} · ${fmtTime(e.proposedAt)}`),
            e.branch ? h('span', { class: 'muted', id: 'branch' }, ` · ${oneLine(e.branch, 100)}`, ' ', nameBadgeEl(e.branch, 'branch')) : null,
          ),
        ),
        s.warnings.length ? h('div', { class: 'warnings' }, s.warnings.map((w) => h('div', null, oneLine(w, 500)))) : null,
        s.sweep ? renderSweep(s.sweep) : null,
        e.risk ? section(`Risk: ${e.risk.level}`, renderRisk(e.risk)) : null,
        section('Direction', s.agent ? h('p', { class: 'direction' }, plain(s.agent.direction, 2000)) : h('p', { class: 'muted' }, 'unknown agent')),
        section('Rationale', markdownElement(e.rationale, { author: e.agentId })),
        section('Command and resources', renderCommand(e)),
        section('Cost vs budget', renderBudget(s)),
        section(`Screening findings (${e.screening?.findings.length ?? 0})`, renderScreening(e)),
        section(`Commits (${s.commits?.length ?? 0}${s.commitsTruncated ? '+' : ''})`, renderCommits(s)),
        section(`Files (${s.files.length})`, renderFiles(s)),
        s.diffs.length ? section('Diff (small files)', h('div', null, s.diffs.map((d) => renderDiff(d.file, d.patch, d.truncated)))) : null,
        s.comments.length ? section(`Review comments (${s.comments.length})`, renderComments(s)) : null,
        e.run || e.score ? section('Run and results', renderRun(e)) : null,
        section('History', renderHistory(e)),
        e.verdict ? section('Decision', h('p', { id: 'verdict' }, `${e.verdict.decision.replace('_', ' ')} by ${oneLine(e.verdict.by.id, 64)} at ${fmtTime(e.verdict.ts)}`, e.verdict.reason ? h('span', null, ` — ${oneLine(e.verdict.reason, 2000)}`) : null)) : null,
      ),
    ),
    s.sweep ? renderSweepBar(s.sweep, reasonValue) : renderDecisionBar(reasonValue),
  );
  if (scrollTop) window.scrollTo(0, 0);
  fitQueue();
}

// ------------------------------------------------------------------ sweeps

function openMembers(sw: SweepReview) {
  return sw.members.filter((m) => m.open);
}

function sweepRule(sw: SweepReview) {
  return sweepApproval(openMembers(sw));
}

/** The sweep table: one row per member (id, its values, its risk, its pin), and why it cannot be approved as one. */
function renderSweep(sw: SweepReview): HTMLElement {
  const open = openMembers(sw);
  const rule = sweepRule(sw);
  const rep = x();
  return h('section', { class: 'card sweep', id: 'sweep', aria: { labelledby: 'sec-sweep' } },
    h('h2', { id: 'sec-sweep' }, `Sweep: ${oneLine(sw.label, 300)}`, ' ', nameBadgeEl(sw.label, 'title')),
    h('p', { class: 'muted', id: 'sweep-intro' },
      open.length
        ? `${open.length} open member${open.length === 1 ? '' : 's'} with the same base and the same code shape: only the values below differ. ` +
          `Below is the review of the representative member ${rep.id}; each member is decided at its own commit.`
        : `Every member of this sweep is decided (their states are below). Below is the review of ${rep.id}.`),
    h('table', { class: 'files sweep-table', id: 'sweep-table' },
      h('thead', null, h('tr', null,
        h('th', null, 'Experiment'),
        sw.params.map((p) => h('th', null, oneLine(p, 80), ' ', nameBadgeEl(p, 'title'))),
        h('th', null, 'Risk'), h('th', null, 'Commit'), h('th', null, 'State'))),
      h('tbody', null, sw.members.map((m) =>
        h('tr', { class: `sweep-member${m.id === rep.id ? ' current' : ''}${m.open ? '' : ' decided'}`, dataset: { id: m.id } },
          h('td', null, h('button', { class: 'link', title: `Review ${m.id} on its own: ${oneLine(m.title, 200)}`, on: { click: () => void show(m.id) } }, m.id)),
          m.values.map((v) => h('td', { class: 'sweep-value' }, oneLine(v, 120), ' ', nameBadgeEl(v, 'title'))),
          h('td', null,
            h('span', { class: `q-risk risk-${m.risk?.level ?? 'medium'}`, title: m.risk ? `${m.risk.level} risk` : 'risk not assessed' }, RISK_SHORT[m.risk?.level ?? 'medium'] ?? 'MED'),
            m.gaming ? h('span', { class: 'q-flag', title: 'screening flagged possible evaluation gaming' }, ' ⚠ gaming') : null),
          h('td', { class: 'sha' }, m.commit.slice(0, 12)),
          h('td', null, m.open ? m.state.replace('_', ' ') : `${m.state.replace('_', ' ')} (not in the sweep now)`),
        ),
      )),
    ),
    sw.note ? h('p', { class: 'warnings', id: 'sweep-note' }, oneLine(sw.note, 500)) : null,
    rule.refused && sw.open ? h('p', { class: 'warnings', id: 'sweep-refusal', role: 'alert' }, oneLine(rule.refused, 1000)) : null,
    sweepConfirming && sw.open && !rule.refused ? renderSweepConfirm(sw) : null,
  );
}

function renderSweepConfirm(sw: SweepReview): HTMLElement {
  const open = openMembers(sw);
  const rule = sweepRule(sw);
  return h('div', { class: 'warnings', id: 'sweep-confirm', role: 'alertdialog', aria: { label: 'Confirm the sweep approval' } },
    h('p', null, h('strong', null, `Approve all ${open.length} members? ${rule.confirm.length} ${rule.confirm.length === 1 ? 'is' : 'are'} above low risk (highest: ${rule.highest}):`)),
    h('ul', { id: 'sweep-confirm-members' }, rule.confirm.map((c) => h('li', null, h('strong', null, `${c.id} — ${c.level}`), `: ${c.reasons.map((r) => oneLine(r, 300)).join('; ')}`))),
    h('div', { class: 'buttons' },
      button(`Confirm: approve ${open.length}`, () => void decideSweep('approve', true), { id: 'sweep-confirm-approve', disabled: busy }),
      button('Cancel', () => { sweepConfirming = false; render(false); }, { id: 'sweep-confirm-cancel', secondary: true }),
    ),
  );
}

function renderSweepBar(sw: SweepReview, reasonValue: string): HTMLElement {
  const open = openMembers(sw);
  const can = sw.open && open.length >= 2;
  const refused = sweepRule(sw).refused;
  const reason = h('vscode-textarea', {
    id: 'reason',
    rows: 2,
    placeholder: sweepPending ? `Reason (required to ${sweepPending === 'veto' ? 'veto' : 'request changes on'} the sweep; every agent receives it) — Ctrl+Enter to submit` : 'Reason (required for a veto or a request for changes on the sweep)',
    aria: { label: 'Reason' },
    disabled: !can || busy,
  }) as HTMLElement & { value: string };
  reason.value = reasonValue;
  reason.addEventListener('keydown', (ev: KeyboardEvent) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey) && sweepPending) {
      ev.preventDefault();
      void decideSweep(sweepPending);
    } else if (ev.key === 'Escape') {
      sweepPending = undefined;
      (ev.target as HTMLElement).blur();
    }
  });
  return h('footer', { class: 'decision' },
    reason,
    h('div', { class: 'buttons' },
      button(`Approve sweep (${open.length})`, () => void decideSweep('approve'), { id: 'sweep-approve', disabled: !can || busy || !!refused, title: refused ? oneLine(refused, 500) : 'Approve every open member at the commit shown in the table' }),
      button('Request changes on sweep…', () => void decideSweep('request_changes'), { id: 'sweep-request-changes', secondary: true, disabled: !can || busy }),
      button('Veto sweep…', () => void decideSweep('veto'), { id: 'sweep-veto', secondary: true, disabled: !can || busy }),
      !can ? h('span', { class: 'muted' }, 'Not an open sweep now: decide the members individually.') : null,
    ),
  );
}

/** Decide the sweep: every open member at the pin shown in the table. Approving refuses a critical or a
 * gaming-flagged member, and asks for confirmation (naming the members and why) above low risk. */
async function decideSweep(decision: SweepDecision, confirmed = false): Promise<void> {
  const sw = state?.sweep;
  if (!sw || busy) return;
  const open = openMembers(sw);
  if (!sw.open || open.length < 2) return showNotice('This is not an open sweep now: decide the members individually.', 'error');
  const reason = reasonEl()?.value.trim() ?? '';
  if (decision === 'approve') {
    const rule = sweepApproval(open);
    if (rule.refused) return showNotice(oneLine(rule.refused, 1000), 'error');
    if (rule.confirm.length && !confirmed) {
      sweepConfirming = true;
      render(false);
      return showNotice(`${rule.confirm.length} member${rule.confirm.length === 1 ? ' is' : 's are'} above low risk: confirm the sweep approval below.`, 'info');
    }
  } else if (!reason) {
    sweepPending = decision;
    render(false);
    reasonEl()?.focus();
    return showNotice(`Type a reason, then press Ctrl+Enter to ${decision === 'veto' ? 'veto' : 'request changes on'} the sweep.`, 'info');
  }
  busy = true;
  try {
    const r = await rpc.request(DecideSweep, {
      sweepId: sw.id,
      decision,
      members: open.map((m) => ({ experimentId: m.id, commit: m.commit, tree: m.tree })),
      reason: decision === 'approve' ? undefined : reason,
    });
    sweepConfirming = false;
    sweepPending = undefined;
    const el = reasonEl();
    if (el) el.value = '';
    showNotice(`Sweep ${decision === 'approve' ? 'approved' : decision === 'veto' ? 'vetoed' : 'sent back'}: ${r.decided.join(', ')} (each at its own commit)`, 'info');
  } catch (err) {
    sweepConfirming = false;
    showNotice(errorText(err), 'error');
  } finally {
    busy = false;
    if (state) render(false);
  }
}

function renderRisk(r: NonNullable<Experiment['risk']>): HTMLElement {
  return h('ul', { id: 'risk-reasons' }, r.reasons.map((q) => h('li', { class: `risk-reason risk-${q.level}` }, h('strong', null, `${q.level} `), oneLine(q.text, 500))));
}

function section(title: string, ...body: Child[]): HTMLElement {
  const id = `sec-${title.toLowerCase().replace(/[^a-z]+/g, '-').replace(/^-|-$/g, '')}`;
  return h('section', { class: 'card', aria: { labelledby: id } }, h('h2', { id }, title), ...body);
}

function renderQueue(s: ReviewState): HTMLElement {
  const items = s.queue.map((q, i) =>
    h('li', { class: `q-item${q.id === s.experiment.id ? ' current' : ''}`, dataset: { id: q.id } },
      h('input', { type: 'checkbox', class: 'q-check', aria: { label: `select ${q.id} for batch approval` }, checked: selected.has(q.id), on: { change: (ev) => toggleSelect(q.id, (ev.target as HTMLInputElement).checked) } }),
      h('button', { class: 'q-link', title: oneLine(q.title, 300), on: { click: () => void show(q.id) } },
        h('span', { class: 'q-idx' }, `${i + 1}.`),
        h('span', { class: 'q-title' }, oneLine(q.title, 120)),
        h('span', { class: 'q-sub muted' }, `${oneLine(q.agentId, 64)} · ${fmtNum(q.gpuHours, 1)} GPU-h`, nameBadgeEl(q.title, 'title') ? ' ' : '', nameBadgeEl(q.title, 'title')),
        q.risk ? h('span', { class: `q-risk risk-${q.risk}`, title: `${q.risk} risk` }, RISK_SHORT[q.risk]) : null,
        q.gaming ? h('span', { class: 'q-flag', title: 'screening flagged possible evaluation gaming' }, '⚠') : null,
      ),
    ),
  );
  return h('nav', { class: 'queue', aria: { label: 'Awaiting review' } },
    h('h2', null, `Queue (${s.queue.length})`),
    s.queue.length ? h('ul', { id: 'queue' }, items) : h('p', { class: 'muted' }, 'Nothing awaits review.'),
    h('div', { class: 'batch' },
      button(`Approve selected (${selected.size})`, () => void batchApprove(), { id: 'batch-approve', disabled: selected.size === 0, secondary: true }),
    ),
    h('p', { class: 'keys muted' }, 'Keys: a approve (press twice above low risk; not on critical) · r request changes · v veto · j/k next/previous · x select · Ctrl+Enter submit'),
  );
}

function renderCommand(e: Experiment): HTMLElement {
  return h('div', null,
    h('pre', { class: 'command', id: 'command' }, plain(e.command, 10_000)),
    h('dl', { class: 'kv' },
      h('dt', null, 'GPUs'), h('dd', null, String(e.resources.gpus)),
      h('dt', null, 'GPU-hours (estimate)'), h('dd', null, fmtNum(e.resources.gpuHours, 2)),
      h('dt', null, 'Time limit'), h('dd', null, `${e.resources.timeLimitMinutes} min`),
      h('dt', null, 'Task mode'), h('dd', null, e.taskMode),
    ),
  );
}

function renderBudget(s: ReviewState): HTMLElement {
  const a = s.agent;
  const need = s.experiment.resources.gpuHours;
  if (!a) return h('p', { class: 'muted' }, `needs ${fmtNum(need)} GPU-hours; budget unknown`);
  const total = a.budget.gpuHours;
  const used = a.used.gpuHours;
  const over = used + need > total + 1e-9;
  const pct = (v: number) => (total > 0 ? Math.max(0, Math.min(100, (v / total) * 100)) : 100);
  const bar = h('div', { class: 'bar', role: 'img', aria: { label: `used ${fmtNum(used)} plus this ${fmtNum(need)} of ${fmtNum(total)} GPU-hours` } });
  const usedEl = h('div', { class: 'bar-used' });
  const needEl = h('div', { class: `bar-need${over ? ' over' : ''}` });
  usedEl.style.width = `${pct(used)}%`;
  needEl.style.width = `${Math.min(pct(need), 100 - pct(used))}%`;
  bar.append(usedEl, needEl);
  return h('div', { id: 'budget' },
    bar,
    h('p', { class: over ? 'danger' : '' },
      `This run: ${fmtNum(need)} GPU-h · used ${fmtNum(used)} of ${fmtNum(total)} · ${fmtNum(a.remainingGpuHours)} left`,
      over ? ' — approving would exceed the budget (the hub will refuse)' : '',
    ),
    h('p', { class: 'muted' }, `Model spend $${fmtNum(a.used.usd)} of $${fmtNum(a.budget.usd)} · eval queries ${a.used.evalQueries} of ${a.budget.evalQueries} · agent ${a.status}`),
  );
}

function renderScreening(e: Experiment): HTMLElement {
  const r = e.screening;
  if (!r) return h('p', { class: 'muted' }, e.state === 'screening' || e.state === 'proposed' ? 'Screening in progress…' : 'Not screened.');
  const findings = [...r.findings].sort((p, q) => SEV_ORDER.indexOf(p.severity) - SEV_ORDER.indexOf(q.severity) || q.confidence - p.confidence);
  return h('div', { id: 'screening' },
    h('p', null, `Gaming score ${fmtNum(r.score, 2)}${r.gaming ? ' — flagged as possible evaluation gaming' : ''}`,
      r.ai ? h('span', { class: 'muted' }, ` · AI reviewer ${oneLine(r.ai.model, 80)}${r.ai.error ? ` (error: ${oneLine(r.ai.error, 300)})` : ''}`) : null),
    findings.length
      ? h('ul', { class: 'findings' }, findings.map((f) => renderFinding(e, f)))
      : h('p', { class: 'muted' }, 'No findings.'),
  );
}

function renderFinding(e: Experiment, f: ScreeningFinding): HTMLElement {
  const loc = `${oneLine(f.file, 300)}${f.line ? `:${f.line}` : ''}`;
  const isFile = !f.file.startsWith('<');
  return h('li', { class: `finding sev-${f.severity}` },
    h('span', { class: `sev sev-${f.severity}` }, f.severity),
    h('span', { class: 'kind' }, oneLine(f.kind, 64)),
    isFile
      ? h('button', { class: 'link file-link', title: `Open the diff of ${loc}`, on: { click: () => void openDiff(e.id, f.file, f.line) } }, loc)
      : h('span', { class: 'muted' }, loc),
    h('span', { class: 'muted' }, ` ${f.source} · confidence ${fmtNum(f.confidence, 2)}`),
    h('div', { class: 'explanation' }, plain(f.explanation, 2000)),
  );
}

function renderFiles(s: ReviewState): HTMLElement {
  if (!s.files.length) return h('p', { class: 'muted' }, 'No changed files.');
  return h('table', { class: 'files', id: 'files' },
    h('thead', null, h('tr', null, h('th', null, ''), h('th', null, 'File'), h('th', { class: 'num' }, '+'), h('th', { class: 'num' }, '−'), h('th', null, 'Viewed'))),
    h('tbody', null, s.files.map((f) =>
      h('tr', null,
        h('td', { class: `status st-${f.status}` }, f.status),
        h('td', null,
          h('button', { class: 'link file-link', title: 'Open the native diff', on: { click: () => void openDiff(s.experiment.id, f.path, 1) } }, oneLine(f.path, 400)),
          ' ', nameBadgeEl(f.path, 'file'),
          f.oldPath ? h('span', { class: 'muted' }, ` (from ${oneLine(f.oldPath, 300)})`) : null,
          f.binary ? h('span', { class: 'muted' }, ' binary') : null,
        ),
        h('td', { class: 'num add' }, f.binary ? '' : `+${f.additions}`),
        h('td', { class: 'num del' }, f.binary ? '' : `−${f.deletions}`),
        h('td', null, f.viewed ? '✓' : ''),
      ),
    )),
  );
}

/** The proposal's commits with their messages (agent-written: hidden characters marked, subjects badged). */
function renderCommits(s: ReviewState): HTMLElement {
  const list = s.commits ?? [];
  if (!list.length) return h('p', { class: 'muted' }, 'No commits could be listed for this proposal.');
  return h('div', null,
    h('p', { class: 'muted' }, 'Commit messages are agent-written.'),
    h('ol', { class: 'timeline', id: 'proposal-commits' }, list.map((c) =>
      h('li', { class: 'commit' },
        h('span', { class: 'sha' }, c.sha.slice(0, 10)), ' ',
        h('span', { class: 'subject' }, oneLine(c.subject, 300)), ' ', nameBadgeEl(c.subject, 'title'),
        h('span', { class: 'muted' }, ` — ${oneLine(c.author, 80)}, ${fmtTime(c.date)}`),
        c.body ? h('pre', { class: 'commit-body' }, plain(c.body, 4000)) : null,
      ),
    )),
    s.commitsTruncated ? h('p', { class: 'muted' }, `Only the newest ${list.length} commits are shown.`) : null,
  );
}

function renderDiff(file: string, patch: string, truncated: boolean): HTMLElement {
  const rows = parseUnifiedDiff(patch, 2000).filter((r) => r.kind !== 'meta');
  return h('details', { class: 'diff', open: true },
    h('summary', null, oneLine(file, 400), ' ', nameBadgeEl(file, 'file'), truncated ? h('span', { class: 'muted' }, ' (truncated)') : null),
    h('table', { class: 'diff-table' },
      h('tbody', null, rows.map((r) =>
        h('tr', { class: `d-${r.kind}` },
          h('td', { class: 'ln' }, r.oldNo === undefined ? '' : String(r.oldNo)),
          h('td', { class: 'ln' }, r.newNo === undefined ? '' : String(r.newNo)),
          h('td', { class: 'code' },
            r.kind === 'add' || r.kind === 'del' || r.kind === 'ctx'
              ? h('button', { class: 'code-line', title: 'Open in the native diff', on: { click: () => void openDiff(x().id, file, r.newNo ?? r.oldNo ?? 1) } }, (r.kind === 'add' ? '+' : r.kind === 'del' ? '−' : ' ') + plain(r.text, 2000))
              : plain(r.text, 2000),
          ),
        ),
      )),
    ),
  );
}

function renderComments(s: ReviewState): HTMLElement {
  return h('ul', { class: 'comments' }, s.comments.map((c) =>
    h('li', null,
      h('div', { class: 'muted' },
        h('button', { class: 'link file-link', on: { click: () => void openDiff(s.experiment.id, c.file, c.line) } }, `${oneLine(c.file, 300)}:${c.line}`),
        ` · ${c.author.kind} ${oneLine(c.author.id, 64)} · ${fmtTime(c.ts)}`),
      markdownElement(c.body, c.author.kind === 'human' ? { human: true } : { author: c.author.id }),
    ),
  ));
}

/** The run of an approved experiment: where and how it ran, its exit, its results.json and its verified score. */
function renderRun(e: Experiment): HTMLElement {
  const r = e.run;
  const rows: Child[] = [];
  const kv = (k: string, v: string) => rows.push(h('dt', null, k), h('dd', null, v));
  if (r) {
    kv('Runner', `${oneLine(r.runner, 100)} · job ${oneLine(r.jobId, 200)}`);
    kv('Commit', `${r.commit.slice(0, 12)} (tree ${r.tree.slice(0, 12)}) — the approved pin`);
    kv('State', r.endState ? `${r.endState}${r.exitCode !== undefined ? ` (exit ${r.exitCode})` : ''}` : e.state);
    kv('Dispatched', fmtTime(r.dispatchedAt));
    if (r.startedAt) kv('Started', fmtTime(r.startedAt));
    if (r.endedAt) kv('Ended', fmtTime(r.endedAt));
    if (r.startedAt && r.endedAt) kv('Duration', `${fmtNum((Date.parse(r.endedAt) - Date.parse(r.startedAt)) / 1000, 1)} s`);
    if (r.reason) kv('Reason', oneLine(r.reason, 2000));
  }
  if (e.score) {
    // The run's mean over seeds with its 95% interval over seeds, when the run scored several.
    const iv = (v: unknown) => (Array.isArray(v) && v.length === 2 && v.every((n) => typeof n === 'number') ? ` [${fmtNum(v[0] as number, 3)}, ${fmtNum(v[1] as number, 3)}]` : '');
    const seeds = typeof e.score.numSeeds === 'number' && e.score.numSeeds > 1 ? ` · mean of ${e.score.numSeeds} seeds, 95% CI over seeds` : '';
    kv(
      'Score',
      `transfer_acc ${fmtNum(e.score.transferAcc, 3)}${iv(e.score.transferAccCi)} · PGR ${e.score.pgr === null ? 'n/a' : fmtNum(e.score.pgr, 3)}${iv(e.score.pgrCi)} on ${oneLine(e.score.dataset, 200)}/${oneLine(e.score.split, 64)}${seeds}`,
    );
    kv('Evidence', e.score.verified ? `verified: evaluation call #${e.score.evalSeq} made by this run` : `unverified${typeof e.score.unverifiedReason === 'string' ? `: ${oneLine(e.score.unverifiedReason, 500)}` : ''}`);
    // the scorer and the baselines PGR is measured against are the hub's, never the repository's copies
    kv('Baselines', "the hub's fixed weak and strong baselines of this dataset: edits to the repository's copies of baselines or of the scorer change nothing that is verified");
  }
  // its replication on the fleet's hidden transfer task (humans only): each job's seed, end and transfer PGR
  const repl = e.replication;
  if (repl && repl.records.length) {
    const jobs = repl.records.map((j) => {
      const sc = repl.scores.find((q) => q.index === j.index && q.split === (e.score?.split ?? 'test'));
      return `job ${j.index} (seed ${j.seed}) ${j.endState ?? 'running'}${sc ? `, PGR ${sc.pgr === null ? 'n/a' : fmtNum(sc.pgr, 3)} on ${oneLine(sc.transferDataset, 100)}` : ''}${j.demotion ? `, ${oneLine(j.demotion, 200)}` : ''}`;
    });
    kv('Replication', `${repl.records.length} of ${repl.jobs} replication job(s) on the hidden transfer task: ${jobs.join('; ')}`);
  }
  const v = e.verification;
  if (v && (r || e.score)) kv('Result', `${v.status.replace('_', ' ')}${v.reasons.length ? `: ${oneLine(v.reasons.join('; '), 1000)}` : ''}`);
  if (e.acceptance) kv('Accepted', `by ${oneLine(e.acceptance.by.id, 64)} at ${fmtTime(e.acceptance.ts)}: ${oneLine(e.acceptance.reason, 1000)}${e.acceptance.falseAlarms.length ? ` · false alarms: ${e.acceptance.falseAlarms.map((f) => `${oneLine(f.kind, 64)} at ${oneLine(f.file, 300)}:${f.line}`).join(', ')}` : ''}`);
  const rep = r?.report;
  if (rep) kv('Sandbox', rep.sandbox === 'none' ? 'NONE: this run was not confined (runner "sandbox": "none")' : 'bubblewrap: worktree read-only, no fleet directory, no network but the run proxy');
  const results = r?.artifacts && Object.keys(r.artifacts).length ? plain(JSON.stringify(r.artifacts, null, 2), 20_000) : undefined;
  return h('div', { id: 'run' },
    h('dl', { class: 'kv' }, ...rows),
    v?.status === 'awaiting_acceptance' ? renderAcceptance(e) : null,
    rep ? renderRunReport(rep) : null,
    results ? h('details', null, h('summary', null, 'results.json (written by the job)'), h('pre', { class: 'command' }, results)) : null,
  );
}

/** Accept a flagged proposal's result after seeing it: what was checked, and which findings were false alarms. */
function renderAcceptance(e: Experiment): HTMLElement {
  const findings = (e.screening?.findings ?? []).filter((f) => f.kind !== 'capability' && SEV_ORDER.indexOf(f.severity) <= SEV_ORDER.indexOf('medium'));
  const boxes = findings.map((f) => {
    const box = h('input', { type: 'checkbox', class: 'false-alarm' }) as HTMLInputElement;
    return { f, box, row: h('li', null, h('label', null, box, ` ${f.severity} ${oneLine(f.kind, 64)} at ${oneLine(f.file, 300)}:${f.line} was a false alarm`)) };
  });
  const reason = h('vscode-textarea', { id: 'accept-reason', rows: 2, placeholder: 'What you checked in the result and the run (recorded in the ledger)' }) as HTMLElement & { value: string };
  const accept = async () => {
    if (busy) return;
    const why = String(reason.value ?? '').trim();
    if (!why) return showNotice('Say what you checked before accepting the result.', 'info');
    busy = true;
    try {
      const r = await rpc.request(AcceptResult, { experimentId: e.id, reason: why, falseAlarms: boxes.filter((b) => b.box.checked).map((b) => ({ kind: b.f.kind, file: b.f.file, line: b.f.line, why })) });
      showNotice(`${e.id}: result ${r.status.replace('_', ' ')}`, 'info');
    } catch (err) {
      showNotice(errorText(err), 'error');
    } finally {
      busy = false;
    }
  };
  return h('div', { id: 'acceptance', class: 'acceptance' },
    h('p', null, h('strong', null, 'Awaiting your acceptance'), ' — this proposal was flagged, so its result ranks as verified only after a human has seen it and accepts it.'),
    boxes.length ? h('ul', { class: 'findings' }, boxes.map((b) => b.row)) : null,
    reason,
    button('Accept result', () => void accept(), { id: 'accept-result' }),
  );
}

/** What the run tried that its rules forbid or its sandbox denied (runners/runReport.ts), violations first. */
function renderRunReport(rep: NonNullable<NonNullable<Experiment['run']>['report']>): HTMLElement {
  const items = Array.isArray((rep.report as { items?: unknown }).items) ? ((rep.report as { items: unknown[] }).items as Record<string, unknown>[]) : [];
  return h('div', { id: 'run-report', class: rep.violations > 0 || rep.sandbox === 'none' ? 'run-report violations' : 'run-report' },
    h('p', null, h('strong', null, rep.violations > 0 ? `Run report: ${rep.violations} violation(s)` : 'Run report'), ` — ${oneLine(rep.summary, 500)}`),
    items.length
      ? h('ul', { class: 'findings' }, items.slice(0, 200).map((it) =>
          h('li', { class: it.violation === true ? 'violation' : 'note' },
            h('strong', null, it.violation === true ? 'violation ' : 'note '),
            `[${oneLine(String(it.source ?? ''), 20)}] ${oneLine(String(it.kind ?? ''), 40)}${it.blocked === true ? ' (blocked)' : ''}: ${oneLine(String(it.detail ?? ''), 400)}${Number(it.count) > 1 ? ` ×${Number(it.count)}` : ''}`)))
      : null,
  );
}

function renderHistory(e: Experiment): HTMLElement {
  return h('ol', { class: 'history', id: 'history' }, e.history.map((it) =>
    h('li', null, h('span', { class: 'muted' }, `#${it.seq} ${fmtTime(it.ts)} `), h('strong', null, it.type.replace(/^experiment\./, '')), ` — ${oneLine(it.actor.id, 64)}: ${oneLine(it.summary, 500)}`),
  ));
}

function renderDecisionBar(reasonValue: string): HTMLElement {
  const open = undecided();
  const reason = h('vscode-textarea', {
    id: 'reason',
    rows: 2,
    placeholder: pending ? `Reason (required to ${pending === 'veto' ? 'veto' : 'request changes'}) — Ctrl+Enter to submit` : 'Reason / note (required for veto and request changes)',
    aria: { label: 'Reason' },
    disabled: !open || busy,
  }) as HTMLElement & { value: string };
  reason.value = reasonValue;
  reason.addEventListener('keydown', (ev: KeyboardEvent) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      void decide(pending ?? 'approve');
    } else if (ev.key === 'Escape') {
      pending = undefined;
      (ev.target as HTMLElement).blur();
    }
  });
  return h('footer', { class: 'decision' },
    reason,
    h('div', { class: 'buttons' },
      button('Approve (a)', () => void decide('approve'), { id: 'approve', disabled: !open || busy, title: 'Approve the pinned commit' }),
      button('Request changes (r)', () => void decide('requestChanges'), { id: 'request-changes', secondary: true, disabled: !open || busy }),
      button('Veto (v)', () => void decide('veto'), { id: 'veto', secondary: true, disabled: !open || busy }),
      !open ? h('span', { class: 'muted' }, `Decided: ${x().state.replace('_', ' ')}`) : null,
    ),
  );
}

/**
 * The queue list ends above the fixed decision bar, whatever the bar's height (it grows when its buttons wrap or
 * a note shows) and wherever the list starts (lower at the top of the page, or under a notice): its last row can
 * always be scrolled into view. The page's bottom padding leaves the bar's height free under the main column too.
 */
function fitQueue(): void {
  const nav = document.querySelector<HTMLElement>('.queue');
  if (!nav) return;
  const bar = document.querySelector<HTMLElement>('.decision');
  if (bar && bar !== observedBar) {
    // The bar is fixed (it does not resize the body) and grows once its elements render: watch it too.
    if (observedBar) fitObserver.unobserve(observedBar);
    fitObserver.observe((observedBar = bar));
  }
  const bottom = bar ? bar.getBoundingClientRect().top : window.innerHeight;
  const top = Math.max(nav.getBoundingClientRect().top, 8);
  nav.style.maxHeight = `${Math.max(96, Math.floor(bottom - top - 8))}px`;
  document.body.style.paddingBottom = `${(bar?.offsetHeight ?? 0) + 24}px`;
}
const fitObserver = new ResizeObserver(() => fitQueue());
let observedBar: HTMLElement | undefined;
fitObserver.observe(document.body);
window.addEventListener('resize', fitQueue);
window.addEventListener('scroll', fitQueue, { passive: true });

// ------------------------------------------------------------------ actions

function reasonEl(): (HTMLElement & { value: string }) | null {
  return document.getElementById('reason') as (HTMLElement & { value: string }) | null;
}

async function decide(decision: Decision): Promise<void> {
  if (!state || busy) return;
  if (!undecided()) return showNotice(`${x().id} is already ${x().state.replace('_', ' ')}`, 'error');
  const reason = reasonEl()?.value.trim() ?? '';
  if (decision !== 'approve' && !reason) {
    pending = decision;
    render(false);
    reasonEl()?.focus();
    return showNotice(`Type a reason, then press Ctrl+Enter to ${decision === 'veto' ? 'veto' : 'request changes'}.`, 'info');
  }
  const e = x();
  busy = true;
  try {
    const r = await rpc.request(Decide, { experimentId: e.id, decision, commit: e.commit, tree: e.tree, reason: reason || undefined });
    pending = undefined;
    const el = reasonEl();
    if (el) el.value = '';
    showNotice(`${e.id}: ${r.state.replace('_', ' ')}`, 'info');
    const next = neighbour(1, e.id) ?? neighbour(-1, e.id);
    if (next) await rpc.request(ShowExperiment, { experimentId: next });
  } catch (err) {
    showNotice(errorText(err), 'error');
  } finally {
    busy = false;
    if (state) render(false);
  }
}

function neighbour(dir: 1 | -1, from = x().id): string | undefined {
  const q = state?.queue ?? [];
  const i = q.findIndex((it) => it.id === from);
  if (i < 0) return q[0]?.id;
  return q[i + dir]?.id;
}

async function show(id: string): Promise<void> {
  try {
    await rpc.request(ShowExperiment, { experimentId: id });
  } catch (err) {
    showNotice(errorText(err), 'error');
  }
}

async function openDiff(experimentId: string, file: string, line: number): Promise<void> {
  try {
    await rpc.request(OpenDiff, { experimentId, file, line: Math.max(0, line) });
  } catch (err) {
    showNotice(errorText(err), 'error');
  }
}

function toggleSelect(id: string, on: boolean): void {
  if (on) selected.add(id);
  else selected.delete(id);
  render(false);
}

/** The selection a first "Approve selected" armed when some of it is above low risk (a second press approves). */
let batchArmed: string | undefined;

async function batchApprove(): Promise<void> {
  if (!state || busy || selected.size === 0) return;
  const chosen = state.queue.filter((q) => selected.has(q.id));
  // like the one-key approve: above low risk, a second press (the host skips high, critical and flagged ones)
  const medium = chosen.filter((q) => (q.risk ?? 'medium') === 'medium' && !q.gaming);
  const key = chosen.map((q) => `${q.id}@${q.commit}`).sort().join(',');
  if (medium.length && batchArmed !== key) {
    batchArmed = key;
    return showNotice(`${medium.length} of the selected ${medium.length === 1 ? 'is' : 'are'} medium risk (${medium.slice(0, 8).map((q) => q.id).join(', ')}${medium.length > 8 ? ', …' : ''}): press Approve selected again to approve ${chosen.length === 1 ? 'it' : 'them'}.`, 'info');
  }
  batchArmed = undefined;
  const items = chosen.map((q) => ({ experimentId: q.id, commit: q.commit, tree: q.tree }));
  busy = true;
  try {
    const { results } = await rpc.request(BatchApprove, { items });
    const failed = results.filter((r) => !r.ok);
    for (const r of results) if (r.ok) selected.delete(r.experimentId);
    showNotice(
      failed.length ? `Approved ${results.length - failed.length}; failed ${failed.length}: ${failed.map((f) => `${f.experimentId} (${f.error})`).join('; ')}` : `Approved ${results.length} experiments`,
      failed.length ? 'error' : 'info',
    );
  } catch (err) {
    showNotice(errorText(err), 'error');
  } finally {
    busy = false;
    render(false);
  }
}

// ------------------------------------------------------------------ keyboard triage

const RISK_SHORT: Record<string, string> = { low: 'LOW', medium: 'MED', high: 'HIGH', critical: 'CRIT' };
/** The experiment a first `a` armed (above low risk, a second `a` confirms). */
let armed: string | undefined;

/** `a`: approves a low-risk proposal at once; above low asks for a second `a`; never on critical. */
function oneKeyApprove(): void {
  if (!state) return;
  const e = x();
  const level = e.risk?.level ?? 'medium';
  if (level === 'critical') {
    armed = undefined;
    return showNotice(`${e.id} is critical risk: one-key approve is not available. Read the reasons, then use the Approve button.`, 'error');
  }
  if (level !== 'low' && armed !== e.id) {
    armed = e.id;
    return showNotice(`${e.id} is ${level} risk: press a again to approve it.`, 'info');
  }
  armed = undefined;
  void decide('approve');
}

function typing(ev: KeyboardEvent): boolean {
  for (const t of ev.composedPath()) {
    if (!(t instanceof HTMLElement)) continue;
    const tag = t.tagName;
    if (tag === 'INPUT' && (t as HTMLInputElement).type !== 'checkbox') return true;
    if (tag === 'TEXTAREA' || tag === 'VSCODE-TEXTAREA' || tag === 'VSCODE-TEXTFIELD' || t.isContentEditable) return true;
  }
  return false;
}

document.addEventListener('keydown', (ev) => {
  if (!state || ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev)) return;
  const key = ev.key;
  let handled = true;
  if (state.sweep && (key === 'a' || key === 'v' || key === 'r')) {
    // a sweep is decided with its buttons (one-key approve is for single proposals)
    if (key === 'a') showNotice('A sweep has no one-key approve: use "Approve sweep" (it names the members above low risk).', 'info');
    else void decideSweep(key === 'v' ? 'veto' : 'request_changes');
  } else if (key === 'a') oneKeyApprove();
  else if (key === 'v') void decide('veto');
  else if (key === 'r') void decide('requestChanges');
  else if (key === 'j') {
    const n = neighbour(1);
    if (n) void show(n);
  } else if (key === 'k') {
    const n = neighbour(-1);
    if (n) void show(n);
  } else if (key === 'x') {
    if (state.queue.some((q) => q.id === x().id)) toggleSelect(x().id, !selected.has(x().id));
  } else handled = false;
  if (handled) ev.preventDefault();
});
