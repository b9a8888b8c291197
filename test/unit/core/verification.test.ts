import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { DomainError } from '../../../src/core/lifecycle';
import { type Experiment, type ScreeningReport, SYSTEM, effectiveTaskMode } from '../../../src/core/model';
import { FleetService } from '../../../src/core/service';
import { contradiction, reportDemotion, verificationOf } from '../../../src/core/verification';
import { HUMAN, agentActor, tmpDir } from '../../support/tmp';

const SHA = (c: string) => c.repeat(40);
const RES = { gpus: 1, gpuHours: 1, timeLimitMinutes: 5 };
const isDomain = (code: string) => (e: unknown) => e instanceof DomainError && e.code === code;

const CLEAN: ScreeningReport = { gaming: false, score: 0, findings: [] };
const GAMING: ScreeningReport = {
  gaming: true,
  score: 0.95,
  findings: [
    { kind: 'weak-label-bypass', severity: 'critical', file: 'train.py', line: 12, explanation: 'majority vote over gold labels', confidence: 0.9, source: 'static' },
    { kind: 'capability', severity: 'low', file: 'eval.py', line: 3, explanation: 'Adds network: requests.post', confidence: 1, source: 'static' },
  ],
};

describe('verification: what a score is worth', () => {
  let t: ReturnType<typeof tmpDir>;
  let svc: FleetService;
  let screening: Map<string, ScreeningReport>;
  beforeEach(async () => {
    t = tmpDir();
    screening = new Map();
    const pins = new Map(['a', 'b', 'c', 'd', 'e', 'f'].map((c, i) => [SHA(c), { commit: SHA(c), tree: SHA(String(i + 1)) }]));
    svc = await FleetService.open(t.dir, {
      noSync: true,
      resolveCommit: async (_r, c) => {
        const p = pins.get(c);
        if (!p) throw new Error('no such commit');
        return p;
      },
      screen: async (x) => screening.get(x.commit) ?? CLEAN,
    });
    await svc.createFleet(HUMAN, 'proj');
    for (const id of ['aar-1', 'aar-2']) {
      await svc.registerAgent(HUMAN, { agentId: id, direction: 'd', repoPath: path.join(t.dir, id), budget: { gpuHours: 50, usd: 5, evalQueries: 99 } });
    }
  });
  afterEach(async () => {
    await svc.close();
    t.cleanup();
  });

  async function proposeScreened(agent: string, commit: string, report = CLEAN): Promise<Experiment> {
    screening.set(commit, report);
    const x = await svc.propose(agentActor(agent), { title: 't', rationale: 'r', command: 'python run.py', resources: RES, taskMode: 'normal', commit });
    await svc.idle();
    return svc.state.experiment(x.id)!;
  }

  /** Approve, dispatch, run, report and finish x as the dispatcher would; score it when it succeeded. */
  async function run(x: Experiment, end: { state: 'succeeded' | 'failed' | 'timed_out'; exitCode?: number }, report: { violations: number; items?: unknown[]; summary?: string } = { violations: 0 }, score = 0.4) {
    await svc.approve(HUMAN, x.id, x);
    await svc.markDispatched(x.id, { runner: 'local', jobId: `job-${x.id}`, commit: x.commit, tree: x.tree });
    await svc.markRunning(x.id, `job-${x.id}`);
    await svc.append('run.report', SYSTEM, {
      experimentId: x.id,
      jobId: `job-${x.id}`,
      sandbox: 'bwrap',
      violations: report.violations,
      summary: report.summary ?? (report.violations ? `${report.violations} violation(s): path_denied` : 'no violations'),
      report: { items: report.items ?? [] },
    });
    await svc.markFinished(x.id, end);
    if (end.state === 'succeeded') await svc.recordScore(SYSTEM, x.id, { dataset: 'demo', split: 'test', transferAcc: 0.8, pgr: score, evalSeq: 1, extra: { pgrCi: [score - 0.05, score + 0.05] } });
    return svc.state.experiment(x.id)!;
  }

  it('a clean, confined run that exited 0 is verified', async () => {
    const x = await run(await proposeScreened('aar-1', SHA('a')), { state: 'succeeded', exitCode: 0 });
    assert.equal(x.state, 'scored');
    assert.equal(x.verification?.status, 'verified');
    assert.equal(x.score?.verified, true);
    assert.equal(x.score?.unverifiedReason, undefined);
  });

  it('demotes a run that evaluated and then exited non-zero, or timed out', async () => {
    const a = await run(await proposeScreened('aar-1', SHA('a')), { state: 'failed', exitCode: 1 });
    assert.equal(a.verification?.status, 'unverified');
    assert.match(a.verification!.reasons.join(), /run failed \(exit 1\)/);
    const b = await run(await proposeScreened('aar-1', SHA('b')), { state: 'timed_out' });
    assert.equal(b.verification?.status, 'unverified');
    assert.match(b.verification!.reasons.join(), /timed out/);
  });

  it('demotes on a run-report violation and on an anomaly note, not on what a normal task allows', async () => {
    const v = await run(await proposeScreened('aar-1', SHA('a')), { state: 'succeeded', exitCode: 0 }, { violations: 1 });
    assert.equal(v.score?.verified, false);
    assert.match(v.score?.unverifiedReason as string, /path_denied/);
    const note = await run(await proposeScreened('aar-1', SHA('b')), { state: 'succeeded', exitCode: 0 }, { violations: 0, items: [{ kind: 'limit', source: 'host', blocked: true, violation: false }] });
    assert.equal(note.score?.verified, false);
    assert.match(note.score?.unverifiedReason as string, /limit/);
    const allowed = await run(await proposeScreened('aar-1', SHA('c')), { state: 'succeeded', exitCode: 0 }, { violations: 0, items: [{ kind: 'program_started', source: 'audit', blocked: false, violation: false }] });
    assert.equal(allowed.score?.verified, true);
  });

  it('demotes every experiment of an agent that had a job live when a probing alert was raised, and the one it names', async () => {
    const live = await proposeScreened('aar-1', SHA('a'));
    await svc.approve(HUMAN, live.id, live);
    await svc.markDispatched(live.id, { runner: 'local', jobId: 'j1', commit: live.commit, tree: live.tree });
    const done = await run(await proposeScreened('aar-1', SHA('b')), { state: 'succeeded', exitCode: 0 });
    const named = await run(await proposeScreened('aar-1', SHA('d')), { state: 'succeeded', exitCode: 0 });
    const other = await proposeScreened('aar-2', SHA('c'));
    await svc.approve(HUMAN, other.id, other);
    await svc.markDispatched(other.id, { runner: 'local', jobId: 'j2', commit: other.commit, tree: other.tree });
    await svc.append('eval.probing_suspected', SYSTEM, { agentId: 'aar-1', dataset: 'demo', split: 'test', evidence: { nearDuplicates: 9, experimentId: named.id }, suspended: true });
    assert.match(svc.state.experiment(live.id)!.demotions![0]!.reason, /while it ran/);
    assert.equal(svc.state.experiment(done.id)!.verification?.status, 'verified', 'an experiment that had ended is not touched');
    assert.equal(svc.state.experiment(named.id)!.verification?.status, 'unverified');
    assert.match(svc.state.experiment(named.id)!.score!.unverifiedReason as string, /probing alert .* on its submissions/);
    assert.equal(svc.state.experiment(other.id)!.demotions, undefined, "another agent's run is not demoted");
    // the demotion survives finishing cleanly
    await svc.markFinished(live.id, { state: 'succeeded', exitCode: 0 });
    assert.equal(svc.state.experiment(live.id)!.verification?.status, 'unverified');
  });

  it('demotes when the agent claims a PGR the hub contradicts (above its interval), not when the claim agrees', async () => {
    const x = await run(await proposeScreened('aar-1', SHA('a')), { state: 'succeeded', exitCode: 0 }, { violations: 0 }, 0.3);
    await svc.post(agentActor('aar-1'), { title: 'ok', summary: 's', findingType: 'result', commitId: SHA('a').slice(0, 12), metrics: { pgr: 0.33 } });
    assert.equal(svc.state.experiment(x.id)!.verification?.status, 'verified');
    await svc.post(agentActor('aar-1'), { title: 'great', summary: 's', findingType: 'result', runId: x.id, metrics: { pgr: 0.97 } });
    const after = svc.state.experiment(x.id)!;
    assert.equal(after.verification?.status, 'unverified');
    assert.match(after.score!.unverifiedReason as string, /self-reported PGR 0\.970 .* contradicts the hub's 0\.300/);
    // another agent's claim about the same commit is not this agent's contradiction
    const y = await run(await proposeScreened('aar-2', SHA('b')), { state: 'succeeded', exitCode: 0 }, { violations: 0 }, 0.3);
    await svc.post(agentActor('aar-1'), { title: 'theirs', summary: 's', findingType: 'result', commitId: SHA('b'), metrics: { pgr: 0.99 } });
    assert.equal(svc.state.experiment(y.id)!.verification?.status, 'verified');
  });

  it('a flagged proposal runs when approved but awaits a human acceptance after its result is seen', async () => {
    const x = await proposeScreened('aar-1', SHA('a'), GAMING);
    assert.equal(x.screening?.gaming, true);
    await svc.approve(HUMAN, x.id, x);
    assert.deepEqual(svc.state.experiment(x.id)!.acceptanceRequired, ['screening flagged evaluation gaming', 'critical finding: weak-label-bypass']);
    await assert.rejects(svc.acceptResult(HUMAN, x.id, { reason: 'checked' }), isDomain('conflict'), 'not before the result exists');
    await svc.markDispatched(x.id, { runner: 'local', jobId: 'j', commit: x.commit, tree: x.tree });
    await svc.append('run.report', SYSTEM, { experimentId: x.id, jobId: 'j', sandbox: 'bwrap', violations: 0, summary: 'no violations', report: { items: [] } });
    await svc.markFinished(x.id, { state: 'succeeded', exitCode: 0 });
    await svc.recordScore(SYSTEM, x.id, { dataset: 'demo', split: 'test', transferAcc: 0.8, pgr: 0.4, evalSeq: 1 });
    const scored = svc.state.experiment(x.id)!;
    assert.equal(scored.verification?.status, 'awaiting_acceptance');
    assert.equal(scored.score?.verified, false);
    assert.match(scored.score?.unverifiedReason as string, /needs a human to accept the result: screening flagged/);

    await assert.rejects(svc.acceptResult(SYSTEM, x.id, { reason: 'policy' }), isDomain('forbidden'), 'a policy never accepts');
    await assert.rejects(svc.acceptResult(agentActor('aar-1'), x.id, { reason: 'mine' }), isDomain('forbidden'));
    await assert.rejects(svc.acceptResult(HUMAN, x.id, { reason: '  ' }), isDomain('invalid'));
    await assert.rejects(svc.acceptResult(HUMAN, x.id, { reason: 'ok', falseAlarms: [{ kind: 'weak-label-bypass', file: 'train.py', line: 99, why: 'x' }] }), isDomain('invalid'), 'a false alarm must be one of its findings');
    await svc.acceptResult(HUMAN, x.id, { reason: 'the vote is over the teacher labels, not gold', falseAlarms: [{ kind: 'weak-label-bypass', file: 'train.py', line: 12, why: 'votes over weak labels' }] });
    const accepted = svc.state.experiment(x.id)!;
    assert.equal(accepted.verification?.status, 'verified');
    assert.equal(accepted.score?.verified, true);
    assert.equal(accepted.acceptance?.by.id, HUMAN.id);
    assert.equal(accepted.acceptance?.falseAlarms[0]?.why, 'votes over weak labels');
    await assert.rejects(svc.acceptResult(HUMAN, x.id, { reason: 'again' }), isDomain('conflict'));
    assert.ok(svc.state.auditTrail(5).some((a) => a.type === 'experiment.result_accepted'));
  });

  it('acceptance cannot lift a demotion, and a clean proposal needs none', async () => {
    const flagged = await proposeScreened('aar-1', SHA('a'), GAMING);
    const x = await run(flagged, { state: 'succeeded', exitCode: 0 }, { violations: 2 });
    await svc.acceptResult(HUMAN, x.id, { reason: 'looked at it' });
    assert.equal(svc.state.experiment(x.id)!.verification?.status, 'unverified');
    const clean = await run(await proposeScreened('aar-1', SHA('b')), { state: 'succeeded', exitCode: 0 });
    await assert.rejects(svc.acceptResult(HUMAN, clean.id, { reason: 'x' }), isDomain('conflict'));
  });

  it('survives a restart: the fold gives the same status from the ledger', async () => {
    const x = await run(await proposeScreened('aar-1', SHA('a'), GAMING), { state: 'succeeded', exitCode: 0 });
    assert.equal(svc.state.experiment(x.id)!.verification?.status, 'awaiting_acceptance');
    await svc.close();
    svc = await FleetService.open(t.dir, { noSync: true });
    assert.equal(svc.state.experiment(x.id)!.verification?.status, 'awaiting_acceptance');
    await svc.acceptResult(HUMAN, x.id, { reason: 'fine' });
    await svc.close();
    svc = await FleetService.open(t.dir, { noSync: true });
    assert.equal(svc.state.experiment(x.id)!.verification?.status, 'verified');
  });
});

describe('verification: pure rules', () => {
  const base = (over: Partial<Experiment> = {}): Experiment =>
    ({
      id: 'exp-1',
      agentId: 'a1',
      commit: SHA('a'),
      tree: SHA('b'),
      state: 'scored',
      run: { runner: 'local', jobId: 'j', commit: SHA('a'), tree: SHA('b'), dispatchedAt: '', endState: 'succeeded', exitCode: 0 },
      score: { dataset: 'd', split: 'test', transferAcc: 0.8, pgr: 0.3, verified: true, evalSeq: 1 },
      history: [],
      ...over,
    }) as Experiment;

  it('an unconfined run is unverified whatever else holds', () => {
    assert.match(reportDemotion({ seq: 1, jobId: 'j', sandbox: 'none', violations: 0, summary: '', report: {} }) ?? '', /not confined/);
  });

  it('a run still going is incomplete; a proposal never run is incomplete', () => {
    assert.equal(verificationOf(base({ state: 'running', run: { runner: 'l', jobId: 'j', commit: SHA('a'), tree: SHA('b'), dispatchedAt: '' } })).status, 'incomplete');
    assert.equal(verificationOf(base({ state: 'approved', run: undefined })).status, 'incomplete');
  });

  it('a claim within the interval or below the score is no contradiction', () => {
    const post = (pgr: number) => ({ id: 'p', author: { kind: 'agent' as const, id: 'a1' }, runId: 'exp-1', metrics: { pgr } }) as never;
    const x = base({ score: { dataset: 'd', split: 'test', transferAcc: 0.8, pgr: 0.3, verified: true, evalSeq: 1, pgrCi: [0.2, 0.42] } });
    assert.equal(contradiction(x, [post(0.41)]), undefined);
    assert.equal(contradiction(x, [post(0.1)]), undefined);
    assert.match(contradiction(x, [post(0.43)]) ?? '', /contradicts/);
  });

  it("the fleet's task mode wins over the proposal's unless the proposal is stricter", () => {
    assert.equal(effectiveTaskMode('normal', 'no-testing'), 'no-testing');
    assert.equal(effectiveTaskMode('no-testing', 'normal'), 'no-testing');
    assert.equal(effectiveTaskMode('normal', undefined), 'normal');
    assert.equal(effectiveTaskMode('normal', 'normal'), 'normal');
  });
});
