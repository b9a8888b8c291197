import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Sandbox } from '../../../src/git/sandbox';
import { ConfinementError, Workspace, checkRelPath } from '../../../src/fleet/workspace';
import { tmpDir } from '../../support/tmp';

describe('fleet/workspace confinement', () => {
  let dir: string;
  let cleanup: () => void;
  let ws: Workspace;
  let repo: string;
  let outside: string;

  beforeEach(async () => {
    ({ dir, cleanup } = tmpDir('overseer-ws-'));
    repo = path.join(dir, 'repo');
    outside = path.join(dir, 'outside');
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'secret.txt'), 'labels');
    await Sandbox.init(repo, { files: { 'README.md': '# r\n' } });
    ws = new Workspace(repo);
  });
  afterEach(() => cleanup());

  const snapshot = () => fs.readdirSync(outside).sort().map((f) => `${f}:${fs.readFileSync(path.join(outside, f), 'utf8')}`);

  it('rejects absolute paths, .., backslashes, NUL and .git', () => {
    for (const bad of ['/etc/passwd', path.join(outside, 'x'), '../outside/x', 'a/../../x', 'a\\..\\x', 'C:/x', '~/x', 'a\0b', '.git/hooks/pre-commit', 'sub/.GIT/config', '']) {
      assert.throws(() => checkRelPath(bad), ConfinementError, bad);
      assert.throws(() => ws.write(bad, 'x'), ConfinementError, bad);
    }
    assert.deepEqual(snapshot(), ['secret.txt:labels']);
  });

  it('refuses to write through a symlinked directory or file pointing outside, and writes nothing', () => {
    fs.symlinkSync(outside, path.join(repo, 'link'));
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(repo, 'secret-link'));
    assert.throws(() => ws.write('link/new.txt', 'pwned'), /symbolic link/);
    assert.throws(() => ws.write('secret-link', 'pwned'), /symbolic link/);
    assert.throws(() => ws.remove('secret-link'), /symbolic link/);
    assert.throws(() => ws.read('link/secret.txt'), /outside your repository/);
    assert.throws(() => ws.read('secret-link'), /outside your repository/);
    fs.symlinkSync('.git', path.join(repo, 'gitdir'));
    assert.throws(() => ws.read('gitdir/config'), /\.git directory/);
    assert.throws(() => ws.list('gitdir'), /\.git directory/);
    assert.deepEqual(snapshot(), ['secret.txt:labels']);
  });

  it('a chain of links that Node\'s JS realpath resolves lexically (up/../..) is still seen as leaving the repository', () => {
    // repo/a/b/up -> ../.. (the repo root); repo/a/b/esc -> up/../outside: the kernel follows up first and lands
    // in the directory holding the repository; fs.realpathSync (JS) normalises the target text to repo/a/outside.
    fs.mkdirSync(path.join(repo, 'a', 'b'), { recursive: true });
    fs.symlinkSync('../..', path.join(repo, 'a', 'b', 'up'));
    fs.symlinkSync('up/../outside', path.join(repo, 'a', 'b', 'esc'));
    assert.equal(fs.readFileSync(path.join(repo, 'a', 'b', 'esc', 'secret.txt'), 'utf8'), 'labels', 'the kernel does leave the repository');
    assert.throws(() => ws.read('a/b/esc/secret.txt'), /outside your repository/);
    assert.throws(() => ws.list('a/b/esc'), /outside your repository/);
  });

  it('reads through an in-repo symlink, writes, lists and commits inside the repo', async () => {
    ws.write('src/train.py', 'print(1)\n');
    fs.symlinkSync('train.py', path.join(repo, 'src', 'alias.py'));
    assert.equal(ws.read('src/alias.py').content, 'print(1)\n');
    const listed = ws.list().entries.map((e) => `${e.type}:${e.path}`);
    assert.ok(listed.includes('file:src/train.py') && listed.includes('symlink:src/alias.py'));
    assert.ok(!listed.some((e) => e.includes('.git')));
    assert.deepEqual((await ws.uncommitted()).sort(), ['src/alias.py', 'src/train.py']);
    const c = await ws.commit('add training script', 'agent-1');
    assert.equal(c.changed, true);
    assert.deepEqual(c.files.sort(), ['src/alias.py', 'src/train.py']);
    assert.equal(await ws.head(), c.commit);
    const again = await ws.commit('nothing', 'agent-1');
    assert.equal(again.changed, false);
    const log = await new Sandbox(repo).log('HEAD', 1);
    assert.equal(log[0]!.author, 'agent-1');
  });

  it('enforces size limits', () => {
    const small = new Workspace(repo, { maxFileBytes: 10, maxReadBytes: 4, maxListEntries: 100 });
    assert.throws(() => small.write('big.txt', 'x'.repeat(11)), /too large/);
    small.write('ok.txt', '123456789');
    const r = small.read('ok.txt');
    assert.equal(r.content, '1234');
    assert.equal(r.truncated, true);
  });
});
