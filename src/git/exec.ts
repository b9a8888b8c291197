// The one place that builds a git invocation. Everything the hub does with git (object reads, pushes it
// receives, imports from agents' working copies, the smart HTTP backend) goes through `gitInvocation`, so
// none of it can pick up configuration an agent wrote:
// - system and global config are ignored (GIT_CONFIG_NOSYSTEM, GIT_CONFIG_GLOBAL=/dev/null, HOME pointing at
//   an empty directory), and so are system attributes (GIT_ATTR_NOSYSTEM) and replace refs;
// - the settings that can start a program are pinned on the command line (GIT_CONFIG_COUNT applies to every
//   git process the invocation starts, including receive-pack under http-backend), which outranks any file:
//   no hooks (unless the hub names its own hooks directory), no fsmonitor, no pager, no external diff, no
//   ssh or credential helpers, no signature programs, no protocols but the ones the caller allows;
// - the environment is rebuilt from scratch: no inherited GIT_* variable, editor, pager or askpass.
// Repositories the hub reads are its own bare repositories (see hubRepo.ts): their config is written by the
// hub alone, so textconv and filter drivers have nowhere to come from. No vscode import.
import { type ChildProcess, execFile, spawn, type SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export class GitExecError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
    readonly code: number | null,
  ) {
    super(message);
    this.name = 'GitExecError';
  }
}

export interface GitInvocationOptions {
  /** Protocols git may use for this invocation (default none; local imports allow `file`). */
  protocols?: readonly ('file' | 'http' | 'https')[];
  /** The hub's own hooks directory (receive-pack's pre-receive check). Default: no hooks at all. */
  hooksPath?: string;
  /** Extra environment (validated names; never GIT_CONFIG* or anything that names a program). */
  env?: Record<string, string>;
  /** Extra `key=value` settings, appended after the pinned ones (the caller's own, e.g. identities). */
  config?: Record<string, string>;
}

/** A directory with nothing in it, used as HOME so no ~/.gitconfig or XDG config is ever read. */
let emptyHome: string | undefined;
function emptyHomeDir(): string {
  if (emptyHome && fs.existsSync(emptyHome)) return emptyHome;
  emptyHome = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-git-home-'));
  fs.chmodSync(emptyHome, 0o500);
  return emptyHome;
}

/** Settings pinned on every invocation. Later entries win over earlier ones and over every config file. */
function pinnedConfig(o: GitInvocationOptions): [string, string][] {
  const allowed = new Set(o.protocols ?? []);
  return [
    ['core.hooksPath', o.hooksPath ?? '/dev/null'],
    ['core.fsmonitor', 'false'],
    ['core.pager', 'cat'],
    ['core.editor', 'false'],
    ['core.askPass', ''],
    ['core.sshCommand', 'false'],
    ['core.attributesFile', '/dev/null'],
    ['core.untrackedCache', 'false'],
    ['core.splitIndex', 'false'],
    ['credential.helper', ''],
    ['gpg.program', 'false'],
    ['gpg.ssh.program', 'false'],
    ['gpg.x509.program', 'false'],
    ['commit.gpgSign', 'false'],
    ['tag.gpgSign', 'false'],
    ['push.gpgSign', 'false'],
    ['log.showSignature', 'false'],
    ['sequence.editor', 'false'],
    ['protocol.allow', 'never'],
    ['protocol.file.allow', allowed.has('file') ? 'always' : 'never'],
    ['protocol.http.allow', allowed.has('http') ? 'always' : 'never'],
    ['protocol.https.allow', allowed.has('https') ? 'always' : 'never'],
    ['protocol.ext.allow', 'never'],
    ['submodule.recurse', 'false'],
    ['fetch.recurseSubmodules', 'false'],
    ['transfer.fsckObjects', 'true'],
    ['gc.auto', '0'],
    ['maintenance.auto', 'false'],
    ...Object.entries(o.config ?? {}),
  ];
}

const BLOCKED_ENV = /^(GIT_|SSH_|EDITOR$|VISUAL$|PAGER$|LESS|HOME$|XDG_)/;

