// Terminal control sequences in agent text, rendered by the real review and forum bundles in Chromium
// (playwright-core): each OSC 8 link, OSC 52 clipboard write, title change, cursor move and CR overwrite is a
// marker saying what it would have done (src/shared/textSafety.ts terminalMarkers) in the title, the queue, a
// commit subject and body, the command and the rationale (the run's results.json is shown as escaped JSON); a hidden link target is never a
// live link. Skipped when Chromium is not installed.
import assert from 'node:assert/strict';
import { notify, webviewSuite } from '../../support/webviewPage';
import { HIDDEN_LINK, TERMINAL_CORPUS } from '../../support/terminalCorpus';
import type { Experiment } from '../../../src/core/model';
import type { ReviewState } from '../../../src/shared/reviewProtocol';
import type { ForumState } from '../../../src/shared/forumProtocol';
import type { AarFinding, FindingDetail } from '../../../src/hub/api';

const SHA = 'a'.repeat(40);
const TREE = 'b'.repeat(40);
const RAW_CONTROLS = /[\u001b\u0007\u009b\u009c\u009d\r]/;

function state(raw: string, n: number): ReviewState {
  const experiment = {
    id: `exp-${n}`,
    agentId: 'aar-1',
    title: `T ${raw}`,
    rationale: `R ${raw}`,
    command: `python train.py ${raw}`,
    resources: { gpus: 1, gpuHours: 2, timeLimitMinutes: 60 },
    taskMode: 'normal',
    commit: SHA,
    tree: TREE,
    state: 'awaiting_review',
    proposedSeq: 3,
    proposedAt: '2026-11-25T10:00:00.000Z',
    history: [],
  } as unknown as Experiment;
  return {
    human: 'alice',
    experiment,
    files: [],
    diffs: [],
    comments: [],
    commits: [{ sha: 'c'.repeat(40), parents: [SHA], author: 'aar-1', date: '2026-11-25T09:59:00.000Z', subject: `S ${raw}`, body: `B ${raw}` }],
    queue: [{ id: `exp-${n}`, title: `T ${raw}`, agentId: 'aar-1', gaming: false, gpuHours: 2, commit: SHA, tree: TREE }],
    warnings: [],
  };
}

describe('terminal control sequences in the webviews (Chromium)', function () {
  this.timeout(60_000);

  describe('review page', () => {
    const page = webviewSuite('webview/review/main.ts', { css: true });

    TERMINAL_CORPUS.forEach((c, n) => {
      it(c.what, async () => {
        const p = page();
        await notify(p, 'review/state', state(c.raw, n));
        await p.locator('#title', { hasText: `T ${c.shown.slice(0, 12)}` }).waitFor();
        const t = (sel: string) => p.$eval(sel, (e) => e.textContent ?? '');
        const fields: [string, string][] = [
          ['title', await t('#title')],
          ['queue', await t('#queue')],
          ['commit subject', await t('#proposal-commits .subject')],
          ['commit body', await t('#proposal-commits pre.commit-body')],
          ['command', await t('#command')],
        ];
        for (const [where, text] of fields) {
          assert.ok(text.includes(c.shown), `${where}: ${JSON.stringify(text)} shows ${JSON.stringify(c.shown)}`);
          assert.doesNotMatch(text, RAW_CONTROLS, `${where}: no raw control`);
          if (c.absent) assert.doesNotMatch(text, c.absent, `${where}: the hidden target is not shown as a URL`);
        }
        // The rationale goes through markdown: the marker is there as text.
        const rationale = await t('#sec-rationale ~ .agent-text');
        const marker = /⟦[^⟧]+⟧/.exec(c.shown)![0];
        assert.ok(rationale.includes(marker), `rationale: ${JSON.stringify(rationale)} shows ${marker}`);
        assert.doesNotMatch(await p.$eval('#app', (e) => e.textContent ?? ''), RAW_CONTROLS);
        // No link anywhere points at what the agent hid.
        const hrefs = await p.$$eval('#app a[href]', (as) => as.map((a) => a.getAttribute('href') ?? ''));
        assert.deepEqual(hrefs.filter((h) => /evil|javascript:/i.test(h)), []);
      });
    });

    it('a hidden link in the rationale is not a link at all: the visible URL and the target host are text', async () => {
      const p = page();
      await notify(p, 'review/state', state(HIDDEN_LINK, 99));
      await p.locator('#title', { hasText: '⟦link → evil.example⟧' }).waitFor();
      const anchors = await p.$$eval('#sec-rationale ~ .agent-text a', (as) => as.map((a) => a.textContent));
      assert.deepEqual(anchors, []);
    });
  });

  describe('forum', () => {
    const page = webviewSuite('webview/forum/main.ts', { css: true });

    it('a post whose title and summary hide a link and a title change shows both markers', async () => {
      const p = page();
      const raw = `${HIDDEN_LINK} \u001b]0;Approved\u0007\rdone`;
      const post = {
        id: 'f-1', finding_id: 'f-1', post_id: 'f-1', title: `Result ${raw}`, summary: raw,
        finding_type: 'result', author: 'aar-2', author_kind: 'agent', created_at: '2026-11-25T10:00:00.000Z', upvotes: 0, downvotes: 0, score: 0, num_comments: 0,
        idea_name: null, run_id: null, commit_id: null, pgr: null, transfer_acc: null, num_seeds: null, worked: null, config: null, human_verdict: null, comments: [],
      } as unknown as FindingDetail;
      const s: ForumState = { human: 'alice', sort: 'new', threads: [post as AarFinding], total: 1, selected: post, warnings: [] };
      await notify(p, 'forum/state', s);
      await p.waitForSelector('#thread');
      const thread = await p.$eval('#thread', (e) => e.textContent ?? '');
      const list = await p.$eval('#threads', (e) => e.textContent ?? '');
      for (const text of [thread, list]) {
        assert.ok(text.includes('⟦link → evil.example⟧https://docs.example/guide⟦/link⟧ ⟦title: Approved⟧⟦CR⟧done'), text);
        assert.doesNotMatch(text, RAW_CONTROLS);
      }
      assert.deepEqual(await p.$$eval('#app a', (as) => as.map((a) => a.textContent)), []);
    });
  });
});
