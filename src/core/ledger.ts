// Append-only, hash-chained JSONL event log with group commit (many appends share one fsync).
//
// Line format: {"seq","ts","type","actor","data","prev","hash"} where
//   hash = sha256(prev + canonicalJson({seq, ts, type, actor, data, prev}))
// and prev is the previous line's hash (GENESIS for seq 1). An append resolves only after the bytes are
// on disk (fdatasync). On load the chain is verified; a torn last line left by a crash is truncated with a
// warning; any other damage is refused with an error naming the first bad seq.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { canonicalJson, sha256Hex } from './canonical';
import { type AnyEvent, type EventData, type EventType, type LedgerEvent, actorSchema, validateEventData } from './events';
import type { Actor } from './model';

export const GENESIS = '0'.repeat(64);
export const LEDGER_FILE = 'ledger.jsonl';

export class LedgerCorruptError extends Error {
  constructor(
    readonly seq: number,
    readonly why: string,
    readonly file: string,
  ) {
    super(`ledger ${file} is corrupt at seq ${seq}: ${why}`);
    this.name = 'LedgerCorruptError';
  }
}

export function hashEvent(e: Omit<LedgerEvent, 'hash'>): string {
  return sha256Hex(
    e.prev + canonicalJson({ seq: e.seq, ts: e.ts, type: e.type, actor: e.actor, data: e.data, prev: e.prev }),
  );
}

