// Runner interface: something that can run one job (an approved experiment at its pinned commit) and report on
// it. Implementations: local.ts (detached process group on this machine) and slurm.ts (sbatch/squeue/scancel,
// optionally through ssh). No vscode import.
import type { JobSandbox } from './confine';

/** Our view of a job's state. `unknown` = the runner has no record of the job (purged, lost, wrong id). */
export type JobPhase = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'timed_out' | 'unknown';

export const TERMINAL_PHASES: readonly JobPhase[] = ['succeeded', 'failed', 'cancelled', 'timed_out'];

export function isTerminalPhase(p: JobPhase): p is 'succeeded' | 'failed' | 'cancelled' | 'timed_out' {
  return TERMINAL_PHASES.includes(p);
}

/** Everything a runner needs to start a job. The dispatcher prepares the working directory beforehand. */
export interface JobSpec {
  experimentId: string;
  /** `<fleet>/runs/<experimentId>`: job.log, job.json, wrapper files live here. */
  runDir: string;
  /** The verified worktree of the approved commit; the command runs here. */
  workdir: string;
  /** The human-approved command text, run as `bash -c <command>` inside workdir. */
  command: string;
  /** The complete job environment (nothing else is inherited). GPU device ids are added by the runner. */
  env: Record<string, string>;
  gpus: number;
  /** Wall-clock limit. Slurm rounds up to whole minutes. */
  timeLimitSeconds: number;
  /** Where stdout+stderr go (normally `<runDir>/job.log`). */
  logPath: string;
  /** Confinement details (task mode, dataset paths, the API the proxy reaches). Default: normal, nothing extra. */
  sandbox?: JobSandbox;
}

/** What the dispatcher keeps (and what is recorded in the ledger) to address a job later, also after a restart. */
export interface JobRef {
  jobId: string;
  runDir: string;
  /** Where results.json is looked for. */
  workdir: string;
  logPath: string;
}

export interface JobStatus {
  phase: JobPhase;
  /** The runner's own state name (e.g. Slurm's TIMEOUT) for display. */
  rawState?: string;
  exitCode?: number;
  /** Terminating signal, if any. */
  signal?: number;
  reason?: string;
  startedAt?: string;
  endedAt?: string;
}

export interface JobResult extends JobStatus {
  /** Small JSON-able facts about outputs, e.g. `{ results: <parsed results.json> }`. */
  artifacts: Record<string, unknown>;
}

export interface LogChunk {
  data: string;
  offset: number;
  nextOffset: number;
  /** Size of the log when read. */
  size: number;
}

export interface Runner {
  readonly name: string;
  readonly type: 'local' | 'slurm';
  /** Start a job. Resolves once the runner has accepted it (the job may still be pending). */
  submit(job: JobSpec): Promise<JobRef>;
  status(job: JobRef): Promise<JobStatus>;
  /** Bytes of the job log from `offset` (at most `max`). */
  logs(job: JobRef, offset: number, max?: number): Promise<LogChunk>;
  /** Ask the runner to stop the job and wait until its state confirms it ended (or `timeoutMs` passes). */
  cancel(job: JobRef, timeoutMs?: number): Promise<JobStatus>;
  /** Final result of a terminal job, with artifacts (results.json) read from its working directory. */
  result(job: JobRef): Promise<JobResult>;
  /** Restore internal bookkeeping (e.g. GPU ids in use) for a job started by an earlier process. */
  adopt?(job: JobRef): void;
  /** The id of a job an earlier process submitted for this run directory, if the runner can find one. */
  find?(runDir: string, experimentId: string): Promise<string | undefined>;
  /** Called with no arguments when the runner learns something changed (optional push, polling still works). */
  onChange?(listener: () => void): () => void;
  close?(): Promise<void>;
}

export const RESULTS_FILE = 'results.json';
/** Largest results.json copied into the ledger. */
export const MAX_RESULTS_BYTES = 64 * 1024;
