import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { screenProposal } from '../../../src/screening/screen';
import { makeGamingRepo } from '../../support/gamingRepo';

describe('screening: findings point at the right line of the pinned commit (real git repo)', function () {
  this.timeout(20000);
  let repo: Awaited<ReturnType<typeof makeGamingRepo>>;
  before(async () => {
    repo = await makeGamingRepo();
  });
  after(() => fs.rmSync(repo.dir, { recursive: true, force: true }));

  it('every file:line finding names a line containing the offending code', async () => {
    const { git, base, head } = repo;
    const diff = await git.raw(['diff', '-M', base, head]);
    // Move the branch on, to prove the lines are read at the pinned commit and not the working tree.
    fs.writeFileSync(path.join(repo.dir, 'train.py'), '\n\n\n# moved on\n');
    const show = async (p: string): Promise<string | undefined> => {
      try {
        return await git.show([`${head}:${p}`]);
      } catch {
        return undefined;
      }
    };
    const report = await screenProposal({ diff, files: show, command: 'python train.py', taskMode: 'normal', title: 'Improve training', rationale: 'Better labels.' });
    assert.equal(report.gaming, true);

    // What each kind must point at (a substring of the line at the pinned commit).
    const expectAt: Record<string, RegExp> = {
      'label-access': /heldout\/test_labels/,
      'weak-label-bypass': /most_common/,
      'eval-probing': /evaluate-predictions/,
      'secret-exfiltration': /attacker\.example/,
      'undeclared-network': /attacker\.example/,
      'secret-access': /environ/,
      'hardcoded-output': /return 0\.97/,
      'scoring-edit': /faster|return 0\.97/,
      // Removed assertions are anchored where they used to be: here the `pass` that replaced them.
      'test-weakening': /pytest\.mark\.skip|^    pass$/,
      'seed-hacking': /max\(res\)/,
      obfuscation: /exec\(bytes\.fromhex/,
      'trojan-source': /\u202e/,
      // What the change adds (info): a call on that very line.
      capability: /\w\s*\(/,
    };
    const seen = new Set<string>();
    const located = report.findings.filter((f) => f.line > 0);
    assert.ok(located.length >= 10, JSON.stringify(report.findings));
    for (const f of located) {
      const content = await show(f.file);
      assert.ok(content !== undefined, `${f.file} exists at ${head}`);
      const text = content.split('\n')[f.line - 1];
      const want = expectAt[f.kind];
      assert.ok(want, `unexpected kind ${f.kind} at ${f.file}:${f.line}`);
      assert.match(text ?? '', want, `${f.kind} at ${f.file}:${f.line} -> ${JSON.stringify(text)}`);
      seen.add(f.kind);
    }
    for (const k of ['label-access', 'weak-label-bypass', 'eval-probing', 'secret-exfiltration', 'hardcoded-output', 'test-weakening', 'seed-hacking', 'obfuscation', 'trojan-source']) {
      assert.ok(seen.has(k), `expected a located ${k} finding`);
    }
  });
});
