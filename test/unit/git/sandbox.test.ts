import { execFileSync } from 'node:child_process';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { GitInputError, Sandbox, safeRelPath } from '../../../src/git/sandbox';
import { tmpDir } from '../../support/tmp';

describe('Sandbox (real git)', () => {
  let t: ReturnType<typeof tmpDir>;
  let sb: Sandbox;
  beforeEach(async () => {
    t = tmpDir();
    sb = await Sandbox.init(path.join(t.dir, 'repo'), { files: { 'a.txt': 'a\n' } });
  });
  afterEach(() => t.cleanup());

  it('resolves commits and trees exactly as git does, and refuses unknown or malformed refs', async () => {
    const c = await sb.commitFiles({ 'b.bin': Buffer.from([0, 10, 255, 10, 10]).toString('latin1') }, 'binary with newlines');
    const r = await sb.resolve(c);
    assert.equal(r.commit, c);
    assert.equal(r.tree, (await sb.g.raw(['rev-parse', `${c}^{tree}`])).trim());
    assert.deepEqual(await sb.resolve('main'), r);
    await assert.rejects(sb.resolve('f'.repeat(40)), GitInputError);
    await assert.rejects(sb.resolve('--output=/tmp/x'), GitInputError);
    await assert.rejects(sb.resolve('a\nb'), GitInputError);
    // Many concurrent lookups through the shared cat-file process stay matched to their requests.
    const many = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? sb.resolve(c) : sb.resolve(`${c}~1`))));
    const parent = (await sb.g.raw(['rev-parse', `${c}~1`])).trim();
    many.forEach((m, i) => assert.equal(m.commit, i % 2 ? c : parent));
  });

  it('finds the merge base with the base branch like git merge-base, across branches and merges', async () => {
    const g = sb.g;
    await sb.commitFiles({ 'm1.txt': '1' }, 'main 1');
    await g.raw(['checkout', '-q', '-b', 'exp']);
    const e1 = await sb.commitFiles({ 'e1.txt': '1' }, 'exp 1');
    await g.raw(['checkout', '-q', 'main']);
    await sb.commitFiles({ 'm2.txt': '2' }, 'main 2');
    await g.raw(['checkout', '-q', 'exp']);
    await g.raw(['merge', '-q', '--no-edit', 'main']);
    const e2 = await sb.commitFiles({ 'e2.txt': '2' }, 'exp 2');
    for (const c of [e1, e2]) {
      const expected = (await g.raw(['merge-base', c, 'main'])).trim();
      assert.equal(await sb.baseOf(c, 'main'), expected, `merge base of ${c}`);
    }
    // A commit on the base branch itself is diffed against its first parent.
    const mainTip = (await g.raw(['rev-parse', 'main'])).trim();
    assert.equal(await sb.baseOf(mainTip, 'main'), (await g.raw(['rev-parse', 'main~1'])).trim());
    // A missing base branch falls back to the first parent.
    assert.equal(await sb.baseOf(e2, 'no-such-branch'), (await g.raw(['rev-parse', `${e2}~1`])).trim());
  });

  it('a pending object read keeps a process alive until it answers (and an idle reader does not)', async () => {
    const c = await sb.head();
    const script = `const { Sandbox } = require(${JSON.stringify(path.resolve(__dirname, '../../../src/git/sandbox.ts'))});
      new Sandbox(${JSON.stringify(sb.repo)}).resolve(${JSON.stringify(c)}).then((r) => console.log('resolved ' + r.commit));`;
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), `resolved ${c}`);
  });

  it('reads commit messages from the objects: subject and date as git prints them, separators in a message forge nothing', async () => {
    const forged = `innocent\x1e${'f'.repeat(40)}\x1f\x1fmallory\x1fx\x1fApproved by overseer`;
    const c = await sb.commitFiles({ 'log.txt': 'x' }, `${forged}\nsecond line of subject\n\nthe body\x1ewith\x1fbytes\n`);
    const [info, parent] = await sb.log(c, 2);
    const git = (fmt: string) => execFileSync('git', ['log', '-1', `--format=${fmt}`, c], { cwd: sb.repo }).toString().replace(/\n$/, '');
    assert.equal(info!.sha, c);
    assert.equal(info!.subject, git('%s'));
    assert.equal(info!.date, git('%aI'));
    assert.equal(info!.author, git('%an'));
    assert.match(info!.body!, /^the body\x1ewith/);
    assert.equal(parent!.sha, git('%P'));
    assert.equal((await sb.log(c, 50)).filter((x) => x.sha === 'f'.repeat(40)).length, 0);
  });

  it('confines paths to the repository', () => {
    assert.equal(safeRelPath('src/x.py'), 'src/x.py');
    for (const bad of ['../x', '/etc/passwd', 'a/../../b', 'a\0b', '']) assert.throws(() => safeRelPath(bad), GitInputError);
  });

  it('lists changed files with counts, renames and binaries', async () => {
    const base = await sb.head();
    await sb.commitFiles({ 'a.txt': null, 'renamed.txt': 'a\n', 'img.bin': '\0\x01\x02' }, 'rename + binary');
    const files = await sb.changedFiles(base, await sb.head());
    const byPath = new Map(files.map((f) => [f.path, f]));
    assert.equal(byPath.get('renamed.txt')!.status, 'R');
    assert.equal(byPath.get('renamed.txt')!.oldPath, 'a.txt');
    assert.equal(byPath.get('img.bin')!.binary, true);
  });
});

describe('in-process diff', () => {
  let t: ReturnType<typeof tmpDir>;
  before(() => (t = tmpDir()));
  after(() => t.cleanup());

  it('matches git diff line for line (without rename detection)', async () => {
    const { parsePatch } = await import('diff');
    const sb = await Sandbox.init(path.join(t.dir, 'r'), { files: { 'a.py': 'x = 1\ny = 2\nz = 3\n', 'dir/sub/b.txt': 'keep\n', 'gone.txt': 'bye\n', 'nonl.txt': 'no newline' } });
    const base = await sb.head();
    const lines = Array.from({ length: 40 }, (_, i) => `line ${i}`);
    await sb.commitFiles({ 'big.txt': lines.join('\n') + '\n' }, 'big');
    const mid = await sb.head();
    lines[3] = 'changed 3';
    lines.splice(30, 2);
    const head = await sb.commitFiles(
      { 'a.py': 'x = 1\ny = 20\nz = 3\nw = 4\n', 'dir/sub/new.py': 'print("hi")\n', 'gone.txt': null, 'nonl.txt': 'still no newline!', 'big.txt': lines.join('\n') + '\n', 'bin.dat': '\0\x01' },
      'change',
    );
    for (const [from, to] of [[base, head], [mid, head], [undefined, head]] as const) {
      const ours = parsePatch((await sb.diffInProcess(from, to)).patch);
      const gits = parsePatch((await sb.g.raw(['diff', '--no-renames', from ?? '4b825dc642cb6eb9a060e54bf8d69288fbee4904', to])));
      const norm = (ps: ReturnType<typeof parsePatch>) =>
        ps.map((p) => ({ file: (p.newFileName === '/dev/null' ? p.oldFileName : p.newFileName)?.replace(/^[ab]\//, ''), hunks: p.hunks.map((h) => [h.oldStart, h.oldLines, h.newStart, h.newLines, h.lines.join('\n')]) })).sort((a, b) => String(a.file).localeCompare(String(b.file)));
      assert.deepEqual(norm(ours), norm(gits));
    }
    const capped = await sb.diffInProcess(base, head, 100);
    assert.equal(capped.truncated, true);
  });
});
