// Artifacts of a finished job: results.json written by the job in its working directory (size-capped, must be a
// JSON object) plus the list of top-level output files. Job output is untrusted data; it is only stored.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MAX_RESULTS_BYTES, RESULTS_FILE } from './types';

export function parseResults(text: string | undefined, bytes: number): Record<string, unknown> {
  if (text === undefined) return {};
  if (bytes > MAX_RESULTS_BYTES) return { resultsError: `${RESULTS_FILE} is ${bytes} bytes (limit ${MAX_RESULTS_BYTES})` };
  try {
    const v = JSON.parse(text) as unknown;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return { resultsError: `${RESULTS_FILE} is not a JSON object` };
    return { results: v };
  } catch (err) {
    return { resultsError: `${RESULTS_FILE} is not valid JSON: ${(err as Error).message.slice(0, 200)}` };
  }
}

/**
 * results.json of a run directory the run wrote: opened without following a link, without blocking (a FIFO or a
 * device in its place), a regular file on the directory's own filesystem only, read up to the cap. Nothing of a
 * file it points at is read or echoed.
 */
export function readArtifacts(workdir: string): Record<string, unknown> {
  const file = path.join(workdir, RESULTS_FILE);
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? {} : { resultsError: `${RESULTS_FILE} is not a regular file` }; // e.g. a symlink
  }
  try {
    const st = fs.fstatSync(fd);
    let dirDev: number | undefined;
    try {
      dirDev = fs.statSync(workdir).dev;
    } catch {
      /* gone */
    }
    if (!st.isFile() || st.dev !== dirDev) return { resultsError: `${RESULTS_FILE} is not a regular file` };
    if (st.size > MAX_RESULTS_BYTES) return parseResults('', st.size);
    const buf = Buffer.alloc(MAX_RESULTS_BYTES + 1);
    let n = 0;
    while (n < buf.length) {
      const k = fs.readSync(fd, buf, n, buf.length - n, n);
      if (k <= 0) break;
      n += k;
    }
    return parseResults(buf.subarray(0, n).toString('utf8'), Math.max(n, st.size));
  } catch {
    return { resultsError: `${RESULTS_FILE} could not be read` };
  } finally {
    fs.closeSync(fd);
  }
}
