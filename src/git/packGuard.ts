// Push quotas on the wire: a streaming reader of a smart-HTTP `git-receive-pack` request body (pkt-line commands,
// then a pack) that refuses a push as soon as the bytes in front of it break a quota, before git is handed
// those bytes. It checks the pack header's object count, every object's declared size (the inflated size of
// whole objects, the result size a delta declares), and the bytes on the wire. Each object's zlib stream is
// inflated only to find where it ends and to read a delta's header (the output is counted, never kept); small
// objects inflate synchronously, large ones on zlib's thread pool, so a pack bomb costs the hub neither memory
// nor a blocked event loop. Git checks everything again (index-pack, fsck, the pre-receive hook): this guard
// only decides early. No vscode import.
import * as zlib from 'node:zlib';
import { mib, type PushLimits } from './pushLimits';

export class PushRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PushRefused';
  }
}

/** Most bytes of pkt-line commands before the pack (one line per ref update). */
const MAX_COMMAND_BYTES = 1 << 20;
/** Objects at most this large are inflated synchronously when their whole zlib stream is in the chunk. */
const SYNC_INFLATE_MAX = 256 * 1024;

const TYPES = ['', 'commit', 'tree', 'blob', 'tag', '', 'ofs-delta', 'ref-delta'];

type State = 'commands' | 'header' | 'object' | 'ofs' | 'ref' | 'data' | 'trailer' | 'done';

export class PackGuard {
  /** Capabilities the client asked for on its first command (report-status, side-band-64k, ...). */
  readonly capabilities = new Set<string>();
  /** Ref names of the commands, for the report. */
  readonly refs: string[] = [];
  private state: State = 'commands';
  private pending = Buffer.alloc(0);
  private total = 0;
  private objects = 0;
  private seen = 0;
  private type = 0;
  private size = 0;
  private shift = 0;
  private headerBytes = 0;
  private refLeft = 0;
  private inflater: zlib.Inflate | undefined;
  private out = 0;
  private deltaHead: Buffer[] = [];
  private deltaChecked = false;
  private hasPack = false;

  constructor(
    private readonly limits: PushLimits,
    private readonly declaredLength?: number,
  ) {}

  /** Where the stream stands: `done` once the pack's trailer was read (or no pack follows the commands). */
  get finished(): boolean {
    return this.state === 'done' || (this.state === 'header' && !this.hasPack);
  }

