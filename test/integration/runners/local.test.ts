import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Experiment } from '../../../src/core/model';
import { parseRunnersConfig } from '../../../src/runners/config';
import { startDispatcher } from '../../../src/runners/dispatcher';
import { eventsOf, logOf, makeFleet, proposeAndApprove, stateOf, TERMINAL_RUN, tmpDir, waitFor } from './helpers';
import { runnerScenarios } from './scenarios';

describe('runners: local runner via the dispatcher', function () {
  this.timeout(60_000);

  describe('must-show scenarios', () => {
    runnerScenarios({
      kind: 'local',
      config: parseRunnersConfig({ runners: [{ name: 'box', type: 'local', maxConcurrent: 10, gpus: 2 }], dispatch: { perAgentConcurrency: 1, fleetConcurrency: 10 } }),
      secondsPerMinute: 1,
      finishTimeoutMs: 30_000,
    });
  });

  it('respects per-agent and fleet concurrency and GPU capacity', async () => {
    const f = await makeFleet(tmpDir('ovs-conc-'), ['a', 'b', 'c']);
    const xs: Experiment[] = [];
    for (const agent of ['a', 'a', 'a', 'b', 'b', 'c']) xs.push(await proposeAndApprove(f, agent, 'sleep 0.3', { gpus: 1 }));
    const config = parseRunnersConfig({ runners: [{ name: 'box', type: 'local', maxConcurrent: 5, gpus: 2 }], dispatch: { perAgentConcurrency: 1, fleetConcurrency: 3 } });
    const d = startDispatcher(f.service, config, { pollMs: 50 });
    let maxActive = 0;
    const poll = setInterval(() => (maxActive = Math.max(maxActive, d.active().length)), 5);
    await waitFor('all done', () => xs.every((x) => TERMINAL_RUN.includes(stateOf(f, x.id))), 30_000);
    clearInterval(poll);
    await d.stop();
    // reconstruct overlapping runs from the ledger: at most 2 (GPU capacity) at once, never two of one agent
    const spans = xs.map((x) => ({
      agent: x.agentId,
      from: eventsOf(f, x.id, 'experiment.dispatched')[0]!.seq,
      to: eventsOf(f, x.id, 'experiment.finished')[0]!.seq,
    }));
    const maxConcurrent = (ss: typeof spans) => {
      const points = ss.flatMap((s) => [[s.from, 1] as const, [s.to, -1] as const]).sort((p, q) => p[0] - q[0]);
      let cur = 0;
      let max = 0;
      for (const [, dlt] of points) max = Math.max(max, (cur += dlt));
      return max;
    };
    assert.ok(maxConcurrent(spans) <= 2, `more than 2 GPU jobs at once: ${JSON.stringify(spans)}`);
    for (const agent of ['a', 'b', 'c']) assert.equal(maxConcurrent(spans.filter((s) => s.agent === agent)), 1, `agent ${agent} ran two at once`);
    assert.ok(maxActive >= 2, 'jobs did run in parallel');
    assert.ok(xs.every((x) => stateOf(f, x.id) === 'succeeded'));
    // approval order is dispatch order within an agent
    const aDispatch = xs.filter((x) => x.agentId === 'a').map((x) => eventsOf(f, x.id, 'experiment.dispatched')[0]!.seq);
    assert.deepEqual([...aDispatch].sort((p, q) => p - q), aDispatch);
    await f.service.close();
  });

  it('holds approved experiments of a paused agent until it is resumed', async () => {
    const f = await makeFleet(tmpDir('ovs-pause-'), ['p']);
    await f.service.pauseAgent({ kind: 'human', id: 'alice' }, 'p', 'look at this first');
    // a paused agent cannot propose; approve a proposal made before the pause instead
    await f.service.resumeAgent({ kind: 'human', id: 'alice' }, 'p');
    const x = await proposeAndApprove(f, 'p', 'echo ran');
    await f.service.pauseAgent({ kind: 'human', id: 'alice' }, 'p', 'hold');
    const d = startDispatcher(f.service, parseRunnersConfig({}), { pollMs: 50 });
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(stateOf(f, x.id), 'approved');
    await f.service.resumeAgent({ kind: 'human', id: 'alice' }, 'p');
    await waitFor('run after resume', () => stateOf(f, x.id) === 'succeeded', 10_000);
    await d.stop();
    await f.service.close();
  });

  it('runs the approved commit even after the agent destroyed it in its working copy (the hub keeps it pinned)', async () => {
    const f = await makeFleet(tmpDir('ovs-gone-'), ['h']);
    const sb = f.sandboxes.get('h')!;
    const base = await sb.head();
    fs.writeFileSync(path.join(sb.repo, 'approved.sh'), 'echo ran-the-approved-commit\n');
    await sb.commitFiles({}, 'approved script');
    const x = await proposeAndApprove(f, 'h', 'sh approved.sh');
    // the agent rewrites history and garbage-collects the approved commit away in its own repository
    const git = (...a: string[]) => execFileSync('git', a, { cwd: sb.repo, stdio: 'pipe' });
    git('reset', '-q', '--hard', base);
    git('reflog', 'expire', '--expire=now', '--all');
    git('gc', '-q', '--prune=now');
    assert.throws(() => git('cat-file', '-e', `${x.commit}^{commit}`));
    const d = startDispatcher(f.service, parseRunnersConfig({}), { pollMs: 50, onWarning: () => undefined });
    await waitFor('run finished', () => ['succeeded', 'failed', 'scored'].includes(stateOf(f, x.id)), 30_000);
    await d.stop();
    const e = f.service.state.experiment(x.id)!;
    assert.equal(e.state, 'succeeded', e.run?.reason);
    assert.match(logOf(f, x.id), /ran-the-approved-commit/);
    await f.service.close();
  });
});
