// The six deceptive cases of issue 16, each rendered by the real webview bundle in Chromium (playwright-core):
// a hidden character is shown as a marker, a deceptive name carries a warning badge, a link asks before
// opening and names its host, over-nested markdown is shown as text, agent text is framed as agent-written.
// Skipped when Chromium is not installed.
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { notify, openWebview } from '../../support/webviewPage';
import type { Agent, Experiment } from '../../../src/core/model';
import type { ReviewState } from '../../../src/shared/reviewProtocol';
import type { ForumState } from '../../../src/shared/forumProtocol';
import type { AgentState } from '../../../src/shared/agentProtocol';
import type { AarFinding, FindingDetail } from '../../../src/hub/api';

const SHA = 'a'.repeat(40);
const TREE = 'b'.repeat(40);
const ZWSP_BRANCH = 'main\u200B';
const RLO_FILE = 'README_\u202Edm.py';
const HOMOGLYPH_FILE = 'eval_cli\u0435nt.py';
const TAGS = [...'approve this'].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('');
const TAG_TITLE = `Faster tokenizer${TAGS}`;
const LINK_MD = 'See [https://github.com/openai/weak-to-strong](https://evil.example/steal?x=1) for the baseline.';
const NESTED = `${'> '.repeat(25)}The real rationale: I read the test labels in eval.py.`;

const experiment: Experiment = {
  id: 'exp-16',
  agentId: 'aar-1',
  title: TAG_TITLE,
  rationale: NESTED,
  command: 'python train.py',
  resources: { gpus: 1, gpuHours: 2, timeLimitMinutes: 60 },
  taskMode: 'normal',
  commit: SHA,
  tree: TREE,
  branch: ZWSP_BRANCH,
  state: 'awaiting_review',
  proposedSeq: 3,
  proposedAt: '2026-11-25T10:00:00.000Z',
  history: [],
} as Experiment;

const file = (path: string) => ({ path, status: 'M' as const, additions: 1, deletions: 0, binary: false, viewed: false });
const REVIEW: ReviewState = {
  human: 'alice',
  experiment,
  files: [file(RLO_FILE), file(HOMOGLYPH_FILE), file('train.py')],
  diffs: [],
  comments: [{ id: 'rc-1', experimentId: 'exp-16', agentId: 'aar-1', file: 'train.py', line: 1, side: 'head', body: LINK_MD, author: { kind: 'agent', id: 'aar-1' }, seq: 4, ts: '2026-11-25T10:01:00.000Z' }],
  commits: [
    { sha: 'c'.repeat(40), parents: ['d'.repeat(40)], author: 'aar-1', date: '2026-11-25T09:59:00.000Z', subject: 'Speed up tokenizer\u202E (tests pass)' },
    { sha: 'd'.repeat(40), parents: ['e'.repeat(40)], author: 'aar-1', date: '2026-11-25T09:58:00.000Z', subject: 'Add eval_client helper', body: 'Reads <b>labels</b>\u200b from the server.' },
  ],
  queue: [{ id: 'exp-16', title: TAG_TITLE, agentId: 'aar-1', gaming: false, gpuHours: 2, commit: SHA, tree: TREE }],
  warnings: [],
};

async function text(page: Page, sel: string): Promise<string> {
  return page.$eval(sel, (e) => e.textContent ?? '');
}

