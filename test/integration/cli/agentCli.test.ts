// `overseer agent pause|show|release|resume|retire` and the episode rows of `overseer queue`, as real processes
// against a real hub: one decision per agent episode, recorded as the human; bad input is refused clearly.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startHubFixture, type HubFixture } from '../../support/hubFixture';

const ROOT = path.resolve(__dirname, '../../..');
const MAIN = path.join(ROOT, 'src/cli/main.ts');

function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
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
    }, 90_000);
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('overseer agent (episodes) against a real hub', function () {
  this.timeout(300_000);
  let fx: HubFixture;
  const run = async (args: string[], code = 0) => {
    const r = await cli([...args, '--hub', fx.url], { OVERSEER_TOKEN: fx.humanToken });
    assert.equal(r.code, code, `overseer ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r;
  };
  before(async () => {
    fx = await startHubFixture({ agents: 2, config: { episodes: true } });
  });
  after(async () => {
    await fx?.close();
    if (fx) fs.rmSync(fx.dir, { recursive: true, force: true });
  });

  it('pause opens an episode, queue lists it, show prints the evidence, release and resume decide it as the human', async () => {
    const commit = await fx.commit('aar-1', { 'notes.txt': 'x\n' }, 'work');
    const x = await fx.agent('aar-1').propose({ commit, command: 'python train.py', title: 'held \u202Eevil title', rationale: 'r', resources: { gpus: 1, gpuHours: 1, timeLimitMinutes: 30 }, taskMode: 'normal' });
    await fx.hub.idle();
    assert.match((await run(['agent', 'pause', 'aar-1'], 2)).stderr, /needs --reason/);
    assert.match((await run(['agent', 'resume', 'aar-1', '--note', 'n'], 1)).stderr, /no open episode/);
    assert.match((await run(['agent', 'pause', 'aar-1', '--reason', 'looks off'])).stdout, /opened episode ep-1 for aar-1: 1 proposal\(s\) held/);
    assert.match((await run(['queue'])).stdout, /^episode ep-1: agent aar-1 · human · 1 held/m);
    const show = (await run(['agent', 'show', 'aar-1'])).stdout;
    assert.ok(show.includes(x.id) && !show.includes('\u202E'), show);
    assert.match((await run(['agent', 'resume', 'aar-1'], 2)).stderr, /needs --note/);
    assert.match((await run(['agent', 'bogus'], 2)).stderr, /unknown subcommand/);
    assert.match((await run(['agent', 'release', 'aar-1', x.id])).stdout, /released/);
    assert.match((await run(['agent', 'resume', 'aar-1', '--note', 'carry on'])).stdout, /resumed aar-1 \(episode ep-1/);
    const ev = (await fx.service.ledger.readAfter(0)).filter((e) => e.type.startsWith('episode.'));
    assert.deepEqual(ev.map((e) => `${e.type}:${e.actor.kind}:${e.actor.id}`), ['episode.opened:human:alice', 'episode.released:human:alice', 'episode.resolved:human:alice']);
    assert.match((await run(['agent', 'episodes', '--all'])).stdout, /ep-1\s+aar-1\s+human\s+0\s+resume by alice/);
  });
});
