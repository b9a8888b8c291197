import type { RunnerConfig } from './config';
import { LocalRunner } from './local';
import { SlurmRunner } from './slurm';
import type { Runner } from './types';

export interface RunnerFactoryOptions {
  /** Local runner: seconds between SIGTERM and SIGKILL on timeout/cancel. */
  localKillGraceSeconds?: number;
}

export function createRunner(cfg: RunnerConfig, opts: RunnerFactoryOptions = {}): Runner {
  return cfg.type === 'local' ? new LocalRunner(cfg, { killGraceSeconds: opts.localKillGraceSeconds }) : new SlurmRunner(cfg);
}

export function defaultPollMs(cfg: RunnerConfig): number {
  return cfg.pollMs ?? (cfg.type === 'local' ? 500 : 2000);
}
