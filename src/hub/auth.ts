// Bearer tokens: one per agent and per human. Stored hashed (sha256) in <fleet>/tokens.json (mode 0600);
// the secret is shown once at creation. Lookup is by token id, comparison of hashes is constant-time.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Actor } from '../core/model';
import { ID_RE, MAX_SEED_JOBS } from '../core/events';

export const TOKENS_FILE = 'tokens.json';
const PREFIX = 'ovs';
const TOKEN_RE = /^ovs_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/** A token restricted to one approved run: minted by the hub for a job (OVERSEER_TOKEN), revoked when it ends. */
export interface TokenScope {
  experimentId: string;
  /** The seed job of the experiment (absent on tokens minted before seed jobs: the experiment's only job). */
  job?: number;
  /** A replication job (`job` is its index) on the hidden transfer task. */
  replication?: true;
}

function copyScope(s: TokenScope): TokenScope {
  const base: TokenScope = s.job === undefined ? { experimentId: s.experimentId } : { experimentId: s.experimentId, job: s.job };
  return s.replication === true ? { ...base, replication: true } : base;
}

export interface TokenRecord {
  id: string;
  /** sha256 hex of the whole token string. */
  hash: string;
  principal: Actor;
  createdAt: string;
  revoked?: boolean;
  /** Present on job-scoped tokens only. */
  scope?: TokenScope;
}

/** The result of authenticating a bearer token: who, and (job tokens) what it is limited to. */
export interface Authenticated {
  actor: Actor;
  scope?: TokenScope;
}

interface TokenFile {
  version: 1;
  tokens: TokenRecord[];
}

export class AuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthError';
  }
}

function sha256(s: string): Buffer {
  return crypto.createHash('sha256').update(s, 'utf8').digest();
}

export function validatePrincipal(p: Actor): Actor {
  if (p.kind !== 'agent' && p.kind !== 'human') throw new AuthError(`tokens are for agents and humans, not ${String(p.kind)}`);
  if (!ID_RE.test(p.id)) throw new AuthError(`invalid ${p.kind} id ${JSON.stringify(p.id)} (letters, digits, . _ -; max 64)`);
  return { kind: p.kind, id: p.id };
}

/** The token file of one fleet. Re-reads the file when it changes on disk (tokens made by the CLI). */
export class TokenStore {
  readonly file: string;
  private byId = new Map<string, TokenRecord>();
  private mtimeMs = -1;
  private size = -1;
  private lastCheck = 0;
  /** Called after the file was (re)read with changed content. */
  onReload?: () => void;

  constructor(fleetDir: string) {
    this.file = path.join(fleetDir, TOKENS_FILE);
    this.reload(true);
  }

  private reload(force = false): void {
    let st: fs.Stats;
    try {
      st = fs.statSync(this.file);
    } catch {
      this.byId = new Map();
      this.mtimeMs = -1;
      return;
    }
    if (!force && st.mtimeMs === this.mtimeMs && st.size === this.size) return;
    const parsed = readTokenFile(this.file);
    this.byId = new Map(parsed.tokens.map((t) => [t.id, t]));
    this.mtimeMs = st.mtimeMs;
    this.size = st.size;
    this.onReload?.();
  }

  records(): TokenRecord[] {
    this.reload();
    return [...this.byId.values()];
  }

  /** Create a token for a principal: returns the secret (shown once) and its record. With `scope`, the token
   * is a job token limited to that experiment's run (see `authenticateScoped`). */
  create(principal: Actor, scope?: TokenScope): { token: string; record: TokenRecord } {
    const p = validatePrincipal(principal);
    if (scope !== undefined && !validScope(scope)) throw new AuthError(`invalid token scope ${JSON.stringify(scope)}`);
    const id = crypto.randomBytes(8).toString('hex');
    const token = `${PREFIX}_${id}_${crypto.randomBytes(32).toString('base64url')}`;
    const record: TokenRecord = { id, hash: sha256(token).toString('hex'), principal: p, createdAt: new Date().toISOString() };
    if (scope) record.scope = copyScope(scope);
    withFileLock(this.file, () => {
      const cur = readTokenFile(this.file);
      cur.tokens.push(record);
      writeTokenFile(this.file, cur);
    });
    this.reload(true);
    return { token, record };
  }

  revoke(id: string): boolean {
    let found = false;
    withFileLock(this.file, () => {
      const cur = readTokenFile(this.file);
      for (const t of cur.tokens) if (t.id === id && !t.revoked) (t.revoked = true), (found = true);
      if (found) writeTokenFile(this.file, cur);
    });
    this.reload(true);
    return found;
  }

