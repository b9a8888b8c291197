// Slurm tests run only when OVERSEER_SLURM=1 (CI runs `bash scripts/slurm.sh install && bash scripts/slurm.sh start`).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const SLURM_ENABLED = process.env.OVERSEER_SLURM === '1';

/** Point the Slurm client commands at the cluster scripts/slurm.sh started, unless SLURM_CONF is already set. */
export function useCiSlurmConf(): void {
  if (process.env.SLURM_CONF) return;
  const base = process.env.OVERSEER_SLURM_BASE ?? path.join(process.env.TMPDIR ?? os.tmpdir(), 'overseer-slurm');
  const conf = path.join(base, 'etc', 'slurm.conf');
  if (fs.existsSync(conf)) process.env.SLURM_CONF = conf;
}
