import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Sandbox } from '../../../src/git/sandbox';
import { WorktreeError, prepareWorktree, removeWorktree, verifyWorktree } from '../../../src/runners/worktree';
import { tmpDir } from './helpers';

describe('runners/worktree', function () {
  this.timeout(30_000);
  let dir: string;
  let sb: Sandbox;
  let pin: { commit: string; tree: string };
  before(async () => {
    dir = tmpDir('ovs-wt-');
    sb = await Sandbox.init(path.join(dir, 'repo'), { files: { 'train.py': 'print(1)\n' } });
    const c = await sb.commitFiles({ 'train.py': 'print("approved")\n' }, 'approved');
    pin = await sb.resolve(c);
    await sb.commitFiles({ 'train.py': 'print("moved")\n' }, 'moved on');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('checks out exactly the pinned commit, not the branch tip, and verifies it', async () => {
    const wt = await prepareWorktree(sb.repo, path.join(dir, 'runs', 'exp-1'), pin.commit, pin.tree);
    assert.equal(fs.readFileSync(path.join(wt, 'train.py'), 'utf8'), 'print("approved")\n');
    assert.equal(await verifyWorktree(wt, pin.commit, pin.tree), undefined);
  });

  it('detects a tampered worktree and recreates it on the next prepare', async () => {
    const runDir = path.join(dir, 'runs', 'exp-2');
    const wt = await prepareWorktree(sb.repo, runDir, pin.commit, pin.tree);
    fs.writeFileSync(path.join(wt, 'train.py'), 'print("tampered")\n');
    fs.writeFileSync(path.join(wt, 'extra.py'), 'x\n');
    assert.match((await verifyWorktree(wt, pin.commit, pin.tree))!, /differs from the approved commit/);
    const again = await prepareWorktree(sb.repo, runDir, pin.commit, pin.tree);
    assert.equal(fs.readFileSync(path.join(again, 'train.py'), 'utf8'), 'print("approved")\n');
    assert.ok(!fs.existsSync(path.join(again, 'extra.py')));
  });

  it('refuses a tree that does not match the approval', async () => {
    const other = await sb.resolve('HEAD');
    await assert.rejects(prepareWorktree(sb.repo, path.join(dir, 'runs', 'exp-3'), pin.commit, other.tree), (e: unknown) => e instanceof WorktreeError && /refusing to run: .*tree/.test((e as Error).message));
  });

  it('is locked against a plain `git worktree remove` by the agent, and our cleanup removes it', async () => {
    const wt = await prepareWorktree(sb.repo, path.join(dir, 'runs', 'exp-4'), pin.commit, pin.tree);
    assert.throws(() => execFileSync('git', ['worktree', 'remove', '--force', wt], { cwd: sb.repo, stdio: 'pipe' }), /locked/);
    assert.ok(fs.existsSync(path.join(wt, 'train.py')));
    await removeWorktree(sb.repo, wt);
    assert.ok(!fs.existsSync(wt));
  });

  it('does not run repository hooks from the agent', async () => {
    const hook = path.join(sb.repo, '.git', 'hooks', 'post-checkout');
    const marker = path.join(dir, 'hook-ran');
    fs.writeFileSync(hook, `#!/bin/sh\ntouch ${JSON.stringify(marker)}\n`, { mode: 0o755 });
    await prepareWorktree(sb.repo, path.join(dir, 'runs', 'exp-5'), pin.commit, pin.tree);
    fs.rmSync(hook);
    assert.ok(!fs.existsSync(marker), 'post-checkout hook ran on the hub');
  });
});

describe('runners/worktree filter drivers', function () {
  this.timeout(30_000);
  it('refuses to check out when the agent repository defines a smudge filter (code on the hub)', async () => {
    const dir = tmpDir('ovs-wtf-');
    const sb = await Sandbox.init(path.join(dir, 'repo'), { files: { '.gitattributes': '*.py filter=evil\n', 'a.py': 'x\n' } });
    const marker = path.join(dir, 'smudged');
    execFileSync('git', ['config', 'filter.evil.smudge', `sh -c 'touch ${marker}; cat'`], { cwd: sb.repo });
    const pin = await sb.resolve('HEAD');
    await assert.rejects(prepareWorktree(sb.repo, path.join(dir, 'runs', 'exp-1'), pin.commit, pin.tree), /filter drivers \(filter\.evil\.smudge\)/);
    assert.ok(!fs.existsSync(marker));
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