  /** Revoke every live job token scoped to an experiment, or to one of its seed jobs (one write); returns how
   * many were revoked. */
  revokeScope(experimentId: string, job?: number, kind: 'seed' | 'replication' | 'any' = 'any'): number {
    const kindOk = (t: TokenRecord) => kind === 'any' || (kind === 'replication') === (t.scope?.replication === true);
    const hit = (t: TokenRecord) => t.scope?.experimentId === experimentId && !t.revoked && kindOk(t) && (job === undefined || (t.scope.job ?? 0) === job);
    if (![...this.byId.values()].some(hit)) {
      this.reload();
      if (![...this.byId.values()].some(hit)) return 0;
    }
    let n = 0;
    withFileLock(this.file, () => {
      const cur = readTokenFile(this.file);
      for (const t of cur.tokens) if (hit(t)) (t.revoked = true), n++;
      if (n) writeTokenFile(this.file, cur);
    });
    this.reload(true);
    return n;
  }

  /** Resolve an Authorization header value to a principal, or undefined. Job-scoped tokens are refused here
   * (fail closed for callers that do not know about scopes): use `authenticateScoped`. */
  authenticate(header: string | undefined): Actor | undefined {
    const a = this.authenticateScoped(header);
    return a && !a.scope ? a.actor : undefined;
  }

  /** Resolve an Authorization header value to a principal and, for job tokens, its scope. */
  authenticateScoped(header: string | undefined): Authenticated | undefined {
    if (!header) return undefined;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) return undefined;
    return this.verifyScoped(m[1]!);
  }

  /** The principal of an unscoped token (job-scoped tokens give undefined: use `verifyScoped`). */
  verify(token: string): Actor | undefined {
    const a = this.verifyScoped(token);
    return a && !a.scope ? a.actor : undefined;
  }

  verifyScoped(token: string): Authenticated | undefined {
    const m = TOKEN_RE.exec(token);
    if (!m) return undefined;
    let rec = this.byId.get(m[1]!);
    if (!rec) {
      // Maybe created by another process since we last looked (at most one stat per 200 ms of misses).
      const now = Date.now();
      if (now - this.lastCheck > 200) {
        this.lastCheck = now;
        this.reload();
        rec = this.byId.get(m[1]!);
      }
    }
    const given = sha256(token);
    const expected = rec ? Buffer.from(rec.hash, 'hex') : Buffer.alloc(32);
    const same = expected.length === 32 && crypto.timingSafeEqual(given, expected);
    if (!rec || !same || rec.revoked) return undefined;
    return rec.scope ? { actor: rec.principal, scope: copyScope(rec.scope) } : { actor: rec.principal };
  }
}

function validScope(s: unknown): s is TokenScope {
  const o = s as TokenScope | undefined;
  return (
    !!o &&
    typeof o === 'object' &&
    typeof o.experimentId === 'string' &&
    ID_RE.test(o.experimentId) &&
    (o.job === undefined || (Number.isInteger(o.job) && o.job >= 0 && o.job < MAX_SEED_JOBS)) &&
    (o.replication === undefined || (o.replication === true && o.job !== undefined))
  );
}

export function readTokenFile(file: string): TokenFile {
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, tokens: [] };
    throw err;
  }
  let j: unknown;
  try {
    j = JSON.parse(raw);
  } catch (err) {
    throw new AuthError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  const f = j as Partial<TokenFile>;
  if (!f || f.version !== 1 || !Array.isArray(f.tokens)) throw new AuthError(`${file} is not a token file (version 1)`);
  const tokens = f.tokens.filter(
    (t): t is TokenRecord =>
      !!t &&
      typeof t.id === 'string' &&
      typeof t.hash === 'string' &&
      /^[0-9a-f]{64}$/.test(t.hash) &&
      !!t.principal &&
      (t.principal.kind === 'agent' || t.principal.kind === 'human') &&
      typeof t.principal.id === 'string' &&
      // A malformed scope must never turn a job token into an unrestricted one: drop the record.
      (t.scope === undefined || validScope(t.scope)),
  );
  return { version: 1, tokens };
}

function writeTokenFile(file: string, f: TokenFile): void {
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, JSON.stringify(f, null, 2) + '\n');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}

/** A tiny cross-process lock (O_EXCL lock file, stale after 10 s) around read-modify-write of the file. */
function withFileLock(file: string, fn: () => void): void {
  const lock = `${file}.lock`;
  const deadline = Date.now() + 5_000;
  let fd: number | undefined;
  while (fd === undefined) {
    try {
      fd = fs.openSync(lock, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      try {
        if (Date.now() - fs.statSync(lock).mtimeMs > 10_000) fs.rmSync(lock, { force: true });
      } catch {
        /* gone already */
      }
      if (Date.now() > deadline) throw new AuthError(`${lock} is held by another process`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
  try {
    fn();
  } finally {
    fs.closeSync(fd);
    fs.rmSync(lock, { force: true });
  }
}
