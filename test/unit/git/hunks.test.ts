import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { commentingRanges, isCommentable, nearestCommentable, parseFilePatches, patchForFile } from '../../../src/git/hunks';
import { Sandbox } from '../../../src/git/sandbox';
import { tmpDir } from '../../support/tmp';

describe('hunks', () => {
  it('maps hunks of a real git diff to commenting ranges on each side', async () => {
    const { dir, cleanup } = tmpDir();
    try {
      const lines = Array.from({ length: 40 }, (_, i) => `line ${i + 1}`);
      const sb = await Sandbox.init(path.join(dir, 'repo'), { files: { 'a.py': lines.join('\n') + '\n', 'gone.txt': 'bye\n' } });
      const base = await sb.head();
      const changed = [...lines];
      changed[4] = 'CHANGED 5';
      changed.splice(30, 2); // delete lines 31-32
      const head = await sb.commitFiles({ 'a.py': changed.join('\n') + '\n', 'new.md': 'x\ny\n', 'gone.txt': null }, 'edit');
      const { patch } = await sb.diff(base, head);
      const files = parseFilePatches(patch);
      assert.deepEqual(files.map((f) => f.path).sort(), ['a.py', 'gone.txt', 'new.md']);

      const a = patchForFile(patch, 'a.py')!;
      assert.deepEqual(a.added, [5]);
      assert.deepEqual(a.removed, [5, 31, 32]);
      const head_ = commentingRanges(a, 'head');
      const base_ = commentingRanges(a, 'base');
      // git uses 3 lines of context: 2-8 around line 5 on both sides; 28-33 (base) / 28-31 (head) around the deletion.
      assert.deepEqual(base_, [{ start: 2, end: 8 }, { start: 28, end: 35 }]);
      assert.deepEqual(head_, [{ start: 2, end: 8 }, { start: 28, end: 33 }]);
      assert.ok(isCommentable(head_, 5) && !isCommentable(head_, 15) && isCommentable(head_, 33) && !isCommentable(head_, 34));
      assert.equal(nearestCommentable(head_, 15), 8);
      assert.equal(nearestCommentable(head_, 26), 28);

      const added = patchForFile(patch, 'new.md')!;
      assert.deepEqual(commentingRanges(added, 'head'), [{ start: 1, end: 2 }]);
      assert.deepEqual(commentingRanges(added, 'base'), []);
      const gone = patchForFile(patch, 'gone.txt')!;
      assert.equal(gone.newPath, null);
      assert.deepEqual(commentingRanges(gone, 'base'), [{ start: 1, end: 1 }]);
      assert.deepEqual(commentingRanges(gone, 'head'), []);
    } finally {
      cleanup();
    }
  });

  it('merges adjacent hunks and survives garbage', () => {
    const p = ['--- a/x', '+++ b/x', '@@ -1,2 +1,2 @@', '-a', '+b', ' c', '@@ -3,2 +3,3 @@', ' d', '+e', ' f', ''].join('\n');
    assert.deepEqual(commentingRanges(patchForFile(p, 'x'), 'head'), [{ start: 1, end: 5 }]);
    assert.deepEqual(parseFilePatches('not a diff at all\n\0\u202e'), []);
    assert.deepEqual(commentingRanges(undefined, 'head'), []);
    assert.equal(patchForFile(p, 'y'), undefined);
  });

  it('handles file names with spaces (git quotes nothing) and renames', async () => {
    const { dir, cleanup } = tmpDir();
    try {
      const sb = await Sandbox.init(path.join(dir, 'r'), { files: { 'old name.txt': 'one\ntwo\nthree\n' } });
      const base = await sb.head();
      fs.renameSync(path.join(dir, 'r', 'old name.txt'), path.join(dir, 'r', 'new name.txt'));
      fs.appendFileSync(path.join(dir, 'r', 'new name.txt'), 'four\n');
      execFileSync('git', ['add', '-A'], { cwd: path.join(dir, 'r') });
      const head = await sb.commitFiles({}, 'rename');
      const { patch } = await sb.diff(base, head);
      const fp = patchForFile(patch, 'new name.txt');
      assert.ok(fp, patch);
      assert.equal(fp.oldPath, 'old name.txt');
      assert.deepEqual(fp.added, [4]);
    } finally {
      cleanup();
    }
  });
});
