// The attack suite: hostile approved runs on the local runner with real bubblewrap, a real run proxy and real
// processes. Every attempt must be blocked (nothing secret reaches the log, the outputs or the network; nothing
// outside the run is written; nothing outlives it) AND named in the run report in the ledger.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { Experiment } from '../../../src/core/model';
import { FleetService } from '../../../src/core/service';
import { HubClient } from '../../../src/hub/client';
import { startHub } from '../../../src/hub/server';
import { parseRunnersConfig } from '../../../src/runners/config';
import { type Dispatcher, startDispatcher } from '../../../src/runners/dispatcher';
import { LocalRunner } from '../../../src/runners/local';
import type { RunReport } from '../../../src/runners/runReport';
import { ATTACK_PY, survivorsCommand } from './attackScripts';
import { type Fleet, HUMAN, TERMINAL_RUN, logOf, makeFleet, proposeAndApprove, stateOf, tmpDir, waitFor } from './helpers';
import { SLURM_ENABLED, useCiSlurmConf } from './slurmEnv';

const SECRET = 'LABEL-SECRET-7f3a9c';

/** Live host processes whose command line contains `needle`. */
/** Live processes on the host whose command line contains `needle` (and, if given, that belong to that experiment's run). */
function hostProcesses(needle: string, experimentId?: string): string[] {
  const out: string[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      if (/^[ZX]$/.test(st.slice(st.lastIndexOf(')') + 2).split(' ')[0]!)) continue;
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (!cmd.includes(needle)) continue;
      if (experimentId !== undefined && !fs.readFileSync(`/proc/${d}/environ`, 'utf8').split('\0').includes(`OVERSEER_EXPERIMENT_ID=${experimentId}`)) continue;
      out.push(`${d} ${cmd}`);
    } catch {
      /* gone */
    }
  }
  return out;
}

function reportOf(f: Fleet, id: string): RunReport {
  const r = f.service.state.experiment(id)!.run?.report;
  assert.ok(r, `${id} has a run report: ${logOf(f, id)}`);
  return r.report as unknown as RunReport;
}

function attacks(log: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const l of log.split('\n')) {
    const a = /^ATTACK (\S+) (blocked|LEAKED)(.*)$/.exec(l);
    if (a) m.set(a[1]!, `${a[2]}${a[3]}`);
  }
  return m;
}

function named(rep: RunReport, kind: string, detail: string | RegExp): boolean {
  return rep.items.some((i) => i.kind === kind && (typeof detail === 'string' ? i.detail.includes(detail) : detail.test(i.detail)));
}

interface SuiteOptions {
  kind: 'local' | 'slurm';
  runner: Record<string, unknown>;
  /** How long all attack runs may take. */
  finishMs: number;
}

