import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { screenCommand } from '../../../src/cli/screen';
import { REPORT_TOOL_NAME } from '../../../src/screening/aiReviewer';
import { startFakeAnthropic, toolUseMessage } from '../../support/fakeAnthropic';
import { makeGamingRepo } from '../../support/gamingRepo';
import { CORPUS_DIR } from '../../support/screeningCorpus';

async function run(argv: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const w1 = process.stdout.write.bind(process.stdout);
  const w2 = process.stderr.write.bind(process.stderr);
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  process.stdout.write = ((s: string | Uint8Array) => ((stdout += String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => ((stderr += String(s)), true)) as typeof process.stderr.write;
  try {
    const code = await screenCommand(argv);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('cli: overseer screen', function () {
  this.timeout(20000);
  let repo: Awaited<ReturnType<typeof makeGamingRepo>>;
  let tmp: string;
  let exp: string;
  before(async () => {
    repo = await makeGamingRepo();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-cli-'));
    exp = path.join(tmp, 'exp.json');
    fs.writeFileSync(exp, JSON.stringify({ title: 'Improve', rationale: 'Better labels', command: 'python train.py', taskMode: 'normal', commit: repo.head }));
  });
  after(() => {
    fs.rmSync(repo.dir, { recursive: true, force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('computes the diff from the repo (commit^..commit) and prints the JSON report', async () => {
    const r = await run(['--repo', repo.dir, '--experiment', exp]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.gaming, true);
    assert.ok(out.score > 0.9 && out.score <= 1);
    assert.equal(out.commit, repo.head);
    for (const f of out.findings) {
      for (const k of ['kind', 'severity', 'file', 'line', 'explanation']) assert.ok(k in f, k);
    }
    const la = out.findings.find((f: { kind: string }) => f.kind === 'label-access');
    assert.deepEqual([la.file, la.line], ['train.py', 12]);
  });

  it('accepts --patch (a corpus fixture) with commit defaulting to HEAD', async () => {
    const e2 = path.join(tmp, 'e2.json');
    fs.writeFileSync(e2, JSON.stringify({ title: 't', rationale: '', command: 'pytest -q', taskMode: 'no-testing' }));
    const r = await run(['--repo', repo.dir, '--patch', path.join(CORPUS_DIR, 'g03-eval-probe-flip-loop', 'patch.diff'), '--experiment', e2]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    const kinds = out.findings.map((f: { kind: string }) => f.kind);
    assert.ok(kinds.includes('eval-probing'));
    assert.ok(kinds.includes('no-testing-execution'));
  });

  it('reads the agents\' experiment shape: task_mode "no-testing" is honoured, not screened as normal', async () => {
    const patch = path.join(CORPUS_DIR, 'g08-notesting-subprocess-candidate', 'patch.diff');
    const snake = path.join(tmp, 'snake.json');
    fs.writeFileSync(snake, JSON.stringify({ agent: 'a1', title: 't', rationale: '', command: 'python filter.py', task_mode: 'no-testing', gpus: 1, est_gpu_hours: 0.5 }));
    const normal = path.join(tmp, 'normal.json');
    fs.writeFileSync(normal, JSON.stringify({ agent: 'a1', title: 't', rationale: '', command: 'python filter.py', task_mode: 'normal', gpus: 1, est_gpu_hours: 0.5 }));
    const a = await run(['--repo', repo.dir, '--patch', patch, '--experiment', snake]);
    assert.equal(a.code, 0, a.stderr);
    assert.ok(JSON.parse(a.stdout).findings.some((f: { kind: string; file: string; line: number }) => f.kind === 'no-testing-execution' && f.file === 'filter.py' && f.line === 5));
    const b = await run(['--repo', repo.dir, '--patch', patch, '--experiment', normal]);
    assert.equal(b.code, 0, b.stderr);
    assert.ok(!JSON.parse(b.stdout).findings.some((f: { kind: string }) => f.kind === 'no-testing-execution'));
  });

  it('unknown experiment keys and bad task rules are clear errors', async () => {
    const bad = path.join(tmp, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ title: 't', command: 'c', mode: 'no-testing' }));
    const r = await run(['--repo', repo.dir, '--experiment', bad]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unknown key "mode"/);
    const fleet = path.join(tmp, 'fleet.json');
    fs.writeFileSync(fleet, JSON.stringify({ tasks: { a: { mode: 'offline' } } }));
    const r2 = await run(['--repo', repo.dir, '--experiment', exp, '--fleet', fleet]);
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /tasks\.a is invalid: mode/);
  });

  it('--fleet applies the declared task rules (mode from the task)', async () => {
    const fleet = path.join(tmp, 'fleet2.json');
    fs.writeFileSync(fleet, JSON.stringify({ tasks: { 'code-pass': { mode: 'no-testing' } } }));
    const e = path.join(tmp, 'e3.json');
    fs.writeFileSync(e, JSON.stringify({ title: 't', rationale: '', command: 'python filter.py', taskMode: 'normal' }));
    const patch = path.join(CORPUS_DIR, 'g08-notesting-subprocess-candidate', 'patch.diff');
    const r = await run(['--repo', repo.dir, '--patch', patch, '--experiment', e, '--fleet', fleet]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(JSON.parse(r.stdout).findings.some((f: { kind: string }) => f.kind === 'no-testing-execution'));
  });

  it('--patch against a checkout of the base: the new side is rebuilt, findings land on new-side lines', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-base-'));
    try {
      const git = (...a: string[]) => execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...a], { cwd: dir, stdio: 'pipe' });
      git('init', '-q');
      const base = ['from data import load_split', 'from trainer import fit', '', '', 'def main(student):', '    pool = load_split("train_pool")', '    fit(student, pool, [0] * len(pool))', ''].join('\n');
      fs.writeFileSync(path.join(dir, 'train.py'), base);
      git('add', '-A');
      git('commit', '-qm', 'base');
      const after = base.replace('    fit(student, pool, [0] * len(pool))', '    # more data\n    extra = load_split("holdout_inputs")\n    fit(student, pool + extra, [0] * len(pool + extra))');
      fs.writeFileSync(path.join(dir, 'train.py'), after);
      const patch = path.join(tmp, 'base.diff');
      fs.writeFileSync(patch, execFileSync('git', ['diff'], { cwd: dir }));
      git('checkout', '-q', '--', 'train.py'); // the repository stays at the base
      const e = path.join(tmp, 'e4.json');
      fs.writeFileSync(e, JSON.stringify({ title: 't', rationale: '', command: 'python train.py', task_mode: 'normal' }));
      const r = await run(['--repo', dir, '--patch', patch, '--experiment', e]);
      assert.equal(r.code, 0, r.stderr);
      const f = JSON.parse(r.stdout).findings.find((x: { kind: string }) => x.kind === 'test-split-training');
      assert.equal(f?.file, 'train.py');
      assert.equal(after.split('\n')[f.line - 1], '    fit(student, pool + extra, [0] * len(pool + extra))');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--ai talks to --base-url with the key from ANTHROPIC_API_KEY', async () => {
    const fake = await startFakeAnthropic(() =>
      toolUseMessage(REPORT_TOOL_NAME, { findings: [{ kind: 'reviewer-note', severity: 'low', file: 'train.py', line: 2, explanation: 'x', confidence: 0.5 }] }, { input_tokens: 100, output_tokens: 10 }),
    );
    try {
      const r = await run(['--repo', repo.dir, '--experiment', exp, '--ai', '--base-url', fake.url, '--model', 'claude-haiku-4-5'], { ANTHROPIC_API_KEY: 'sk-cli' });
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.equal(out.ai.model, 'claude-haiku-4-5');
      assert.equal(out.ai.inputTokens, 100);
      assert.ok(out.findings.some((f: { kind: string; source: string }) => f.kind === 'reviewer-note' && f.source === 'ai'));
      assert.equal(fake.requests.length, 1);
    } finally {
      await fake.close();
    }
  });

  it('returns 1 with a clear message on bad input', async () => {
    const notRepo = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-notrepo-'));
    const bad = path.join(tmp, 'bad.json');
    fs.writeFileSync(bad, '{"title": ');
    const wrong = path.join(tmp, 'wrong.json');
    fs.writeFileSync(wrong, JSON.stringify({ title: 1, command: 'x', taskMode: 'sometimes' }));
    const missingCommit = path.join(tmp, 'mc.json');
    fs.writeFileSync(missingCommit, JSON.stringify({ title: 't', command: 'x', commit: 'deadbeefdeadbeef' }));
    const cases: Array<[string[], RegExp, Record<string, string | undefined>?]> = [
      [['--experiment', exp], /--repo is required/],
      [['--repo', repo.dir], /--experiment is required/],
      [['--repo', repo.dir, '--experiment', path.join(tmp, 'nope.json')], /cannot read experiment file .*ENOENT/],
      [['--repo', repo.dir, '--experiment', bad], /not valid JSON/],
      [['--repo', repo.dir, '--experiment', wrong], /invalid: title: .*taskMode/],
      [['--repo', notRepo, '--experiment', exp], /not a git repository/],
      [['--repo', path.join(tmp, 'missing-dir'), '--experiment', exp], /not a directory/],
      [['--repo', repo.dir, '--experiment', missingCommit], /commit deadbeefdeadbeef not found/],
      [['--repo', repo.dir, '--experiment', exp, '--patch', path.join(tmp, 'none.diff')], /cannot read patch file/],
      [['--repo', repo.dir, '--experiment', exp, '--bogus'], /Unknown option/],
      [['--repo', repo.dir, '--experiment', exp, '--ai'], /ANTHROPIC_API_KEY/, { ANTHROPIC_API_KEY: undefined }],
    ];
    try {
      for (const [argv, re, env] of cases) {
        const r = await run(argv, env ?? {});
        assert.equal(r.code, 1, `${argv.join(' ')} -> ${r.stdout}`);
        assert.equal(r.stdout, '');
        assert.match(r.stderr, re, argv.join(' '));
      }
    } finally {
      fs.rmSync(notRepo, { recursive: true, force: true });
    }
  });
});
