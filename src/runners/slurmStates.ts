// Pure helpers for Slurm: state mapping, exit-code decoding, output parsing, time limits. Unit-tested.
import type { JobPhase, JobStatus } from './types';

const ACTIVE_PENDING = new Set(['PENDING', 'CONFIGURING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESIZING', 'SUSPENDED', 'STOPPED', 'RESV_DEL_HOLD']);
const ACTIVE_RUNNING = new Set(['RUNNING', 'COMPLETING', 'SIGNALING', 'STAGE_OUT', 'POWER_UP_NODE', 'UPDATE_DB']);

/** Why a terminal Slurm state is not a plain success/failure (shown to humans and agents). */
const REASONS: Record<string, string> = {
  NODE_FAIL: 'Slurm node failure',
  OUT_OF_MEMORY: 'out of memory',
  PREEMPTED: 'preempted by the scheduler',
  BOOT_FAIL: 'node failed to boot',
  DEADLINE: 'Slurm deadline reached',
  TIMEOUT: 'time limit reached',
  REVOKED: 'revoked (federation)',
  SPECIAL_EXIT: 'special exit state',
  CANCELLED: 'cancelled',
};

/** `CANCELLED by 0`, `RUNNING+...`, `FAILED` → the bare state word, upper case. */
export function normalizeSlurmState(raw: string): string {
  return raw.trim().split(/[\s+]/)[0]!.toUpperCase();
}

/** Map a Slurm job state to ours. */
export function mapSlurmState(raw: string): { phase: JobPhase; reason?: string } {
  const s = normalizeSlurmState(raw);
  if (ACTIVE_PENDING.has(s)) return { phase: 'pending' };
  if (ACTIVE_RUNNING.has(s)) return { phase: 'running' };
  switch (s) {
    case 'COMPLETED':
      return { phase: 'succeeded' };
    case 'FAILED':
      return { phase: 'failed' };
    case 'CANCELLED':
    case 'REVOKED':
      return { phase: 'cancelled', reason: REASONS[s] };
    case 'TIMEOUT':
    case 'DEADLINE':
      return { phase: 'timed_out', reason: REASONS[s] };
    case 'NODE_FAIL':
    case 'OUT_OF_MEMORY':
    case 'PREEMPTED':
    case 'BOOT_FAIL':
    case 'SPECIAL_EXIT':
      return { phase: 'failed', reason: REASONS[s] };
    default:
      return { phase: 'unknown', reason: s ? `unrecognised Slurm state ${s}` : 'no Slurm state' };
  }
}

/** squeue --json `exit_code` is a wait(2) status: exit = (c >> 8) & 255, signal = c & 127. */
export function decodeWaitStatus(c: number): { exitCode: number; signal?: number } {
  const signal = c & 127;
  return signal ? { exitCode: (c >> 8) & 255, signal } : { exitCode: (c >> 8) & 255 };
}

/** scontrol/sacct `ExitCode=3:0` → exit 3, signal 0. */
export function parseExitPair(s: string | undefined): { exitCode: number; signal?: number } | undefined {
  const m = /^(\d+):(\d+)$/.exec((s ?? '').trim());
  if (!m) return undefined;
  const signal = Number(m[2]);
  return signal ? { exitCode: Number(m[1]), signal } : { exitCode: Number(m[1]) };
}

/** `sbatch --parsable` prints `<id>` or `<id>;<cluster>`. */
export function parseSbatchParsable(out: string): string {
  const line = out.trim().split('\n').pop() ?? '';
  const id = line.split(';')[0]!.trim();
  if (!/^\d+(?:_\d+)?$/.test(id)) throw new Error(`unexpected sbatch output: ${JSON.stringify(out.slice(0, 200))}`);
  return id;
}

/** Whole minutes for `--time`, at least 1 (Slurm's granularity). */
export function slurmTimeMinutes(seconds: number): number {
  return Math.max(1, Math.ceil(seconds / 60));
}

