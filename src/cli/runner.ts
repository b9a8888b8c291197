// `overseer runner list|test` — inspect the runners of a fleet and submit a tiny job to one of them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadRunnersConfig } from '../runners/config';
import { buildJobEnv } from '../runners/env';
import { createRunner } from '../runners/factory';
import { isTerminalPhase } from '../runners/types';

const USAGE = `usage: overseer runner list --fleet <dir>
       overseer runner test <name> --fleet <dir> [--timeout <seconds>] [--gpus <n>]`;

function flag(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  if (i < 0) return undefined;
  const v = argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`${name} needs a value`);
  argv.splice(i, 2);
  return v;
}

export async function runnerCommand(argvIn: string[], out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const argv = [...argvIn];
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let fleet: string | undefined;
  let timeoutS = 180;
  let gpus = 0;
  try {
    fleet = flag(argv, '--fleet');
    const t = flag(argv, '--timeout');
    if (t !== undefined) timeoutS = Number(t);
    const g = flag(argv, '--gpus');
    if (g !== undefined) gpus = Number(g);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 1;
  }
  const [sub, name, ...extra] = argv;
  if (!fleet || !sub || extra.length || !Number.isFinite(timeoutS) || timeoutS <= 0 || !Number.isInteger(gpus) || gpus < 0) {
    process.stderr.write(`${USAGE}\n`);
    return 1;
  }
  const config = loadRunnersConfig(fleet);
  if (sub === 'list') {
    for (const r of config.runners) {
      const where = r.type === 'slurm' ? ` partition=${r.partition ?? '(default)'}${r.sshHost ? ` via ssh ${r.sshHost}` : ''}` : '';
      out(`${r.name}\t${r.type}\tmaxConcurrent=${r.maxConcurrent}\tgpus=${r.gpus}${where}\n`);
    }
    out(`dispatch: perAgentConcurrency=${config.dispatch.perAgentConcurrency} fleetConcurrency=${config.dispatch.fleetConcurrency}\n`);
    return 0;
  }
  if (sub !== 'test' || !name) {
    process.stderr.write(`${USAGE}\n`);
    return 1;
  }
  const cfg = config.runners.find((r) => r.name === name);
  if (!cfg) {
    process.stderr.write(`no runner ${JSON.stringify(name)} in ${path.join(fleet, 'fleet.json')} (have: ${config.runners.map((r) => r.name).join(', ') || 'none'})\n`);
    return 1;
  }
  if (gpus > cfg.gpus) {
    process.stderr.write(`runner ${name} has ${cfg.gpus} GPU(s); --gpus ${gpus} cannot fit\n`);
    return 1;
  }
  const runner = createRunner(cfg, { localKillGraceSeconds: 2 });
  const id = `runner-test-${Date.now()}`;
  const runDir = path.resolve(fleet, 'runs', '_tests', id);
  const workdir = path.join(runDir, 'wt');
  fs.mkdirSync(workdir, { recursive: true });
  const logPath = path.join(runDir, 'job.log');
  const command = `echo "overseer runner test on $(hostname) gpus=[\${CUDA_VISIBLE_DEVICES:-}]"; printf '{"ok": true}' > results.json`;
  const t0 = Date.now();
  out(`submitting a test job to ${cfg.type} runner ${name} ...\n`);
  let ref;
  try {
    ref = await runner.submit({ experimentId: id, runDir, workdir, command, env: buildJobEnv({ workdir, experimentId: id }), gpus, timeLimitSeconds: 60, logPath });
  } catch (err) {
    out(`FAILED: submit: ${(err as Error).message}\n`);
    return 2;
  }
  out(`job ${ref.jobId} accepted after ${Date.now() - t0} ms\n`);
  let st = await runner.status(ref);
  let runningAt: number | undefined;
  while (!isTerminalPhase(st.phase) && Date.now() - t0 < timeoutS * 1000) {
    if (st.phase === 'running' && runningAt === undefined) runningAt = Date.now();
    await new Promise((r) => setTimeout(r, 250));
    st = await runner.status(ref).catch((err: Error) => ({ phase: 'unknown' as const, reason: err.message }));
  }
  if (!isTerminalPhase(st.phase)) {
    out(`FAILED: job ${ref.jobId} still ${st.phase} after ${timeoutS} s${st.reason ? ` (${st.reason})` : ''}; cancelling\n`);
    await runner.cancel(ref, 30_000).catch(() => undefined);
    return 2;
  }
  const res = await runner.result(ref);
  const log = (await runner.logs(ref, 0, 4096)).data.trim();
  const ok = res.phase === 'succeeded' && (res.artifacts as { results?: { ok?: boolean } }).results?.ok === true;
  out(`${ok ? 'OK' : 'FAILED'}: ${res.phase}${res.exitCode !== undefined ? ` exit ${res.exitCode}` : ''}${res.reason ? ` (${res.reason})` : ''}, ${Date.now() - t0} ms total${runningAt ? `, running after ${runningAt - t0} ms` : ''}\n`);
  out(`log: ${JSON.stringify(log.slice(0, 500))}\n`);
  if (!ok && !(res.artifacts as { results?: unknown }).results) out(`results.json missing or invalid: ${JSON.stringify(res.artifacts)}\n`);
  return ok ? 0 : 2;
}
