// Webview hosts: registers the four panels' commands. Engineer A calls registerWebviews(context, conn)
// from activate(). Command args accept an id string or a tree item carrying the id.
import * as vscode from 'vscode';
import { AgentPanel } from './agentPanel';
import { ForumPanel } from './forumPanel';
import { LeaderboardPanel } from './leaderboardPanel';
import type { WebviewConnection } from './panel';
import { ReviewPanel } from './reviewPanel';
import { pickText, plain, plainName } from '../text';

export { html } from './panel';
export type { WebviewConnection } from './panel';

export const WEBVIEW_COMMANDS = ['overseer.openReview', 'overseer.openForum', 'overseer.openAgent', 'overseer.openLeaderboard'] as const;

/** Open panels, for tests and for other host code (e.g. to know what is under review). */
export interface WebviewHosts extends vscode.Disposable {
  readonly review: ReviewPanel | undefined;
  readonly forum: ForumPanel | undefined;
  readonly leaderboard: LeaderboardPanel | undefined;
  agent(agentId: string): AgentPanel | undefined;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Accept `"exp-3"`, `{experimentId: "exp-3"}` (tree items), or `{id: "exp-3"}`. */
export function idArg(arg: unknown, key: string): string | undefined {
  let v: unknown = arg;
  if (arg && typeof arg === 'object') {
    const o = arg as Record<string, unknown>;
    v = o[key] ?? (o.experiment as Record<string, unknown> | undefined)?.id ?? (o.agent as Record<string, unknown> | undefined)?.id ?? o.id;
  }
  return typeof v === 'string' && ID.test(v) ? v : undefined;
}

export function registerWebviews(context: vscode.ExtensionContext, conn: WebviewConnection): WebviewHosts {
  const extensionUri = context.extensionUri;
  let review: ReviewPanel | undefined;
  let forum: ForumPanel | undefined;
  let leaderboard: LeaderboardPanel | undefined;
  const agents = new Map<string, AgentPanel>();

  async function pick(kind: 'experiment' | 'agent'): Promise<string | undefined> {
    const client = await conn.ready;
    if (kind === 'experiment') {
      const { experiments } = await client.listExperiments();
      const items = experiments
        .sort((a, b) => b.proposedSeq - a.proposedSeq)
        .map((x) => ({ label: x.id, description: pickText(plainName(x.title, 'title', 200)), detail: pickText(`${plain(x.agentId, 64)} · ${x.state}`) }));
      return (await vscode.window.showQuickPick(items, { placeHolder: 'Experiment to review', matchOnDescription: true }))?.label;
    }
    const { agents: list } = await client.agents();
    const items = list.map((a) => ({ label: a.id, description: pickText(plainName(a.name, 'agent', 200)), detail: pickText(a.direction.split('\n')[0] ?? '', 200) }));
    return (await vscode.window.showQuickPick(items, { placeHolder: 'Agent', matchOnDescription: true }))?.label;
  }

  const openReview = async (arg?: unknown): Promise<ReviewPanel | undefined> => {
    const experimentId = idArg(arg, 'experimentId') ?? (await pick('experiment'));
    if (!experimentId) return undefined;
    if (review) {
      review.show(experimentId);
      review.reveal();
    } else {
      const p = new ReviewPanel(extensionUri, conn, experimentId);
      review = p;
      p.onDidDispose(() => {
        if (review === p) review = undefined;
      });
    }
    return review;
  };

  const openForum = async (arg?: unknown): Promise<ForumPanel> => {
    const postId = idArg(arg, 'postId');
    if (!forum) {
      const p = new ForumPanel(extensionUri, conn);
      forum = p;
      p.onDidDispose(() => {
        if (forum === p) forum = undefined;
      });
    } else forum.reveal();
    if (postId) forum.select(postId);
    return forum;
  };

  const openAgent = async (arg?: unknown): Promise<AgentPanel | undefined> => {
    const agentId = idArg(arg, 'agentId') ?? (await pick('agent'));
    if (!agentId) return undefined;
    let p = agents.get(agentId);
    if (p) p.reveal();
    else {
      const np = new AgentPanel(extensionUri, conn, agentId);
      agents.set(agentId, np);
      np.onDidDispose(() => agents.delete(agentId));
      p = np;
    }
    return p;
  };

  const openLeaderboard = async (): Promise<LeaderboardPanel> => {
    if (!leaderboard) {
      const p = new LeaderboardPanel(extensionUri, conn);
      leaderboard = p;
      p.onDidDispose(() => {
        if (leaderboard === p) leaderboard = undefined;
      });
    } else leaderboard.reveal();
    return leaderboard;
  };

  const guard =
    <A extends unknown[], R>(fn: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R | undefined> => {
      try {
        return await fn(...a);
      } catch (err) {
        void vscode.window.showErrorMessage(`Overseer: ${(err as Error).message}`);
        return undefined;
      }
    };

  const hosts: WebviewHosts = {
    get review() {
      return review;
    },
    get forum() {
      return forum;
    },
    get leaderboard() {
      return leaderboard;
    },
    agent: (id) => agents.get(id),
    dispose() {
      review?.dispose();
      forum?.dispose();
      leaderboard?.dispose();
      for (const p of [...agents.values()]) p.dispose();
    },
  };
  context.subscriptions.push(
    vscode.commands.registerCommand('overseer.openReview', guard(openReview)),
    vscode.commands.registerCommand('overseer.openForum', guard(openForum)),
    vscode.commands.registerCommand('overseer.openAgent', guard(openAgent)),
    vscode.commands.registerCommand('overseer.openLeaderboard', guard(openLeaderboard)),
    hosts,
  );
  return hosts;
}
