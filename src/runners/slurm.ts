// Slurm runner: sbatch --parsable (no shell; optionally through `ssh host --`), state from squeue --json
// (filtered here), scontrol show job -o, and sacct -c after the job left the controller; scancel confirmed by
// state. The batch script starts the approved command with an explicit environment (`env -i`).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readArtifacts, parseResults } from './artifacts';
import type { SlurmRunnerConfig } from './config';
import { OUTPUT_DIR, prepareConfinedRun, recordUnconfined } from './confine';
import { type CommandTarget, CommandError, runCommand, runChecked, shQuote } from './exec';
import { readLogFile } from './logs';
import { parseSbatchParsable, parseSqueueJson, slurmTimeMinutes, statusFromSacct, statusFromScontrol } from './slurmStates';
import type { JobRef, JobResult, JobSpec, JobStatus, LogChunk, Runner } from './types';
import { MAX_RESULTS_BYTES, RESULTS_FILE, isTerminalPhase } from './types';

export const BATCH_SCRIPT = 'job.sbatch';

export function slurmJobName(experimentId: string): string {
  return `ovs-${experimentId}`;
}

/**
 * The batch script: cd into the worktree, then exec the approved command under exactly the given environment —
 * through the confined launcher (confine.ts) on the compute node when `launcher` is given, which wraps it in
 * bubblewrap exactly as the local runner does (and refuses to run if the node has no bwrap).
 */
export function buildBatchScript(job: Pick<JobSpec, 'experimentId' | 'workdir' | 'command' | 'env'>, launcher?: string): string {
  const envWords = Object.entries(job.env)
    .filter(([k]) => k !== 'CUDA_VISIBLE_DEVICES')
    .map(([k, v]) => {
      if (!/^[A-Z_][A-Z0-9_]*$/.test(k)) throw new Error(`invalid environment variable name ${JSON.stringify(k)}`);
      return shQuote(`${k}=${v}`);
    });
  return [
    '#!/bin/bash',
    `# Overseer job for experiment ${job.experimentId.replace(/[^A-Za-z0-9._-]/g, '?')} (generated; the command is the approved text).`,
    `cd ${shQuote(job.workdir)} || exit 97`,
    'extra=()',
    '[ -n "${CUDA_VISIBLE_DEVICES+x}" ] && extra+=("CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES")',
    '[ -n "${SLURM_JOB_ID+x}" ] && extra+=("SLURM_JOB_ID=$SLURM_JOB_ID")',
    launcher
      ? `exec /usr/bin/env -i PATH=/usr/bin:/bin:/usr/sbin:/sbin "\${extra[@]}" /bin/bash ${shQuote(launcher)} ${shQuote(job.command)}`
      : `exec /usr/bin/env -i ${envWords.join(' ')} "\${extra[@]}" /bin/bash -c ${shQuote(job.command)}`,
    '',
  ].join('\n');
}

