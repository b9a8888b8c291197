// The Agents view's nodes and their tree ids, pure (no vscode) so they can be unit-tested under plain mocha.
// A tree id must be unique in the whole view: one commit is reached under every branch that contains it (two
// branches forked from main share main's commits), so commit and file ids carry the path that reached them
// (agent, branch, commit[, file]), never the SHA alone.
import type { Agent } from '../../core/model';
import type { CommitInfo } from '../../hub/api';

export type AgentTreeNode =
  | { kind: 'agent'; agentId: string }
  | { kind: 'info'; agentId: string; field: 'direction' | 'status' | 'budget' }
  | { kind: 'repo'; agentId: string }
  | { kind: 'branch'; agentId: string; name: string; commit: string; lookalikes?: string[] }
  | { kind: 'commit'; agentId: string; branch: string; commit: CommitInfo }
  | { kind: 'file'; agentId: string; branch: string; commit: string; parent?: string; path: string; status: string; experimentId?: string }
  | { kind: 'message'; text: string };

export function budgetLine(a: Pick<Agent, 'budget' | 'used'>): string {
  const pct = a.budget.gpuHours > 0 ? Math.round((100 * a.used.gpuHours) / a.budget.gpuHours) : 0;
  return `${fmt(a.used.gpuHours)}/${fmt(a.budget.gpuHours)} GPU-h (${pct}%) · $${fmt(a.used.usd)}/$${fmt(a.budget.usd)} · ${a.used.evalQueries}/${a.budget.evalQueries} evals`;
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

/** One segment of a tree id: agent-written names (branches, paths) may hold `:`, so each is encoded. */
const seg = (s: string) => encodeURIComponent(s);

/** The tree id of a node, unique per path (agent, branch, commit, file); undefined for messages (VS Code assigns one). */
export function agentTreeId(node: AgentTreeNode): string | undefined {
  switch (node.kind) {
    case 'agent':
      return `agent:${seg(node.agentId)}`;
    case 'info':
      return `info:${seg(node.agentId)}:${node.field}`;
    case 'repo':
      return `repo:${seg(node.agentId)}`;
    case 'branch':
      return `branch:${seg(node.agentId)}:${seg(node.name)}`;
    case 'commit':
      return `commit:${seg(node.agentId)}:${seg(node.branch)}:${node.commit.sha}`;
    case 'file':
      return `cfile:${seg(node.agentId)}:${seg(node.branch)}:${node.commit}:${seg(node.path)}`;
    default:
      return undefined;
  }
}

/** The commit nodes under a branch (the hub's log from the branch tip). */
export function commitNodes(branch: AgentTreeNode & { kind: 'branch' }, commits: readonly CommitInfo[]): (AgentTreeNode & { kind: 'commit' })[] {
  return commits.map((c) => ({ kind: 'commit', agentId: branch.agentId, branch: branch.name, commit: c }));
}

/** The file nodes under a commit node, from the files a proposal pinned to it or the sandbox diff changed. */
export function fileNodes(
  c: AgentTreeNode & { kind: 'commit' },
  files: readonly { path: string; status: string }[],
  via: { experimentId: string } | { parent: string | undefined },
): (AgentTreeNode & { kind: 'file' })[] {
  return files.map((f) => ({ kind: 'file', agentId: c.agentId, branch: c.branch, commit: c.commit.sha, path: f.path, status: f.status, ...via }));
}
