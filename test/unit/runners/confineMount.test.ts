import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type ConfineInput, type JobSandbox, SANDBOX_ROOT, SandboxError, prepareConfinedRun } from '../../../src/runners/confine';
import { decoyAgreement } from '../../../src/runners/decoys';

const tmp = (p: string) => fs.mkdtempSync(path.join(os.tmpdir(), p));

/** The words of a shell line made of shQuote'd words (bare, or '…' with '\'' for a quote). */
function shWords(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    while (s[i] === ' ') i++;
    if (i >= s.length) break;
    let w = '';
    while (i < s.length && s[i] !== ' ') {
      if (s[i] === "'") {
        const end = s.indexOf("'", i + 1);
        w += s.slice(i + 1, end);
        i = end + 1;
      } else if (s[i] === '\\') {
        w += s[i + 1];
        i += 2;
      } else w += s[i++];
    }
    out.push(w);
  }
  return out;
}

/** The bwrap arguments the launcher passes (before the system binds it adds itself). */
function bwrapArgs(launcher: string): string[] {
  const line = fs.readFileSync(launcher, 'utf8').split('\n').find((l) => l.includes('exec "$bw" '))!;
  return shWords(line.slice(line.indexOf('exec "$bw" ') + 'exec "$bw" '.length, line.indexOf(' "${sys[@]}"')));
}

/** [option, src, dest] of every bind in order. */
function bindsOf(args: string[]): [string, string, string][] {
  const out: [string, string, string][] = [];
  for (let k = 0; k < args.length; k++) if (args[k] === '--ro-bind' || args[k] === '--bind') out.push([args[k]!, args[k + 1]!, args[k + 2]!]);
  return out;
}

interface Policy {
  outputsDir: string;
  visibleRoots: string[];
  hiddenRoots: string[];
  boundRoots: string[];
  readOnlyRoots: string[];
  writableRoots: string[];
}

/**
 * A fleet with a seed layout and a replication job: the real run directory `<fleet>/replication/x1`, mounted at the
 * seed job's `<fleet>/runs/x1`, with a dataset view bound over `<fleet>/datasets/syn` and decoys made from its labels
 * view at `<fleet>/labels`.
 */
function replicationFixture() {
  const fleet = tmp('ovs-mount-fleet-');
  const f = (p: string) => path.join(fleet, p);
  const rows = (prefix: string, n: number) => Array.from({ length: n }, (_, k) => JSON.stringify({ id: `${prefix}-${k}`, label: k % 2 })).join('\n') + '\n';
  fs.mkdirSync(f('datasets/syn/test'), { recursive: true });
  fs.writeFileSync(f('datasets/syn/test/items.jsonl'), '{"id":"item-0","text":"visible"}\n');
  fs.mkdirSync(f('labels/syn'), { recursive: true });
  fs.writeFileSync(f('labels/syn/test.labels.jsonl'), rows('item', 300));
  fs.mkdirSync(f('transfer/datasets/hid/test'), { recursive: true });
  fs.writeFileSync(f('transfer/datasets/hid/test/items.jsonl'), '{"id":"hid-0","text":"hidden"}\n');
  fs.mkdirSync(f('runs'), { recursive: true });
  const runDir = f('replication/x1');
  const workdir = path.join(runDir, 'wt');
  fs.mkdirSync(workdir, { recursive: true });
  fs.mkdirSync(path.join(runDir, 'view/syn/test'), { recursive: true });
  fs.writeFileSync(path.join(runDir, 'view/syn/test/items.jsonl'), '{"id":"hid-0","text":"hidden"}\n');
  fs.mkdirSync(path.join(runDir, 'labelsview/syn'), { recursive: true });
  fs.writeFileSync(path.join(runDir, 'labelsview/syn/test.labels.jsonl'), rows('hid', 300));
  const sandbox: JobSandbox = {
    taskMode: 'no-testing',
    readOnlyPaths: [f('datasets')],
    denyPaths: [f('tokens.json'), f('ledger.jsonl'), f('repos'), f('runs'), f('transfer'), f('replication')],
    secretPaths: [],
    secretViews: [{ src: path.join(runDir, 'labelsview'), at: f('labels') }],
    binds: [{ src: path.join(runDir, 'view/syn'), dest: f('datasets/syn') }],
    mountRunDirAt: f('runs/x1'),
    proxy: { upstream: 'http://127.0.0.1:9', token: 'tok' },
  };
  const input = (sb: Partial<JobSandbox> = {}): ConfineInput => ({
    runDir,
    workdir,
    logPath: path.join(runDir, 'job.log'),
    experimentId: 'x1',
    env: { PATH: '/usr/bin:/bin', OVERSEER_EXPERIMENT_ID: 'x1' },
    command: 'python3 train.py',
    sandbox: { ...sandbox, ...sb },
  });
  return { fleet, f, runDir, workdir, sandbox, input };
}

