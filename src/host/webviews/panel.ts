// Generic host side of one webview panel: CSP'd HTML, the typed endpoint, the ready handshake, and
// refresh-on-ledger-event (debounced, one load in flight, state pushed only after `ready`).
import * as vscode from 'vscode';
import type { AnyEvent } from '../../core/events';
import type { HubClient } from '../../hub/client';
import { Endpoint, Ready, ShowError, ShowNotice, type NotificationType, type WireMessage } from '../../shared/protocol';
import { buildHtml } from './html';

/** What the webviews need from engineer A's HubConnection (structurally satisfied by it). */
export interface WebviewConnection {
  readonly client: HubClient;
  readonly ready: Promise<HubClient>;
  readonly human: string;
  onEvent(listener: (e: AnyEvent) => void): vscode.Disposable;
  setActiveReview?(experimentId: string | undefined): void;
}

export const STYLES = ['webview.css'];

/** Only our bundled scripts and our stylesheets may be loaded by a webview. */
export function localRoots(extensionUri: vscode.Uri): vscode.Uri[] {
  return [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')];
}

export function panelOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    enableCommandUris: false,
    enableForms: false,
    localResourceRoots: localRoots(extensionUri),
    retainContextWhenHidden: false,
  };
}

/** The one HTML builder: every panel's document comes from here. */
export function html(webview: vscode.Webview, extensionUri: vscode.Uri, surface: string, title: string): string {
  return buildHtml({
    cspSource: webview.cspSource,
    scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', `${surface}.js`)).toString(),
    styleUris: STYLES.map((s) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', s)).toString()),
    surface,
    title,
  });
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export abstract class SurfacePanel<S> implements vscode.Disposable {
  readonly panel: vscode.WebviewPanel;
  readonly rpc: Endpoint;
  private isReady = false;
  private loading = false;
  private dirty = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;
  protected readonly disposables: vscode.Disposable[] = [];
  private readonly disposeEmitter = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposeEmitter.event;
  /** Resolves after the first state was pushed to the webview (tests, e2e). */
  lastState: S | undefined;

  protected abstract readonly stateNote: NotificationType<S>;
  protected abstract load(client: HubClient): Promise<S>;
  protected abstract relevant(e: AnyEvent): boolean;

  constructor(
    readonly surface: string,
    title: string,
    protected readonly extensionUri: vscode.Uri,
    protected readonly conn: WebviewConnection,
    column: vscode.ViewColumn = vscode.ViewColumn.Active,
  ) {
    this.panel = vscode.window.createWebviewPanel(`overseer.${surface}`, title, column, panelOptions(extensionUri));
    this.rpc = new Endpoint((m: WireMessage) => void this.panel.webview.postMessage(m), {
      onError: (err) => console.warn(`[overseer ${surface}] ${errorMessage(err)}`),
    });
    this.rpc.onNotification(Ready, (p) => {
      if (p.surface !== surface) return;
      this.isReady = true;
      this.refresh(0);
    });
    this.disposables.push(
      this.panel.webview.onDidReceiveMessage((m: unknown) => this.rpc.handle(m)),
      this.panel.onDidDispose(() => this.dispose()),
      conn.onEvent((e) => {
        if (this.relevant(e)) this.refresh();
      }),
    );
    this.panel.webview.html = html(this.panel.webview, extensionUri, surface, title);
  }

  /** Reload state from the hub and push it (debounced; coalesces bursts of events). */
  refresh(delayMs = 120): void {
    if (this.disposed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.reload(), delayMs);
  }

  private async reload(): Promise<void> {
    this.timer = undefined;
    if (!this.isReady || this.disposed) return;
    if (this.loading) {
      this.dirty = true;
      return;
    }
    this.loading = true;
    try {
      const client = await this.conn.ready;
      const state = await this.load(client);
      if (this.disposed) return;
      this.lastState = state;
      this.rpc.notify(this.stateNote, state);
    } catch (err) {
      if (!this.disposed) this.rpc.notify(ShowError, { message: errorMessage(err) });
    } finally {
      this.loading = false;
      if (this.dirty && !this.disposed) {
        this.dirty = false;
        this.refresh(0);
      }
    }
  }

  notice(message: string, kind: 'info' | 'error' = 'info'): void {
    if (this.isReady && !this.disposed) this.rpc.notify(ShowNotice, { message, kind });
  }

  get ready(): boolean {
    return this.isReady;
  }

  reveal(): void {
    this.panel.reveal(undefined, false);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.rpc.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
    this.disposeEmitter.fire();
    this.disposeEmitter.dispose();
    this.panel.dispose();
  }
}