/** Verify one parsed line against the expected position in the chain. Returns a reason, or undefined if good. */
export function checkLine(ev: unknown, expectedSeq: number, expectedPrev: string): string | undefined {
  if (!ev || typeof ev !== 'object') return 'not a JSON object';
  const e = ev as Record<string, unknown>;
  const keys = Object.keys(e).sort().join(',');
  if (keys !== 'actor,data,hash,prev,seq,ts,type') return `unexpected fields (${keys})`;
  if (e.seq !== expectedSeq) return `expected seq ${expectedSeq}, found ${String(e.seq)}`;
  if (e.prev !== expectedPrev) return 'prev does not match the previous hash (line removed, reordered or edited)';
  if (typeof e.ts !== 'string' || Number.isNaN(Date.parse(e.ts))) return 'bad timestamp';
  if (!actorSchema.safeParse(e.actor).success) return 'bad actor';
  if (typeof e.type !== 'string') return 'bad type';
  let recomputed: string;
  try {
    recomputed = hashEvent(e as unknown as LedgerEvent);
  } catch (err) {
    return `cannot hash: ${(err as Error).message}`;
  }
  if (recomputed !== e.hash) return 'hash mismatch (content edited)';
  try {
    validateEventData(e.type as EventType, e.data);
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
}

export interface VerifyResult {
  ok: boolean;
  events: number;
  headHash: string;
  badSeq?: number;
  why?: string;
  tornBytes?: number;
}

/** Verify a whole ledger file without loading it into a fleet. Streams line by line. */
export function verifyLedgerFile(file: string): VerifyResult {
  const buf = fs.existsSync(file) ? fs.readFileSync(file) : Buffer.alloc(0);
  let prev = GENESIS;
  let seq = 0;
  let start = 0;
  while (start < buf.length) {
    const nl = buf.indexOf(0x0a, start);
    if (nl < 0) {
      return { ok: false, events: seq, headHash: prev, badSeq: seq + 1, why: 'torn last line (no newline)', tornBytes: buf.length - start };
    }
    const line = buf.subarray(start, nl);
    start = nl + 1;
    let parsed: unknown;
    try {
      parsed = JSON.parse(decodeUtf8Strict(line));
    } catch (err) {
      return { ok: false, events: seq, headHash: prev, badSeq: seq + 1, why: `unparsable line: ${(err as Error).message}` };
    }
    const why = checkLine(parsed, seq + 1, prev);
    if (why) return { ok: false, events: seq, headHash: prev, badSeq: seq + 1, why };
    seq++;
    prev = (parsed as LedgerEvent).hash;
  }
  return { ok: true, events: seq, headHash: prev };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
function decodeUtf8Strict(b: Uint8Array): string {
  return utf8.decode(b);
}

export interface LedgerOptions {
  /** Called with human-readable warnings (torn tail truncated, snapshot ignored...). */
  onWarning?: (msg: string) => void;
  /** Skip fsync (tests of logic only; never in production). */
  noSync?: boolean;
  /** Resume verification from this point instead of the start (from a trusted snapshot). */
  resumeFrom?: { seq: number; hash: string; offset: number };
  /** Called for each loaded event during open (after verification), for projections. */
  onLoad?: (e: AnyEvent) => void;
}

type Listener = (e: AnyEvent) => void;

interface Pending {
  line: string;
  event: AnyEvent;
  resolve: (e: AnyEvent) => void;
  reject: (err: Error) => void;
}

export class Ledger {
  private seq = 0;
  private head = GENESIS;
  private size = 0;
  private pending: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private closed = false;
  private failed: Error | undefined;
  private readonly appendedListeners = new Set<Listener>();
  private readonly durableListeners = new Set<Listener>();
  /** Sparse index seq -> byte offset (every 1024 events) for replay from a seq. */
  private readonly checkpoints = new Map<number, number>();
  private durableSeq = 0;
  private durableHash = GENESIS;
  /** Counters for tests and benchmarks: how many events were written and how many fsyncs it took. */
  readonly stats = { appended: 0, batches: 0, syncs: 0 };

  private constructor(
    readonly file: string,
    private fh: fs.promises.FileHandle,
    private readonly opts: LedgerOptions,
  ) {}

  /** Open (creating if needed) the ledger in a fleet directory. Verifies the chain. */
  static async open(dir: string, opts: LedgerOptions = {}): Promise<Ledger> {
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, LEDGER_FILE);
    if (!fs.existsSync(file)) fs.writeFileSync(file, '');
    const fh = await fs.promises.open(file, 'r+');
    const ledger = new Ledger(file, fh, opts);
    try {
      await ledger.load();
    } catch (err) {
      await fh.close();
      throw err;
    }
    return ledger;
  }

  private async load(): Promise<void> {
    const warn = this.opts.onWarning ?? ((m: string) => process.emitWarning(m));
    const stat = await this.fh.stat();
    let offset = 0;
    let prev = GENESIS;
    let seq = 0;
    const r = this.opts.resumeFrom;
    if (r && r.offset <= stat.size && r.seq > 0) {
      // Trust the snapshot only if the line ending at its offset carries the snapshot's hash.
      const back = Math.min(r.offset, 64 * 1024);
      const tail = Buffer.alloc(back);
      await this.fh.read(tail, 0, back, r.offset - back);
      const end = tail.length - 1;
      const startNl = tail.lastIndexOf(0x0a, end - 1);
      let ok = false;
      if (tail[end] === 0x0a && (startNl >= 0 || back === r.offset)) {
        try {
          const ev = JSON.parse(tail.subarray(startNl + 1, end).toString('utf8')) as LedgerEvent;
          ok = ev.seq === r.seq && ev.hash === r.hash && hashEvent(ev) === ev.hash;
        } catch {
          ok = false;
        }
      }
      if (ok) {
        offset = r.offset;
        prev = r.hash;
        seq = r.seq;
      } else {
        throw new LedgerCorruptError(r.seq, 'snapshot does not match the ledger line at its offset', this.file);
      }
    }
    const buf = Buffer.alloc(stat.size - offset);
    if (buf.length) await this.fh.read(buf, 0, buf.length, offset);
    let start = 0;
    while (start < buf.length) {
      const nl = buf.indexOf(0x0a, start);
      if (nl < 0) {
        const rest = buf.subarray(start);
        warn(`ledger ${this.file}: torn last line after seq ${seq} (${rest.length} bytes) truncated`);
        await this.fh.truncate(offset + start);
        await this.fh.datasync();
        break;
      }
      const line = buf.subarray(start, nl);
      if (line.every((b) => b === 0) && buf.subarray(nl).every((b) => b === 0 || b === 0x0a)) {
        warn(`ledger ${this.file}: zero-filled tail after seq ${seq} truncated`);
        await this.fh.truncate(offset + start);
        await this.fh.datasync();
        break;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(decodeUtf8Strict(line));
      } catch (err) {
        throw new LedgerCorruptError(seq + 1, `unparsable line: ${(err as Error).message}`, this.file);
      }
      const why = checkLine(parsed, seq + 1, prev);
      if (why) throw new LedgerCorruptError(seq + 1, why, this.file);
      seq++;
      prev = (parsed as LedgerEvent).hash;
      if ((seq & 1023) === 0) this.checkpoints.set(seq, offset + start);
      this.opts.onLoad?.(parsed as AnyEvent);
      start = nl + 1;
    }
    this.seq = seq;
    this.durableSeq = seq;
    this.durableHash = prev;
    this.head = prev;
    this.size = (await this.fh.stat()).size;
  }

  get lastSeq(): number {
    return this.seq;
  }
  get lastDurableSeq(): number {
    return this.durableSeq;
  }
  get headHash(): string {
    return this.head;
  }
  /** Byte length of the durable + pending-written file. */
  get byteLength(): number {
    return this.size;
  }

  /** Listen to every event as soon as it is sequenced (before fsync). Used by the in-memory projection. */
  onAppended(l: Listener): () => void {
    this.appendedListeners.add(l);
    return () => this.appendedListeners.delete(l);
  }
  /** Listen to events once durable (after fsync). Used by SSE, dispatchers, UIs. */
  onDurable(l: Listener): () => void {
    this.durableListeners.add(l);
    return () => this.durableListeners.delete(l);
  }

  /**
   * Sequence, hash and enqueue an event; resolves once it is durable. Sequencing is synchronous, so a
   * caller that checks state and appends without awaiting in between is atomic with respect to others.
   */
  append<T extends EventType>(type: T, actor: Actor, data: EventData<T>, ts = new Date()): Promise<LedgerEvent<T>> {
    if (this.closed) return Promise.reject(new Error('ledger is closed'));
    if (this.failed) return Promise.reject(new Error(`ledger is unusable after a write failure: ${this.failed.message}`));
    const valid = validateEventData(type, data);
    const a = actorSchema.parse(actor);
    const base = { seq: this.seq + 1, ts: ts.toISOString(), type, actor: a, data: valid, prev: this.head };
    const hash = hashEvent(base as Omit<LedgerEvent, 'hash'>);
    const event = { ...base, hash } as unknown as AnyEvent;
    const line = canonicalJson({ seq: event.seq, ts: event.ts, type, actor: a, data: valid, prev: event.prev, hash }) + '\n';
    this.seq = event.seq;
    this.head = hash;
    for (const l of this.appendedListeners) l(event);
    return new Promise<LedgerEvent<T>>((resolve, reject) => {
      this.pending.push({ line, event, resolve: resolve as (e: AnyEvent) => void, reject });
      if (!this.flushing) this.flushing = this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    // Yield once so that appends issued in the same tick join the first batch.
    await new Promise<void>((r) => setImmediate(r));
    try {
      while (this.pending.length) {
        const batch = this.pending;
        this.pending = [];
        const buf = Buffer.from(batch.map((p) => p.line).join(''), 'utf8');
        try {
          let written = 0;
          while (written < buf.length) {
            const { bytesWritten } = await this.fh.write(buf, written, buf.length - written, this.size + written);
            written += bytesWritten;
          }
          if (!this.opts.noSync) {
            await this.fh.datasync();
            this.stats.syncs++;
          }
          this.stats.batches++;
          this.stats.appended += batch.length;
          const batchStart = this.size;
          this.size += buf.length;
          let off = batchStart;
          for (const p of batch) {
            if ((p.event.seq & 1023) === 0) this.checkpoints.set(p.event.seq, off);
            off += Buffer.byteLength(p.line);
          }
        } catch (err) {
          this.failed = err as Error;
          for (const p of batch) p.reject(err as Error);
          for (const p of this.pending) p.reject(err as Error);
          this.pending = [];
          return;
        }
        for (const p of batch) {
          this.durableSeq = p.event.seq;
          this.durableHash = p.event.hash;
          p.resolve(p.event);
        }
        for (const p of batch) for (const l of this.durableListeners) l(p.event);
      }
    } finally {
      this.flushing = undefined;
    }
  }

  /** Resolves when everything appended so far is durable. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /** Read durable events with seq > afterSeq (in order). */
  async readAfter(afterSeq: number, limit = Infinity): Promise<AnyEvent[]> {
    await this.flush();
    let offset = 0;
    let seqAt = 0;
    for (const [s, o] of this.checkpoints) {
      if (s <= afterSeq + 1 && s > seqAt) {
        seqAt = s;
        offset = o;
      }
    }
    const out: AnyEvent[] = [];
    const len = this.size - offset;
    if (len <= 0) return out;
    const buf = Buffer.alloc(len);
    await this.fh.read(buf, 0, len, offset);
    let start = 0;
    while (start < buf.length && out.length < limit) {
      const nl = buf.indexOf(0x0a, start);
      if (nl < 0) break;
      // Cheap seq peek: lines start with {"actor":... (canonical order), so parse fully.
      const e = JSON.parse(buf.subarray(start, nl).toString('utf8')) as AnyEvent;
      if (e.seq > afterSeq) out.push(e);
      start = nl + 1;
    }
    return out;
  }

  /** Byte offset just after the given durable seq (for snapshots): the current end of file. */
  snapshotPoint(): { seq: number; hash: string; offset: number } {
    return { seq: this.durableSeq, hash: this.durableHash, offset: this.size };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    await this.fh.close();
  }
}
