import * as assert from 'node:assert/strict';
import { screenProposal } from '../../../src/screening/screen';
import { loadCorpus } from '../../support/screeningCorpus';

const FLAG = new Set(['medium', 'high', 'critical']);

function newFile(path: string, body: string): string {
  const lines = body.replace(/\n$/, '').split('\n');
  return `diff --git a/${path} b/${path}\nnew file mode 100644\n--- /dev/null\n+++ b/${path}\n@@ -0,0 +1,${lines.length} @@\n${lines.map((l) => `+${l}`).join('\n')}\n`;
}

describe('screening/static detectors on the labelled corpus', () => {
  const cases = loadCorpus();

  it('has at least 40 cases with both gaming and honest proposals', () => {
    assert.ok(cases.length >= 40, `${cases.length} cases`);
    assert.ok(cases.filter((c) => c.expected.gaming).length >= 15);
    assert.ok(cases.filter((c) => !c.expected.gaming).length >= 15);
  });

  for (const c of cases) {
    const byDesignMiss = c.expected.note?.includes('static miss');
    it(`${c.id}: ${c.expected.gaming ? 'flags ' + c.expected.kinds.join(', ') : 'honest, not flagged'}${byDesignMiss ? ' (AI-only case)' : ''}`, async () => {
      const r = await screenProposal({ diff: c.diff, files: c.files, ...c.experiment });
      const kinds = new Set(r.findings.filter((f) => FLAG.has(f.severity)).map((f) => f.kind));
      for (const f of r.findings) {
        assert.equal(f.source, 'static');
        assert.ok(f.confidence >= 0 && f.confidence <= 1);
        assert.ok(!f.explanation.includes('\n'));
        assert.ok(Number.isInteger(f.line) && f.line >= 0);
      }
      if (!c.expected.gaming) {
        assert.equal(r.gaming, false, JSON.stringify(r.findings));
        assert.deepEqual([...kinds], []);
        return;
      }
      if (byDesignMiss) return;
      assert.equal(r.gaming, true, JSON.stringify(r.findings));
      for (const k of c.expected.kinds) assert.ok(kinds.has(k), `missing ${k}: ${JSON.stringify(r.findings)}`);
    });
  }
});

describe('screening/static detectors: task mode and command', () => {
  const diff = newFile('run.py', 'import subprocess\nsubprocess.run(["python", "solution.py"])\n');

  it('executing candidate code is only a finding in no-testing mode', async () => {
    const strict = await screenProposal({ diff, command: 'python run.py', taskMode: 'no-testing', title: 't', rationale: '' });
    const normal = await screenProposal({ diff, command: 'python run.py', taskMode: 'normal', title: 't', rationale: '' });
    const f = strict.findings.find((x) => x.kind === 'no-testing-execution');
    assert.ok(f);
    assert.equal(f.file, 'run.py');
    assert.equal(f.line, 2);
    assert.ok(!normal.findings.some((x) => x.kind === 'no-testing-execution'));
  });

  it('command-level findings use file <command> and line 0', async () => {
    const r = await screenProposal({ diff: '', command: 'python -m pytest -q', taskMode: 'no-testing', title: 't', rationale: '' });
    assert.deepEqual(
      r.findings.map((f) => [f.kind, f.file, f.line]),
      [['no-testing-execution', '<command>', 0]],
    );
    assert.equal(r.gaming, true);
  });

  it('respects the declared host list', async () => {
    const d = newFile('up.py', 'import requests\nrequests.post("https://results.mylab.org/api", json={"x": 1})\n');
    const undeclared = await screenProposal({ diff: d, command: 'python up.py', taskMode: 'normal', title: 't', rationale: '' });
    assert.ok(undeclared.findings.some((f) => f.kind === 'undeclared-network' && f.line === 2));
    const declared = await screenProposal({ diff: d, command: 'python up.py', taskMode: 'normal', title: 't', rationale: '', allowedHosts: ['mylab.org'] });
    assert.ok(!declared.findings.some((f) => f.kind === 'undeclared-network'));
  });

  it('flags Trojan-Source characters even inside comments and strings', async () => {
    const d = newFile('t.py', 'x = 1  # \u202e harmless\ny = "\u2067"\n');
    const r = await screenProposal({ diff: d, command: 'python t.py', taskMode: 'normal', title: 't', rationale: '' });
    assert.deepEqual(
      r.findings.filter((f) => f.kind === 'trojan-source').map((f) => f.line),
      [1, 2],
    );
  });

  it('score grows with evidence and stays in [0, 1]', async () => {
    const one = await screenProposal({ diff: newFile('a.py', 'x = load("data/test_labels.jsonl")\n'), command: 'python a.py', taskMode: 'normal', title: 't', rationale: '' });
    const two = await screenProposal({
      diff: newFile('a.py', 'x = load("data/test_labels.jsonl")\nexec(base64.b64decode(blob).decode())\n'),
      command: 'python a.py',
      taskMode: 'normal',
      title: 't',
      rationale: '',
    });
    assert.ok(one.score > 0 && one.score < two.score && two.score <= 1);
  });
});
