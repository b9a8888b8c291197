import * as assert from 'node:assert/strict';
import { decodeLenient, parseProposalDiff, repairHunkHeaders } from '../../../src/screening/patchModel';
import { screenProposal } from '../../../src/screening/screen';

const MOD = `diff --git a/train.py b/train.py
index 1111111..2222222 100644
--- a/train.py
+++ b/train.py
@@ -10,4 +10,5 @@ def main():
     a = 1
-    b = 2
+    b = 3
+    c = 4
     d = 5
     e = 6
`;

describe('screening/patchModel', () => {
  it('numbers added lines on the new side and anchors removals', () => {
    const d = parseProposalDiff(MOD);
    assert.equal(d.files.length, 1);
    const f = d.files[0]!;
    assert.equal(f.path, 'train.py');
    assert.equal(f.status, 'modified');
    assert.deepEqual(f.added, [
      { line: 11, text: '    b = 3' },
      { line: 12, text: '    c = 4' },
    ]);
    assert.deepEqual(f.removed, [{ line: 11, text: '    b = 2' }]);
    assert.equal(f.window.get(13), '    d = 5');
  });

  it('handles binary files, renames, deletions and new files', () => {
    const diff = `diff --git a/fig.png b/fig.png
new file mode 100644
index 0000000..abcdef0
Binary files /dev/null and b/fig.png differ
diff --git a/old/name.py b/new/name.py
similarity index 90%
rename from old/name.py
rename to new/name.py
index 1111111..2222222 100644
--- a/old/name.py
+++ b/new/name.py
@@ -1,2 +1,2 @@
 x = 1
-y = 2
+y = 3
diff --git a/gone.py b/gone.py
deleted file mode 100644
index 1111111..0000000
--- a/gone.py
+++ /dev/null
@@ -1,1 +0,0 @@
-print("bye")
diff --git a/pure_rename.py b/renamed.py
similarity index 100%
rename from pure_rename.py
rename to renamed.py
diff --git a/new.py b/new.py
new file mode 100644
index 0000000..1111111
--- /dev/null
+++ b/new.py
@@ -0,0 +1,2 @@
+a = 1
+b = 2
`;
    const d = parseProposalDiff(diff);
    const by = new Map(d.files.map((f) => [f.path, f]));
    assert.equal(by.get('fig.png')!.binary, true);
    assert.equal(by.get('new/name.py')!.status, 'renamed');
    assert.equal(by.get('new/name.py')!.oldPath, 'old/name.py');
    assert.equal(by.get('gone.py')!.status, 'deleted');
    assert.equal(by.get('renamed.py')!.status, 'renamed');
    assert.deepEqual(by.get('new.py')!.added.map((l) => l.line), [1, 2]);
    assert.equal(d.parseErrors.length, 0);
  });

  it('repairs hunk headers whose counts disagree with the body', () => {
    const broken = MOD.replace('@@ -10,4 +10,5 @@', '@@ -10,9 +10,9 @@');
    assert.match(repairHunkHeaders(broken), /@@ -10,4 \+10,5 @@/);
    const d = parseProposalDiff(broken);
    assert.equal(d.files[0]!.added.length, 2);
    assert.equal(d.files[0]!.added[0]!.line, 11);
  });

  it('caps huge diffs at a file boundary and reports truncation as a finding', async () => {
    const big: string[] = [];
    for (let i = 0; i < 400; i++) {
      big.push(`diff --git a/f${i}.py b/f${i}.py\nnew file mode 100644\n--- /dev/null\n+++ b/f${i}.py\n@@ -0,0 +1,1 @@\n+x${i} = ${'1'.repeat(200)}\n`);
    }
    const text = big.join('');
    const d = parseProposalDiff(text, 20_000);
    assert.ok(d.truncated);
    assert.ok(d.files.length > 10 && d.files.length < 400);
    assert.equal(d.parseErrors.length, 0);
    const r = await screenProposal({ diff: text, maxDiffChars: 20_000, command: 'python x.py', taskMode: 'normal', title: 't', rationale: 'r' });
    const t = r.findings.find((f) => f.kind === 'diff-truncated');
    assert.ok(t);
    assert.equal(t.file, '<proposal>');
    assert.equal(t.line, 0);
  });

  it('cuts inside a single enormous file without losing it', () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `+v${i} = ${i}`).join('\n');
    const text = `diff --git a/huge.py b/huge.py\nnew file mode 100644\n--- /dev/null\n+++ b/huge.py\n@@ -0,0 +1,5000 @@\n${lines}\n`;
    const d = parseProposalDiff(text, 10_000);
    assert.ok(d.truncated);
    assert.equal(d.files.length, 1);
    assert.ok(d.files[0]!.added.length > 100);
  });

  it('decodes non-UTF-8 bytes leniently and notes them', async () => {
    const bytes = Buffer.concat([Buffer.from('diff --git a/l1.py b/l1.py\nnew file mode 100644\n--- /dev/null\n+++ b/l1.py\n@@ -0,0 +1,1 @@\n+s = "caf'), Buffer.from([0xe9, 0xff]), Buffer.from('"\n')]);
    const text = decodeLenient(bytes);
    const d = parseProposalDiff(text);
    assert.equal(d.replacementChars, 2);
    assert.equal(d.files[0]!.added.length, 1);
    const r = await screenProposal({ diff: text, command: 'python l1.py', taskMode: 'normal', title: 't', rationale: 'r' });
    assert.ok(r.findings.some((f) => f.kind === 'non-utf8' && f.severity === 'info'));
    assert.equal(r.gaming, false);
  });

  it('never throws on garbage', () => {
    for (const g of ['', 'not a diff', '--- a\n', '@@ -1 +1 @@\n+x', '\u0000\u0001', 'diff --git a/x b/x\n--- a/x\n']) {
      assert.doesNotThrow(() => parseProposalDiff(g));
    }
  });
});
