import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** A fresh temporary directory, removed by the returned cleanup. */
export function tmpDir(prefix = 'overseer-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export const HUMAN = { kind: 'human' as const, id: 'alice' };
export const agentActor = (id: string) => ({ kind: 'agent' as const, id });