/** sbatch argv (without the `sbatch` word). */
export function buildSbatchArgs(cfg: Pick<SlurmRunnerConfig, 'partition' | 'account' | 'gresName'>, job: JobSpec, scriptPath: string): string[] {
  const args = [
    '--parsable',
    `--job-name=${slurmJobName(job.experimentId)}`,
    `--output=${job.logPath}`,
    '--open-mode=append',
    `--chdir=${job.workdir}`,
    '--export=NONE',
    `--time=${slurmTimeMinutes(job.timeLimitSeconds)}`,
  ];
  if (job.gpus > 0) args.push(`--gres=${cfg.gresName || 'gpu'}:${job.gpus}`);
  if (cfg.partition) args.push(`--partition=${cfg.partition}`);
  if (cfg.account) args.push(`--account=${cfg.account}`);
  args.push(scriptPath);
  return args;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface SlurmRunnerOptions {
  /** How long one squeue --json snapshot is reused by status() calls (default: half of pollMs). */
  squeueCacheMs?: number;
}

export class SlurmRunner implements Runner {
  readonly type = 'slurm' as const;
  readonly name: string;
  readonly target: CommandTarget;
  private snapshot: { at: number; jobs: Promise<Map<string, JobStatus> & { names?: Map<string, string> }> } | undefined;
  private readonly cacheMs: number;

  constructor(
    readonly cfg: SlurmRunnerConfig,
    opts: SlurmRunnerOptions = {},
  ) {
    this.name = cfg.name;
    this.target = { sshHost: cfg.sshHost, env: cfg.slurmConf ? { SLURM_CONF: cfg.slurmConf } : undefined };
    this.cacheMs = opts.squeueCacheMs ?? Math.floor((cfg.pollMs ?? 2000) / 2);
  }

  private squeue(fresh = false): Promise<Map<string, JobStatus>> {
    const now = Date.now();
    if (!fresh && this.snapshot && now - this.snapshot.at < this.cacheMs) return this.snapshot.jobs;
    const jobs = runChecked(this.target, 'squeue', ['--json'], { timeoutMs: 30_000 }).then((out) => parseSqueueJson(out));
    this.snapshot = { at: now, jobs };
    jobs.catch(() => {
      if (this.snapshot?.jobs === jobs) this.snapshot = undefined;
    });
    return jobs;
  }

  async submit(job: JobSpec): Promise<JobRef> {
    fs.mkdirSync(job.runDir, { recursive: true });
    const script = path.join(job.runDir, BATCH_SCRIPT);
    let launcher: string | undefined;
    let spec = job;
    if (this.cfg.sandbox === 'none') {
      recordUnconfined(job.runDir, job.sandbox?.taskMode ?? 'normal');
      const env: Record<string, string> = { ...job.env, OVERSEER_OUTPUT_DIR: path.join(job.runDir, OUTPUT_DIR) };
      if (job.sandbox?.proxy?.token) env.OVERSEER_TOKEN = job.sandbox.proxy.token;
      spec = { ...job, env };
    } else {
      // bwrap is looked for on the compute node, by the launcher; a node without it refuses the run
      const plan = prepareConfinedRun({ runDir: job.runDir, workdir: job.workdir, logPath: job.logPath, experimentId: job.experimentId, command: job.command, env: job.env, sandbox: job.sandbox, limits: this.cfg.limits, bwrap: this.cfg.bwrap, extraReadOnly: this.cfg.readOnlyPaths });
      launcher = plan.launcher;
    }
    const wall = this.cfg.limits?.wallSeconds;
    if (wall) spec = { ...spec, timeLimitSeconds: Math.min(wall, spec.timeLimitSeconds || wall) };
    fs.writeFileSync(script, buildBatchScript(spec, launcher), { mode: 0o700 });
    const out = await runChecked(this.target, 'sbatch', buildSbatchArgs(this.cfg, spec, script), { timeoutMs: 60_000 });
    const jobId = parseSbatchParsable(out);
    fs.writeFileSync(path.join(job.runDir, 'job.json'), JSON.stringify({ jobId, runner: this.name, submittedAt: new Date().toISOString() }));
    this.snapshot = undefined;
    return { jobId, runDir: job.runDir, workdir: job.workdir, logPath: job.logPath };
  }

  /** Find a job submitted for this run directory by an earlier process (e.g. crash right after sbatch). */
  async find(runDir: string, experimentId: string): Promise<string | undefined> {
    try {
      const rec = JSON.parse(fs.readFileSync(path.join(runDir, 'job.json'), 'utf8')) as { jobId?: unknown; runner?: unknown };
      if (typeof rec.jobId === 'string' && rec.runner === this.name) return rec.jobId;
    } catch {
      /* none recorded */
    }
    const out = await runChecked(this.target, 'squeue', ['--json'], { timeoutMs: 30_000 });
    const doc = JSON.parse(out) as { jobs?: Array<Record<string, unknown>> };
    const want = slurmJobName(experimentId);
    const log = path.join(runDir, 'job.log');
    const hit = (doc.jobs ?? []).find((j) => j.name === want && j.standard_output === log);
    return hit ? String(hit.job_id) : undefined;
  }

  async status(job: JobRef): Promise<JobStatus> {
    const fromQueue = (await this.squeue()).get(job.jobId);
    if (fromQueue) return fromQueue;
    const sc = await runCommand(this.target, 'scontrol', ['show', 'job', '-o', job.jobId], { timeoutMs: 30_000 });
    if (sc.code === 0) {
      const st = statusFromScontrol(sc.stdout);
      if (st) return st;
    } else if (!/Invalid job id/i.test(sc.stderr + sc.stdout)) {
      throw new CommandError(['scontrol', 'show', 'job', '-o', job.jobId], sc);
    }
    const sa = await runCommand(this.target, 'sacct', ['-c', '-P', '-n', '-j', job.jobId, '-o', 'jobid,state,exitcode,start,end'], { timeoutMs: 30_000 });
    if (sa.code === 0) {
      const st = statusFromSacct(sa.stdout, job.jobId);
      if (st) return st;
    }
    return { phase: 'unknown', reason: `Slurm has no record of job ${job.jobId}` };
  }

  async cancel(job: JobRef, timeoutMs = 60_000): Promise<JobStatus> {
    let st = await this.status(job);
    if (isTerminalPhase(st.phase)) return st;
    await runChecked(this.target, 'scancel', [job.jobId], { timeoutMs: 30_000 }); // exits 0 even for unknown ids
    const start = Date.now();
    for (;;) {
      this.snapshot = undefined;
      st = await this.status(job);
      if (isTerminalPhase(st.phase) || Date.now() - start > timeoutMs) return st;
      await sleep(250);
    }
  }

  async result(job: JobRef): Promise<JobResult> {
    const st = await this.status(job);
    const outDir = path.posix.join(job.runDir, OUTPUT_DIR);
    if (!this.cfg.sshHost) {
      const out = readArtifacts(outDir);
      if (this.cfg.sandbox === 'none' && !('results' in out) && !('resultsError' in out)) return { ...st, artifacts: readArtifacts(job.workdir) };
      return { ...st, artifacts: out };
    }
    const file = path.posix.join(outDir, RESULTS_FILE);
    // a regular file only (not a link, FIFO or device the run left there), read without blocking, capped
    const script = 'f=$1; [ -f "$f" ] && [ ! -L "$f" ] || { echo "not a regular file" >&2; exit 3; }; exec head -c "$2" -- "$f" </dev/null';
    const r = await runCommand(this.target, 'sh', ['-c', script, 'overseer-results', file, String(MAX_RESULTS_BYTES + 1)], { timeoutMs: 30_000 });
    if (r.code === 3) return { ...st, artifacts: { resultsError: `${RESULTS_FILE} is not a regular file` } };
    if (r.code !== 0) return { ...st, artifacts: {} };
    return { ...st, artifacts: parseResults(r.stdout, Buffer.byteLength(r.stdout)) };
  }

  async logs(job: JobRef, offset: number, max?: number): Promise<LogChunk> {
    if (!this.cfg.sshHost) return readLogFile(job.logPath, offset, max);
    const start = Math.max(0, offset);
    const cap = Math.max(4, Math.min(max ?? 64 * 1024, 4 * 1024 * 1024));
    const r = await runCommand(this.target, 'tail', ['-c', `+${start + 1}`, job.logPath], { timeoutMs: 30_000, maxBuffer: cap * 2 + 1024 });
    const buf = Buffer.from(r.code === 0 ? r.stdout : '', 'utf8').subarray(0, cap);
    const data = buf.toString('utf8');
    return { data, offset: start, nextOffset: start + Buffer.byteLength(data), size: start + Buffer.byteLength(r.stdout) };
  }
}
