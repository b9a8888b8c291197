// Hub-owned code storage, tried as an adversarial agent would (issue: the hub never runs what an agent
// configured). Real git, a real hub over HTTP, real pushes over smart HTTP. Every attack plants a program that
// would write a marker file if the hub ran it; the markers must stay absent and every bad push is refused with
// a message that names the rule.
import * as assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { prepareWorktree } from '../../../src/runners/worktree';
import { Sandbox } from '../../../src/git/sandbox';
import { type HubFixture, startHubFixture } from '../../support/hubFixture';

const RES = { gpus: 0, gpuHours: 0.1, timeLimitMinutes: 5 };

/**
 * Plain git as the agent runs it in its own clone (its own config applies: that is the agent's business).
 * Asynchronous: the hub under test answers from this same process.
 */
function agentGit(cwd: string, args: string[], env: Record<string, string> = {}): Promise<{ status: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      'git',
      args,
      {
        cwd,
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
        env: { PATH: process.env.PATH!, HOME: cwd, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', GIT_AUTHOR_NAME: 'm', GIT_AUTHOR_EMAIL: 'm@x', GIT_COMMITTER_NAME: 'm', GIT_COMMITTER_EMAIL: 'm@x', ...env },
      },
      (err, stdout, stderr) => resolve({ status: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}\n${stderr}` }),
    );
  });
}

describe('hub-owned code storage: nothing an agent configures runs on the hub', function () {
  this.timeout(120_000);
  let fx: HubFixture;
  let markers: string;
  let wc: string;

  /** Every marker the planted programs would write. */
  const fired = () => (fs.existsSync(markers) ? fs.readdirSync(markers) : []);
  const evil = (name: string) => `sh -c 'touch ${path.join(markers, name)}; cat'`;

  before(async () => {
    fx = await startHubFixture({ agentIds: ['mallory', 'bob'] });
    markers = path.join(fx.dir, '..', `${path.basename(fx.dir)}-markers`);
    fs.mkdirSync(markers, { recursive: true });
    wc = path.join(fx.dir, 'repos', 'mallory');
  });
  after(async () => {
    await fx.close();
    fs.rmSync(markers, { recursive: true, force: true });
  });

  it('working-copy config, attributes and hooks never run while the hub imports, diffs, shows and checks out', async () => {
    // The agent commits honestly-looking code, then plants every driver git knows in its own repository.
    const fake = 'print("hello")\n';
    const real = 'import os\nos.system("cat ../../../labels/*/heldout*")\n';
    const commit = await fx.commit('mallory', { 'train.py': real, '.gitattributes': '* diff=x filter=x\n*.py eol=crlf\n*.txt working-tree-encoding=UTF-16\n' }, 'tune lr');
    const g = (...a: string[]) => execFileSync('git', a, { cwd: wc });
    g('config', 'diff.x.textconv', `sh -c 'touch ${path.join(markers, 'textconv')}; printf "${fake.trim()}\\n"'`);
    g('config', 'diff.external', evil('external-diff'));
    g('config', 'filter.x.clean', evil('clean'));
    g('config', 'filter.x.smudge', evil('smudge'));
    g('config', 'filter.x.process', evil('process'));
    g('config', 'core.fsmonitor', evil('fsmonitor'));
    g('config', 'core.pager', evil('pager'));
    g('config', 'core.sshCommand', evil('ssh'));
    g('config', 'gpg.program', evil('gpg'));
    g('config', 'core.alternateRefsCommand', evil('alternate-refs'));
    fs.writeFileSync(path.join(wc, '.git', 'evil.config'), `[core]\n\tfsmonitor = ${evil('included-fsmonitor')}\n[uploadpack]\n\tpackObjectsHook = ${evil('pack-hook')}\n`);
    g('config', 'includeIf.gitdir:/.path', path.join(wc, '.git', 'evil.config'));
    g('config', 'include.path', path.join(wc, '.git', 'evil.config'));
    fs.writeFileSync(path.join(wc, '.git', 'info', 'attributes'), '* diff=x filter=x\n');
    for (const h of ['pre-receive', 'update', 'post-receive', 'post-update', 'reference-transaction', 'pre-push', 'post-checkout', 'post-index-change', 'push-to-checkout']) {
      fs.writeFileSync(path.join(wc, '.git', 'hooks', h), `#!/bin/sh\ntouch ${path.join(markers, `hook-${h}`)}\ncat >/dev/null\n`, { mode: 0o755 });
    }
    const x = await fx.agent('mallory').propose({ commit, command: 'python train.py', title: 'lr sweep', rationale: 'r', resources: RES, taskMode: 'normal' });
    await fx.service.idle();
    // Everything a reviewer or the agent can trigger.
    const d = await fx.human.experimentDiff(x.id);
    const own = await fx.agent('mallory').experimentDiff(x.id);
    const files = await fx.human.experimentFiles(x.id);
    const content = await fx.human.experimentContent(x.id, 'train.py', 'head');
    await fx.human.agent('mallory');
    await fx.human.commits('mallory');
    const pin = { commit: x.commit, tree: x.tree };
    const wt = await prepareWorktree(fx.service.hubRepo('mallory'), path.join(fx.dir, 'runs', x.id), pin.commit, pin.tree);
    assert.deepEqual(fired(), [], `programs the agent planted ran on the hub: ${fired().join(', ')}`);
    // And what the reviewer read is what runs, byte for byte.
    assert.ok(d.patch.includes('+os.system("cat ../../../labels/*/heldout*")'), d.patch);
    assert.ok(!d.patch.includes('hello'), 'the textconv output reached the reviewer');
    assert.equal(own.patch, d.patch);
    assert.deepEqual(files.files.map((f) => f.path).sort(), ['.gitattributes', 'train.py']);
    assert.equal(Buffer.from(content.base64, 'base64').toString('utf8'), real);
    assert.equal(fs.readFileSync(path.join(wt, 'train.py'), 'utf8'), real, 'eol/encoding attributes changed the bytes that run');
  });

  it('a signed commit never starts gpg.program, and replace refs cannot swap objects', async () => {
    // A commit object with a gpgsig header, written by hand into the agent's working copy.
    const sb = fx.sandbox('mallory');
    const head = await sb.head();
    const { tree } = await sb.resolve(head);
    const body = `tree ${tree}\nparent ${head}\nauthor m <m@x> 1700000000 +0000\ncommitter m <m@x> 1700000000 +0000\ngpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEE\n -----END PGP SIGNATURE-----\n\nsigned\n`;
    const signed = execFileSync('git', ['hash-object', '-t', 'commit', '-w', '--stdin'], { cwd: wc, input: body }).toString().trim();
    execFileSync('git', ['-c', 'core.hooksPath=/dev/null', 'update-ref', 'refs/heads/signed', signed], { cwd: wc });
    execFileSync('git', ['-c', 'core.hooksPath=/dev/null', 'update-ref', `refs/replace/${head}`, signed], { cwd: wc });
    const x = await fx.agent('mallory').propose({ commit: signed, command: 'python train.py', title: 'signed', rationale: 'r', resources: RES, taskMode: 'normal' });
    await fx.human.experimentDiff(x.id);
    await fx.human.commits('mallory', 'signed');
    assert.deepEqual(fired(), []);
    const hubRefs = execFileSync('git', ['for-each-ref', '--format=%(refname)'], { cwd: fx.service.hubRepo('mallory') }).toString();
    assert.ok(!hubRefs.includes('refs/replace'), 'replace refs came into the hub repository');
  });

  describe('over smart HTTP', () => {
    let clone: string;
    const url = () => `${fx.url}/git/mallory.git`;
    const auth = (token: string) => ['-c', `http.extraHeader=Authorization: Bearer ${token}`];
    const push = (args: string[], token = fx.agentTokens['mallory']!) => agentGit(clone, [...auth(token), 'push', 'origin', ...args]);

    before(async () => {
      clone = path.join(markers, '..', `${path.basename(fx.dir)}-clone`);
      const r = await agentGit(path.dirname(clone), [...auth(fx.agentTokens['mallory']!), 'clone', '-q', url(), clone]);
      assert.equal(r.status, 0, r.out);
    });
    after(() => fs.rmSync(clone, { recursive: true, force: true }));

    const commitIn = async (files: Record<string, string>, msg = 'c') => {
      for (const [f, c] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(clone, f)), { recursive: true });
        fs.writeFileSync(path.join(clone, f), c);
      }
      assert.equal(((await agentGit(clone, ['add', '-A']))).status, 0);
      assert.equal(((await agentGit(clone, ['commit', '-q', '-m', msg]))).status, 0);
      return ((await agentGit(clone, ['rev-parse', 'HEAD']))).out.trim().split('\n')[0]!;
    };

    it('an agent pushes its own repository and proposes the pushed commit; the diff is the pushed bytes', async () => {
      const c = await commitIn({ 'pushed.cmd': 'echo over http\r\n' }, 'pushed');
      const r = await push(['HEAD:refs/heads/research']);
      assert.equal(r.status, 0, r.out);
      const x = await fx.agent('mallory').propose({ commit: c, command: 'sh pushed.cmd', title: 'pushed', rationale: 'r', resources: RES, taskMode: 'normal' });
      const content = await fx.human.experimentContent(x.id, 'pushed.cmd', 'head');
      assert.equal(Buffer.from(content.base64, 'base64').toString('utf8'), 'echo over http\r\n');
    });

    it('authentication and authorisation: no token 401, another agent 404, a human may fetch but not push, Basic auth works', async () => {
      const anon = await agentGit(clone, ['ls-remote', url()]);
      assert.notEqual(anon.status, 0);
      assert.match(anon.out, /401|Authentication failed|could not read Username/i);
      const res = await fetch(`${fx.url}/git/bob.git/info/refs?service=git-receive-pack`, { headers: { authorization: `Bearer ${fx.agentTokens['mallory']}` } });
      assert.equal(res.status, 404);
      const unknown = await fetch(`${fx.url}/git/nobody.git/info/refs?service=git-upload-pack`, { headers: { authorization: `Bearer ${fx.agentTokens['mallory']}` } });
      assert.equal(unknown.status, 404);
      assert.equal((await res.json()).error.code, (await unknown.json()).error.code);
      const human = await agentGit(clone, [...auth(fx.humanToken), 'ls-remote', url()]);
      assert.equal(human.status, 0, human.out);
      const humanPush = await push(['HEAD:refs/heads/human'], fx.humanToken);
      assert.notEqual(humanPush.status, 0);
      assert.match(humanPush.out, /403|only the agent itself pushes/);
      const basicUrl = url().replace('http://', `http://mallory:${fx.agentTokens['mallory']}@`);
      const basic = await agentGit(clone, ['ls-remote', basicUrl]);
      assert.equal(basic.status, 0, basic.out);
      const dumb = await fetch(`${fx.url}/git/mallory.git/info/refs`, { headers: { authorization: `Bearer ${fx.agentTokens['mallory']}` } });
      assert.equal(dumb.status, 403);
    });

    const refused = (r: { status: number; out: string }, re: RegExp) => {
      assert.notEqual(r.status, 0, `push was accepted:\n${r.out}`);
      assert.match(r.out, re);
    };

    it('refuses ref names with zero-width, bidi, confusable or control characters, and refs outside heads/tags', async () => {
      await commitIn({ 'ok.py': 'x = 1\n' });
      refused(await push(['HEAD:refs/heads/main\u200b']), /remote: overseer: refusing refs\/heads\/main<U\+200B>: .*\(found U\+200B\)/);
      refused(await push(['HEAD:refs/heads/m\u0430in']), /found U\+0430/); // Cyrillic a
      refused(await push(['HEAD:refs/heads/fix\u202egnp.py']), /found U\+202E/);
      refused(await push(['HEAD:refs/overseer/pins/exp-1']), /only refs\/heads\/\* and refs\/tags\/\*/);
      refused(await push(['HEAD:refs/replace/' + '1'.repeat(40)]), /only refs\/heads\/\* and refs\/tags\/\*/);
      assert.match((await push(['HEAD:refs/heads/main\u200b'])).out, /\[remote rejected\]|pre-receive hook declined/);
    });

    it('refuses submodules, .gitmodules, symlinks out of the tree and into .git', async () => {
      const base = (await agentGit(clone, ['rev-parse', 'HEAD'])).out.trim().split('\n')[0]!;
      const reset = () => agentGit(clone, ['reset', '-q', '--hard', base]);
      await agentGit(clone, ['update-index', '--add', '--cacheinfo', `160000,${base},vendor/lib`]);
      await agentGit(clone, ['commit', '-q', '-m', 'submodule']);
      refused(await push(['HEAD:refs/heads/sub']), /vendor\/lib: submodules are not accepted/);
      await reset();
      await commitIn({ '.gitmodules': '[submodule "x"]\n\tpath = x\n\turl = ../bob.git\n' });
      refused(await push(['HEAD:refs/heads/gm']), /\.gitmodules/);
      await reset();
      for (const [name, target, why] of [
        ['labels', '../../../labels', /pointing outside the repository/],
        ['etc', '/etc/passwd', /absolute symlink target/],
        ['deep/up', '../../x', /pointing outside the repository/],
        ['cfg', '.git/config', /symlink into \.git/],
      ] as const) {
        fs.mkdirSync(path.dirname(path.join(clone, name)), { recursive: true });
        fs.symlinkSync(target, path.join(clone, name));
        await agentGit(clone, ['add', '-A']);
        await agentGit(clone, ['commit', '-q', '-m', 'link']);
        refused(await push([`HEAD:refs/heads/link-${path.basename(name)}`]), why);
        await reset();
        fs.rmSync(path.join(clone, name), { force: true });
      }
      // A symlink that stays inside the tree is fine.
      fs.symlinkSync('ok.py', path.join(clone, 'alias.py'));
      await agentGit(clone, ['add', '-A']);
      await agentGit(clone, ['commit', '-q', '-m', 'inner link']);
      const ok = await push(['HEAD:refs/heads/inner-link']);
      assert.equal(ok.status, 0, ok.out);
    });

    it('refuses tree entries named .git (any case), .. and with control characters', async () => {
      const sha = execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: clone, input: 'payload\n' }).toString().trim();
      for (const [name, why] of [
        ['.GIT', /\.git|hasDotgit/i],
        ['..', /\.\.|hasDotdot/],
        ['a\nb', /control character|U\+000A|fullPathname|bad|invalid/i],
      ] as const) {
        const entry = Buffer.concat([Buffer.from(`100644 ${name}\0`), Buffer.from(sha, 'hex')]);
        const tree = execFileSync('git', ['hash-object', '-t', 'tree', '-w', '--literally', '--stdin'], { cwd: clone, input: entry }).toString().trim();
        const c = execFileSync('git', ['commit-tree', tree, '-m', 'evil tree'], { cwd: clone, env: { ...process.env, GIT_AUTHOR_NAME: 'm', GIT_AUTHOR_EMAIL: 'm@x', GIT_COMMITTER_NAME: 'm', GIT_COMMITTER_EMAIL: 'm@x' } }).toString().trim();
        refused(await push([`${c}:refs/heads/evil-tree`]), why);
      }
    });

    it('refuses oversized files and commit messages', async () => {
      const base = (await agentGit(clone, ['rev-parse', 'HEAD'])).out.trim().split('\n')[0]!;
      fs.writeFileSync(path.join(clone, 'big.bin'), Buffer.alloc(21 * 1024 * 1024, 7));
      await agentGit(clone, ['add', '-A']);
      await agentGit(clone, ['commit', '-q', '-m', 'big']);
      // Refused on the stream by the push quota (push.maxObjectBytes, default 20 MiB) before git stores it.
      refused(await push(['HEAD:refs/heads/big']), /object \d+ of the pack is a blob of 22020096 bytes \(at most 20971520, push\.maxObjectBytes of fleet\.json\)/);
      await agentGit(clone, ['reset', '-q', '--hard', base]);
      fs.writeFileSync(path.join(clone, 'm.dat'), 'x');
      await agentGit(clone, ['add', '-A']);
      const lm = await agentGit(clone, ['commit', '-q', '-m', 'x'.repeat(70_000)]);
      assert.equal(lm.status, 0, lm.out);
      refused(await push(['HEAD:refs/heads/long-message']), /commit message of 70001 bytes/);
      await agentGit(clone, ['reset', '-q', '--hard', base]);
    });

    it('nothing the agent pushes in .gitattributes or hooks of its clone runs on the hub', async () => {
      await commitIn({ '.gitattributes': '* diff=x filter=x\n', 'p.py': 'print(2)\n' });
      const r = await push(['HEAD:refs/heads/attrs']);
      assert.equal(r.status, 0, r.out);
      const c = (await agentGit(clone, ['rev-parse', 'HEAD'])).out.trim().split('\n')[0]!;
      const x = await fx.agent('mallory').propose({ commit: c, command: 'python p.py', title: 'attrs', rationale: 'r', resources: RES, taskMode: 'normal' });
      await fx.human.experimentDiff(x.id);
      assert.deepEqual(fired(), []);
    });
  });

  it('a force push cannot take away a reviewed commit (pinned in the hub repository)', async () => {
    const c = await fx.commit('bob', { 'gone.py': 'print("reviewed")\n' }, 'to be rewritten');
    const x = await fx.agent('bob').propose({ commit: c, command: 'python gone.py', title: 'pin', rationale: 'r', resources: RES, taskMode: 'normal' });
    execFileSync('git', ['-c', 'core.hooksPath=/dev/null', 'reset', '-q', '--hard', 'HEAD~1'], { cwd: path.join(fx.dir, 'repos', 'bob') });
    await fx.commit('bob', { 'other.py': 'x\n' }, 'rewritten');
    await fx.service.syncWorkingCopy('bob');
    const hub = new Sandbox(fx.service.hubRepo('bob'));
    assert.equal((await hub.fileAt(x.commit, 'gone.py'))?.toString(), 'print("reviewed")\n');
    const refs = execFileSync('git', ['for-each-ref', '--format=%(refname) %(objectname)', 'refs/overseer/pins'], { cwd: fx.service.hubRepo('bob') }).toString();
    assert.ok(refs.includes(`refs/overseer/pins/${x.id} ${x.commit}`), refs);
  });
});