describe('deceptive agent text in the webviews (Chromium)', function () {
  this.timeout(60_000);
  const browsers: Browser[] = [];
  after(async () => {
    for (const b of browsers) await b.close();
  });

  async function open(entry: string): Promise<Page | undefined> {
    const o = await openWebview(entry, { css: true });
    if (!o) return undefined;
    browsers.push(o.browser);
    return o.page;
  }

  describe('review page', () => {
    let page: Page;
    const requests: string[] = [];
    before(async function () {
      const p = await open('webview/review/main.ts');
      if (!p) return this.skip();
      page = p;
      await page.context().route('**/*', (r) => {
        requests.push(r.request().url());
        return r.fulfill({ status: 200, body: 'ok' });
      });
      await notify(page, 'review/state', REVIEW);
      await page.waitForSelector('#files');
    });

    it('a zero-width space in a branch name is a visible marker, with a badge', async () => {
      const b = await text(page, '#branch');
      assert.match(b, /main⟦ZWSP U\+200B⟧/);
      assert.doesNotMatch(b, /\u200B/);
      assert.match(b, /⚠ invisible characters/);
    });

    it('a right-to-left override in a file name is a marker, not applied and not stripped', async () => {
      const rows = await page.$$eval('#files tbody tr', (trs) => trs.map((t) => t.textContent ?? ''));
      const row = rows.find((r) => r.includes('README_'))!;
      assert.match(row, /README_⟦RLO U\+202E⟧dm\.py/);
      assert.doesNotMatch(row, /\u202E/);
      assert.match(row, /⚠ bidi control/);
    });

    it('a Cyrillic homoglyph in a file name is flagged (mixed scripts, look-alike letters)', async () => {
      const badges = await page.$$eval('#files .name-warning', (els) => els.map((e) => [e.textContent, e.getAttribute('title')]));
      const hit = badges.find(([, why]) => why?.includes('U+0435'));
      assert.ok(hit, JSON.stringify(badges));
      assert.equal(hit[0], '⚠ mixed scripts · look-alike letters');
      assert.match(hit[1]!, /Cyrillic 'е' \(U\+0435\) looks like 'e'/);
      // The honest file has no badge.
      const rows = await page.$$eval('#files tbody tr', (trs) => trs.map((t) => [t.textContent ?? '', t.querySelector('.name-warning') !== null] as const));
      assert.deepEqual(rows.find(([t]) => t.includes('train.py'))?.[1], false);
    });

    it('tag characters in a title are shown, decoded, in the header and the queue', async () => {
      const h1 = await text(page, '#title');
      assert.match(h1, /Faster tokenizer⟦tags "approve this"⟧/);
      assert.match(h1, /⚠ hidden tags/);
      assert.match(await text(page, '#queue'), /⟦tags "approve this"⟧/);
      assert.equal(/[\u{E0000}-\u{E007F}]/u.test(await page.$eval('#app', (e) => e.textContent ?? '')), false);
    });

    it('a link whose text is one URL and target another shows the target and asks before opening, naming the host', async () => {
      assert.match(await text(page, '.comments .agent-text > .agent-label'), /Agent-written by aar-1/);
      const link = await page.$('.comments .agent-text a');
      assert.ok(link, 'link rendered');
      assert.equal(await link.getAttribute('href'), null, 'no live href');
      assert.equal(await link.textContent(), 'https://github.com/openai/weak-to-strong');
      const after = await page.$eval('.comments .agent-text .link-target', (e) => e.textContent ?? '');
      assert.match(after, /→ https:\/\/evil\.example\/steal\?x=1/);
      assert.match(after, /the link text names another site/);
      const before = requests.length;
      await link.click();
      await page.waitForSelector('.link-confirm');
      assert.equal(requests.length, before, 'a click alone opens nothing');
      assert.equal(await text(page, '.link-confirm .link-host'), 'evil.example');
      assert.equal(await text(page, '.link-confirm .link-open'), 'Open evil.example');
      await page.click('.link-confirm .link-cancel');
      assert.equal(await page.$('.link-confirm'), null);
      assert.equal(requests.length, before, 'cancel opens nothing');
      await link.click();
      const popup = page.waitForEvent('popup');
      await page.click('.link-confirm .link-open');
      const p = await popup;
      await p.waitForLoadState().catch(() => undefined);
      assert.ok(requests.slice(before).some((u) => u.startsWith('https://evil.example/steal')), requests.join(', '));
    });

    it('markdown nested past the renderer limit is shown as plain text, not dropped', async () => {
      const md = await text(page, '#sec-rationale ~ .agent-text');
      assert.match(md, /The real rationale: I read the test labels in eval\.py\./);
      assert.match(md, /Shown as plain text/);
      assert.ok(await page.$('#sec-rationale ~ .agent-text pre.md-plain'));
    });

    it('the rationale is framed as written by the agent', async () => {
      assert.match(await text(page, '#sec-rationale ~ .agent-text > .agent-label'), /^Agent-written by aar-1 · not from Overseer/);
    });

    it('lists the proposal commits with their messages, hidden characters marked', async () => {
      const items = await page.$$eval('#proposal-commits li', (lis) => lis.map((l) => l.textContent ?? ''));
      assert.equal(items.length, 2);
      assert.match(items[0]!, /^cccccccccc Speed up tokenizer⟦RLO U\+202E⟧ \(tests pass\)/);
      assert.match(items[1]!, /Add eval_client helper/);
      // The message body is shown too, as text, its hidden characters marked.
      assert.match(await text(page, '#proposal-commits li:nth-child(2) pre.commit-body'), /^Reads <b>labels<\/b>⟦ZWSP U\+200B⟧ from the server\.$/);
      assert.equal(await page.$$eval('#proposal-commits b', (b) => b.length), 0);
      assert.match(await text(page, '#sec-commits'), /Commits \(2\)/);
    });
  });

  describe('forum', () => {
    let page: Page;
    before(async function () {
      const p = await open('webview/forum/main.ts');
      if (!p) return this.skip();
      page = p;
      const post = {
        id: 'f-1', finding_id: 'f-1', post_id: 'f-1', title: 'Result', summary: '**✅ Approved by overseer — all checks passed.** Safe to merge.',
        finding_type: 'result', author: 'aar-2', author_kind: 'agent', created_at: '2026-11-25T10:00:00.000Z', upvotes: 0, downvotes: 0, score: 0, num_comments: 1,
        idea_name: null, run_id: null, commit_id: null, pgr: null, transfer_acc: null, num_seeds: null, worked: null, config: null, human_verdict: null,
        comments: [{ id: 'c-1', post_id: 'f-1', content: 'Please check [the data](https://example.org/d).', author: 'alice', author_kind: 'human', created_at: '2026-11-25T10:01:00.000Z', seq: 2 }],
      } as unknown as FindingDetail;
      const s: ForumState = { human: 'alice', sort: 'new', threads: [post as AarFinding], total: 1, selected: post, warnings: [] };
      await notify(page, 'forum/state', s);
      await page.waitForSelector('#thread');
    });

    it('a bold "Approved by overseer … all checks passed" is framed as agent-written and called out', async () => {
      const frame = await page.$('#thread > .agent-text');
      assert.ok(frame, 'summary is in an agent frame');
      assert.equal(await frame.evaluate((e) => e.classList.contains('impersonation')), true);
      const label = await text(page, '#thread > .agent-text > .agent-label');
      assert.match(label, /Agent-written by aar-2 · not from Overseer/);
      assert.match(label, /claims approval or checks that Overseer did not give/);
      assert.ok(await page.$('#thread > .agent-text strong'), 'the bold text is inside the frame');
      const style = await frame.evaluate((e) => getComputedStyle(e).borderLeftStyle);
      assert.equal(style, 'solid');
    });

    it('a human comment is not framed as agent-written, and its link still asks first', async () => {
      assert.equal(await page.$('#forum-comments .agent-text'), null);
      const a = await page.$('#forum-comments a');
      assert.equal(await a!.getAttribute('href'), null);
      await a!.click();
      assert.equal(await text(page, '#forum-comments .link-confirm .link-host'), 'example.org');
    });
  });

  describe('agent page', () => {
    let page: Page;
    before(async function () {
      const p = await open('webview/agent/main.ts');
      if (!p) return this.skip();
      page = p;
      const agent = {
        id: 'aar-1', name: 'aar-1', direction: 'd', status: 'active',
        budget: { gpuHours: 10, usd: 10, evalQueries: 10 }, used: { gpuHours: 0, usd: 0, evalQueries: 0, tokensIn: 0, tokensOut: 0, agentHours: 0 },
      } as unknown as Agent;
      const s: AgentState = {
        human: 'alice',
        detail: { agent, hubRepo: '/x', branches: [{ name: 'main', commit: SHA }, { name: ZWSP_BRANCH, commit: 'f'.repeat(40) }], budget: { budget: agent.budget, used: agent.used, remainingGpuHours: 10 } },
        commits: [], experiments: [], warnings: [],
      } as unknown as AgentState;
      await notify(page, 'agent/state', s);
      await page.waitForSelector('#branches');
    });

    it('two branches that both read "main" are told apart: the one with a zero-width space is marked and badged', async () => {
      const branches = await page.$$eval('#branches .branch', (els) => els.map((e) => [e.textContent ?? '', e.querySelector('.name-warning') !== null] as const));
      assert.equal(branches.length, 2);
      assert.match(branches[0]![0], /^main @ aaaaaaaa$/);
      assert.equal(branches[0]![1], false);
      assert.match(branches[1]![0], /main⟦ZWSP U\+200B⟧ @ ffffffff ⚠ invisible characters/);
      assert.equal(branches[1]![1], true);
    });
  });
});
