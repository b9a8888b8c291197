import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RUN_FILES, SandboxError, checkReadOnlyPaths, noTestingCommandError } from '../../../src/runners/confine';
import { buildRunReport, formatRunReport } from '../../../src/runners/runReport';
import { LOGLIMIT_PY, PROXY_PY, SITECUSTOMIZE_PY, SUPERVISOR_PY } from '../../../src/runners/sandboxPy';

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
    for (const [n, src] of Object.entries({ LOGLIMIT_PY, PROXY_PY, SITECUSTOMIZE_PY, SUPERVISOR_PY })) {
      const f = path.join(d, `${n}.py`);
      fs.writeFileSync(f, src);
      execFileSync('python3', ['-m', 'py_compile', f]);
    }
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
});
