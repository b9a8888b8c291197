// Disposable base: everything a component creates is registered and disposed with it.
import type * as vscode from 'vscode';

export abstract class DisposableBase {
  private readonly disposables: vscode.Disposable[] = [];
  private isDisposed = false;

  protected _register<T extends vscode.Disposable>(d: T): T {
    if (this.isDisposed) d.dispose();
    else this.disposables.push(d);
    return d;
  }

  dispose(): void {
    if (this.isDisposed) return;
    this.isDisposed = true;
    for (const d of this.disposables.splice(0).reverse()) {
      try {
        d.dispose();
      } catch {
        /* keep disposing the rest */
      }
    }
  }
}
