// The agent side of hub-owned storage: a working copy cloned from the agent's hub repository over smart HTTP and
// pushed back before each proposal (used by the fleet runtime against a team hub). The token travels as an
// `http.extraHeader` of that one git process (never written to the repository's config or a URL on disk).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runGit } from './exec';

function authConfig(token: string): Record<string, string> {
  if (!/^[A-Za-z0-9._~+/=_-]{8,512}$/.test(token)) throw new Error('invalid token');
  return { 'http.extraHeader': `Authorization: Bearer ${token}` };
}

export function hubGitUrl(hubUrl: string, agentId: string): string {
  return `${hubUrl.replace(/\/+$/, '')}/git/${encodeURIComponent(agentId)}.git`;
}

const protocols = (url: string) => [url.startsWith('https:') ? ('https' as const) : ('http' as const)];

/** Clone the agent's hub repository into `dir` (or fetch into it if it is already a clone). */
export async function cloneFromHub(url: string, token: string, dir: string): Promise<void> {
  const o = { protocols: protocols(url), config: authConfig(token) };
  if (fs.existsSync(path.join(dir, '.git'))) {
    await runGit(dir, ['fetch', '-q', url, '+refs/heads/*:refs/remotes/hub/*'], o);
    return;
  }
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  await runGit(path.dirname(dir), ['clone', '-q', '--origin', 'hub', url, dir], o);
  await runGit(dir, ['config', 'user.name', 'overseer']);
  await runGit(dir, ['config', 'user.email', 'overseer@localhost']);
}

/** Push the current branch to the hub (force: the agent's branches are its own; reviewed commits are pinned). */
export async function pushToHub(url: string, token: string, dir: string): Promise<void> {
  const branch = (await runGit(dir, ['symbolic-ref', '--short', 'HEAD'])).trim();
  if (!/^[A-Za-z0-9._/-]{1,200}$/.test(branch)) throw new Error(`cannot push branch ${JSON.stringify(branch)}`);
  await runGit(dir, ['push', '-q', '--force', url, `HEAD:refs/heads/${branch}`], { protocols: protocols(url), config: authConfig(token) });
}
