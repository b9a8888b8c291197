// Native diff review: base ↔ pinned commit of a proposal, and "changes since last review" for a
// follow-up proposal (previous pinned commit ↔ new pinned commit).
import * as vscode from 'vscode';
import type { Experiment } from '../../core/model';
import type { HubConnection } from '../hubConnection';
import { pickText, plain, plainName } from '../text';
import { revUri } from './revFs';

export interface OpenDiffArgs {
  experimentId: string;
  file: string;
  line?: number;
  /** Open on the base side's line instead of the head side. */
  side?: 'base' | 'head';
  preview?: boolean;
}

export function diffTitle(x: Pick<Experiment, 'id' | 'commit'>, file: string): string {
  const name = plainName(file.split('/').pop() ?? file, 'file', 80);
  return `${name} (${x.id}: base ↔ ${x.commit.slice(0, 8)})`;
}

/** Open `vscode.diff` of one file of a proposal: base (merge base) on the left, pinned commit on the right. */
export async function openExperimentDiff(conn: HubConnection, args: OpenDiffArgs): Promise<void> {
  const client = await conn.ready;
  const x = await client.getExperiment(args.experimentId);
  const left = revUri({ kind: 'experiment', experimentId: x.id, side: 'base', path: args.file });
  const right = revUri({ kind: 'experiment', experimentId: x.id, side: 'head', path: args.file });
  const opts: vscode.TextDocumentShowOptions = { preview: args.preview ?? true };
  if (args.line !== undefined && Number.isInteger(args.line) && args.line > 0) {
    const l = args.line - 1;
    opts.selection = new vscode.Range(l, 0, l, 0);
  }
  await vscode.commands.executeCommand('vscode.diff', left, right, diffTitle(x, args.file), opts);
}

export interface ChangedSinceReview {
  previous: Experiment;
  current: Experiment;
  files: string[];
}

/** Files whose content differs between the superseded proposal's pin and the follow-up's pin. */
export async function changedSinceLastReview(conn: HubConnection, experimentId: string): Promise<ChangedSinceReview> {
  const client = await conn.ready;
  const current = await client.getExperiment(experimentId);
  if (!current.supersedes) throw new Error(`${current.id} is not a follow-up of an earlier proposal`);
  const previous = await client.getExperiment(current.supersedes);
  const [a, b] = await Promise.all([client.experimentFiles(previous.id), client.experimentFiles(current.id)]);
  const union = [...new Set([...a.files.map((f) => f.path), ...b.files.map((f) => f.path)])].sort();
  if (previous.commit === current.commit) return { previous, current, files: [] };
  const files: string[] = [];
  const limit = 8;
  let i = 0;
  const worker = async () => {
    while (i < union.length) {
      const f = union[i++]!;
      const [l, r] = await Promise.all([client.experimentContent(previous.id, f, 'head'), client.experimentContent(current.id, f, 'head')]);
      if (l.exists !== r.exists || l.base64 !== r.base64) files.push(f);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, union.length) }, worker));
  files.sort();
  return { previous, current, files };
}

export async function openChangesSinceLastReview(conn: HubConnection, experimentId: string): Promise<ChangedSinceReview> {
  const r = await changedSinceLastReview(conn, experimentId);
  if (!r.files.length) {
    void vscode.window.showInformationMessage(`${r.current.id}: no file changed since ${r.previous.id} was reviewed.`);
    return r;
  }
  const pair = (f: string) =>
    [
      revUri({ kind: 'experiment', experimentId: r.previous.id, side: 'head', path: f }),
      revUri({ kind: 'experiment', experimentId: r.current.id, side: 'head', path: f }),
    ] as const;
  const title = `${r.current.id}: changes since ${r.previous.id} (${r.previous.commit.slice(0, 8)} ↔ ${r.current.commit.slice(0, 8)})`;
  if (r.files.length === 1) {
    const [l, rt] = pair(r.files[0]!);
    await vscode.commands.executeCommand('vscode.diff', l, rt, title, { preview: true });
    return r;
  }
  try {
    await vscode.commands.executeCommand(
      'vscode.changes',
      title,
      r.files.map((f) => {
        const [l, rt] = pair(f);
        return [rt, l, rt];
      }),
    );
  } catch {
    const pick = await vscode.window.showQuickPick(r.files.map((f) => ({ label: pickText(plainName(f, 'file', 300)), file: f })), { title, placeHolder: 'File changed since the last review' });
    if (pick) {
      const f = pick.file;
      const [l, rt] = pair(f);
      await vscode.commands.executeCommand('vscode.diff', l, rt, title, { preview: true });
    }
  }
  return r;
}
