// One long-lived `git cat-file --batch` process per repository: object lookups without a process per call.
// Proposals resolve their commit, tree and merge base through it (a handful of object reads instead of
// three or four git processes). The process exits after a short idle period and is never kept alive for
// the event loop's sake.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawnGit } from './exec';

export interface GitObject {
  sha: string;
  type: 'commit' | 'tree' | 'blob' | 'tag';
  content: Buffer;
}

interface Waiter {
  resolve: (o: GitObject | undefined) => void;
  reject: (e: Error) => void;
}

const IDLE_MS = 15_000;

/** The id of git's empty tree. */
export const EMPTY_TREE_SHA = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

export class CatFile {
  private proc: ChildProcessWithoutNullStreams | undefined;
  private buf: Buffer = Buffer.alloc(0);
  private readonly waiters: Waiter[] = [];
  private idle: NodeJS.Timeout | undefined;

  constructor(readonly repo: string) {}

  /** Read an object by rev expression (e.g. `<sha>^{commit}`); undefined when it does not exist. */
  read(rev: string): Promise<GitObject | undefined> {
    if (/[\n\r\0]/.test(rev)) return Promise.reject(new Error('invalid rev'));
    const p = this.start();
    return new Promise((resolve, reject) => {
      if (!this.waiters.length) this.hold(p, true);
      this.waiters.push({ resolve, reject });
      p.stdin.write(rev + '\n');
    });
  }

  close(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = undefined;
    const p = this.proc;
    this.proc = undefined;
    if (p) {
      p.stdin.end();
      p.kill();
    }
    for (const w of this.waiters.splice(0)) w.reject(new Error('git cat-file closed'));
  }

  private start(): ChildProcessWithoutNullStreams {
    if (this.idle) clearTimeout(this.idle);
    this.idle = setTimeout(() => this.close(), IDLE_MS);
    this.idle.unref();
    if (this.proc) return this.proc;
    const p = spawnGit(this.repo, ['cat-file', '--batch']) as ChildProcessWithoutNullStreams;
    this.proc = p;
    this.buf = Buffer.alloc(0);
    p.stdout.on('data', (d: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      this.drain();
    });
    const fail = (err: Error) => {
      if (this.proc === p) this.proc = undefined;
      for (const w of this.waiters.splice(0)) w.reject(err);
    };
    p.on('error', fail);
    p.on('exit', () => fail(new Error('git cat-file exited')));
    p.stdin.on('error', () => undefined);
    this.hold(p, false);
    return p;
  }

  /** Keep the event loop alive only while a read is pending; an idle process never holds it open. */
  private hold(p: ChildProcessWithoutNullStreams, on: boolean): void {
    const handles = [p, p.stdin, p.stdout, p.stderr] as unknown as { ref?: () => void; unref?: () => void }[];
    for (const h of handles) (on ? h.ref : h.unref)?.call(h);
  }

  private settled(): void {
    if (!this.waiters.length && this.proc) this.hold(this.proc, false);
  }

  private drain(): void {
    for (;;) {
      const nl = this.buf.indexOf(0x0a);
      if (nl < 0) return;
      const header = this.buf.subarray(0, nl).toString('utf8');
      if (header.endsWith(' missing') || header.endsWith(' ambiguous')) {
        this.buf = this.buf.subarray(nl + 1);
        this.waiters.shift()?.resolve(undefined);
        this.settled();
        continue;
      }
      const [sha, type, sizeStr] = header.split(' ');
      const size = Number(sizeStr);
      if (!sha || !type || !Number.isFinite(size)) {
        this.waiters.shift()?.reject(new Error(`unexpected cat-file output: ${header.slice(0, 100)}`));
        this.buf = this.buf.subarray(nl + 1);
        this.settled();
        continue;
      }
      if (this.buf.length < nl + 1 + size + 1) return; // wait for the whole object and its trailing newline
      const content = Buffer.from(this.buf.subarray(nl + 1, nl + 1 + size));
      this.buf = this.buf.subarray(nl + 1 + size + 1);
      this.waiters.shift()?.resolve({ sha, type: type as GitObject['type'], content });
      this.settled();
    }
  }
}

/** Parse the header of a commit object: its tree and parents. */
export function parseCommit(content: Buffer): { tree: string; parents: string[] } {
  const text = content.toString('utf8');
  const end = text.indexOf('\n\n');
  const head = end >= 0 ? text.slice(0, end) : text;
  let tree = '';
  const parents: string[] = [];
  for (const line of head.split('\n')) {
    if (line.startsWith('tree ')) tree = line.slice(5);
    else if (line.startsWith('parent ')) parents.push(line.slice(7));
  }
  return { tree, parents };
}
