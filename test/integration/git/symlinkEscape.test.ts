// Symlink chains that leave the tree (issue 24 item 3), tried for real: pushed over smart HTTP to a real hub
// (refused by the pre-receive check with a message naming the link), and planted straight into a hub
// repository behind the receive check's back (refused again when the run's worktree is written, with nothing
// written). Honest links still pass both.
import * as assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureHubRepo } from '../../../src/git/hubRepo';
import { prepareWorktree } from '../../../src/runners/worktree';
import { type HubFixture, startHubFixture } from '../../support/hubFixture';

const GIT_ENV = { PATH: process.env.PATH!, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', GIT_AUTHOR_NAME: 'm', GIT_AUTHOR_EMAIL: 'm@x', GIT_COMMITTER_NAME: 'm', GIT_COMMITTER_EMAIL: 'm@x' };

function git(cwd: string, args: string[]): Promise<{ status: number; out: string }> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, encoding: 'utf8', maxBuffer: 16 << 20, env: { ...GIT_ENV, HOME: cwd } }, (err, stdout, stderr) =>
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}\n${stderr}` }),
    );
  });
}

/** Links (path -> target) and files to commit. */
type Shape = { links?: Record<string, string>; files?: Record<string, string> };

const VARIANTS: { name: string; shape: Shape; why: RegExp }[] = [
  { name: 'the measured chain', shape: { files: { 'lnk/k': 'k' }, links: { 'lnk/up': '..', 'lnk/esc': 'up/..' } }, why: /lnk\/esc: a symlink that resolves outside the repository/ },
  { name: 'a deeper chain', shape: { files: { 'a/b/c/f': 'f' }, links: { 'a/b/c/up': '../..', 'a/b/c/up2': 'up/../..' } }, why: /a\/b\/c\/up2: a symlink that resolves outside/ },
  { name: 'a symlinked parent', shape: { files: { 'lnk/k': 'k' }, links: { 'lnk/up': '..', p: 'lnk/up', q: 'p/../etc' } }, why: /q: a symlink that resolves outside/ },
  { name: 'a loop', shape: { links: { a: 'b', b: 'a' } }, why: /a: a symlink loop/ },
  { name: 'an absolute target through a chain', shape: { links: { x: 'y', y: '/etc' } }, why: /absolute symlink target|resolves to an absolute path/ },
  { name: 'a case collision', shape: { files: { 'Data/x': 'x' }, links: { data: '.' } }, why: /collides with "Data"/ },
];

async function commitShape(wc: string, shape: Shape, msg: string): Promise<string> {
  for (const [f, c] of Object.entries(shape.files ?? {})) {
    fs.mkdirSync(path.dirname(path.join(wc, f)), { recursive: true });
    fs.writeFileSync(path.join(wc, f), c);
  }
  for (const [l, t] of Object.entries(shape.links ?? {})) {
    fs.mkdirSync(path.dirname(path.join(wc, l)), { recursive: true });
    fs.symlinkSync(t, path.join(wc, l));
  }
  assert.equal((await git(wc, ['add', '-A'])).status, 0);
  const r = await git(wc, ['commit', '-q', '-m', msg]);
  assert.equal(r.status, 0, r.out);
  return (await git(wc, ['rev-parse', 'HEAD'])).out.trim().split('\n')[0]!;
}

describe('symlink chains cannot leave the tree: refused at push and at materialisation', function () {
  this.timeout(120_000);
  let fx: HubFixture;
  let clone: string;
  const auth = () => ['-c', `http.extraHeader=Authorization: Bearer ${fx.agentTokens['mallory']}`];

  before(async () => {
    fx = await startHubFixture({ agentIds: ['mallory'] });
    clone = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-links-clone-'));
    const r = await git(os.tmpdir(), [...auth(), 'clone', '-q', `${fx.url}/git/mallory.git`, clone]);
    assert.equal(r.status, 0, r.out);
  });
  after(async () => {
    await fx.close();
    fs.rmSync(clone, { recursive: true, force: true });
  });

  for (const v of VARIANTS) {
    it(`push: ${v.name} is refused with a message naming the link`, async () => {
      const base = (await git(clone, ['rev-parse', 'HEAD'])).out.trim().split('\n')[0]!;
      await commitShape(clone, v.shape, v.name);
      const r = await git(clone, [...auth(), 'push', 'origin', `HEAD:refs/heads/t-${v.name.replace(/\W+/g, '-')}`]);
      assert.notEqual(r.status, 0, `accepted:\n${r.out}`);
      assert.match(r.out, v.why);
      assert.match(r.out, /pre-receive hook declined/);
      assert.equal((await git(clone, ['reset', '-q', '--hard', base])).status, 0);
      assert.equal((await git(clone, ['clean', '-qfdx'])).status, 0);
    });
  }

  it('push: honest links (an alias, a link to a directory, a sibling up one level) are accepted', async () => {
    await commitShape(clone, { files: { 'src/lib/m.py': 'x = 1\n', 'ok.py': 'print(1)\n' }, links: { 'alias.py': 'ok.py', lib: 'src/lib', 'src/tools/m.py': '../lib/m.py', self: '.' } }, 'honest links');
    const r = await git(clone, [...auth(), 'push', 'origin', 'HEAD:refs/heads/honest-links']);
    assert.equal(r.status, 0, r.out);
  });

  describe('materialisation, for a tree that reached the hub repository without the receive check', () => {
    let dir: string;
    let hub: string;
    let wc: string;
    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-links-mat-'));
      hub = path.join(dir, 'git', 'a.git');
      await ensureHubRepo(hub);
      wc = path.join(dir, 'wc');
      fs.mkdirSync(wc);
      assert.equal((await git(wc, ['init', '-q', '-b', 'main'])).status, 0);
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** Commit in the scratch clone and copy the objects into the hub repository with git's own fetch (no hook runs). */
    const plant = async (shape: Shape, msg: string) => {
      const c = await commitShape(wc, shape, msg);
      execFileSync('git', ['--git-dir', hub, '-c', 'core.hooksPath=/dev/null', 'fetch', '-q', '--no-write-fetch-head', wc, `+${c}:refs/heads/planted`], { env: { ...GIT_ENV, HOME: dir } });
      const tree = execFileSync('git', ['--git-dir', hub, 'rev-parse', `${c}^{tree}`]).toString().trim();
      return { c, tree };
    };

    for (const v of VARIANTS) {
      it(`materialise: ${v.name} is refused and no worktree is left`, async () => {
        fs.rmSync(wc, { recursive: true, force: true });
        fs.mkdirSync(wc);
        execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: wc });
        const { c, tree } = await plant(v.shape, v.name);
        const runDir = path.join(dir, 'runs', v.name.replace(/\W+/g, '-'));
        await assert.rejects(prepareWorktree(hub, runDir, c, tree), (err: Error) => {
          assert.equal(err.name, 'WorktreeError');
          assert.match(err.message, /refusing to run: /);
          assert.match(err.message, new RegExp(v.why.source.replace(/^[^:]*: /, '')));
          return true;
        });
        assert.equal(fs.existsSync(path.join(runDir, 'wt')), false, 'nothing was written');
      });
    }

    it('materialise: honest links are written and resolve inside the worktree', async () => {
      fs.rmSync(wc, { recursive: true, force: true });
      fs.mkdirSync(wc);
      execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: wc });
      const { c, tree } = await plant({ files: { 'src/lib/m.py': 'x = 1\n' }, links: { lib: 'src/lib', 'src/tools/m.py': '../lib/m.py' } }, 'honest');
      const wt = await prepareWorktree(hub, path.join(dir, 'runs', 'honest'), c, tree);
      assert.equal(fs.readFileSync(path.join(wt, 'src', 'tools', 'm.py'), 'utf8'), 'x = 1\n');
      assert.equal(fs.realpathSync.native(path.join(wt, 'lib')), path.join(fs.realpathSync.native(wt), 'src', 'lib'));
    });
  });
});