function epochToIso(v: unknown): string | undefined {
  return typeof v === 'number' && v > 0 ? new Date(v * 1000).toISOString() : undefined;
}

function slurmTimeToIso(v: string | undefined): string | undefined {
  if (!v || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/.test(v)) return undefined;
  const d = new Date(v); // Slurm prints local time without a zone; Date parses it as local time too.
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

function withState(raw: string, extra: Omit<JobStatus, 'phase' | 'rawState'>): JobStatus {
  const m = mapSlurmState(raw);
  const st: JobStatus = { phase: m.phase, rawState: normalizeSlurmState(raw), ...extra };
  if (m.reason && !st.reason) st.reason = m.reason;
  if (m.phase === 'pending' || m.phase === 'running') {
    delete st.exitCode;
    delete st.signal;
    delete st.endedAt;
  }
  if (m.phase === 'pending') delete st.startedAt;
  return st;
}

/** Jobs from `squeue --json` (Slurm 22.05 shape), keyed by job id. squeue ignores -j there: filter here. */
export function parseSqueueJson(out: string): Map<string, JobStatus> {
  const res = new Map<string, JobStatus>();
  const doc = JSON.parse(out) as { jobs?: Array<Record<string, unknown>> };
  for (const j of doc.jobs ?? []) {
    if (j.job_id === undefined || typeof j.job_state !== 'string') continue;
    const extra: Omit<JobStatus, 'phase' | 'rawState'> = {};
    if (typeof j.exit_code === 'number') Object.assign(extra, decodeWaitStatus(j.exit_code));
    const started = epochToIso(j.start_time);
    const ended = epochToIso(j.end_time);
    if (started) extra.startedAt = started;
    if (ended) extra.endedAt = ended;
    const st = withState(j.job_state, extra);
    if (typeof j.state_reason === 'string' && j.state_reason !== 'None' && st.phase !== 'succeeded' && !st.reason) st.reason = j.state_reason;
    res.set(String(j.job_id), st);
  }
  return res;
}

/** `scontrol show job -o ID` → fields. */
export function parseScontrolLine(out: string): Record<string, string> {
  const fields: Record<string, string> = {};
  const line = out.trim().split('\n')[0] ?? '';
  // Values may contain spaces only in a few fields we do not use; split on " Key=" boundaries.
  for (const m of line.matchAll(/(?:^|\s)([A-Za-z][A-Za-z0-9/:_]*)=(\S*)/g)) fields[m[1]!] = m[2]!;
  return fields;
}

export function statusFromScontrol(out: string): JobStatus | undefined {
  const f = parseScontrolLine(out);
  if (!f.JobState) return undefined;
  const extra: Omit<JobStatus, 'phase' | 'rawState'> = { ...(parseExitPair(f.ExitCode) ?? {}) };
  const s = slurmTimeToIso(f.StartTime);
  const e = slurmTimeToIso(f.EndTime);
  if (s) extra.startedAt = s;
  if (e) extra.endedAt = e;
  const st = withState(f.JobState, extra);
  if (f.Reason && f.Reason !== 'None' && st.phase !== 'succeeded' && !st.reason) st.reason = f.Reason;
  return st;
}

/** `sacct -c -P -n -j ID -o jobid,state,exitcode,start,end` (jobcomp/filetxt) → the line for the job itself. */
export function statusFromSacct(out: string, jobId: string): JobStatus | undefined {
  let found: JobStatus | undefined;
  for (const line of out.split('\n')) {
    const [id, state, exit, start, end] = line.split('|');
    if (id?.trim() !== jobId || !state) continue;
    const extra: Omit<JobStatus, 'phase' | 'rawState'> = { ...(parseExitPair(exit) ?? {}) };
    const s = slurmTimeToIso(start);
    const e = slurmTimeToIso(end);
    if (s) extra.startedAt = s;
    if (e) extra.endedAt = e;
    found = withState(state, extra); // the last record for the id wins (requeued jobs)
  }
  return found;
}
