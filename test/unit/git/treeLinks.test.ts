// Symlinks resolved as the checked-out tree resolves them (issue 24 item 3). Each refused case is one a purely
// textual check (normalize(dirname(link) + '/' + target)) accepts; each accepted case is one an over-eager
// check would refuse.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkSymlink } from '../../../src/git/receiveCheck';
import { checkTreeLinks, MAX_LINK_HOPS, resolveLink, type TreeNode } from '../../../src/git/treeLinks';

const link = (p: string, target: string): TreeNode => ({ path: p, mode: '120000', target });
const file = (p: string): TreeNode => ({ path: p, mode: '100644' });
const problems = (nodes: TreeNode[]) => checkTreeLinks(nodes).map((x) => `${x.path}: ${x.why}`);

/** The same tree on disk, resolved by the kernel (realpath(3); Node's JS fs.realpathSync gets chains like up/../.. wrong): where does `p` lead (undefined = nowhere/loop)? */
function kernel(nodes: TreeNode[], p: string): string | undefined {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'treelinks-'));
  const top = path.join(root, 'repo');
  try {
    fs.mkdirSync(top);
    for (const n of nodes) {
      fs.mkdirSync(path.dirname(path.join(top, n.path)), { recursive: true });
      if (n.mode === '120000') fs.symlinkSync(n.target!, path.join(top, n.path));
      else fs.writeFileSync(path.join(top, n.path), 'x');
    }
    try {
      return path.relative(fs.realpathSync.native(top), fs.realpathSync.native(path.join(top, p)));
    } catch {
      return undefined;
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

describe('treeLinks: symlinks resolved through the tree', () => {
  it('the measured escape: lnk/up -> .. is fine alone, lnk/esc -> up/.. leaves the tree (the textual check missed it)', () => {
    const tree = [file('lnk/keep.txt'), link('lnk/up', '..'), link('lnk/esc', 'up/..')];
    assert.equal(checkSymlink('lnk/esc', 'up/..'), undefined, 'the textual check alone accepts it');
    assert.equal(kernel(tree, 'lnk/esc'), '..', 'and the kernel really lands outside');
    const p = problems(tree);
    assert.equal(p.length, 1, p.join('\n'));
    assert.match(p[0]!, /^lnk\/esc: a symlink that resolves outside the repository .*"lnk\/up -> \.\."/);
    assert.deepEqual(resolveLink(new Map([['lnk/up', '..']]), 'lnk/up'), { at: '' });
  });

  it('a deeper chain: every link textually inside, the composition two levels out', () => {
    const tree = [file('a/b/c/f'), link('a/b/c/up', '../..'), link('a/b/c/up2', 'up/../..')];
    assert.equal(checkSymlink('a/b/c/up2', 'up/../..'), undefined);
    assert.equal(kernel(tree, 'a/b/c/up2'), '..');
    assert.deepEqual(problems(tree).map((s) => s.split(':')[0]), ['a/b/c/up2']);
  });

  it('a symlinked parent: q -> p/.. where p is itself a link to the root', () => {
    const tree = [file('lnk/f'), link('lnk/up', '..'), link('p', 'lnk/up'), link('q', 'p/..'), link('r', 'p/lnk/up/../x')];
    assert.equal(checkSymlink('q', 'p/..'), undefined);
    assert.equal(kernel(tree, 'q'), '..');
    assert.deepEqual(problems(tree).map((s) => s.split(':')[0]).sort(), ['q', 'r']);
  });

  it('loops: two links pointing at each other, a link to itself, a chain longer than the kernel follows', () => {
    assert.match(problems([link('a', 'b'), link('b', 'a')]).join('\n'), /^a: a symlink loop/m);
    assert.match(problems([link('s', 's')]).join('\n'), /^s: a symlink loop/);
    const chain: TreeNode[] = [file('end')];
    for (let i = 0; i <= MAX_LINK_HOPS; i++) chain.push(link(`l${i}`, i === MAX_LINK_HOPS ? 'end' : `l${i + 1}`));
    assert.equal(kernel(chain, 'l0'), undefined, 'the kernel gives up too (ELOOP)');
    assert.match(problems(chain).join('\n'), /^l0: a symlink loop \(more than 40 links followed\)/m);
    assert.equal(kernel(chain, 'l1'), 'end');
    assert.ok(!problems(chain).some((s) => s.startsWith('l1:')), 'forty hops are allowed');
  });

  it('absolute targets, also reached through a chain, and chains that end in .git', () => {
    assert.match(problems([link('x', 'y'), link('y', '/etc/passwd')]).join('\n'), /^x: a symlink that resolves to an absolute path .*"y -> \/etc\/passwd"/m);
    assert.match(problems([link('d', 'sub'), file('sub/f'), link('g', 'd/.GIT/config')]).join('\n'), /^g: a symlink that resolves into \.git/m);
  });

  it('a missing component counts as a directory the run could create: missing/../.. is outside', () => {
    assert.match(problems([link('m', 'gone/../../x')]).join('\n'), /^m: a symlink that resolves outside/);
    assert.deepEqual(problems([link('m', 'gone/../x')]), []);
  });

  it('case and Unicode-normalisation collisions among files, links and the directories they imply', () => {
    assert.match(problems([file('Lnk/a'), link('lnk', '.')]).join('\n'), /collides with "Lnk"/);
    assert.match(problems([file('README'), file('readme')]).join('\n'), /^readme: collides with "README"/);
    assert.match(problems([file('caf\u00e9.py'), file('cafe\u0301.py')]).join('\n'), /collides/);
    assert.match(problems([file('Data/x'), file('data/y')]).join('\n'), /^data: collides with "Data"/);
  });

  it('honest trees pass: an alias, links to directories and up to a sibling, a self link, a dangling link inside', () => {
    const tree = [
      file('ok.py'),
      link('alias.py', 'ok.py'),
      file('src/lib/m.py'),
      link('lib', 'src/lib'),
      link('src/tools/m.py', '../lib/m.py'),
      link('self', '.'),
      link('chain', 'lib/../lib/m.py'),
      link('later', 'results/out.json'),
      link('via', 'self/self/ok.py'),
    ];
    assert.deepEqual(problems(tree), []);
    assert.equal(kernel(tree, 'src/tools/m.py'), path.join('src', 'lib', 'm.py'));
    assert.deepEqual(resolveLink(new Map(tree.filter((n) => n.target).map((n) => [n.path, n.target!])), 'chain'), { at: 'src/lib/m.py' });
  });
});
