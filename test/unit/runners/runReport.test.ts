import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RUN_FILES, SandboxError, checkReadOnlyPaths, noTestingCommandError } from '../../../src/runners/confine';
import { buildRunReport, formatRunReport } from '../../../src/runners/runReport';
import { readArtifacts } from '../../../src/runners/artifacts';
import { AUDIT_HOOK_C } from '../../../src/runners/auditHook';
import { DECOYWATCH_PY, LOGLIMIT_PY, PROXY_PY, SITECUSTOMIZE_PY, SUPERVISOR_PY } from '../../../src/runners/sandboxPy';

function runDir(files: Record<string, string>): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ovs-report-'));
  for (const [f, body] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(d, f)), { recursive: true });
    fs.writeFileSync(path.join(d, f), body);
  }
  return d;
}

describe('runners: run report and sandbox assets', () => {
  it('every Python asset compiles', () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ovs-py-'));
    for (const [n, src] of Object.entries({ DECOYWATCH_PY, LOGLIMIT_PY, PROXY_PY, SITECUSTOMIZE_PY, SUPERVISOR_PY })) {
      const f = path.join(d, `${n}.py`);
      fs.writeFileSync(f, src);
      execFileSync('python3', ['-m', 'py_compile', f]);
    }
  });

  it('the C audit hook compiles against this machine\'s /usr python (when gcc and its headers are installed)', function () {
    const py = fs.realpathSync('/usr/bin/python3');
    const inc = `/usr/include/${path.basename(py)}`;
    let gcc = true;
    try {
      execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    } catch {
      gcc = false;
    }
    if (!gcc || !fs.existsSync(path.join(inc, 'Python.h'))) return this.skip();
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ovs-c-'));
    fs.writeFileSync(path.join(d, 'a.c'), AUDIT_HOOK_C);
    execFileSync('gcc', ['-fsyntax-only', '-Wall', '-Werror', '-Wno-format-truncation', `-DOVERSEER_PYTHON="${py}"`, `-I${inc}`, path.join(d, 'a.c')]);
  });

  it('parses forged and malformed audit lines defensively; host and sandbox sources stay authoritative', () => {
    const d = runDir({
      [RUN_FILES.auditLog]: [
        '{"t":"path_denied","detail":"/fleet/labels/test.labels.jsonl","blocked":false}',
        'not json at all',
        '{"t":"made_up_kind","detail":"x"}',
        '{"t":"network","detail":{"not":"a string"}}',
        '[1,2,3]',
        `{"t":"program_started","detail":"${'A'.repeat(5000)}"}`,
        '',
      ].join('\n'),
      [RUN_FILES.proxyLog]: '{"t":"proxy_request","method":"POST","path":"/api/evaluate-predictions","status":200}\n{"t":"proxy_denied","method":"GET","path":"/api/fleet"}\n',
      [RUN_FILES.sandboxLog]: '{"t":"start"}\n{"t":"exec_blocked","program":"/usr/bin/true"}\n{"t":"end","exitCode":0}\n',
    });
    const rep = buildRunReport({ runDir: d, sandbox: 'bwrap', taskMode: 'normal', phase: 'succeeded' });
    assert.equal(rep.evidence.auditRejected, 4);
    assert.equal(rep.evidence.proxyRequests, 1);
    assert.ok(rep.items.some((i) => i.kind === 'path_denied' && i.source === 'audit' && i.violation));
    assert.ok(rep.items.some((i) => i.kind === 'proxy_denied' && i.source === 'host' && i.detail === 'GET /api/fleet'));
    assert.ok(rep.items.some((i) => i.kind === 'exec_blocked' && i.source === 'sandbox'));
    assert.ok(rep.items.some((i) => i.kind === 'audit_malformed' && !i.violation));
    const prog = rep.items.find((i) => i.kind === 'program_started')!;
    assert.equal(prog.violation, false, 'programs are allowed in a normal run');
    assert.ok(prog.detail.length <= 300);
    assert.equal(rep.items[0]!.source, 'host', 'violations first, host first');
    assert.match(formatRunReport(rep), /VIOLATION \[host\] proxy_denied/);
  });

  it('a clean run has no items; a no-testing run makes programs violations; an unconfined run is never clean', () => {
    const clean = buildRunReport({ runDir: runDir({ [RUN_FILES.sandboxLog]: '{"t":"start"}\n{"t":"end","exitCode":0}\n' }), sandbox: 'bwrap', taskMode: 'normal', phase: 'succeeded' });
    assert.equal(clean.violations, 0);
    assert.equal(clean.items.length, 0);
    assert.equal(clean.summary, 'no violations');
    const nt = buildRunReport({ runDir: runDir({ [RUN_FILES.auditLog]: '{"t":"program_started","detail":"id","blocked":true}\n' }), sandbox: 'bwrap', taskMode: 'no-testing' });
    assert.equal(nt.violations, 1);
    const none = buildRunReport({ runDir: runDir({}), sandbox: 'none', taskMode: 'normal', phase: 'succeeded' });
    assert.equal(none.violations, 1);
    assert.match(none.summary, /unconfined/);
  });

  it('a supervisor that never recorded the end of a successful run is itself a violation', () => {
    const rep = buildRunReport({ runDir: runDir({ [RUN_FILES.sandboxLog]: '{"t":"start"}\n' }), sandbox: 'bwrap', taskMode: 'normal', phase: 'succeeded' });
    assert.ok(rep.items.some((i) => i.kind === 'supervisor_missing' && i.violation));
  });

  it('a no-testing command is one program and its arguments: quotes and ${NAME} pass, shell syntax is named', () => {
    for (const ok of ['python3 train.py --out "${OVERSEER_OUTPUT_DIR}"', 'python3 -c "import x; print(1)"', "python3 a.py 'a;b' \\;"]) assert.equal(noTestingCommandError(ok), undefined, ok);
    for (const [bad, re] of [['python3 a.py && id', /found "&"/], ['a | b', /found "\|"/], ['python3 $HOME/x', /found "\$"/], ['x ${lower}', /only use \$\{NAME\}/], ['x "open', /unterminated quote/], ['  ', /empty command/], ['a > f', /found ">"/], ['a `id`', /found "`"/]] as const) {
      assert.match(noTestingCommandError(bad) ?? 'accepted', re, bad);
    }
  });

  it('refuses read-only paths that would expose the fleet, labels or $HOME', () => {
    const deny = ['/srv/fleet/tokens.json', '/home/alice'];
    const secret = ['/srv/fleet/labels'];
    assert.throws(() => checkReadOnlyPaths(['/srv'], deny, secret), SandboxError);
    assert.throws(() => checkReadOnlyPaths(['/srv/fleet/labels/syn'], deny, secret), /inside \/srv\/fleet\/labels/);
    assert.throws(() => checkReadOnlyPaths(['/home'], deny, secret), /would expose \/home\/alice/);
    assert.throws(() => checkReadOnlyPaths(['relative/path'], deny, secret), /must be absolute/);
    checkReadOnlyPaths(['/srv/fleet/datasets', '/opt/conda'], deny, secret);
  });
  it('evidence files replaced by a symlink, a FIFO or a directory: not followed, not blocked on, nothing of the target echoed', function () {
    this.timeout(10_000);
    const secretDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovs-secret-'));
    const secret = path.join(secretDir, 'test.labels.jsonl');
    fs.writeFileSync(secret, Array.from({ length: 600 }, (_, i) => `label-${i}`).join('\n'));
    for (const f of [RUN_FILES.auditLog, RUN_FILES.sandboxLog, RUN_FILES.proxyLog, RUN_FILES.hostLog, RUN_FILES.decoyLog]) {
      for (const how of ['symlink', 'fifo', 'dir'] as const) {
        const d = runDir({});
        const p = path.join(d, f);
        if (how === 'symlink') fs.symlinkSync(secret, p);
        else if (how === 'fifo') execFileSync('mkfifo', [p]);
        else fs.mkdirSync(p);
        const t0 = Date.now();
        const rep = buildRunReport({ runDir: d, sandbox: 'bwrap', taskMode: 'normal' });
        assert.ok(Date.now() - t0 < 1000, `${f} as ${how}: did not block`);
        const text = formatRunReport(rep);
        assert.ok(!/600|label-/.test(text), `${f} as ${how}: nothing of the target in the report: ${text}`);
        assert.ok(rep.items.some((i) => i.kind === 'evidence_replaced' && i.violation && i.detail.includes(path.basename(f))), `${f} as ${how}: ${text}`);
      }
    }
  });

  it('results.json replaced by a symlink, a FIFO, a directory or a huge file: refused without blocking; a regular file is read', function () {
    this.timeout(10_000);
    const secret = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ovs-secret-')), 'labels.json');
    fs.writeFileSync(secret, '{"secret":"LABELS"}');
    const cases: Record<string, (p: string) => void> = {
      symlink: (p) => fs.symlinkSync(secret, p),
      'symlink to a device': (p) => fs.symlinkSync('/dev/zero', p),
      fifo: (p) => execFileSync('mkfifo', [p]),
      dir: (p) => fs.mkdirSync(p),
      huge: (p) => fs.writeFileSync(p, `{"a":"${'x'.repeat(70 * 1024)}"}`),
    };
    for (const [how, make] of Object.entries(cases)) {
      const d = runDir({});
      make(path.join(d, 'results.json'));
      const t0 = Date.now();
      const a = readArtifacts(d);
      assert.ok(Date.now() - t0 < 1000, how);
      assert.ok('resultsError' in a && !('results' in a), `${how}: ${JSON.stringify(a)}`);
      assert.ok(!JSON.stringify(a).includes('LABELS'), how);
    }
    assert.deepEqual(readArtifacts(runDir({ 'results.json': '{"accuracy":0.5}' })), { results: { accuracy: 0.5 } });
    assert.deepEqual(readArtifacts(runDir({})), {});
  });

  it('decoy hits, C-hook refusals and the new limits are named; ctypes refused by the C hook is a violation only in no-testing runs', () => {
    const files = {
      [RUN_FILES.decoyLog]: '{"t":"decoy","how":"open","path":"/fleet/labels/syn/test.labels.jsonl"}\n{"t":"decoy","how":"list","path":"/fleet/labels"}\n',
      [RUN_FILES.auditLog]: '{"t":"test_framework","detail":"unittest","blocked":true,"hook":"c"}\n{"t":"ctypes","detail":"ctypes.cdata from /wt/x.py","blocked":true,"hook":"c"}\n',
      [RUN_FILES.sandboxLog]: '{"t":"limit","limit":"disk","value":60,"max":50,"where":"outputs"}\n{"t":"limit","limit":"memory","value":500,"max":512}\n{"t":"end","exitCode":124}\n',
      [RUN_FILES.hostLog]: '{"t":"limit","limit":"processes (cgroup: 30 forks refused)","value":105,"max":104}\n',
    };
    const nt = buildRunReport({ runDir: runDir(files), sandbox: 'bwrap', taskMode: 'no-testing' });
    const has = (r: typeof nt, kind: string, re: RegExp, violation: boolean) => assert.ok(r.items.some((i) => i.kind === kind && re.test(i.detail) && i.violation === violation), `${kind} ${re}: ${JSON.stringify(r.items)}`);
    has(nt, 'decoy_access', /opened the decoy at \/fleet\/labels\/syn\/test\.labels\.jsonl/, true);
    has(nt, 'decoy_access', /listed the decoy at \/fleet\/labels /, true);
    has(nt, 'test_framework', /unittest/, true);
    has(nt, 'ctypes', /ctypes\.cdata/, true);
    has(nt, 'limit', /disk limit: 60 > 50 \(outputs\)/, false);
    has(nt, 'limit', /memory limit: 500 > 512/, false);
    has(nt, 'limit', /processes \(cgroup: 30 forks refused\) limit: 105 > 104/, false);
    const normal = buildRunReport({ runDir: runDir(files), sandbox: 'bwrap', taskMode: 'normal' });
    has(normal, 'ctypes', /ctypes\.cdata/, false);
    has(normal, 'test_framework', /unittest/, false);
    has(normal, 'decoy_access', /test\.labels\.jsonl/, true);
  });
});