/** The complete environment of a hub-side git process. */
export function gitEnv(o: GitInvocationOptions = {}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: emptyHomeDir(),
    LANG: 'C',
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_SYSTEM: '/dev/null',
    GIT_ATTR_NOSYSTEM: '1',
    GIT_NO_REPLACE_OBJECTS: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_OPTIONAL_LOCKS: '0',
    GIT_PAGER: 'cat',
    GIT_EDITOR: 'false',
    GIT_ASKPASS: '',
    SSH_ASKPASS: '',
    GIT_AUTHOR_NAME: 'overseer',
    GIT_AUTHOR_EMAIL: 'overseer@localhost',
    GIT_COMMITTER_NAME: 'overseer',
    GIT_COMMITTER_EMAIL: 'overseer@localhost',
  };
  if (process.env.TMPDIR) env.TMPDIR = process.env.TMPDIR;
  const cfg = pinnedConfig(o);
  env.GIT_CONFIG_COUNT = String(cfg.length);
  cfg.forEach(([k, v], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = k;
    env[`GIT_CONFIG_VALUE_${i}`] = v;
  });
  for (const [k, v] of Object.entries(o.env ?? {})) {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(k) || v.includes('\0')) throw new Error(`invalid git environment entry ${k}`);
    if (/^GIT_CONFIG/.test(k) || (BLOCKED_ENV.test(k) && !ALLOWED_EXTRA.has(k))) throw new Error(`git environment entry ${k} is not allowed`);
    env[k] = v;
  }
  return env;
}

/** Environment a caller may add: the http-backend CGI variables, quarantine paths, and the hook's own. */
const ALLOWED_EXTRA = new Set([
  'GIT_PROJECT_ROOT',
  'GIT_HTTP_EXPORT_ALL',
  'GIT_HTTP_MAX_REQUEST_BUFFER',
  'GIT_PROTOCOL',
  'GIT_DIR',
  'GIT_OBJECT_DIRECTORY',
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_QUARANTINE_PATH',
]);

/** argv and environment of one git invocation. */
export function gitInvocation(args: readonly string[], o: GitInvocationOptions = {}): { file: string; args: string[]; env: Record<string, string> } {
  for (const a of args) if (typeof a !== 'string' || a.includes('\0')) throw new Error('invalid git argument');
  return { file: 'git', args: ['--no-pager', ...args], env: gitEnv(o) };
}

export interface RunGitOptions extends GitInvocationOptions {
  input?: string | Buffer;
  maxBuffer?: number;
  timeoutMs?: number;
  /** Return stdout as a Buffer. */
  binary?: boolean;
}

/** Run git in `cwd` (a repository the hub owns) and return stdout. */
export function runGit(cwd: string, args: readonly string[], o: RunGitOptions & { binary: true }): Promise<Buffer>;
export function runGit(cwd: string, args: readonly string[], o?: RunGitOptions): Promise<string>;
export function runGit(cwd: string, args: readonly string[], o: RunGitOptions = {}): Promise<string | Buffer> {
  const inv = gitInvocation(args, o);
  return new Promise((resolve, reject) => {
    const child = execFile(
      inv.file,
      inv.args,
      { cwd, env: inv.env, maxBuffer: o.maxBuffer ?? 64 * 1024 * 1024, timeout: o.timeoutMs ?? 120_000, encoding: o.binary ? 'buffer' : 'utf8' },
      (err, stdout, stderr) => {
        if (err) {
          const se = Buffer.isBuffer(stderr) ? stderr.toString('utf8') : String(stderr ?? '');
          const code = typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : null;
          reject(new GitExecError(`git ${args.slice(0, 3).join(' ')} failed: ${(se || err.message).trim().slice(0, 2000)}`, se, code));
        } else resolve(stdout as string | Buffer);
      },
    );
    if (o.input !== undefined) child.stdin?.end(o.input);
    else child.stdin?.end();
  });
}

/** Start a long-lived or streaming git process (cat-file --batch, http-backend) with the same hardening. */
export function spawnGit(cwd: string, args: readonly string[], o: GitInvocationOptions & { stdio?: SpawnOptions['stdio'] } = {}): ChildProcess {
  const inv = gitInvocation(args, o);
  return spawn(inv.file, inv.args, { cwd, env: inv.env, stdio: o.stdio ?? ['pipe', 'pipe', 'pipe'] });
}
