// Push quotas: how much code one push (or one import from a local working copy) may bring into a hub
// repository. The `push` section of `<fleet>/fleet.json`:
//   "push": { "maxObjectBytes": 20971520, "maxPackBytes": 104857600, "maxObjects": 100000 }
// maxObjectBytes bounds every object's inflated size (a delta's result included), maxPackBytes the bytes on the
// wire, maxObjects the object count a pack header may declare. The smart-HTTP route enforces them on the stream,
// before git sees the bytes that break them (packGuard.ts); the import reader while it copies; the pre-receive
// check refuses large files again (maxBlobBytes). No vscode import.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface PushLimits {
  /** Largest object (inflated), bytes. */
  maxObjectBytes: number;
  /** Largest pack (request body), bytes. */
  maxPackBytes: number;
  /** Most objects in one pack. */
  maxObjects: number;
}

export const DEFAULT_PUSH_LIMITS: PushLimits = {
  maxObjectBytes: 20 * 1024 * 1024,
  maxPackBytes: 100 * 1024 * 1024,
  maxObjects: 100_000,
};

const KEYS = Object.keys(DEFAULT_PUSH_LIMITS) as (keyof PushLimits)[];

/** Validate the `push` value of a parsed fleet.json (undefined → the defaults). */
export function parsePushLimits(raw: unknown, source = 'fleet.json'): PushLimits {
  if (raw === undefined || raw === null) return { ...DEFAULT_PUSH_LIMITS };
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${source}: "push" must be an object like {"maxObjectBytes": 20971520, "maxPackBytes": 104857600, "maxObjects": 100000}`);
  const out = { ...DEFAULT_PUSH_LIMITS };
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (!KEYS.includes(k as keyof PushLimits)) throw new Error(`${source}: unknown setting push.${k} (known: ${KEYS.join(', ')})`);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new Error(`${source}: push.${k} must be a positive integer, got ${JSON.stringify(v)}`);
    out[k as keyof PushLimits] = v;
  }
  return out;
}

/** The push quotas of a fleet directory; a missing fleet.json or section means the defaults. */
export function loadPushLimits(fleetDir: string): PushLimits {
  const file = path.join(fleetDir, 'fleet.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return { ...DEFAULT_PUSH_LIMITS };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`fleet.json is not valid JSON: ${(err as Error).message}`);
  }
  return parsePushLimits((parsed as { push?: unknown } | null)?.push);
}

/** Megabytes for messages: `20 MiB`. */
export function mib(n: number): string {
  return n >= 1024 * 1024 ? `${(n / (1024 * 1024)).toFixed(n % (1024 * 1024) ? 1 : 0)} MiB` : `${n} bytes`;
}
