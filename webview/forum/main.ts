// Forum webview: agent findings (self-reported unless verified), votes, comments, human verdicts.
import '../common/elements';
import { connect, errorText, showNotice } from '../common/ipc';
import { button, h, replace } from '../common/dom';
import { markdownElement } from '../common/sanitize';
import { nameBadgeEl } from '../common/names';
import { fmtNum, fmtPct, fmtTime, oneLine, plain } from '../common/text';
import { AddComment, FORUM_SORTS, FORUM_SURFACE, ForumStateNote, SelectThread, SetSort, SetVerdict, VERDICTS, Vote, type ForumState } from '../../src/shared/forumProtocol';
import type { AarFinding, FindingDetail } from '../../src/hub/api';

const { rpc } = connect(FORUM_SURFACE);
const app = document.getElementById('app')!;
let state: ForumState | undefined;

rpc.onNotification(ForumStateNote, (s) => {
  state = s;
  render();
});

async function call<T>(p: Promise<T>, ok?: string): Promise<T | undefined> {
  try {
    const r = await p;
    if (ok) showNotice(ok, 'info');
    return r;
  } catch (err) {
    showNotice(errorText(err), 'error');
    return undefined;
  }
}

function verdictBadge(f: AarFinding): HTMLElement | null {
  if (!f.human_verdict) return h('span', { class: 'self-reported', title: 'metrics are self-reported by the agent until a human verifies them' }, 'self-reported');
  return h('span', { class: `verdict verdict-${f.human_verdict}` }, f.human_verdict);
}

function metrics(f: AarFinding): string {
  const parts: string[] = [];
  if (f.pgr !== null) parts.push(`PGR ${fmtNum(f.pgr, 3)}`);
  if (f.transfer_acc !== null) parts.push(`acc ${fmtPct(f.transfer_acc)}`);
  if (f.num_seeds !== null) parts.push(`${f.num_seeds} seeds`);
  if (f.worked !== null) parts.push(f.worked ? 'worked' : 'did not work');
  return parts.join(' · ');
}

function render(): void {
  const s = state!;
  app.setAttribute('aria-busy', 'false');
  const selId = s.selected?.id;
  replace(
    app,
    h('div', { class: 'toolbar' },
      h('h1', null, 'Forum'),
      h('span', { class: 'muted' }, `${s.total} findings · sort:`),
      FORUM_SORTS.map((o) => h('button', { class: `link${o === s.sort ? ' active' : ''}`, aria: { pressed: String(o === s.sort) }, on: { click: () => void call(rpc.request(SetSort, { sort: o })) } }, o)),
    ),
    s.warnings.length ? h('div', { class: 'warnings' }, s.warnings.map((w) => h('div', null, oneLine(w, 500)))) : null,
    h('div', { class: 'forum' },
      h('ul', { class: 'threads', id: 'threads', aria: { label: 'Threads' } }, s.threads.map((f) =>
        h('li', { class: `thread${f.id === selId ? ' current' : ''}`, dataset: { id: f.id } },
          h('div', { class: 'row' },
            h('span', { class: 'score', title: `${f.upvotes} up, ${f.downvotes} down` }, String(f.score)),
            h('button', { class: 'link', on: { click: () => void call(rpc.request(SelectThread, { postId: f.id })) } }, oneLine(f.title, 200)),
            nameBadgeEl(f.title, 'title'),
            verdictBadge(f),
          ),
          h('div', { class: 'muted' }, `${oneLine(f.author, 64)} · ${oneLine(f.finding_type, 40)} · ${f.num_comments} comments · ${fmtTime(f.created_at)}`),
          metrics(f) ? h('div', { class: 'muted' }, metrics(f)) : null,
        ),
      )),
      s.selected ? renderThread(s.selected) : h('p', { class: 'muted' }, s.threads.length ? 'Select a thread.' : 'No findings yet.'),
    ),
  );
}

function renderThread(f: FindingDetail): HTMLElement {
  const comment = h('vscode-textarea', { id: 'comment', rows: 3, placeholder: 'Comment (markdown)', aria: { label: 'Comment' } }) as HTMLElement & { value: string };
  const note = h('vscode-textfield', { id: 'verdict-note', placeholder: 'Verdict note (optional)', aria: { label: 'Verdict note' } }) as HTMLElement & { value: string };
  return h('article', { class: 'card', id: 'thread' },
    h('h2', null, oneLine(f.title, 300), ' ', nameBadgeEl(f.title, 'title'), ' ', verdictBadge(f)),
    h('div', { class: 'muted' },
      `${f.author_kind} ${oneLine(f.author, 64)} · ${oneLine(f.finding_type, 40)}${f.idea_name ? ` · idea ${oneLine(f.idea_name, 100)}` : ''}${f.commit_id ? ` · commit ${oneLine(f.commit_id, 40).slice(0, 12)}` : ''} · ${fmtTime(f.created_at)}`),
    metrics(f) ? h('p', null, metrics(f), f.self_reported ? h('span', { class: 'muted' }, ' (self-reported)') : null) : null,
    markdownElement(f.summary, f.author_kind === 'human' ? { human: true } : { author: f.author }),
    f.human_verdict_note ? h('p', { class: 'muted' }, `Verdict note: ${plain(f.human_verdict_note, 2000)}`) : null,
    h('div', { class: 'row' },
      button(`▲ ${f.upvotes}`, () => void call(rpc.request(Vote, { postId: f.id, vote: 'up' })), { id: 'vote-up', secondary: true, title: 'Upvote' }),
      button(`▼ ${f.downvotes}`, () => void call(rpc.request(Vote, { postId: f.id, vote: 'down' })), { id: 'vote-down', secondary: true, title: 'Downvote' }),
      h('span', { class: 'muted' }, `score ${f.score}`),
    ),
    h('div', { class: 'row' },
      h('span', null, 'Human verdict:'),
      VERDICTS.map((v) => button(v, () => void call(rpc.request(SetVerdict, { postId: f.id, verdict: v, note: note.value.trim() || undefined }), `${f.id} marked ${v}`), { id: `verdict-${v}`, secondary: f.human_verdict !== v })),
      note,
    ),
    h('h2', null, `Comments (${f.comments.length})`),
    h('ul', { class: 'comments', id: 'forum-comments' }, f.comments.map((c) =>
      h('li', null, h('div', { class: 'muted' }, `${c.author_kind} ${oneLine(c.author, 64)} · ${fmtTime(c.created_at)}`), markdownElement(c.content, c.author_kind === 'human' ? { human: true } : { author: c.author })),
    )),
    comment,
    h('div', { class: 'row' },
      button('Comment', async () => {
        const content = comment.value.trim();
        if (!content) return showNotice('Comment is empty', 'error');
        if ((await call(rpc.request(AddComment, { postId: f.id, content }), 'Comment posted')) !== undefined) comment.value = '';
      }, { id: 'post-comment' }),
    ),
  );
}
