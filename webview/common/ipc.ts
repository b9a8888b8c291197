// Webview end of the typed protocol: wraps acquireVsCodeApi() in an Endpoint and sends `ready`.
import { Endpoint, Ready, ShowError, ShowNotice, type WireMessage } from '../../src/shared/protocol';

interface VsCodeApi {
  postMessage(msg: unknown): void;
  getState(): unknown;
  setState(s: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

let api: VsCodeApi | undefined;
export function vscodeApi(): VsCodeApi {
  return (api ??= acquireVsCodeApi());
}

export interface Connection {
  rpc: Endpoint;
  getState<T>(): T | undefined;
  setState<T>(s: T): void;
}

/**
 * Connect: install the message listener, then announce `ready`. Errors and notices from the host are
 * shown in the #notice bar (as text).
 */
export function connect(surface: string): Connection {
  const vs = vscodeApi();
  const rpc = new Endpoint((m: WireMessage) => vs.postMessage(m), { timeoutMs: 120_000, onError: (e) => console.warn(e) });
  window.addEventListener('message', (ev: MessageEvent) => {
    rpc.handle(ev.data);
  });
  rpc.onNotification(ShowError, (p) => showNotice(p.message, 'error', true));
  rpc.onNotification(ShowNotice, (p) => showNotice(p.message, p.kind));
  rpc.notify(Ready, { surface });
  return {
    rpc,
    getState: <T>() => vs.getState() as T | undefined,
    setState: <T>(s: T) => vs.setState(s),
  };
}

let noticeTimer: ReturnType<typeof setTimeout> | undefined;

/** One status line at the top of every webview (role=status so screen readers hear it). */
export function showNotice(message: string, kind: 'info' | 'error', sticky = false): void {
  let bar = document.getElementById('notice');
  if (!bar) {
    bar = document.createElement('div');
    bar.id = 'notice';
    bar.setAttribute('role', 'status');
    bar.setAttribute('aria-live', 'polite');
    document.body.prepend(bar);
  }
  bar.className = `notice ${kind}`;
  bar.textContent = message;
  bar.hidden = false;
  if (noticeTimer) clearTimeout(noticeTimer);
  if (!sticky) noticeTimer = setTimeout(() => (bar!.hidden = true), kind === 'error' ? 12_000 : 5_000);
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
