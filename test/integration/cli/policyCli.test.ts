// `overseer sweep|policy|audit` as real processes against a real hub with real git sandboxes and the real
// screener: a sweep decided in one command gets one pinned approval per member; a policy set from the command line
// approves low-risk work naming its rule; the post-hoc audit queue lists the sample; a flag pauses the agent and
// disables the rule until `policy enable`; bad input is a usage error that changes nothing.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ProposeRequest } from '../../../src/hub/api';
import { startHubFixture, type HubFixture } from '../../support/hubFixture';

const ROOT = path.resolve(__dirname, '../../..');
const MAIN = path.join(ROOT, 'src/cli/main.ts');
const resources = { gpus: 1, gpuHours: 1, timeLimitMinutes: 30 };
const CONFIG = (lr: string) => `{\n  "lr": ${lr},\n  "epochs": 3\n}\n`;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string>): Promise<Result> {
  const clean = { ...process.env };
  for (const k of ['OVERSEER_TOKEN', 'OVERSEER_HUB', 'OVERSEER_FLEET', 'OVERSEER_HUMAN']) delete clean[k];
  const child = spawn(process.execPath, ['--import=tsx', MAIN, ...args], { cwd: ROOT, env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`overseer ${args.join(' ')} timed out\n${stdout}\n${stderr}`));
    }, 60_000);
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('overseer sweep, policy and audit against a real hub', function () {
  this.timeout(180_000);
  let fx: HubFixture;
  let env: Record<string, string>;
  let hub: string[];
  const run = async (args: string[], code = 0): Promise<Result> => {
    const r = await cli([...args, ...hub], env);
    assert.equal(r.code, code, `overseer ${args.join(' ')}: exit ${r.code}, expected ${code}\n${r.stdout}\n${r.stderr}`);
    return r;
  };
  const branchCommit = async (agentId: string, branch: string, files: Record<string, string>) => {
    const sb = fx.sandbox(agentId);
    await sb.g.raw(['checkout', '-q', '-b', branch, 'main']);
    const c = await sb.commitFiles(files, `try ${branch}`);
    await sb.g.raw(['checkout', '-q', 'main']);
    return c;
  };
  const body = (commit: string, command: string, title: string): ProposeRequest => ({ commit, command, title, rationale: 'r', resources, taskMode: 'normal' });
  const approvals = async (id: string) => (await fx.service.ledger.readAfter(0)).filter((e) => e.type === 'experiment.approved' && (e.data as { experimentId: string }).experimentId === id);

  before(async () => {
    fx = await startHubFixture({ agents: 2, files: { 'README.md': '# s\n', 'train.py': 'import json\nprint(json.load(open("config.json"))["lr"])\n', 'config.json': CONFIG('1e-3') } });
    env = { OVERSEER_TOKEN: fx.humanToken };
    hub = ['--hub', fx.url];
  });
  after(async () => {
    await fx?.close();
    if (fx) fs.rmSync(fx.dir, { recursive: true, force: true });
  });

  it('sweep approve: one command, one approval event per member pinned to its own commit', async () => {
    const a = fx.agent('aar-1');
    const xs = [];
    for (const lr of ['1e-5', '3e-5', '1e-4']) xs.push(await a.propose(body(await branchCommit('aar-1', `lr-${lr}`, { 'config.json': CONFIG(lr) }), 'python train.py', `lr ${lr}`)));
    await fx.hub.idle();
    const q = (await run(['queue'])).stdout;
    const m = /^sweep (\S+): (lr ∈ \{1e-5, 3e-5, 1e-4\} · 3 experiments)/m.exec(q);
    assert.ok(m, q);
    assert.equal(m[1], xs[0]!.id);
    // a veto needs a reason; an unknown sweep is refused: neither decides anything
    const noReason = await run(['sweep', 'veto', m[1]!], 2);
    assert.match(noReason.stderr, /needs --reason/);
    const unknown = await run(['sweep', 'approve', 'exp-999'], 1);
    assert.match(unknown.stderr, /no open sweep exp-999/);
    for (const x of xs) assert.equal((await fx.human.getExperiment(x.id)).state, 'awaiting_review');
    const r = await run(['sweep', 'approve', m[1]!, '--reason', 'lr sweep looks fine']);
    assert.match(r.stdout, /approved sweep/);
    for (const x of xs) {
      assert.equal((await fx.human.getExperiment(x.id)).state, 'approved');
      const evs = await approvals(x.id);
      assert.equal(evs.length, 1, `one approval for ${x.id}`);
      assert.equal((evs[0]!.data as { commit: string }).commit, x.commit, 'pinned to its own commit');
      assert.deepEqual(evs[0]!.actor, { kind: 'human', id: fx.humanId });
      assert.ok(r.stdout.includes(`${x.id} at commit ${x.commit.slice(0, 12)} → approved`), r.stdout);
    }
  });

  it('policy: off, bad input refused, set from --rule, shown; the audit queue lists the sample; a flag pauses and disables; enable', async () => {
    assert.match((await run(['policy'])).stdout, /approval policy: off/);
    // malformed input: usage errors (2) or the hub's refusal naming the rule (1); nothing is set
    assert.match((await run(['policy', 'set'], 2)).stderr, /give the rules one way/);
    assert.match((await run(['policy', 'set', '--rule', 'no-equals-sign'], 2)).stderr, /expected <name>=<CEL expression>/);
    assert.match((await run(['policy', 'set', '--rule', 'x=true', '--audit-share', '1.5'], 2)).stderr, /not a share/);
    const bad = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-pol-')), 'rules.json');
    fs.writeFileSync(bad, JSON.stringify({ rules: [{ name: 'a', expr: 'true' }], auditShares: 1 }));
    assert.match((await run(['policy', 'set', '--file', bad], 2)).stderr, /unknown field "auditShares"/);
    assert.match((await run(['policy', 'set', '--rule', 'broken=risk == '], 1)).stderr, /rule "broken"/);
    assert.match((await run(['policy', 'frobnicate'], 2)).stderr, /unknown subcommand/);
    assert.equal(fx.service.state.policy, undefined, 'nothing was set');

    const set = await run(['policy', 'set', '--rule', 'low-small=risk == "low" && gpu_hours <= 1.0', '--audit-share', '1', '--note', 'cli test']);
    assert.match(set.stdout, /approval policy v1 set by alice/);
    assert.match(set.stdout, /low-small\s+enabled\s+risk == "low" && gpu_hours <= 1\.0/);
    const x = await fx.agent('aar-2').propose(body(await fx.commit('aar-2', { 'notes.txt': 'n\n' }, 'notes'), 'python train.py', 'notes'));
    await fx.hub.idle();
    assert.equal((await fx.human.getExperiment(x.id)).state, 'approved');
    const shown = (await run(['policy', 'show'])).stdout;
    assert.match(shown, /automatic approvals: 1 in the last hour, 1 in all · audit queue: 1/);
    assert.ok(shown.includes(`${x.id}  aar-2  rule low-small v1`), shown);

    const list = (await run(['audit'])).stdout;
    assert.ok(new RegExp(`^${x.id}\\s+aar-2\\s+low-small\\s+v1 by alice\\s+\\S+ ago\\s+notes$`, 'm').test(list), list);
    assert.match((await run(['audit', 'flag', x.id], 2)).stderr, /needs --reason/);
    const flag = await run(['audit', 'flag', x.id, '--reason', 'touched notes it should not']);
    assert.match(flag.stdout, /paused and rule low-small disabled/);
    assert.equal(fx.service.state.agent('aar-2')!.status, 'paused');
    const disabled = (await run(['policy'])).stdout;
    assert.match(disabled, /low-small\s+disabled \(audit flagged\)/);
    assert.match(disabled, new RegExp(`rule low-small disabled by alice at \\S+: audit of ${x.id} flagged: touched notes it should not`));
    assert.match((await run(['audit', 'list'])).stdout, /no automatic approvals wait for an audit/);
    // an audit of an experiment no policy approved is refused
    assert.match((await run(['audit', 'confirm', 'exp-1'], 1)).stderr, /not approved by a policy/);
    await run(['policy', 'enable', 'low-small']);
    assert.match((await run(['policy'])).stdout, /low-small\s+enabled/);
    assert.match((await run(['policy', 'enable', 'no-such-rule'], 1)).stderr, /no rule "no-such-rule"/);
    const j = JSON.parse((await run(['policy', 'off', '--json'])).stdout) as { policy: { version: number; rules: unknown[] } };
    assert.equal(j.policy.version, 2);
    assert.deepEqual(j.policy.rules, []);
    assert.match((await run(['policy'])).stdout, /approval policy: off \(v2 set by alice has no rules\)/);
  });
});
