// Local runner: each job is a detached process group on this machine, run by a small bash wrapper that enforces
// the time limit and records the exit status in the run directory, so a restarted hub can reattach to a job it
// did not spawn (and learn how it ended even if it ended while the hub was down).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LocalRunnerConfig } from './config';
import { OUTPUT_DIR, SandboxError, findBwrap, noBwrapMessage, prepareConfinedRun, recordUnconfined } from './confine';
import { readLogFile } from './logs';
import { readArtifacts } from './artifacts';
import type { JobRef, JobResult, JobSpec, JobStatus, LogChunk, Runner } from './types';
import { isTerminalPhase } from './types';

/**
 * $1 run dir, $2 time limit (s, 0 = none), $3 kill grace (s), $4 the approved command, $5 the confined launcher
 * (confine.ts; empty only for a runner a human set to `"sandbox": "none"`). The wrapper waits for
 * job.json (written by submit) before starting anything.
 * `set -m` gives the job its own process group (pgid = $c) so cancel/timeout can signal all of it.
 */
export const LOCAL_WRAPPER = `
run=$1; limit=$2; grace=$3; cmd=$4; launch=\${5:-}
# start only once the dispatcher has recorded the job (a dispatcher that dies before that never gets a twin)
n=0; until [ -e "$run/job.json" ]; do n=$((n+1)); [ $n -gt 1000 ] && { echo "overseer: job was never recorded; not started" >&2; exit 0; }; sleep 0.005; done
set -m
if [ -n "$launch" ]; then bash "$launch" "$cmd" </dev/null & else bash -c "$cmd" </dev/null & fi
c=$!
printf '%s\\n' "$c" > "$run/job.pgid.tmp"; mv -f "$run/job.pgid.tmp" "$run/job.pgid"
w=
if [ "$limit" -gt 0 ]; then
  # the watchdog acts only while this wrapper is alive and the job has no exit status yet (no stale pgid kills)
  ( sleep "$limit"; { kill -0 $$ && [ ! -e "$run/exit.json" ]; } 2>/dev/null || exit 0
    : > "$run/timeout.flag"; kill -TERM -- "-$c" 2>/dev/null; sleep "$grace"
    [ -e "$run/exit.json" ] || kill -KILL -- "-$c" 2>/dev/null ) </dev/null >/dev/null 2>&1 &
  w=$!
  printf '%s\\n' "$w" > "$run/watchdog.pgid.tmp"; mv -f "$run/watchdog.pgid.tmp" "$run/watchdog.pgid"
fi
set +m
while :; do wait "$c"; rc=$?; kill -0 "$c" 2>/dev/null || break; done
[ -n "$w" ] && kill -- "-$w" 2>/dev/null
kill -KILL -- "-$c" 2>/dev/null
to=false; [ -e "$run/timeout.flag" ] && to=true
ca=false; [ -e "$run/cancel.flag" ] && ca=true
printf '{"exitCode":%d,"endedAt":"%s","timedOut":%s,"cancelled":%s}\\n' "$rc" "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$to" "$ca" > "$run/exit.json.tmp"
mv -f "$run/exit.json.tmp" "$run/exit.json"
`;

interface LocalJobFile {
  jobId: string;
  pid: number;
  procStart: string;
  startedAt: string;
  gpuIds: number[];
  timeLimitSeconds: number;
}

interface ExitFile {
  exitCode: number;
  endedAt?: string;
  timedOut?: boolean;
  cancelled?: boolean;
}

/** Field 22 (starttime) of /proc/<pid>/stat and the state letter; undefined if there is no such process. */
export function procInfo(pid: number): { start: string; state: string } | undefined {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0]!, start: rest[19]! };
  } catch {
    return undefined;
  }
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Write a file atomically and durably (0600): temp file, fsync, rename. */
export function writeFileDurable(file: string, body: string): void {
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, body);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface LocalRunnerOptions {
  /** Seconds between SIGTERM and SIGKILL on timeout/cancel (default 10). */
  killGraceSeconds?: number;
}

export class LocalRunner implements Runner {
  readonly type = 'local' as const;
  readonly name: string;
  private readonly listeners = new Set<() => void>();
  private readonly gpuInUse = new Map<string, number[]>(); // runDir -> device ids
  private readonly grace: number;

  constructor(
    readonly cfg: LocalRunnerConfig,
    opts: LocalRunnerOptions = {},
  ) {
    this.name = cfg.name;
    this.grace = Math.max(1, Math.round(opts.killGraceSeconds ?? 10));
  }