  /** Feed the next chunk; rejects with PushRefused when it breaks a quota (the chunk must then not reach git). */
  async feed(chunk: Buffer): Promise<void> {
    this.total += chunk.length;
    if (this.total > this.limits.maxPackBytes + MAX_COMMAND_BYTES) throw new PushRefused(`the push is larger than ${mib(this.limits.maxPackBytes)} (push.maxPackBytes of fleet.json)`);
    const buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    let pos = 0;
    while (pos < buf.length) {
      switch (this.state) {
        case 'commands': {
          if (buf.length - pos < 4) return this.keep(buf, pos);
          const len = Number.parseInt(buf.subarray(pos, pos + 4).toString('latin1'), 16);
          if (!/^[0-9a-f]{4}$/i.test(buf.subarray(pos, pos + 4).toString('latin1')) || (len > 0 && len < 4)) throw new PushRefused('malformed receive-pack request (bad pkt-line)');
          if (len === 0) {
            pos += 4;
            this.state = 'header';
            if (this.declaredLength !== undefined && this.declaredLength > this.limits.maxPackBytes + MAX_COMMAND_BYTES) {
              throw new PushRefused(`the push is ${mib(this.declaredLength)} (at most ${mib(this.limits.maxPackBytes)}, push.maxPackBytes of fleet.json)`);
            }
            continue;
          }
          if (buf.length - pos < len) {
            if (this.total > MAX_COMMAND_BYTES && this.refs.length === 0) throw new PushRefused('malformed receive-pack request (pkt-line too long)');
            return this.keep(buf, pos);
          }
          this.command(buf.subarray(pos + 4, pos + len).toString('utf8'));
          pos += len;
          if (this.total > MAX_COMMAND_BYTES * 2) throw new PushRefused('too many ref updates in one push');
          continue;
        }
        case 'header': {
          if (buf.length - pos < 12) return this.keep(buf, pos);
          if (buf.subarray(pos, pos + 4).toString('latin1') !== 'PACK') throw new PushRefused('malformed push: no pack after the commands');
          const version = buf.readUInt32BE(pos + 4);
          if (version !== 2 && version !== 3) throw new PushRefused(`malformed push: pack version ${version}`);
          this.objects = buf.readUInt32BE(pos + 8);
          if (this.objects > this.limits.maxObjects) {
            throw new PushRefused(`the pack holds ${this.objects} objects (at most ${this.limits.maxObjects}, push.maxObjects of fleet.json); push in smaller steps`);
          }
          pos += 12;
          this.state = this.objects ? 'object' : 'trailer';
          this.headerBytes = 0;
          continue;
        }
        case 'object': {
          const b = buf[pos++]!;
          if (this.headerBytes === 0) {
            this.type = (b >> 4) & 7;
            this.size = b & 15;
            this.shift = 4;
          } else {
            this.size += (b & 0x7f) * 2 ** this.shift;
            this.shift += 7;
          }
          this.headerBytes++;
          if (this.shift > 53) throw new PushRefused(`malformed pack: object ${this.seen + 1} has an impossible size`);
          if (b & 0x80) continue;
          if (!TYPES[this.type]) throw new PushRefused(`malformed pack: object ${this.seen + 1} has type ${this.type}`);
          if (this.size > this.limits.maxObjectBytes) {
            const what = this.type >= 6 ? 'a delta of' : `a ${TYPES[this.type]} of`;
            throw new PushRefused(`object ${this.seen + 1} of the pack is ${what} ${this.size} bytes (at most ${this.limits.maxObjectBytes}, push.maxObjectBytes of fleet.json)`);
          }
          this.state = this.type === 6 ? 'ofs' : this.type === 7 ? 'ref' : 'data';
          this.refLeft = 20;
          this.startObject();
          continue;
        }
        case 'ofs': {
          const b = buf[pos++]!;
          if (!(b & 0x80)) this.state = 'data';
          continue;
        }
        case 'ref': {
          const n = Math.min(this.refLeft, buf.length - pos);
          pos += n;
          this.refLeft -= n;
          if (this.refLeft === 0) this.state = 'data';
          continue;
        }
        case 'data': {
          const used = await this.inflate(buf.subarray(pos));
          pos += used.consumed;
          if (used.ended) this.endObject();
          continue;
        }
        case 'trailer':
          // 20 (or 32) bytes of checksum; git verifies it.
          this.state = 'done';
          return;
        case 'done':
          return;
      }
    }
  }

  private keep(buf: Buffer, pos: number): void {
    this.pending = Buffer.from(buf.subarray(pos));
  }

  private command(line: string): void {
    const nul = line.indexOf('\0');
    const cmd = nul >= 0 ? line.slice(0, nul) : line;
    if (nul >= 0 && this.refs.length === 0) for (const c of line.slice(nul + 1).trim().split(' ')) if (c) this.capabilities.add(c);
    const [, newSha, ref] = cmd.trim().split(' ');
    if (ref) this.refs.push(ref);
    if (newSha && !/^0+$/.test(newSha)) this.hasPack = true;
  }

  private startObject(): void {
    this.out = 0;
    this.deltaHead = [];
    this.deltaChecked = this.type < 6;
    this.inflater = undefined;
  }

