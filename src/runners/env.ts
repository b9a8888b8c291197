/** The approved command of one seed job: every `{seed}` becomes the hub-chosen seed value (decimal digits). */
export function substituteSeed(command: string, seed: number): string {
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`invalid seed ${seed}`);
  return command.split('{seed}').join(String(seed));
}

// The job environment is explicit: nothing of the hub's environment leaks into a job except PATH and LANG.
export interface JobEnvInput {
  workdir: string;
  experimentId: string;
  evalUrl?: string;
  /** Job-scoped token minted by the caller (never the hub's own credentials). Only for unconfined runs: a
   * confined run's token is held by its API proxy outside the sandbox. */
  token?: string;
  /** The hub-chosen seed of this seed job (OVERSEER_SEED), its index and the experiment's number of seed jobs. */
  seed?: number;
  seedIndex?: number;
  seedJobs?: number;
  /** Device ids for CUDA_VISIBLE_DEVICES (local runner; Slurm sets it from the gres allocation). */
  gpuIds?: readonly number[];
  path?: string;
  lang?: string;
}

export const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';

export function buildJobEnv(i: JobEnvInput): Record<string, string> {
  const env: Record<string, string> = {
    PATH: i.path ?? process.env.PATH ?? DEFAULT_PATH,
    HOME: i.workdir,
    LANG: i.lang ?? process.env.LANG ?? 'C.UTF-8',
    OVERSEER_EXPERIMENT_ID: i.experimentId,
  };
  if (i.evalUrl) env.OVERSEER_EVAL_URL = i.evalUrl;
  if (i.token) env.OVERSEER_TOKEN = i.token;
  if (i.seed !== undefined) env.OVERSEER_SEED = String(i.seed);
  if (i.seedIndex !== undefined) env.OVERSEER_SEED_INDEX = String(i.seedIndex);
  if (i.seedJobs !== undefined) env.OVERSEER_NUM_SEEDS = String(i.seedJobs);
  if (i.gpuIds && i.gpuIds.length) env.CUDA_VISIBLE_DEVICES = i.gpuIds.join(',');
  for (const [k, v] of Object.entries(env)) {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(k) || v.includes('\0')) throw new Error(`invalid job environment entry ${k}`);
  }
  return env;
}
