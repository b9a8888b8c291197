// HubConnection: the extension's one link to a hub. Either an embedded hub on the fleet directory
// (127.0.0.1, port 0, in-memory human token) or a team hub (setting `overseer.hubUrl`, token in
// SecretStorage). Everything else in the extension talks to the hub through `conn.client` and listens to
// ledger events through `conn.onEvent` (one SSE stream, shared, resumable).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as vscode from 'vscode';
import type { AnyEvent } from '../core/events';
import { HubClient, HubError } from '../hub/client';
import { resolveFleetDir } from './fleetDir';

export const TOKEN_SECRET = 'overseer.hubToken';
/** Context key true while the review webview is the active panel (B sets it through setActiveReview). */
export const REVIEW_FOCUS_KEY = 'overseer.reviewFocused';

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'error';

export interface ConnectionStatus {
  state: ConnectionState;
  mode?: 'embedded' | 'remote';
  url?: string;
  fleetDir?: string;
  error?: string;
  lastSeq: number;
}

/** What an embedded hub gives back (subset of `startHub`'s result that the extension uses). */
export interface EmbeddedHub {
  url: string;
  createToken(actor: { kind: 'human' | 'agent' | 'system'; id: string }): string | Promise<string>;
  close(): Promise<void>;
}

export interface EmbeddedHubOptions {
  fleetDir: string;
  host: string;
  port: number;
  /** Dispatch approved experiments to the runners fleet.json declares. */
  dispatch?: boolean;
  screeningAi?: { apiKey: string; model?: string };
  onWarning?: (msg: string) => void;
}

export type StartEmbeddedHub = (opts: EmbeddedHubOptions) => Promise<EmbeddedHub>;

export interface HubConnectionOptions {
  /** Override how the embedded hub is started (tests). Default: `startHub` from src/hub/server. */
  startHub?: StartEmbeddedHub;
  /** Secrets for the team-hub token (context.secrets). */
  secrets?: vscode.SecretStorage;
  globalStorage?: string;
  log?: vscode.LogOutputChannel;
}

type Listener = (e: AnyEvent) => void;

export class HubConnection implements vscode.Disposable {
  private _client: HubClient | undefined;
  private hub: EmbeddedHub | undefined;
  private abort: AbortController | undefined;
  private readonly listeners = new Set<Listener>();
  private readonly statusEmitter = new vscode.EventEmitter<ConnectionStatus>();
  private readonly reviewEmitter = new vscode.EventEmitter<string | undefined>();
  private _status: ConnectionStatus = { state: 'idle', lastSeq: 0 };
  private readyPromise: Promise<HubClient>;
  private resolveReady!: (c: HubClient) => void;
  private connecting: Promise<void> | undefined;
  private _activeReview: string | undefined;
  private disposed = false;

  /** Fires when the connection state changes (connected, reconnecting, error...). */
  readonly onDidChangeStatus = this.statusEmitter.event;
  /** Fires when the experiment under review in the review webview changes (undefined = none focused). */
  readonly onDidChangeActiveReview = this.reviewEmitter.event;
  /** The human the extension acts as (setting `overseer.humanName`, else the OS user). */
  human: string;

  constructor(private readonly opts: HubConnectionOptions = {}) {
    this.human = humanName();
    this.readyPromise = this.newReady();
  }

  private newReady(): Promise<HubClient> {
    return new Promise<HubClient>((r) => (this.resolveReady = r));
  }

  /** The hub client. Throws a clear error before the first connection succeeded (await `ready` first). */
  get client(): HubClient {
    if (!this._client) throw new HubError(0, 'not_connected', 'Overseer is not connected to a hub yet');
    return this._client;
  }

  /** Resolves with the client once connected (immediately if already connected). */
  get ready(): Promise<HubClient> {
    return this.readyPromise;
  }

  get isConnected(): boolean {
    return this._client !== undefined;
  }

  get status(): ConnectionStatus {
    return this._status;
  }

  /** Highest ledger seq this connection has seen (from /api/fleet or the event stream). */
  get lastSeq(): number {
    return this._status.lastSeq;
  }

  /** Subscribe to ledger events (each delivered once, in seq order). */
  onEvent(listener: Listener): vscode.Disposable {
    this.listeners.add(listener);
    return new vscode.Disposable(() => this.listeners.delete(listener));
  }

  /** The experiment shown in the focused review webview, used by the triage keybindings. */
  get activeReview(): string | undefined {
    return this._activeReview;
  }

  /** Called by the review panel host when its panel gains/loses focus or switches experiment. */
  setActiveReview(experimentId: string | undefined): void {
    if (this._activeReview === experimentId) return;
    this._activeReview = experimentId;
    void vscode.commands.executeCommand('setContext', REVIEW_FOCUS_KEY, experimentId !== undefined);
    this.reviewEmitter.fire(experimentId);
  }

  private setStatus(s: Partial<ConnectionStatus>): void {
    this._status = { ...this._status, ...s };
    if (s.state !== 'error' && s.error === undefined) delete this._status.error;
    this.statusEmitter.fire(this._status);
  }

  /** A team hub is configured, or the workspace already holds a fleet (no directory would be created). */
  shouldConnectEagerly(): boolean {
    const cfg = vscode.workspace.getConfiguration('overseer');
    if ((cfg.get<string>('hubUrl') ?? '').trim()) return true;
    const choice = this.fleetDirChoice();
    return choice.reason !== 'default' || fs.existsSync(choice.dir);
  }

