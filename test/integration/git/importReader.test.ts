// One agent must not get another agent's commits into its own hub repository through the working-copy import
// (issue 24 item 4). Mallory knows the SHA of Bob's secret commit (assumed; the attack needs only that) and
// tries every way git itself would follow out of her working copy: symlinked object fan-out directories (the
// measured attack), a symlinked pack, a symlinked objects directory, a symlinked loose object, an alternates
// file, a `.git` file pointing at Bob's repository, hard links to Bob's object files, and a forged loose object
// under the secret commit's name. After each attempt Mallory's hub repository must not hold Bob's commit.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { type HubFixture, startHubFixture } from '../../support/hubFixture';

const ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'm', GIT_AUTHOR_EMAIL: 'm@x', GIT_COMMITTER_NAME: 'm', GIT_COMMITTER_EMAIL: 'm@x' };
const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'core.hooksPath=/dev/null', ...args], { cwd, env: ENV }).toString().trim();

describe('working-copy import: no symlink, alternates, gitfile or hard link brings in another agent\'s objects', function () {
  this.timeout(120_000);
  let fx: HubFixture;
  let wc: string;
  let bobHub: string;
  let malloryHub: string;
  let secret: string;
  let saved: string;

  const hasSecret = () => {
    try {
      execFileSync('git', ['cat-file', '-e', `${secret}^{commit}`], { cwd: malloryHub, stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  const stealRef = () => fs.writeFileSync(path.join(wc, '.git', 'refs', 'heads', 'stolen'), secret + '\n');
  const refused = async (re: RegExp) => {
    await assert.rejects(fx.service.syncWorkingCopy('mallory'), (err: Error) => {
      assert.match(err.message, re);
      return true;
    });
    assert.equal(hasSecret(), false, "Bob's commit reached Mallory's hub repository");
  };

  before(async () => {
    fx = await startHubFixture({ agentIds: ['mallory', 'bob'] });
    secret = await fx.commit('bob', { 'secret.py': 'THE_TRICK = 42\n' }, "bob's idea");
    await fx.service.syncWorkingCopy('bob');
    bobHub = fx.service.hubRepo('bob');
    malloryHub = fx.service.hubRepo('mallory');
    assert.equal(git(bobHub, 'cat-file', '-t', secret), 'commit');
    wc = path.join(fx.dir, 'repos', 'mallory');
    saved = path.join(fx.dir, 'mallory-git-saved');
    fs.cpSync(path.join(wc, '.git'), saved, { recursive: true, verbatimSymlinks: true });
  });
  beforeEach(() => {
    // A fresh copy of Mallory's own .git before each attempt.
    fs.rmSync(path.join(wc, '.git'), { recursive: true, force: true });
    fs.cpSync(saved, path.join(wc, '.git'), { recursive: true, verbatimSymlinks: true });
  });
  after(async () => {
    await fx.close();
  });

  /** Loose objects of Bob's hub repository: the secret commit, its tree and blob (fan-out dir -> names). */
  const bobLoose = () => {
    const out = new Map<string, string[]>();
    const all = [secret, git(bobHub, 'rev-parse', `${secret}^{tree}`), ...git(bobHub, 'ls-tree', '-r', '-t', secret).split('\n').map((l) => l.split(/\s+/)[2]!)];
    for (const s of new Set(all)) {
      if (fs.existsSync(path.join(bobHub, 'objects', s.slice(0, 2), s.slice(2)))) out.set(s.slice(0, 2), [...(out.get(s.slice(0, 2)) ?? []), s.slice(2)]);
    }
    return out;
  };

  it('the measured attack: object fan-out directories symlinked to the other agent\'s repository', async () => {
    const loose = bobLoose();
    assert.ok(loose.has(secret.slice(0, 2)), 'the secret commit is a loose object in the hub repository');
    for (const dir of loose.keys()) {
      const mine = path.join(wc, '.git', 'objects', dir);
      fs.rmSync(mine, { recursive: true, force: true });
      fs.symlinkSync(path.join(bobHub, 'objects', dir), mine);
    }
    stealRef();
    await refused(/objects\/[0-9a-f]{2} is a symbolic link/);
  });

  it('a pack of the other agent\'s objects symlinked into objects/pack, and objects/pack itself symlinked', async () => {
    const packDir = path.join(fx.dir, 'bob-pack');
    fs.mkdirSync(packDir, { recursive: true });
    const name = execFileSync('git', ['pack-objects', '--revs', path.join(packDir, 'pack')], { cwd: bobHub, input: `${secret}\n` }).toString().trim();
    fs.mkdirSync(path.join(wc, '.git', 'objects', 'pack'), { recursive: true });
    for (const ext of ['pack', 'idx']) fs.symlinkSync(path.join(packDir, `pack-${name}.${ext}`), path.join(wc, '.git', 'objects', 'pack', `pack-${name}.${ext}`));
    stealRef();
    await refused(/pack-[0-9a-f]{40}\.pack is a symbolic link/);
    fs.rmSync(path.join(wc, '.git', 'objects', 'pack'), { recursive: true, force: true });
    fs.symlinkSync(packDir, path.join(wc, '.git', 'objects', 'pack'));
    await refused(/objects\/pack is a symbolic link/);
  });

  it('the whole objects directory symlinked, and one loose object file symlinked', async () => {
    const objects = path.join(wc, '.git', 'objects');
    fs.renameSync(objects, objects + '.mine');
    fs.symlinkSync(path.join(bobHub, 'objects'), objects);
    stealRef();
    await refused(/objects is a symbolic link/);
    fs.rmSync(objects);
    fs.renameSync(objects + '.mine', objects);
    const [dir, files] = [...bobLoose()][0]!;
    fs.mkdirSync(path.join(objects, dir), { recursive: true });
    fs.symlinkSync(path.join(bobHub, 'objects', dir, files[0]!), path.join(objects, dir, files[0]!));
    await refused(/is a symbolic link; not importing/);
  });

  it('objects/info/alternates (and http-alternates) naming the other agent\'s objects', async () => {
    fs.mkdirSync(path.join(wc, '.git', 'objects', 'info'), { recursive: true });
    fs.writeFileSync(path.join(wc, '.git', 'objects', 'info', 'alternates'), path.join(bobHub, 'objects') + '\n');
    stealRef();
    await refused(/objects\/info\/alternates borrows objects from another repository/);
    fs.rmSync(path.join(wc, '.git', 'objects', 'info', 'alternates'));
    fs.writeFileSync(path.join(wc, '.git', 'objects', 'info', 'http-alternates'), 'http://127.0.0.1:1/\n');
    await refused(/http-alternates borrows objects/);
  });

  it('.git as a file (gitdir: the other repository) and .git as a symlink', async () => {
    fs.rmSync(path.join(wc, '.git'), { recursive: true, force: true });
    fs.writeFileSync(path.join(wc, '.git'), `gitdir: ${bobHub}\n`);
    await refused(/no \.git directory of its own/);
    fs.rmSync(path.join(wc, '.git'));
    fs.symlinkSync(bobHub, path.join(wc, '.git'));
    await refused(/no \.git directory of its own/);
    fs.rmSync(path.join(wc, '.git'));
  });

  it('.git/commondir naming the other repository is not followed (refs and objects come from this .git alone)', async () => {
    fs.writeFileSync(path.join(wc, '.git', 'commondir'), bobHub + '\n');
    stealRef();
    await refused(/push into the hub repository refused/);
  });

  it('the working-copy directory itself swapped for a symlink to the other agent\'s working copy', async () => {
    const bobWc = path.join(fx.dir, 'repos', 'bob');
    fs.renameSync(wc, wc + '.mine');
    try {
      fs.symlinkSync(bobWc, wc);
      await refused(/repos\/mallory is a symbolic link; not importing/);
    } finally {
      fs.rmSync(wc, { force: true });
      fs.renameSync(wc + '.mine', wc);
    }
  });

  it('hard links to the other agent\'s object files are not read, and the refusal says why', async () => {
    for (const [dir, files] of bobLoose()) {
      fs.mkdirSync(path.join(wc, '.git', 'objects', dir), { recursive: true });
      for (const f of files) {
        fs.rmSync(path.join(wc, '.git', 'objects', dir, f), { force: true });
        fs.linkSync(path.join(bobHub, 'objects', dir, f), path.join(wc, '.git', 'objects', dir, f));
      }
    }
    stealRef();
    await refused(/more than one hard link/);
  });

  it('a forged loose object: other content stored under the secret commit\'s name is refused by its hash', async () => {
    const body = Buffer.from(`commit 3\0abc`);
    const dir = path.join(wc, '.git', 'objects', secret.slice(0, 2));
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, secret.slice(2)), zlib.deflateSync(body));
    stealRef();
    await refused(/does not hash to its name/);
  });

  it('honest imports still work: loose objects, then after git gc from packs only', async () => {
    const c1 = await fx.commit('mallory', { 'mine.py': 'print("mine")\n' }, 'mine');
    assert.ok((await fx.service.syncWorkingCopy('mallory')).length > 0);
    assert.equal(git(malloryHub, 'cat-file', '-t', c1), 'commit');
    const c2 = await fx.commit('mallory', { 'mine2.py': 'print("packed")\n' }, 'packed');
    git(wc, 'gc', '-q', '--prune=now');
    assert.equal(fs.readdirSync(path.join(wc, '.git', 'objects')).filter((d) => /^[0-9a-f]{2}$/.test(d)).length, 0, 'everything is packed');
    await fx.service.syncWorkingCopy('mallory');
    assert.equal(git(malloryHub, 'cat-file', '-t', c2), 'commit');
    assert.equal(git(malloryHub, 'show', `${c2}:mine2.py`), 'print("packed")');
    assert.equal(hasSecret(), false);
  });
});