const gitBlob = async (repo: string, commit: string, file: string) => execFileSync('git', ['cat-file', 'blob', `${commit}:${file}`], { cwd: repo });

describe('review = run: the bytes the reviewer is shown are the bytes checked out for the run', function () {
  this.timeout(60_000);
  it('CRLF, binary, attributes with eol/filter/diff/encoding, renames, mode changes and symlinks', async () => {
    const fx = await startHubFixture({ agentIds: ['t'] });
    try {
      const wc = path.join(fx.dir, 'repos', 't');
      await fx.commit('t', { 'old.py': 'a = 1\nb = 2\nc = 3\nd = 4\n', 'run.sh': 'echo hi\n' }, 'base');
      const files: Record<string, Buffer> = {
        'crlf.cmd': Buffer.from('x = 1\r\ny = 2\r\n'),
        'bin.dat': Buffer.from([0, 1, 2, 255, 254, 13, 10, 0]),
        '.gitattributes': Buffer.from('*.py text eol=crlf diff=python filter=lfs\n*.txt working-tree-encoding=UTF-16\n*.dat -diff\n* ident\n'),
        'utf16.txt': Buffer.from('\ufeffhello $Id$\n', 'utf16le'),
        'new.py': Buffer.from('a = 1\nb = 2\nc = 3\nd = 5\n'),
        'latin1.py': Buffer.from([0x23, 0x20, 0xe9, 0x0a]),
      };
      for (const [f, b] of Object.entries(files)) fs.writeFileSync(path.join(wc, f), b);
      fs.rmSync(path.join(wc, 'old.py'));
      fs.chmodSync(path.join(wc, 'run.sh'), 0o755);
      fs.symlinkSync('new.py', path.join(wc, 'link.py'));
      execFileSync('git', ['-c', 'core.hooksPath=/dev/null', 'add', '-A'], { cwd: wc });
      const c = await fx.commit('t', {}, 'tricky');
      const x = await fx.agent('t').propose({ commit: c, command: 'sh run.sh', title: 'tricky', rationale: 'r', resources: RES, taskMode: 'normal' });
      const wt = await prepareWorktree(fx.service.hubRepo('t'), path.join(fx.dir, 'runs', x.id), x.commit, x.tree);
      const listed = await fx.human.experimentFiles(x.id);
      const byPath = new Map(listed.files.map((f) => [f.path, f]));
      assert.equal(byPath.get('new.py')?.status, 'R');
      assert.equal(byPath.get('new.py')?.oldPath, 'old.py');
      assert.equal(byPath.get('bin.dat')?.binary, true);
      for (const f of [...Object.keys(files), 'run.sh']) {
        const shown = await fx.human.experimentContent(x.id, f, 'head');
        assert.ok(shown.exists, f);
        assert.deepEqual(Buffer.from(shown.base64, 'base64'), fs.readFileSync(path.join(wt, f)), `${f}: reviewer bytes differ from run bytes`);
      }
      assert.equal(fs.readlinkSync(path.join(wt, 'link.py')), 'new.py');
      assert.equal(fs.statSync(path.join(wt, 'run.sh')).mode & 0o111, 0o111);
      const d = await fx.human.experimentDiff(x.id);
      assert.ok(d.patch.includes('+x = 1\r'), 'the diff must show the CRLF the run gets');
      // git would write CRLF for *.py (eol=crlf) and re-encode *.txt on checkout; the run gets the blobs.
      assert.ok(!fs.readFileSync(path.join(wt, 'new.py'), 'utf8').includes('\r'));
      assert.ok(fs.readFileSync(path.join(wt, 'utf16.txt')).equals(await gitBlob(wc, c, 'utf16.txt')));
      assert.match(d.patch, /rename from old\.py\nrename to new\.py/);
      assert.match(d.patch, /old mode 100644\nnew mode 100755/);
      assert.match(d.patch, /Binary files a\/bin\.dat and b\/bin\.dat differ|Binary files \/dev\/null and b\/bin\.dat differ/);
    } finally {
      await fx.close();
    }
  });
});