  private endObject(): void {
    if (this.out !== this.size) throw new PushRefused(`malformed pack: object ${this.seen + 1} inflates to ${this.out} bytes, its header says ${this.size}`);
    this.seen++;
    this.inflater = undefined;
    this.headerBytes = 0;
    this.state = this.seen >= this.objects ? 'trailer' : 'object';
  }

  /** Account for inflated output: total size, and a delta's declared result size. */
  private output(d: Buffer): void {
    this.out += d.length;
    if (this.out > this.size) throw new PushRefused(`malformed pack: object ${this.seen + 1} inflates to more than its header's ${this.size} bytes`);
    if (this.deltaChecked) return;
    this.deltaHead.push(d.subarray(0, 32));
    const head = Buffer.concat(this.deltaHead);
    // Two varints: the base's size, then the result's.
    let i = 0;
    for (let k = 0; k < 2; k++) {
      let v = 0;
      let shift = 0;
      for (;;) {
        if (i >= head.length) return;
        const b = head[i++]!;
        v += (b & 0x7f) * 2 ** shift;
        shift += 7;
        if (shift > 56) throw new PushRefused(`malformed pack: delta ${this.seen + 1} has an impossible size`);
        if (!(b & 0x80)) break;
      }
      if (k === 1) {
        this.deltaChecked = true;
        if (v > this.limits.maxObjectBytes) {
          throw new PushRefused(`object ${this.seen + 1} of the pack is a delta that makes an object of ${v} bytes (at most ${this.limits.maxObjectBytes}, push.maxObjectBytes of fleet.json)`);
        }
      }
    }
  }

  /** Inflate from `data` until this object's zlib stream ends; how much of `data` it used, and whether it ended. */
  private async inflate(data: Buffer): Promise<{ consumed: number; ended: boolean }> {
    if (!this.inflater && this.size <= SYNC_INFLATE_MAX) {
      try {
        const r = zlib.inflateSync(data, { info: true, maxOutputLength: Math.max(1, this.size) }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
        this.output(r.buffer);
        return { consumed: r.engine.bytesWritten, ended: true };
      } catch (err) {
        if (err instanceof PushRefused) throw err;
        if ((err as NodeJS.ErrnoException).code !== 'Z_BUF_ERROR') {
          throw new PushRefused(`malformed pack: object ${this.seen + 1} is not a valid zlib stream or is larger than its header says`);
        }
        // The stream goes on in the next chunk: continue on a streaming inflater from the object's start.
      }
    }
    if (!this.inflater) {
      const inf = zlib.createInflate();
      let failure: Error | undefined;
      inf.on('data', (d: Buffer) => {
        if (failure) return;
        try {
          this.output(d);
        } catch (err) {
          failure = err as Error;
          inf.destroy();
        }
      });
      inf.on('error', (err) => {
        failure ??= new PushRefused(`malformed pack: object ${this.seen + 1}: ${err.message}`);
      });
      let ended = false;
      inf.on('end', () => {
        ended = true;
      });
      Object.assign(inf, { overseer: { failure: () => failure, ended: () => ended } });
      this.inflater = inf;
    }
    const inf = this.inflater as zlib.Inflate & { overseer: { failure: () => Error | undefined; ended: () => boolean } };
    const before = inf.bytesWritten;
    await new Promise<void>((resolve) => inf.write(data, () => resolve()));
    await new Promise((r) => setImmediate(r));
    const failure = inf.overseer.failure();
    if (failure) throw failure instanceof PushRefused ? failure : new PushRefused(failure.message);
    const consumed = inf.bytesWritten - before;
    const ended = inf.overseer.ended() || consumed < data.length;
    if (ended && !inf.overseer.ended()) {
      // The stream ended inside this chunk; wait for the last output to be counted.
      await new Promise<void>((resolve) => (inf.readableEnded ? resolve() : inf.once('end', () => resolve())));
      const f = inf.overseer.failure();
      if (f) throw f instanceof PushRefused ? f : new PushRefused(f.message);
    }
    return { consumed, ended };
  }
}
