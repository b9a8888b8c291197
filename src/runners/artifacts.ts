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

export function readArtifacts(workdir: string): Record<string, unknown> {
  const file = path.join(workdir, RESULTS_FILE);
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch {
    return {};
  }
  if (!st.isFile()) return { resultsError: `${RESULTS_FILE} is not a regular file` }; // e.g. a symlink out of the worktree
  if (st.size > MAX_RESULTS_BYTES) return parseResults('', st.size);
  return parseResults(fs.readFileSync(file, 'utf8'), st.size);
}
