// Read-only FileSystemProvider for `overseer-rev:` URIs: a file at an experiment's base or pinned commit
// (through the hub), or at an agent's commit (local sandbox, embedded hub only). Revisions are immutable,
// so contents are cached by URI.
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { fromRevUri, toRevUri, REV_SCHEME, type RevRef } from '../../git/revUri';
import { Sandbox } from '../../git/sandbox';
import type { HubConnection } from '../hubConnection';
import { reveal } from '../../shared/textSafety';

/**
 * The URI of a file at a revision. A path with hidden characters (bidi overrides, zero-width, tags) gets
 * its marked form as the URI path, so the diff editor's tab and breadcrumb show `README_⟦RLO U+202E⟧dm.py`
 * rather than a reordered name; the real path travels in the query (`p=`).
 */
export function revUri(ref: RevRef): vscode.Uri {
  const parts = toRevUri(ref);
  const shown = `/${ref.path.replace(/\\/g, '/').replace(/^\/+/, '').split('/').map((c) => reveal(c)).join('/')}`;
  if (shown === parts.path) return vscode.Uri.from(parts);
  const q = new URLSearchParams(parts.query);
  q.set('p', parts.path.slice(1));
  return vscode.Uri.from({ ...parts, path: shown, query: q.toString() });
}

export function parseRevUri(uri: vscode.Uri): RevRef {
  const q = new URLSearchParams(uri.query);
  const real = q.get('p');
  if (real === null) return fromRevUri({ scheme: uri.scheme, path: uri.path, query: uri.query });
  const shown = `/${real.split('/').map((c) => reveal(c)).join('/')}`;
  if (shown !== uri.path) throw new Error(`rev uri: shown path ${JSON.stringify(uri.path)} does not match the real path`);
  q.delete('p');
  return fromRevUri({ scheme: uri.scheme, path: `/${real}`, query: q.toString() });
}

interface Entry {
  data: Uint8Array;
  exists: boolean;
}

const MAX_CACHE = 500;

export class RevFileSystemProvider implements vscode.FileSystemProvider {
  private readonly emitter = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.emitter.event;
  private readonly cache = new Map<string, Promise<Entry>>();
  private readonly mtime = Date.now();

  constructor(private readonly conn: HubConnection) {}

  static register(conn: HubConnection): { provider: RevFileSystemProvider; disposable: vscode.Disposable } {
    const provider = new RevFileSystemProvider(conn);
    const disposable = vscode.workspace.registerFileSystemProvider(REV_SCHEME, provider, { isReadonly: true, isCaseSensitive: true });
    return { provider, disposable };
  }

  private load(uri: vscode.Uri): Promise<Entry> {
    const key = uri.toString();
    let p = this.cache.get(key);
    if (!p) {
      p = this.fetch(uri);
      this.cache.set(key, p);
      p.catch(() => this.cache.delete(key));
      if (this.cache.size > MAX_CACHE) this.cache.delete(this.cache.keys().next().value!);
    }
    return p;
  }

  private async fetch(uri: vscode.Uri): Promise<Entry> {
    let ref: RevRef;
    try {
      ref = parseRevUri(uri);
    } catch (err) {
      throw vscode.FileSystemError.FileNotFound(`${uri.toString()}: ${(err as Error).message}`);
    }
    const client = await this.conn.ready;
    if (ref.kind === 'experiment') {
      const r = await client.experimentContent(ref.experimentId, ref.path, ref.side);
      return { exists: r.exists, data: r.exists ? Buffer.from(r.base64, 'base64') : new Uint8Array() };
    }
    const detail = await client.agent(ref.agentId);
    if (!fs.existsSync(detail.hubRepo)) {
      throw vscode.FileSystemError.Unavailable(`the repository of ${ref.agentId} is on the hub's machine; open a proposal to see its files`);
    }
    const buf = await new Sandbox(detail.hubRepo).fileAt(ref.commit, ref.path);
    return { exists: buf !== undefined, data: buf ?? new Uint8Array() };
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    const e = await this.load(uri);
    // A side where the file is absent (added/deleted file) is shown as empty, so the diff still opens.
    return { type: vscode.FileType.File, ctime: this.mtime, mtime: this.mtime, size: e.data.byteLength, permissions: vscode.FilePermission.Readonly };
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    return (await this.load(uri)).data;
  }

  /** Does the file exist at that revision (false for the absent side of an add/delete)? */
  async exists(uri: vscode.Uri): Promise<boolean> {
    return (await this.load(uri)).exists;
  }

  watch(): vscode.Disposable {
    return new vscode.Disposable(() => undefined);
  }
  readDirectory(): [string, vscode.FileType][] {
    return [];
  }
  createDirectory(): void {
    throw vscode.FileSystemError.NoPermissions('overseer-rev is read-only');
  }
  writeFile(): void {
    throw vscode.FileSystemError.NoPermissions('overseer-rev is read-only');
  }
  delete(): void {
    throw vscode.FileSystemError.NoPermissions('overseer-rev is read-only');
  }
  rename(): void {
    throw vscode.FileSystemError.NoPermissions('overseer-rev is read-only');
  }
}
