// Agents view tree ids on a real git repository: branches forked from one another share commits, and every
// node reached by expanding every branch (commits, their changed files) has an id of its own. VS Code refuses
// a second node with an id already registered ("Element with id commit:… is already registered").
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { Sandbox } from '../../../src/git/sandbox';
import { agentTreeId, commitNodes, fileNodes, type AgentTreeNode } from '../../../src/host/trees/agentsModel';
import { tmpDir } from '../../support/tmp';

describe('Agents tree ids', function () {
  this.timeout(60_000);
  const tmp = tmpDir('overseer-agents-');
  after(() => tmp.cleanup());

  it('are unique per path when two branches share commits (every branch and commit expanded)', async () => {
    const sb = await Sandbox.init(path.join(tmp.dir, 'repo'), { branch: 'main', files: { 'train.py': 'lr = 0.1\n' }, message: 'baseline' });
    const base = await sb.head();
    await sb.g.raw(['checkout', '-q', '-b', 'exp/a']);
    const a1 = await sb.commitFiles({ 'train.py': 'lr = 0.2\n' }, 'lr 0.2');
    await sb.g.raw(['checkout', '-q', '-b', 'exp/b']);
    await sb.commitFiles({ 'eval.py': 'x = 1\n' }, 'add eval');
    const branches = await sb.branches();
    assert.deepEqual(branches.map((b) => b.name).sort(), ['exp/a', 'exp/b', 'main']);

    const ids = new Map<string, AgentTreeNode>();
    const shared: string[] = [];
    const add = (n: AgentTreeNode) => {
      const id = agentTreeId(n)!;
      assert.ok(!ids.has(id), `duplicate tree id ${id}: ${JSON.stringify(ids.get(id))} and ${JSON.stringify(n)}`);
      ids.set(id, n);
    };
    for (const b of branches) {
      const branch = { kind: 'branch' as const, agentId: 'agent-3', name: b.name, commit: b.commit };
      add(branch);
      for (const c of commitNodes(branch, await sb.log(b.commit, 30))) {
        add(c);
        if (c.commit.sha === base || c.commit.sha === a1) shared.push(agentTreeId(c)!);
        const parent = c.commit.parents[0];
        for (const f of fileNodes(c, await sb.changedFiles(parent, c.commit.sha), { parent })) add(f);
      }
    }
    // baseline is under all three branches, lr 0.2 under exp/a and exp/b: five nodes, five ids.
    assert.equal(shared.length, 5, shared.join(', '));
    assert.ok(shared.includes(`commit:agent-3:exp%2Fa:${base}`) && shared.includes(`commit:agent-3:main:${base}`), shared.join(', '));
    assert.equal(new Set([...ids.values()].filter((n) => n.kind === 'file' && n.commit === base).map((n) => agentTreeId(n))).size, 3, 'the baseline file under each branch');
  });

  it('encode agent-written names so no two paths run together', () => {
    const commit = { sha: 'a'.repeat(40), parents: [], author: 'x', date: '', subject: 's' };
    const one = agentTreeId({ kind: 'file', agentId: 'a', branch: 'b:c', commit: 'd', path: 'e', status: 'M' });
    const two = agentTreeId({ kind: 'file', agentId: 'a', branch: 'b', commit: 'c:d', path: 'e', status: 'M' });
    assert.notEqual(one, two);
    assert.equal(agentTreeId({ kind: 'commit', agentId: 'a', branch: 'x/y', commit }), `commit:a:x%2Fy:${'a'.repeat(40)}`);
    assert.equal(agentTreeId({ kind: 'message', text: 'm' }), undefined);
  });
});
