// Where the embedded hub's fleet lives. Pure (no vscode): the host passes in the workspace folders and a
// file-existence probe so this can be unit-tested under plain mocha.
import * as path from 'node:path';

export interface FleetDirInput {
  /** The `overseer.fleetDir` setting (may be empty, absolute, relative to the first folder, or use ${workspaceFolder}). */
  setting: string | undefined;
  /** Workspace folder paths in order. */
  folders: readonly string[];
  /** Fallback when there is no workspace folder (extension global storage). */
  globalStorage: string;
  exists: (p: string) => boolean;
}

export interface FleetDirChoice {
  dir: string;
  reason: 'setting' | 'workspace-fleet' | 'default';
}

const MARKERS = ['ledger.jsonl', 'fleet.json'];

export function resolveFleetDir(i: FleetDirInput): FleetDirChoice {
  const first = i.folders[0];
  const s = (i.setting ?? '').trim();
  if (s) {
    let v = s.replace(/\$\{workspaceFolder\}/g, first ?? i.globalStorage);
    if (v === '~' || v.startsWith('~/')) v = path.join(process.env.HOME ?? '', v.slice(1));
    return { dir: path.resolve(first ?? i.globalStorage, v), reason: 'setting' };
  }
  for (const f of i.folders) {
    if (MARKERS.some((m) => i.exists(path.join(f, m)))) return { dir: f, reason: 'workspace-fleet' };
  }
  return { dir: path.join(first ?? i.globalStorage, '.overseer', 'fleet'), reason: 'default' };
}