  onChange(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private emit(): void {
    for (const l of this.listeners) {
      try {
        l();
      } catch {
        /* a listener's problem */
      }
    }
  }

  private allocateGpus(n: number): number[] {
    if (n <= 0) return [];
    const used = new Set([...this.gpuInUse.values()].flat());
    const free: number[] = [];
    for (let i = 0; i < this.cfg.gpus && free.length < n; i++) if (!used.has(i)) free.push(i);
    if (free.length < n) throw new Error(`runner ${this.name}: ${n} GPU(s) requested, ${free.length} free of ${this.cfg.gpus}`);
    return free;
  }

  /** Restore bookkeeping (GPU ids in use) for a job started by an earlier process. */
  adopt(job: JobRef): void {
    const f = readJson<LocalJobFile>(path.join(job.runDir, 'job.json'));
    if (f && !fs.existsSync(path.join(job.runDir, 'exit.json'))) this.gpuInUse.set(job.runDir, f.gpuIds ?? []);
  }

  async find(runDir: string): Promise<string | undefined> {
    const f = readJson<LocalJobFile>(path.join(runDir, 'job.json'));
    return f && typeof f.jobId === 'string' && typeof f.pid === 'number' ? f.jobId : undefined;
  }

  async submit(job: JobSpec): Promise<JobRef> {
    fs.mkdirSync(job.runDir, { recursive: true });
    for (const f of ['job.json', 'exit.json', 'exit.json.tmp', 'cancel.flag', 'timeout.flag', 'job.pgid', 'watchdog.pgid']) fs.rmSync(path.join(job.runDir, f), { force: true });
    let env: Record<string, string> = { ...job.env };
    let launcher = '';
    if (this.cfg.sandbox === 'none') {
      recordUnconfined(job.runDir, job.sandbox?.taskMode ?? 'normal');
      fs.mkdirSync(path.join(job.runDir, OUTPUT_DIR), { recursive: true });
      env.OVERSEER_OUTPUT_DIR = path.join(job.runDir, OUTPUT_DIR);
      if (job.sandbox?.proxy?.token) env.OVERSEER_TOKEN = job.sandbox.proxy.token;
    } else {
      const bwrap = findBwrap(this.cfg.bwrap);
      if (!bwrap) throw new SandboxError(noBwrapMessage(this.name, this.cfg.bwrap));
      const plan = prepareConfinedRun({ runDir: job.runDir, workdir: job.workdir, logPath: job.logPath, experimentId: job.experimentId, command: job.command, env, sandbox: job.sandbox, limits: this.cfg.limits, bwrap, extraReadOnly: this.cfg.readOnlyPaths });
      env = plan.env;
      launcher = plan.launcher;
    }
    const gpuIds = this.allocateGpus(job.gpus);
    delete env.CUDA_VISIBLE_DEVICES;
    if (gpuIds.length) env.CUDA_VISIBLE_DEVICES = gpuIds.join(',');
    else if (this.cfg.gpus > 0) env.CUDA_VISIBLE_DEVICES = ''; // asked for no GPU: see none
    const wall = this.cfg.limits?.wallSeconds;
    const limit = Math.max(0, Math.ceil(wall ? Math.min(wall, job.timeLimitSeconds || wall) : job.timeLimitSeconds));
    const out = fs.openSync(job.logPath, 'a');
    let child;
    try {
      child = spawn('/bin/bash', ['-c', LOCAL_WRAPPER, 'overseer-job', job.runDir, String(limit), String(this.grace), job.command, launcher], {
        cwd: job.workdir,
        env,
        detached: true,
        stdio: ['ignore', out, out],
      });
    } finally {
      fs.closeSync(out);
    }
    const pid = child.pid;
    if (!pid) {
      const err = await new Promise<Error>((r) => child.once('error', r));
      throw new Error(`runner ${this.name}: cannot start the job: ${err.message}`);
    }
    child.on('error', () => undefined);
    child.once('exit', () => setTimeout(() => this.emit(), 5));
    child.unref();
    const procStart = procInfo(pid)?.start ?? '0';
    const jobId = `${pid}.${procStart}`;
    const rec: LocalJobFile = { jobId, pid, procStart, startedAt: new Date().toISOString(), gpuIds, timeLimitSeconds: limit };
    writeFileDurable(path.join(job.runDir, 'job.json'), JSON.stringify(rec));
    this.gpuInUse.set(job.runDir, gpuIds);
    return { jobId, runDir: job.runDir, workdir: job.workdir, logPath: job.logPath };
  }

  private alive(f: LocalJobFile): boolean {
    const p = procInfo(f.pid);
    return !!p && p.start === f.procStart && p.state !== 'Z' && p.state !== 'X';
  }

  private fromExit(f: LocalJobFile | undefined, e: ExitFile): JobStatus {
    const st: JobStatus = { phase: 'failed', exitCode: e.exitCode, startedAt: f?.startedAt, endedAt: e.endedAt };
    if (e.cancelled) {
      st.phase = 'cancelled';
      st.rawState = 'CANCELLED';
      st.reason = 'cancelled';
    } else if (e.timedOut) {
      st.phase = 'timed_out';
      st.rawState = 'TIMEOUT';
      st.reason = `time limit of ${f?.timeLimitSeconds ?? '?'} s reached`;
    } else if (e.exitCode === 0) {
      st.phase = 'succeeded';
      st.rawState = 'COMPLETED';
    } else {
      st.rawState = 'FAILED';
      st.reason = e.exitCode > 128 ? `exit ${e.exitCode} (signal ${e.exitCode - 128}?)` : `exit ${e.exitCode}`;
    }
    return st;
  }

  async status(job: JobRef): Promise<JobStatus> {
    const f = readJson<LocalJobFile>(path.join(job.runDir, 'job.json'));
    const exitFile = path.join(job.runDir, 'exit.json');
    let e = readJson<ExitFile>(exitFile);
    if (!e && f && f.jobId === job.jobId && this.alive(f)) return { phase: 'running', rawState: 'RUNNING', startedAt: f.startedAt };
    e ??= readJson<ExitFile>(exitFile); // it may have finished between the two checks
    if (!f || f.jobId !== job.jobId) return { phase: 'unknown', reason: `no local job ${job.jobId} in ${job.runDir}` };
    if (!e) return { phase: 'unknown', startedAt: f.startedAt, reason: 'the job wrapper process is gone without recording an exit status' };
    this.gpuInUse.delete(job.runDir);
    return this.fromExit(f, e);
  }

  async cancel(job: JobRef, timeoutMs = 30_000): Promise<JobStatus> {
    let st = await this.status(job);
    if (isTerminalPhase(st.phase)) return st;
    const f = readJson<LocalJobFile>(path.join(job.runDir, 'job.json'));
    fs.writeFileSync(path.join(job.runDir, 'cancel.flag'), new Date().toISOString());
    // re-read every time: the wrapper writes job.pgid just after forking the job
    const jobPgid = (): number | undefined => {
      try {
        const t = fs.readFileSync(path.join(job.runDir, 'job.pgid'), 'utf8').trim();
        return /^\d+$/.test(t) && Number(t) > 1 ? Number(t) : undefined;
      } catch {
        return undefined;
      }
    };
    const signal = (sig: NodeJS.Signals) => {
      const pgid = jobPgid();
      try {
        if (pgid) process.kill(-pgid, sig);
        else if (f && this.alive(f)) process.kill(-f.pid, sig); // the job has not forked yet: stop the wrapper
      } catch {
        /* already gone */
      }
    };
    signal('SIGTERM');
    const start = Date.now();
    let killed = false;
    while (Date.now() - start < timeoutMs) {
      st = await this.status(job);
      if (isTerminalPhase(st.phase)) return st;
      if (st.phase === 'unknown') break; // wrapper gone without writing exit.json
      if (!killed && Date.now() - start > this.grace * 1000) {
        signal('SIGKILL');
        killed = true;
      }
      await sleep(50);
    }
    st = await this.status(job);
    if (isTerminalPhase(st.phase)) return st;
    if (f && this.alive(f)) {
      try {
        process.kill(-f.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    const pgid = jobPgid();
    if (pgid) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    this.killGroupFromFile(job.runDir, 'watchdog.pgid'); // the wrapper died: its timer must not fire later
    const exitFile = path.join(job.runDir, 'exit.json');
    if (!fs.existsSync(exitFile)) writeFileDurable(exitFile, JSON.stringify({ exitCode: 137, endedAt: new Date().toISOString(), cancelled: true }));
    return this.status(job);
  }

  private killGroupFromFile(runDir: string, file: string): void {
    try {
      const v = fs.readFileSync(path.join(runDir, file), 'utf8').trim();
      if (/^\d+$/.test(v) && Number(v) > 1) process.kill(-Number(v), 'SIGKILL');
    } catch {
      /* no such file or group */
    }
  }

  async result(job: JobRef): Promise<JobResult> {
    const st = await this.status(job);
    // results.json is read from the outputs directory; the (read-only) worktree only for an unconfined runner,
    // whose jobs may still write into their working directory
    const out = readArtifacts(path.join(job.runDir, OUTPUT_DIR));
    if (this.cfg.sandbox === 'none' && !('results' in out) && !('resultsError' in out)) return { ...st, artifacts: readArtifacts(job.workdir) };
    return { ...st, artifacts: out };
  }

  async logs(job: JobRef, offset: number, max?: number): Promise<LogChunk> {
    return readLogFile(job.logPath, offset, max);
  }
}
