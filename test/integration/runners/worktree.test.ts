import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureHubRepo, importWorkingCopy } from '../../../src/git/hubRepo';
import { Sandbox } from '../../../src/git/sandbox';
import { WorktreeError, prepareWorktree, removeWorktree, verifyWorktree } from '../../../src/runners/worktree';
import { tmpDir } from './helpers';

describe('runners/worktree', function () {
  this.timeout(30_000);
  let dir: string;
  let sb: Sandbox;
  let hub: string;
  let pin: { commit: string; tree: string };
  before(async () => {
    dir = tmpDir('ovs-wt-');
    sb = await Sandbox.init(path.join(dir, 'repo'), { files: { 'train.py': 'print(1)\n' } });
    const c = await sb.commitFiles({ 'train.py': 'print("approved")\n' }, 'approved');
    pin = await sb.resolve(c);
    hub = path.join(dir, 'git', 'a.git');
    await ensureHubRepo(hub);
    await importWorkingCopy(sb.repo, hub);
    await sb.commitFiles({ 'train.py': 'print("moved")\n' }, 'moved on');
    await importWorkingCopy(sb.repo, hub);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes exactly the pinned commit, not the branch tip, verifies it, and holds no .git', async () => {
    const wt = await prepareWorktree(hub, path.join(dir, 'runs', 'exp-1'), pin.commit, pin.tree);
    assert.equal(fs.readFileSync(path.join(wt, 'train.py'), 'utf8'), 'print("approved")\n');
    assert.equal(await verifyWorktree(hub, wt, pin.commit, pin.tree), undefined);
    assert.ok(!fs.existsSync(path.join(wt, '.git')), 'a run must not reach the repository through its worktree');
  });

  it('detects a tampered worktree and writes it again on the next prepare', async () => {
    const runDir = path.join(dir, 'runs', 'exp-2');
    const wt = await prepareWorktree(hub, runDir, pin.commit, pin.tree);
    fs.writeFileSync(path.join(wt, 'train.py'), 'print("tampered")\n');
    assert.match((await verifyWorktree(hub, wt, pin.commit, pin.tree))!, /differs from the approved commit/);
    fs.writeFileSync(path.join(wt, 'train.py'), 'print("approved")\n');
    fs.writeFileSync(path.join(wt, 'extra.py'), 'x\n');
    assert.match((await verifyWorktree(hub, wt, pin.commit, pin.tree))!, /not part of the approved commit/);
    const again = await prepareWorktree(hub, runDir, pin.commit, pin.tree);
    assert.equal(fs.readFileSync(path.join(again, 'train.py'), 'utf8'), 'print("approved")\n');
    assert.ok(!fs.existsSync(path.join(again, 'extra.py')));
  });

  it('refuses a tree that does not match the approval', async () => {
    const other = await sb.resolve('HEAD');
    await assert.rejects(prepareWorktree(hub, path.join(dir, 'runs', 'exp-3'), pin.commit, other.tree), (e: unknown) => e instanceof WorktreeError && /refusing to run: .*tree/.test((e as Error).message));
  });

  it('refuses a commit the hub repository does not have', async () => {
    const stray = await sb.commitFiles({ 'train.py': 'print("never imported")\n' }, 'not imported');
    const p = await sb.resolve(stray);
    await assert.rejects(prepareWorktree(hub, path.join(dir, 'runs', 'exp-6'), p.commit, p.tree), /does not exist in the hub repository/);
  });

  it('cleanup removes the worktree', async () => {
    const wt = await prepareWorktree(hub, path.join(dir, 'runs', 'exp-4'), pin.commit, pin.tree);
    assert.ok(fs.existsSync(path.join(wt, 'train.py')));
    await removeWorktree(hub, wt);
    assert.ok(!fs.existsSync(wt));
  });

  it('does not run hooks of the agent\'s working copy', async () => {
    const hook = path.join(sb.repo, '.git', 'hooks', 'post-checkout');
    const marker = path.join(dir, 'hook-ran');
    fs.writeFileSync(hook, `#!/bin/sh\ntouch ${JSON.stringify(marker)}\n`, { mode: 0o755 });
    await importWorkingCopy(sb.repo, hub);
    await prepareWorktree(hub, path.join(dir, 'runs', 'exp-5'), pin.commit, pin.tree);
    fs.rmSync(hook);
    assert.ok(!fs.existsSync(marker), 'post-checkout hook ran on the hub');
  });
});

describe('runners/worktree filter drivers', function () {
  this.timeout(30_000);
  it('a smudge filter in the working copy never runs: the run gets the committed bytes', async () => {
    const dir = tmpDir('ovs-wtf-');
    const sb = await Sandbox.init(path.join(dir, 'repo'), { files: { '.gitattributes': '*.py filter=evil\n', 'a.py': 'x\n' } });
    const marker = path.join(dir, 'smudged');
    execFileSync('git', ['config', 'filter.evil.smudge', `sh -c 'touch ${marker}; echo smudged'`], { cwd: sb.repo });
    execFileSync('git', ['config', 'filter.evil.clean', `sh -c 'touch ${marker}; cat'`], { cwd: sb.repo });
    const pin = await sb.resolve('HEAD');
    const hub = path.join(dir, 'git', 'a.git');
    await ensureHubRepo(hub);
    await importWorkingCopy(sb.repo, hub);
    const wt = await prepareWorktree(hub, path.join(dir, 'runs', 'exp-1'), pin.commit, pin.tree);
    assert.equal(fs.readFileSync(path.join(wt, 'a.py'), 'utf8'), 'x\n');
    assert.ok(!fs.existsSync(marker), 'a filter driver of the agent ran on the hub');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
