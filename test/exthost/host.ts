// What every extension-host suite does around its own fleet: wait for a condition, activate the extension, point
// it at the suite's fleet (reconnecting until it is there: an earlier suite in the same host may have left a
// connection, or one in progress, to its own fleet), and leave again without closing the connection (closing
// disposes it for good, and the suites share one host).
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { OverseerApi } from '../../src/host/extension';

export const EXT_ID = 'overseer-dev.overseer';

export async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Activate the extension and connect it to the fleet in `dir`, acting as `human`. */
export async function enterFleet(dir: string, human: string): Promise<OverseerApi> {
  const ext = vscode.extensions.getExtension<OverseerApi>(EXT_ID)!;
  assert.ok(ext, `${EXT_ID} is not installed`);
  const api = await ext.activate();
  const cfg = vscode.workspace.getConfiguration('overseer');
  await cfg.update('humanName', human, vscode.ConfigurationTarget.Global);
  await cfg.update('fleetDir', dir, vscode.ConfigurationTarget.Global);
  await until(
    'the hub connection',
    async () => {
      if (api.conn.status.fleetDir !== dir && api.conn.status.state !== 'connecting') await api.conn.connect();
      return api.conn.status.state === 'connected' && api.conn.status.fleetDir === dir;
    },
    30_000,
  );
  return api;
}

/** Undo enterFleet's settings and wait for the connection to leave the fleet (the fixture's hub closes then). */
export async function leaveFleet(api: OverseerApi | undefined, dir: string | undefined, opts: { closeEditors?: boolean } = {}): Promise<void> {
  const cfg = vscode.workspace.getConfiguration('overseer');
  await cfg.update('fleetDir', undefined, vscode.ConfigurationTarget.Global);
  await cfg.update('humanName', undefined, vscode.ConfigurationTarget.Global);
  if (opts.closeEditors) await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  if (api && dir) await until('the connection to leave the fixture fleet', () => api.conn.status.fleetDir !== dir, 30_000).catch(() => undefined);
}
