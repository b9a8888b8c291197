// Reading run logs in chunks (for `GET /api/runs/:id/log?offset=`). Logs are job output, i.e. agent-controlled:
// callers must escape them wherever they are shown. The text is decoded as UTF-8 without splitting characters.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LogChunk } from './types';

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const DEFAULT_LOG_CHUNK = 64 * 1024;
export const MAX_LOG_CHUNK = 4 * 1024 * 1024;
export const LOG_FILE = 'job.log';

export class LogRequestError extends Error {
  readonly code = 'invalid';
  readonly status = 400;
  constructor(message: string) {
    super(message);
    this.name = 'LogRequestError';
  }
}

export function runDirOf(fleetDir: string, experimentId: string): string {
  if (!ID_RE.test(experimentId)) throw new LogRequestError(`invalid experiment id ${JSON.stringify(String(experimentId).slice(0, 80))}`);
  return path.join(fleetDir, 'runs', experimentId);
}

/** Number of bytes at the end of `buf` that form an incomplete UTF-8 sequence. */
function incompleteTail(buf: Buffer): number {
  for (let back = 1; back <= Math.min(3, buf.length); back++) {
    const b = buf[buf.length - back]!;
    if ((b & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead byte
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

/**
 * Read up to `max` bytes of a log file from byte `offset`. A negative offset reads the last |offset| bytes.
 * `nextOffset` is where the next call should continue (it never splits a UTF-8 character). Missing file = empty.
 */
export function readLogFile(file: string, offset = 0, max = DEFAULT_LOG_CHUNK): LogChunk {
  if (!Number.isFinite(offset) || !Number.isInteger(offset)) throw new LogRequestError('offset must be an integer');
  if (!Number.isFinite(max) || max <= 0) throw new LogRequestError('max must be a positive number');
  const cap = Math.max(4, Math.min(Math.floor(max), MAX_LOG_CHUNK));
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { data: '', offset: Math.max(0, offset), nextOffset: Math.max(0, offset), size: 0 };
    throw err;
  }
  try {
    const size = fs.fstatSync(fd).size;
    let start = offset < 0 ? Math.max(0, size + offset) : Math.min(offset, size);
    const buf = Buffer.alloc(Math.min(cap, size - start));
    const n = buf.length ? fs.readSync(fd, buf, 0, buf.length, start) : 0;
    let chunk = buf.subarray(0, n);
    if (offset < 0) {
      // a tail read may start inside a character: skip continuation bytes
      let skip = 0;
      while (skip < chunk.length && skip < 3 && (chunk[skip]! & 0xc0) === 0x80) skip++;
      chunk = chunk.subarray(skip);
      start += skip;
    }
    const cut = incompleteTail(chunk);
    const body = chunk.subarray(0, chunk.length - cut);
    return { data: body.toString('utf8'), offset: start, nextOffset: start + body.length, size };
  } finally {
    fs.closeSync(fd);
  }
}

/** The log of an experiment's run: `<fleetDir>/runs/<experimentId>/job.log`. */
export function readLog(fleetDir: string, experimentId: string, offset = 0, max = DEFAULT_LOG_CHUNK): LogChunk & { exists: boolean } {
  const file = path.join(runDirOf(fleetDir, experimentId), LOG_FILE);
  const chunk = readLogFile(file, offset, max);
  return { ...chunk, exists: fs.existsSync(file) };
}
