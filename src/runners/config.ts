// Runner configuration: `runners` and `dispatch` in `<fleet>/fleet.json`, parsed with zod into clear errors.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Slurm partition/account/gres names and ssh host aliases: conservative character sets (they become argv). */
const SLURM_WORD = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const SSH_HOST = /^(?:[A-Za-z0-9._-]+@)?[A-Za-z0-9][A-Za-z0-9._:-]{0,252}$/;

export const limitsSchema = z.strictObject({
  /** Address space per process (RLIMIT_AS), MiB. */
  memoryMB: z.number().int().min(16).max(16 * 1024 * 1024).optional(),
  /** Processes in the run (pid namespace; also RLIMIT_NPROC). */
  processes: z.number().int().min(2).max(1_000_000).optional(),
  /** Upper bound on every job's wall time, seconds (the approved limit is capped at this). */
  wallSeconds: z.number().int().min(1).max(366 * 24 * 3600).optional(),
  /** The run is stopped when its log grows beyond this many MiB. */
  logMB: z.number().min(0.001).max(1024 * 1024).optional(),
  /** Disk a run may fill: its private /tmp (a tmpfs of this size) and, separately, its outputs directory (the run is
   * stopped beyond it; no single file may grow past it). */
  diskMB: z.number().min(1).max(1024 * 1024 * 1024).optional(),
});

const common = {
  name: z.string().regex(NAME_RE, 'runner names are letters, digits, . _ - (max 64)'),
  maxConcurrent: z.number().int().min(1).max(10_000).default(1),
  gpus: z.number().int().min(0).max(4096).default(0),
  pollMs: z.number().int().min(50).max(600_000).optional(),
  /** `bwrap` (the default when absent): every run is confined; `none`: unconfined, recorded in the ledger, a standing warning. */
  sandbox: z.enum(['bwrap', 'none']).optional(),
  /** The bubblewrap binary (default: bwrap in /usr/bin, /bin, /usr/local/bin). */
  bwrap: z.string().regex(/^\/[^\0]{0,4095}$/, 'bwrap must be an absolute path').optional(),
  limits: limitsSchema.optional(),
  /** Extra read-only paths visible inside the sandbox (e.g. a CUDA or conda installation). */
  readOnlyPaths: z.array(z.string().regex(/^\/[^\0]{0,4095}$/, 'read-only paths must be absolute')).max(64).optional(),
};

export const localRunnerSchema = z.strictObject({
  ...common,
  type: z.literal('local'),
});

export const slurmRunnerSchema = z.strictObject({
  ...common,
  type: z.literal('slurm'),
  partition: z.string().regex(SLURM_WORD, 'invalid partition name').optional(),
  account: z.string().regex(SLURM_WORD, 'invalid account name').optional(),
  gresName: z.string().regex(SLURM_WORD, 'invalid gres name').default('gpu'),
  /** Run every Slurm command through `ssh <sshHost> --` (a login node). */
  sshHost: z.string().regex(SSH_HOST, 'invalid ssh host (user@host or an ssh config alias)').optional(),
  /** SLURM_CONF for the client commands (default: the hub's environment). */
  slurmConf: z.string().min(1).optional(),
});

export const runnerConfigSchema = z.discriminatedUnion('type', [localRunnerSchema, slurmRunnerSchema]);

export const dispatchConfigSchema = z.strictObject({
  perAgentConcurrency: z.number().int().min(1).max(10_000).default(1),
  fleetConcurrency: z.number().int().min(1).max(100_000).default(4),
});

export const runnersSectionSchema = z
  .object({
    runners: z.array(runnerConfigSchema).max(100).default([{ name: 'local', type: 'local', maxConcurrent: 1, gpus: 0 }]),
    dispatch: dispatchConfigSchema.default({ perAgentConcurrency: 1, fleetConcurrency: 4 }),
  })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.runners.forEach((r, i) => {
      if (seen.has(r.name)) ctx.addIssue({ code: 'custom', path: ['runners', i, 'name'], message: `duplicate runner name ${JSON.stringify(r.name)}` });
      seen.add(r.name);
    });
  });

export type LocalRunnerConfig = z.infer<typeof localRunnerSchema>;
export type SlurmRunnerConfig = z.infer<typeof slurmRunnerSchema>;
export type RunnerConfig = z.infer<typeof runnerConfigSchema>;
export type DispatchConfig = z.infer<typeof dispatchConfigSchema>;
export interface FleetRunnersConfig {
  runners: RunnerConfig[];
  dispatch: DispatchConfig;
}

export class RunnerConfigError extends Error {
  constructor(
    message: string,
    readonly issues: string[],
  ) {
    super(message);
    this.name = 'RunnerConfigError';
  }
}

/** Validate the runner part of a parsed fleet.json (other keys are ignored). */
export function parseRunnersConfig(raw: unknown, source = 'fleet.json'): FleetRunnersConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new RunnerConfigError(`${source}: expected a JSON object`, ['(root): expected an object']);
  }
  const { runners, dispatch } = raw as Record<string, unknown>;
  const r = runnersSectionSchema.safeParse({ runners, dispatch });
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`);
    throw new RunnerConfigError(`${source}: invalid runner configuration: ${issues.join('; ')}`, issues);
  }
  return r.data;
}

function formatPath(p: readonly PropertyKey[]): string {
  let s = '';
  for (const k of p) s += typeof k === 'number' ? `[${k}]` : s ? `.${String(k)}` : String(k);
  return s || '(root)';
}

/** Read `<fleetDir>/fleet.json`; a missing file means the defaults (one local runner, no GPUs). */
export function loadRunnersConfig(fleetDir: string): FleetRunnersConfig {
  const file = path.join(fleetDir, 'fleet.json');
  if (!fs.existsSync(file)) return parseRunnersConfig({}, file);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new RunnerConfigError(`${file}: not valid JSON (${(err as Error).message})`, [(err as Error).message]);
  }
  return parseRunnersConfig(raw, file);
}
