// Pins in batches: one long-lived `git update-ref --stdin` process per hub repository, and one transaction
// (start / update… / prepare / commit) for all the pins asked for while the previous transaction was being
// written — the same group commit the ledger does for its events. A proposal's pin is written while its ledger
// event is being fsynced, and the proposal is acknowledged once both are done, so a 201 still means the
// proposal and its pin survive a kill -9. A transaction git refuses (a lock held, the process gone) is retried
// pin by pin as loose ref files (`pinCommit`), so a pin is never lost to batching. Callers pin only commits they
// have just resolved in the repository (the loose-ref fallback does not look the object up). No vscode import.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawnGit } from './exec';
import { pinCommit, validPin } from './hubRepo';

interface PendingPin {
  name: string;
  commit: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

const IDLE_MS = 15_000;

export class PinWriter {
  private proc: ChildProcessWithoutNullStreams | undefined;
  private queue: PendingPin[] = [];
  private writing: Promise<void> | undefined;
  private out = '';
  private waiter: { proc: ChildProcessWithoutNullStreams; resolve: () => void; reject: (err: Error) => void } | undefined;
  private idle: NodeJS.Timeout | undefined;
  private closed = false;
  /** Counters for tests and benchmarks: pins written, transactions, pins that fell back to loose ref files. */
  readonly stats = { pins: 0, transactions: 0, fallbacks: 0 };

  constructor(readonly repo: string) {}

  /** Pin `commit` as refs/overseer/pins/<name>; resolves once git committed the transaction holding it. */
  pin(name: string, commit: string): Promise<void> {
    if (this.closed) return Promise.reject(new Error('pin writer is closed'));
    if (!validPin(name, commit)) return Promise.reject(new Error('invalid pin'));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ name, commit, resolve, reject });
      this.writing ??= this.loop();
    });
  }

  /** Resolves when every pin asked for so far is written (or failed). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    this.stop();
  }

  private async loop(): Promise<void> {
    // Pins asked for in the same tick (one group commit of proposals) share the first transaction.
    await new Promise<void>((r) => setImmediate(r));
    try {
      while (this.queue.length) {
        const batch = this.queue;
        this.queue = [];
        try {
          await this.transaction(batch);
          this.stats.transactions++;
          this.stats.pins += batch.length;
          for (const p of batch) p.resolve();
        } catch {
          // The batch as loose ref files, one by one: each pin succeeds or fails on its own.
          this.stop();
          for (const p of batch) {
            try {
              await pinCommit(this.repo, p.name, p.commit);
              this.stats.fallbacks++;
              p.resolve();
            } catch (err) {
              p.reject(err as Error);
            }
          }
        }
      }
    } finally {
      this.writing = undefined;
      if (this.proc) this.hold(this.proc, false);
    }
  }

  private transaction(batch: readonly PendingPin[]): Promise<void> {
    const p = this.start();
    this.hold(p, true);
    this.out = '';
    const lines = ['start', ...batch.map((x) => `update refs/overseer/pins/${x.name} ${x.commit}`), 'prepare', 'commit', ''];
    return new Promise<void>((resolve, reject) => {
      this.waiter = { proc: p, resolve, reject };
      p.stdin.write(lines.join('\n'));
    });
  }

  private start(): ChildProcessWithoutNullStreams {
    if (this.idle) clearTimeout(this.idle);
    this.idle = setTimeout(() => this.stop(), IDLE_MS);
    this.idle.unref();
    if (this.proc) return this.proc;
    const p = spawnGit(this.repo, ['update-ref', '--stdin']) as ChildProcessWithoutNullStreams;
    this.proc = p;
    let stderr = '';
    p.stdout.setEncoding('utf8');
    p.stdout.on('data', (d: string) => {
      if (this.waiter?.proc !== p) return;
      this.out += d;
      if (/^commit: ok$/m.test(this.out)) {
        const w = this.waiter;
        this.waiter = undefined;
        this.out = '';
        w?.resolve();
      }
    });
    p.stderr.setEncoding('utf8');
    p.stderr.on('data', (d: string) => (stderr = (stderr + d).slice(-2000)));
    const fail = (err: Error) => {
      if (this.proc === p) this.proc = undefined;
      const w = this.waiter;
      if (w?.proc !== p) return; // an old process ending after its successor took over
      this.waiter = undefined;
      w.reject(err);
    };
    p.on('error', fail);
    p.on('exit', (code) => fail(new Error(`git update-ref exited (${code}): ${stderr.trim().slice(0, 300)}`)));
    p.stdin.on('error', () => undefined);
    this.hold(p, false);
    return p;
  }

  private stop(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = undefined;
    const p = this.proc;
    this.proc = undefined;
    if (p) {
      p.stdin.end();
      p.kill();
    }
  }

  /** Keep the event loop alive only while a transaction is pending; an idle process never holds it open. */
  private hold(p: ChildProcessWithoutNullStreams, on: boolean): void {
    const handles = [p, p.stdin, p.stdout, p.stderr] as unknown as { ref?: () => void; unref?: () => void }[];
    for (const h of handles) (on ? h.ref : h.unref)?.call(h);
  }
}