describe('runners: confinement of a job mounted at another run directory (mountRunDirAt, binds, secretViews)', () => {
  it('binds the worktree and outputs at the mounted paths, never at the real ones, and tells the run only the inside paths', () => {
    const { f, runDir, workdir, input } = replicationFixture();
    const plan = prepareConfinedRun(input());
    const args = bwrapArgs(plan.launcher);
    const binds = bindsOf(args);
    assert.ok(binds.some(([o, s, d]) => o === '--ro-bind' && s === workdir && d === f('runs/x1/wt')), JSON.stringify(binds));
    assert.ok(binds.some(([o, s, d]) => o === '--bind' && s === path.join(runDir, 'out') && d === f('runs/x1/out')), JSON.stringify(binds));
    for (const [, , d] of binds) assert.ok(!d.startsWith(runDir), `nothing is bound at the real run directory: ${d}`);
    assert.equal(args[args.indexOf('--chdir') + 1], f('runs/x1/wt'));
    // everything the run is told names the mounted paths
    assert.equal(plan.env.OVERSEER_OUTPUT_DIR, f('runs/x1/out'));
    for (const [k, v] of Object.entries(plan.env)) assert.ok(!v.includes(runDir), `env ${k}=${v}`);
    for (let k = 0; k < args.length; k++) if (args[k] === '--setenv') assert.ok(!args[k + 2]!.includes(runDir), args[k + 2]);
    const policyText = fs.readFileSync(path.join(runDir, 'sbx/policy.json'), 'utf8');
    const policy = JSON.parse(policyText) as Policy;
    assert.ok(!policyText.includes(runDir), 'the policy never names the real run directory');
    assert.equal(policy.outputsDir, f('runs/x1/out'));
    assert.ok(policy.visibleRoots.includes(f('runs/x1/wt')) && policy.visibleRoots.includes(f('runs/x1/out')));
    assert.deepEqual(policy.boundRoots.slice(0, 2), [f('runs/x1/wt'), f('runs/x1/out')]);
    assert.equal(policy.readOnlyRoots[0], f('runs/x1/wt'));
    assert.deepEqual(policy.writableRoots, ['/tmp', '/dev', f('runs/x1/out')]);
    // the fleet stays hidden, the views' `at` too
    assert.ok(policy.hiddenRoots.includes(path.dirname(path.dirname(runDir))));
    assert.ok(policy.hiddenRoots.includes(f('labels')));
    const conf = fs.readFileSync(path.join(runDir, 'sbx/audit.conf'), 'utf8');
    assert.match(conf, new RegExp(`^trusted ${f('runs/x1/wt')}$`, 'm'));
    assert.ok(!conf.includes(runDir));
    // host-side files keep the host paths
    assert.equal(plan.outputsDir, path.join(runDir, 'out'));
    const proxy = JSON.parse(fs.readFileSync(path.join(runDir, 'proxy.json'), 'utf8')) as { proxySocketHost: string; proxyLog: string };
    assert.equal(proxy.proxySocketHost, path.join(runDir, 'sock/api.sock'));
    assert.equal(proxy.proxyLog, path.join(runDir, 'proxy.jsonl'));
    assert.match(fs.readFileSync(plan.launcher, 'utf8'), new RegExp(`^run=${runDir.replace(/[.+]/g, '\\$&')}; `, 'm'));
  });

  it('hides the fleet of the mounted path as well as the real one when they differ', () => {
    const { runDir, input } = replicationFixture();
    const other = path.join(tmp('ovs-mount-other-'), 'runs', 'x9');
    prepareConfinedRun(input({ mountRunDirAt: other }));
    const policy = JSON.parse(fs.readFileSync(path.join(runDir, 'sbx/policy.json'), 'utf8')) as Policy;
    assert.ok(policy.hiddenRoots.includes(path.dirname(path.dirname(runDir))), 'the real fleet');
    assert.ok(policy.hiddenRoots.includes(path.dirname(path.dirname(other))), 'the mounted fleet');
  });

  it('refuses a relative or unsafe mountRunDirAt', () => {
    const { f, input } = replicationFixture();
    assert.throws(() => prepareConfinedRun(input({ mountRunDirAt: 'runs/x1' })), SandboxError);
    assert.throws(() => prepareConfinedRun(input({ mountRunDirAt: '/' })), SandboxError);
    assert.throws(() => prepareConfinedRun(input({ mountRunDirAt: path.join(f('labels'), 'x1') })), /would cover or be inside/);
    assert.throws(() => prepareConfinedRun(input({ mountRunDirAt: path.join(SANDBOX_ROOT, 'x1') })), /would cover or be inside/);
  });

  it('makes the extra binds after the read-only paths (and before the worktree), and lists them by their dest', () => {
    const { f, runDir, input } = replicationFixture();
    const plan = prepareConfinedRun(input());
    const binds = bindsOf(bwrapArgs(plan.launcher));
    const at = (src: string, dest: string) => binds.findIndex(([o, s, d]) => o === '--ro-bind' && s === src && d === dest);
    const ro = at(f('datasets'), f('datasets'));
    const view = at(path.join(runDir, 'view/syn'), f('datasets/syn'));
    const wt = binds.findIndex(([, , d]) => d === f('runs/x1/wt'));
    assert.ok(ro >= 0 && view > ro && wt > view, JSON.stringify(binds));
    const policy = JSON.parse(fs.readFileSync(path.join(runDir, 'sbx/policy.json'), 'utf8')) as Policy;
    for (const k of ['visibleRoots', 'boundRoots', 'readOnlyRoots'] as const) assert.ok(policy[k].includes(f('datasets/syn')), k);
    assert.ok(!policy.writableRoots.includes(f('datasets/syn')));
  });

  it('refuses a bind whose source is denied outside the run directory, is the run directory, or is missing', () => {
    const { f, runDir, input } = replicationFixture();
    assert.throws(() => prepareConfinedRun(input({ binds: [{ src: f('transfer/datasets/hid'), dest: f('datasets/syn') }] })), (e: Error) => e instanceof SandboxError && /inside .*transfer/.test(e.message));
    assert.throws(() => prepareConfinedRun(input({ binds: [{ src: f('transfer'), dest: f('datasets/syn') }] })), SandboxError);
    assert.throws(() => prepareConfinedRun(input({ binds: [{ src: runDir, dest: f('datasets/syn') }] })), SandboxError, 'the run directory itself (token, decoy key)');
    assert.throws(() => prepareConfinedRun(input({ binds: [{ src: path.join(runDir, 'labelsview'), dest: f('datasets/syn') }] })), SandboxError, 'the hidden labels the decoys are made from');
    assert.throws(() => prepareConfinedRun(input({ binds: [{ src: path.join(runDir, 'nope'), dest: f('datasets/syn') }] })), /does not exist/);
    assert.throws(() => prepareConfinedRun(input({ binds: [{ src: 'view/syn', dest: f('datasets/syn') }] })), SandboxError);
  });

  it('refuses a bind whose destination would expose or cover a secret, denied or sandbox path', () => {
    const { fleet, f, runDir, input } = replicationFixture();
    const src = path.join(runDir, 'view/syn');
    for (const dest of [fleet, f('labels'), f('labels/syn'), f('runs'), f('repos/a'), SANDBOX_ROOT, path.join(SANDBOX_ROOT, 'sbx'), '/']) {
      assert.throws(() => prepareConfinedRun(input({ binds: [{ src, dest }] })), SandboxError, dest);
    }
    // a secret path (not only a view's at)
    assert.throws(() => prepareConfinedRun(input({ secretViews: [], secretPaths: [f('labels')], binds: [{ src, dest: f('labels') }] })), SandboxError);
  });

  it("counts a secret view's `at` as a secret path: no read-only path may expose it", () => {
    const { fleet, f, input } = replicationFixture();
    assert.throws(() => prepareConfinedRun(input({ readOnlyPaths: [fleet] })), /would expose/);
    assert.throws(() => prepareConfinedRun(input({ readOnlyPaths: [f('labels/syn')] })), /which no run may see/);
  });

  it("builds a secret view's decoys from its src (ids, class frequencies) and binds and watches them at its `at`", () => {
    const { f, runDir, input } = replicationFixture();
    const plan = prepareConfinedRun(input());
    const decoyFile = path.join(runDir, 'decoy/0/syn/test.labels.jsonl');
    const rows = fs.readFileSync(decoyFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; label: number });
    assert.deepEqual(rows.map((x) => x.id), Array.from({ length: 300 }, (_, k) => `hid-${k}`), "the view's ids, not those of the fleet's labels");
    const binds = bindsOf(bwrapArgs(plan.launcher));
    assert.ok(binds.some(([o, s, d]) => o === '--ro-bind' && s === path.join(runDir, 'decoy/0') && d === f('labels')), JSON.stringify(binds));
    assert.ok(!binds.some(([, s]) => s.includes('labelsview')), 'the labels view itself is never bound');
    const watch = JSON.parse(fs.readFileSync(path.join(runDir, 'decoywatch.json'), 'utf8')) as { watch: [string, string][] };
    assert.deepEqual(watch.watch.map(([, s]) => s).sort(), [f('labels'), f('labels/syn')]);
    assert.deepEqual(watch.watch.map(([h]) => h).sort(), [path.join(runDir, 'decoy/0'), path.join(runDir, 'decoy/0/syn')]);
    const rec = JSON.parse(fs.readFileSync(path.join(runDir, 'decoy.json'), 'utf8')) as { files: { rel: string; sandboxPath: string; weights: number[] }[] };
    assert.deepEqual(rec.files.map((x) => [x.rel, x.sandboxPath, x.weights]), [['syn/test.labels.jsonl', f('labels/syn/test.labels.jsonl'), [150, 150]]]);
    const m = decoyAgreement(runDir, { dataset: 'syn', split: 'test', predictions: rows.map((x) => x.label) });
    assert.ok(m, 'a copy of the decoy is flagged');
    assert.equal(m.path, f('labels/syn/test.labels.jsonl'));
    assert.equal(decoyAgreement(runDir, { dataset: 'syn', split: 'test', predictions: rows.map((_, k) => k % 2) }), undefined, 'the true labels are not the decoy');
  });
});
