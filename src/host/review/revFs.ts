// Read-only FileSystemProvider for `overseer-rev:` URIs: a file at an experiment's base or pinned commit
// (through the hub), or at an agent's commit (local sandbox, embedded hub only). Revisions are immutable,
// so contents are cached by URI.
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { fromRevUri, toRevUri, REV_SCHEME, type RevRef } from '../../git/revUri';
import { Sandbox } from '../../git/sandbox';
import type { HubConnection } from '../hubConnection';

export function revUri(ref: RevRef): vscode.Uri {
  return vscode.Uri.from(toRevUri(ref));
}

export function parseRevUri(uri: vscode.Uri): RevRef {
  return fromRevUri({ scheme: uri.scheme, path: uri.path, query: uri.query });
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