  private fleetDirChoice() {
    return resolveFleetDir({
      setting: vscode.workspace.getConfiguration('overseer').get<string>('fleetDir'),
      folders: (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath),
      globalStorage: this.opts.globalStorage ?? os.tmpdir(),
      exists: (p) => fs.existsSync(p),
    });
  }

  /** Connect (or reconnect after settings changed). Never throws: failures land in `status`. */
  connect(): Promise<void> {
    if (this.connecting) return this.connecting;
    this.connecting = this.doConnect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async doConnect(): Promise<void> {
    await this.teardown();
    if (this.disposed) return;
    const cfg = vscode.workspace.getConfiguration('overseer');
    this.human = humanName(cfg.get<string>('humanName'));
    const hubUrl = (cfg.get<string>('hubUrl') ?? '').trim();
    try {
      let client: HubClient;
      if (hubUrl) {
        this.setStatus({ state: 'connecting', mode: 'remote', url: hubUrl, fleetDir: undefined });
        // SecretStorage first; OVERSEER_HUB_TOKEN lets a launcher (e.g. `npm run demo`) hand over a token.
        const token = (await this.opts.secrets?.get(TOKEN_SECRET)) || process.env.OVERSEER_HUB_TOKEN || '';
        if (!token) throw new HubError(401, 'no_token', `no token for ${hubUrl}: run "Overseer: Set Hub Token"`);
        client = new HubClient(hubUrl, token);
        const who = await client.whoami();
        if (who.actor.kind !== 'human') throw new HubError(403, 'forbidden', `the stored token belongs to ${who.actor.kind} ${who.actor.id}, not a human`);
        this.human = who.actor.id;
      } else {
        const choice = this.fleetDirChoice();
        this.setStatus({ state: 'connecting', mode: 'embedded', fleetDir: choice.dir, url: undefined });
        const start = this.opts.startHub ?? (await loadStartHub());
        const apiKey = process.env.ANTHROPIC_API_KEY;
        const ai = cfg.get<boolean>('aiScreening') && apiKey ? { apiKey, model: cfg.get<string>('anthropicModel') || undefined } : undefined;
        if (cfg.get<boolean>('aiScreening') && !apiKey) this.opts.log?.warn('overseer.aiScreening is on but ANTHROPIC_API_KEY is not set: static screening only');
        const hub = await start({
          fleetDir: choice.dir,
          host: '127.0.0.1',
          port: 0,
          dispatch: true,
          screeningAi: ai,
          onWarning: (m) => this.opts.log?.warn(m),
        });
        if (this.disposed) {
          await hub.close();
          return;
        }
        this.hub = hub;
        const token = await hub.createToken({ kind: 'human', id: this.human });
        client = new HubClient(hub.url, token);
        this.setStatus({ url: hub.url });
      }
      const fleet = await client.fleet();
      this._client = client;
      this.setStatus({ state: 'connected', lastSeq: fleet.lastSeq });
      this.opts.log?.info(`connected to ${this._status.mode} hub ${this._status.url ?? ''} (fleet ${JSON.stringify(fleet.name)}, seq ${fleet.lastSeq})`);
      this.resolveReady(client);
      this.stream(client, fleet.lastSeq);
    } catch (err) {
      const msg = (err as Error).message;
      this.opts.log?.error(`hub connection failed: ${msg}`);
      this.setStatus({ state: 'error', error: msg });
    }
  }

  private stream(client: HubClient, after: number): void {
    const ac = new AbortController();
    this.abort = ac;
    client
      .events(
        after,
        (e) => {
          this._status.lastSeq = e.seq;
          for (const l of this.listeners) {
            try {
              l(e);
            } catch (err) {
              this.opts.log?.warn(`event listener failed on ${e.type}: ${(err as Error).message}`);
            }
          }
        },
        ac.signal,
        {
          onStatus: (s) => {
            if (ac.signal.aborted) return;
            if (s.connected && this._status.state !== 'connected') this.setStatus({ state: 'connected' });
            if (!s.connected && this._status.state === 'connected') this.setStatus({ state: 'reconnecting', error: s.error?.message });
          },
        },
      )
      .catch((err: Error) => {
        if (ac.signal.aborted) return;
        this.opts.log?.error(`event stream stopped: ${err.message}`);
        this.setStatus({ state: 'error', error: err.message });
      });
  }

  private async teardown(): Promise<void> {
    this.abort?.abort();
    this.abort = undefined;
    if (this._client) {
      this._client = undefined;
      this.readyPromise = this.newReady();
    }
    const hub = this.hub;
    this.hub = undefined;
    if (hub) {
      try {
        await hub.close();
      } catch (err) {
        this.opts.log?.warn(`closing embedded hub: ${(err as Error).message}`);
      }
    }
  }

  /** Stop streaming and close the embedded hub (awaitable for deactivate). */
  async close(): Promise<void> {
    this.disposed = true;
    await this.connecting?.catch(() => undefined);
    await this.teardown();
    this.listeners.clear();
    this.statusEmitter.dispose();
    this.reviewEmitter.dispose();
  }

  dispose(): void {
    void this.close();
  }
}

async function loadStartHub(): Promise<StartEmbeddedHub> {
  const m = await import('../hub/server');
  return m.startHub as unknown as StartEmbeddedHub;
}

/** The human's principal id: the setting or the OS user, made a valid id (letters, digits, . _ -; max 64). */
export function humanName(setting?: string): string {
  let s = (setting ?? vscode.workspace.getConfiguration('overseer').get<string>('humanName') ?? '').trim();
  if (!s) {
    try {
      s = os.userInfo().username;
    } catch {
      s = process.env.USER ?? '';
    }
  }
  const id = s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64);
  return id || 'human';
}