function attackSuite(o: SuiteOptions): void {
  let f: Fleet;
  let d: Dispatcher;
  let upstream: http.Server;
  const seen: { method: string; url: string; auth?: string }[] = [];
  const x: Record<string, Experiment> = {};
  let ledgerBefore = '';
  let otherReadme = '';

  before(async function () {
    this.timeout(o.finishMs + 90_000);
    if (o.kind === 'slurm') useCiSlurmConf();
    process.env.OVERSEER_TEST_SECRET = SECRET; // in the hub's environment: /proc/<hub>/environ must not reach it
    f = await makeFleet(tmpDir(`ovs-attack-${o.kind}-`), ['evil', 'other']);
    const labels = path.join(f.dir, 'labels', 'syn');
    fs.mkdirSync(path.join(f.dir, 'labels', '.overseer-eval'), { recursive: true });
    fs.mkdirSync(labels, { recursive: true });
    fs.writeFileSync(path.join(labels, 'test.labels.jsonl'), `{"id":"0","label":1,"s":"${SECRET}"}\n`);
    fs.writeFileSync(path.join(f.dir, 'labels', '.overseer-eval', 'release.key'), SECRET);
    fs.writeFileSync(path.join(f.dir, 'tokens.json'), JSON.stringify({ tokens: [{ secret: SECRET }] }));
    fs.mkdirSync(path.join(f.dir, 'datasets', 'syn', 'test'), { recursive: true });
    fs.writeFileSync(path.join(f.dir, 'datasets', 'syn', 'test', 'items.jsonl'), '{"id":"0","features":[0.5]}\n');
    otherReadme = fs.readFileSync(path.join(f.dir, 'repos', 'other', 'README.md'), 'utf8');

    upstream = http.createServer((req, res) => {
      seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization });
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const port = (upstream.address() as { port: number }).port;
    const py = (mode: string) => `python3 attack.py ${mode} ${f.dir} ${process.pid} ${port} ${SECRET}`;
    const files = { 'attack.py': ATTACK_PY };

    x.files = await proposeAndApprove(f, 'evil', py('files'), {}, files);
    x.net = await proposeAndApprove(f, 'evil', py('net'), {}, files);
    x.noTesting = await proposeAndApprove(f, 'evil', `python3 attack.py no-testing ${f.dir} ${process.pid} ${port} ${SECRET}`, {}, files, false);
    x.bash = await proposeAndApprove(f, 'evil', `cat ../../../labels/syn/test.labels.jsonl ${path.join(f.dir, 'labels', 'syn', 'test.labels.jsonl')} /proc/${process.pid}/environ; echo x >> ${path.join(f.dir, 'ledger.jsonl')}; ls ${f.dir}; (exec 3<>/dev/tcp/1.1.1.1/443) && echo TCP-LEAKED; getent hosts example.com && echo DNS-LEAKED; echo bash-done`);
    x.surviveFinish = await proposeAndApprove(f, 'evil', survivorsCommand('1', 'echo main-done'));
    x.surviveCancel = await proposeAndApprove(f, 'evil', survivorsCommand('2', 'sleep 600'));
    // a no-testing run: propose it as such (helpers propose normal runs)
    const nt = await f.service.propose({ kind: 'agent', id: 'evil' }, {
      title: 'no-testing attack',
      rationale: 'attack suite',
      command: x.noTesting.command,
      resources: { gpus: 0, gpuHours: 0.01, timeLimitMinutes: 5 },
      taskMode: 'no-testing',
      commit: x.noTesting.commit,
      branch: 'main',
    });
    await f.service.approve(HUMAN, nt.id, { commit: nt.commit, tree: nt.tree });
    x.noTesting = f.service.state.experiment(nt.id)!;
    // a no-testing bash program: no audit hook sees its execve, seccomp refuses it
    const ntb = await proposeAndApprove(f, 'evil', 'bash nt.sh', {}, { 'nt.sh': '/usr/bin/true && echo TRUE-RAN\necho nt-bash-done\n' }, false);
    const ntBash = await f.service.propose({ kind: 'agent', id: 'evil' }, { title: 'no-testing bash', rationale: 'attack suite', command: 'bash nt.sh', resources: { gpus: 0, gpuHours: 0.01, timeLimitMinutes: 5 }, taskMode: 'no-testing', commit: ntb.commit, branch: 'main' });
    await f.service.approve(HUMAN, ntBash.id, { commit: ntBash.commit, tree: ntBash.tree });
    x.noTestingBash = f.service.state.experiment(ntBash.id)!;
    ledgerBefore = fs.readFileSync(path.join(f.dir, 'ledger.jsonl'), 'utf8');

    d = startDispatcher(f.service, parseRunnersConfig({ runners: [o.runner], dispatch: { perAgentConcurrency: 10, fleetConcurrency: 10 } }), {
      pollMs: 100,
      localKillGraceSeconds: 2,
      evalUrl: `http://127.0.0.1:${port}`,
      tokenFor: (e) => `job-token-${e.id}`,
      onWarning: () => undefined,
    });
    await waitFor('the cancel target to start its survivors', () => logOf(f, x.surviveCancel!.id).includes('survivors-started'), 60_000, 100);
    await f.service.requestCancel(HUMAN, x.surviveCancel!.id, 'attack suite');
    await waitFor('all attack runs to end', () => Object.values(x).every((e) => TERMINAL_RUN.includes(stateOf(f, e.id))), o.finishMs, 100);
  });

  after(async () => {
    await d?.stop();
    await f?.service.close();
    upstream?.close();
    delete process.env.OVERSEER_TEST_SECRET;
  });

  it('nothing secret reaches any log or outputs directory', () => {
    for (const e of Object.values(x)) {
      assert.ok(!logOf(f, e.id).includes(SECRET), `${e.id} log leaked:\n${logOf(f, e.id)}`);
      const out = path.join(f.dir, 'runs', e.id, 'out');
      for (const file of fs.existsSync(out) ? fs.readdirSync(out) : []) {
        const p = path.join(out, file);
        const st = fs.lstatSync(p);
        if (st.isFile()) assert.ok(!fs.readFileSync(p, 'utf8').includes(SECRET), `${p} leaked`);
      }
    }
  });

  it('file attacks: labels, release key, tokens, /proc, $HOME, links, ledger, other repos, the worktree: blocked and named', () => {
    const log = logOf(f, x.files!.id);
    const a = attacks(log);
    const expected = ['labels-relative', 'labels-absolute', 'release-key', 'tokens-file', 'labels-listdir', 'proc-cwd', 'hub-environ', 'init-environ', 'home-dir', 'symlink-at-runtime', 'hardlink-at-runtime', 'write-ledger', 'write-ledger-relative', 'write-other-repo', 'write-worktree', 'forge-supervisor-log', 'supervisor-memory'];
    for (const n of expected) assert.match(a.get(n) ?? 'missing', n.startsWith('write-') ? /^blocked( contained)?/ : /^blocked/, `${n}: ${a.get(n)}\n${log}`);
    // the supervisor's record cannot be reached through /proc (it is not dumpable): nothing forged got in
    assert.match(a.get('forge-supervisor-log')!, /PermissionError/);
    assert.ok(!fs.readFileSync(path.join(f.dir, 'runs', x.files!.id, 'sandbox.jsonl'), 'utf8').includes('FORGED'));
    const rep = reportOf(f, x.files!.id);
    const fl = f.dir;
    const want: [string, string | RegExp][] = [
      ['path_denied', `${fl}/labels/syn/test.labels.jsonl`], // relative and absolute both normalise to it
      ['path_denied', `${fl}/labels/.overseer-eval/release.key`],
      ['path_denied', `${fl}/tokens.json`],
      ['path_denied', `${fl}/labels`],
      ['proc_access', /\/proc\/1\/cwd/],
      ['proc_access', `/proc/${process.pid}/environ`],
      ['proc_access', '/proc/1/environ'],
      ['path_denied', '/root'],
      ['path_denied', /\/out\/l -> .*labels\/syn\/test\.labels\.jsonl/],
      ['path_denied', `${fl}/ledger.jsonl`],
      ['path_denied', `${fl}/repos/other/README.md`],
      ['write_denied', `${path.join(fl, 'runs', x.files!.id, 'wt', 'attack.py')}`],
      ['proc_access', /\/proc\/\d+\/fd\/3/],
      ['proc_access', /\/proc\/\d+\/mem/],
    ];
    for (const [k, dtl] of want) assert.ok(named(rep, k, dtl), `${k} ${dtl} named in the report:\n${log}`);
    assert.ok(rep.violations >= want.length - 2, rep.summary);
    // the ledger and the other agent's repository are untouched
    assert.ok(fs.readFileSync(path.join(f.dir, 'ledger.jsonl'), 'utf8').startsWith(ledgerBefore));
    assert.ok(!fs.readFileSync(path.join(f.dir, 'ledger.jsonl'), 'utf8').includes('EVIL-WRITE'));
    assert.equal(fs.readFileSync(path.join(f.dir, 'repos', 'other', 'README.md'), 'utf8'), otherReadme);
    assert.equal(fs.readFileSync(path.join(f.dir, 'runs', x.files!.id, 'wt', 'attack.py'), 'utf8'), ATTACK_PY, 'the approved file is unchanged');
  });

  it('network attacks: TCP, UDP, DNS, the hub directly, other routes through the proxy: blocked and named', () => {
    const log = logOf(f, x.net!.id);
    const a = attacks(log);
    for (const n of ['tcp-outside', 'tcp-hub-direct', 'udp-outside', 'dns', 'proxy-other-route', 'token-in-env']) assert.match(a.get(n) ?? 'missing', /^blocked/, `${n}: ${a.get(n)}\n${log}`);
    const rep = reportOf(f, x.net!.id);
    assert.ok(named(rep, 'network', 'connect 1.1.1.1:443'), log);
    assert.ok(named(rep, 'network', /connect 127\.0\.0\.1:\d+/), log);
    assert.ok(named(rep, 'network', 'sendto 8.8.8.8:53'), log);
    assert.ok(named(rep, 'network', 'dns example.com'), log);
    assert.ok(rep.items.some((i) => i.kind === 'proxy_denied' && i.source === 'host' && i.detail.startsWith('POST /api/experiments')), log);
    // the proxy forwarded nothing but what it allows, and only with the token it holds
    const fromNet = seen.filter((s) => s.url.includes('/api/experiments') && s.method === 'POST');
    assert.equal(fromNet.length, 0, JSON.stringify(seen));
  });

  it('a bash run reading labels, writing the ledger and opening sockets gets nothing (blocked; not named: no audit hook for bash)', () => {
    const log = logOf(f, x.bash!.id);
    assert.match(log, /No such file or directory/);
    assert.ok(!/TCP-LEAKED|DNS-LEAKED/.test(log), log);
    assert.match(log, /bash-done/);
  });

  it('setsid, nohup and double-forked survivors after the command finished: killed and named', async () => {
    const rep = reportOf(f, x.surviveFinish!.id);
    await waitFor('no survivor on the host', () => hostProcesses('sleep 3001').length === 0, 5000);
    for (const n of ['sleep 30011', 'sleep 30012', 'sleep 30013']) assert.ok(named(rep, 'survivor', n), `${n} named: ${JSON.stringify(rep.items)}`);
    assert.ok(named(rep, 'survivor', /sleep 30011 \(setsid/), JSON.stringify(rep.items));
    assert.ok(named(rep, 'survivor', /sleep 30012 .*ignores SIGHUP/), JSON.stringify(rep.items));
    assert.equal(stateOf(f, x.surviveFinish!.id), 'succeeded');
  });

  it('setsid, nohup and double-forked survivors at cancel: killed and named', async () => {
    assert.equal(stateOf(f, x.surviveCancel!.id), 'cancelled');
    await waitFor('no survivor on the host', () => hostProcesses('sleep 3002').length === 0, 5000);
    const rep = reportOf(f, x.surviveCancel!.id);
    for (const n of ['sleep 30021', 'sleep 30022', 'sleep 30023']) assert.ok(named(rep, 'survivor', n), `${n} named: ${JSON.stringify(rep.items)}`);
  });

  it('a no-testing run cannot start programs or run decoded code: blocked (audit hook and seccomp) and named', () => {
    const log = logOf(f, x.noTesting!.id);
    const a = attacks(log);
    for (const n of ['subprocess', 'os-system', 'exec-decoded', 'ctypes-execv']) assert.match(a.get(n) ?? 'missing', /^blocked/, `${n}: ${a.get(n)}\n${log}`);
    const rep = reportOf(f, x.noTesting!.id);
    assert.equal(rep.taskMode, 'no-testing');
    assert.ok(named(rep, 'program_started', '/usr/bin/true'), log);
    assert.ok(named(rep, 'program_started', 'true'), log);
    assert.ok(named(rep, 'dynamic_code', "open('/tmp/pwned'"), log);
    assert.ok(rep.items.filter((i) => i.violation).length >= 4);
    // the C hook refuses the Python routes before any execve; a bash program's execve meets seccomp
    const bashLog = logOf(f, x.noTestingBash!.id);
    assert.ok(!bashLog.includes('TRUE-RAN'), bashLog);
    assert.match(bashLog, /nt-bash-done/);
    const bashRep = reportOf(f, x.noTestingBash!.id);
    assert.ok(bashRep.items.some((i) => i.kind === 'exec_blocked' && i.source === 'sandbox' && i.detail.includes('/usr/bin/true')), JSON.stringify(bashRep.items));
  });

  it('every attack run has a run report event with violations, before its finish, in the audit trail', () => {
    for (const [k, e] of Object.entries(x)) {
      if (k === 'bash') continue;
      const r = f.service.state.experiment(e.id)!.run!.report!;
      assert.ok(r.violations > 0, `${k}: ${r.summary}`);
      const h = f.service.state.experiment(e.id)!.history.map((y) => y.type);
      assert.ok(h.indexOf('run.report') < h.indexOf('experiment.finished'), h.join(','));
      assert.ok(f.service.state.auditTrail().some((y) => y.type === 'run.report' && y.summary.includes(e.id)));
    }
  });

  it('the ledger still verifies after every attack', async () => {
    const again = await FleetService.open(f.dir, { noSync: true }).catch((err: Error) => err);
    assert.ok(!(again instanceof Error), String(again));
    await again.close();
  });
}

describe('runners: attack suite on the local runner (real bubblewrap)', function () {
  this.timeout(120_000);
  attackSuite({ kind: 'local', runner: { name: 'box', type: 'local', maxConcurrent: 10 }, finishMs: 90_000 });
});

(SLURM_ENABLED ? describe : describe.skip)('runners: attack suite on the CI Slurm cluster (bubblewrap on the compute node)', function () {
  this.timeout(240_000);
  attackSuite({ kind: 'slurm', runner: { name: 'cluster', type: 'slurm', maxConcurrent: 10, pollMs: 300 }, finishMs: 180_000 });
});

describe('runners: per-runner limits (fleet.json "limits")', function () {
  this.timeout(90_000);

  it('processes, log size, memory and wall time: enforced, and the hits named in the run report', async () => {
    const g = await makeFleet(tmpDir('ovs-limits-'), ['l']);
    const forkBomb = await proposeAndApprove(g, 'l', 'for i in $(seq 200); do sleep 30 & done; wait');
    const logSpam = await proposeAndApprove(g, 'l', 'yes overseer-log-spam | head -c 50000000; sleep 30');
    const memory = await proposeAndApprove(g, 'l', 'python3 -c "x = bytearray(1024 * 1024 * 1024); print(\'allocated\')"');
    const wall = await proposeAndApprove(g, 'l', 'echo started; sleep 60', { timeLimitMinutes: 60 });
    const honest = await proposeAndApprove(g, 'l', 'echo fine; python3 -c "print(sum(range(1000)))"');
    const cfg = { name: 'box', type: 'local', maxConcurrent: 5, limits: { processes: 40, logMB: 0.5, memoryMB: 512, wallSeconds: 3 } };
    const dd = startDispatcher(g.service, parseRunnersConfig({ runners: [cfg], dispatch: { perAgentConcurrency: 5, fleetConcurrency: 5 } }), { pollMs: 100, localKillGraceSeconds: 1, onWarning: () => undefined });
    const all = [forkBomb, logSpam, memory, wall, honest];
    await waitFor('all limited runs to end', () => all.every((y) => TERMINAL_RUN.includes(stateOf(g, y.id))), 60_000, 100);
    await dd.stop();
    const rep = (y: Experiment) => reportOf(g, y.id);
    assert.equal(stateOf(g, forkBomb.id), 'failed');
    assert.ok(named(rep(forkBomb), 'limit', /processes limit: \d+ > 40/), JSON.stringify(rep(forkBomb).items));
    // Only this run's processes count (other tests' sleeps may share the name); the sandbox's pid namespace ends them all.
    await waitFor('no fork-bomb process left', () => hostProcesses('sleep 30', forkBomb.id).length === 0, 20_000);
    assert.ok(named(rep(logSpam), 'limit', /log limit: \d+ > 524288/), JSON.stringify(rep(logSpam).items));
    const logSize = fs.statSync(path.join(g.dir, 'runs', logSpam.id, 'job.log')).size;
    assert.ok(logSize >= 524288 && logSize < 524288 + 16 * 1024, `the log was cut off at the limit (${logSize} bytes; the run report follows it)`);
    assert.match(logOf(g, logSpam.id), /log limit of 524288 bytes reached/);
    assert.notEqual(stateOf(g, logSpam.id), 'succeeded');
    assert.equal(stateOf(g, memory.id), 'failed');
    assert.match(logOf(g, memory.id), /MemoryError/);
    assert.ok(!logOf(g, memory.id).includes('allocated'));
    assert.equal(stateOf(g, wall.id), 'timed_out', 'wallSeconds caps the approved 60 minutes');
    assert.ok(named(rep(wall), 'limit', /time limit of 3 s/), JSON.stringify(rep(wall).items));
    assert.equal(stateOf(g, honest.id), 'succeeded', logOf(g, honest.id));
    assert.equal(rep(honest).violations, 0);
    assert.equal(rep(honest).items.length, 0, JSON.stringify(rep(honest).items));
    await g.service.close();
  });
});

describe('runners: the confined launcher keeps the log', function () {
  it('appends to the run log (never reopens or truncates it), with and without a log limit', async () => {
    for (const limits of [undefined, { logMB: 1 }]) {
      const dir = tmpDir('ovs-log-');
      const wt = path.join(dir, 'wt');
      fs.mkdirSync(wt);
      const logPath = path.join(dir, 'job.log');
      fs.writeFileSync(logPath, 'written before the run\n');
      const r = new LocalRunner({ name: 'box', type: 'local', maxConcurrent: 1, gpus: 0, limits });
      const ref = await r.submit({ experimentId: 'x-1', runDir: dir, workdir: wt, command: 'echo from-the-run; echo to-stderr >&2', env: { PATH: '/usr/bin:/bin' }, gpus: 0, timeLimitSeconds: 30, logPath });
      await waitFor('end', async () => TERMINAL_RUN.includes((await r.status(ref)).phase), 15_000);
      assert.equal(fs.readFileSync(logPath, 'utf8'), 'written before the run\nfrom-the-run\nto-stderr\n', JSON.stringify(limits));
    }
  });
});

describe('runners: no silent fallback', function () {
  this.timeout(60_000);

  it('an honest no-testing run works (stdlib code generation included) and reports nothing; shell syntax is refused up front', async () => {
    const g = await makeFleet(tmpDir('ovs-notesting-'), ['n']);
    const propose = async (command: string, files: Record<string, string> = {}) => {
      const base = await proposeAndApprove(g, 'n', command, {}, files, false);
      const y = await g.service.propose({ kind: 'agent', id: 'n' }, { title: 't', rationale: 'r', command, resources: { gpus: 0, gpuHours: 0.01, timeLimitMinutes: 5 }, taskMode: 'no-testing', commit: base.commit, branch: 'main' });
      await g.service.approve(HUMAN, y.id, { commit: y.commit, tree: y.tree });
      return y;
    };
    const train = 'import collections, dataclasses, json, os\n@dataclasses.dataclass\nclass C:\n    lr: float = 0.1\nP = collections.namedtuple("P", "a b")\njson.dump({"accuracy": 0.5, "c": dataclasses.asdict(C()), "p": P(1, 2)._asdict()}, open(os.path.join(os.environ["OVERSEER_OUTPUT_DIR"], "results.json"), "w"))\n';
    const honest = await propose('python3 train.py --out "${OVERSEER_OUTPUT_DIR}"', { 'train.py': train });
    const shelly = await propose('python3 train.py && curl http://example.com');
    const dd = startDispatcher(g.service, parseRunnersConfig({ runners: [{ name: 'box', type: 'local', maxConcurrent: 2 }], dispatch: { perAgentConcurrency: 2, fleetConcurrency: 2 } }), { pollMs: 50, onWarning: () => undefined });
    await waitFor('both ended', () => [honest, shelly].every((y) => TERMINAL_RUN.includes(stateOf(g, y.id))), 30_000);
    await dd.stop();
    const h = g.service.state.experiment(honest.id)!;
    assert.equal(h.state, 'succeeded', logOf(g, honest.id));
    assert.deepEqual((h.run!.artifacts as { results: { accuracy: number } }).results.accuracy, 0.5);
    assert.equal(h.run!.report!.violations, 0, h.run!.report!.summary);
    const sh = g.service.state.experiment(shelly.id)!;
    assert.equal(sh.state, 'failed');
    assert.match(sh.run!.reason!, /not started: a no-testing run starts exactly one program: .*without shell syntax \(found "&"/);
    await g.service.close();
  });

  it('a runner on a machine without bubblewrap refuses to run, with a clear reason', async () => {
    const g = await makeFleet(tmpDir('ovs-nobwrap-'), ['n']);
    const y = await proposeAndApprove(g, 'n', 'echo must-not-run');
    const warnings: string[] = [];
    const dd = startDispatcher(g.service, parseRunnersConfig({ runners: [{ name: 'box', type: 'local', bwrap: '/nonexistent/bwrap' }] }), { pollMs: 50, onWarning: (m) => warnings.push(m) });
    await waitFor('refusal recorded', () => stateOf(g, y.id) === 'failed', 10_000);
    await dd.stop();
    const e = g.service.state.experiment(y.id)!;
    assert.match(e.run!.reason!, /not started: runner box: cannot confine runs: bubblewrap \(\/nonexistent\/bwrap\) is not installed.*"sandbox": "none"/);
    assert.ok(!logOf(g, y.id).includes('must-not-run'));
    assert.ok(warnings.some((w) => /runner box: cannot confine runs/.test(w)), `warned at start: ${warnings.join(' | ')}`);
    await g.service.close();
  });

  it('"sandbox": "none" runs unconfined only when a human set it: recorded in the ledger, warned, scores never verified', async () => {
    const g = await makeFleet(tmpDir('ovs-unconfined-'), ['u']);
    const y = await proposeAndApprove(g, 'u', `echo "token=$OVERSEER_TOKEN"; ls ${g.dir} | grep -c ledger`);
    const warnings: string[] = [];
    const dd = startDispatcher(g.service, parseRunnersConfig({ runners: [{ name: 'open', type: 'local', sandbox: 'none' }] }), { pollMs: 50, tokenFor: () => 'tok-1', evalUrl: 'http://127.0.0.1:9', onWarning: (m) => warnings.push(m) });
    await waitFor('finished', () => stateOf(g, y.id) === 'succeeded', 10_000);
    await dd.stop();
    assert.ok(g.service.state.unconfinedRunners.has('open'));
    assert.ok(warnings.some((w) => /runner open is NOT confined/.test(w)), warnings.join('\n'));
    assert.match(logOf(g, y.id), /^token=tok-1$/m);
    const rep = g.service.state.experiment(y.id)!.run!.report!;
    assert.equal(rep.sandbox, 'none');
    assert.match(rep.summary, /unconfined/);
    // the hub shows it to the extension (GET /api/fleet) as a standing warning
    await g.service.close();
    const fj = path.join(g.dir, 'fleet.json');
    const cfg = fs.existsSync(fj) ? (JSON.parse(fs.readFileSync(fj, 'utf8')) as Record<string, unknown>) : {};
    fs.writeFileSync(fj, JSON.stringify({ ...cfg, runners: [{ name: 'open', type: 'local', sandbox: 'none' }] }));
    const hub = await startHub({ fleetDir: g.dir, dispatch: true, screen: false, onWarning: (m) => warnings.push(m) });
    try {
      const ov = await new HubClient(hub.url, hub.createToken({ kind: 'human', id: 'alice' })).fleet();
      assert.deepEqual(ov.unconfinedRunners, ['open']);
    } finally {
      await hub.close();
    }
    g.service = await FleetService.open(g.dir, { noSync: true, onWarning: () => undefined });
    // confined again: recorded too
    const d2 = startDispatcher(g.service, parseRunnersConfig({ runners: [{ name: 'open', type: 'local' }] }), { pollMs: 50 });
    await waitFor('re-confined', () => !g.service.state.unconfinedRunners.has('open'), 5000);
    await d2.stop();
    await g.service.close();
  });
});
