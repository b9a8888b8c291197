// Confined runs: every job runs inside bubblewrap (Linux namespaces) unless a human set `"sandbox": "none"` on
// its runner. What the run sees:
//   - a minimal read-only system (/usr, /bin, /lib*, a few /etc files, /sys/devices/system/cpu), its own /proc
//     (own pid namespace), a minimal /dev, a private /tmp;
//   - its worktree read-only at the same path (the working directory), its outputs directory `<runDir>/out`
//     read-write (OVERSEER_OUTPUT_DIR; results.json goes there), the fleet's public dataset files read-only;
//   - /run/overseer: the supervisor and the audit hooks (read-only), the proxy socket;
//   - at each secret path (the fleet's labels): decoys made up for this run (decoys.ts), watched from the host.
// Nothing of the fleet directory (labels, release key, tokens, ledger, repositories, other runs), nothing of
// $HOME. Evidence leaves the sandbox only through descriptors and sockets made before the run started (the
// supervisor's fd 3 and 4, the abstract audit socket it binds, the run's output pipe), never through a file the
// run could replace: the host opens nothing the run can name but results.json, and that without following links,
// regular files only, non-blocking and capped (artifacts.ts). No network but loopback: the supervisor forwards
// 127.0.0.1:PROXY_PORT to a Unix socket served by the run's API proxy on the host side, which adds the job token
// (never inside the sandbox) and forwards only the job token's three routes. The same generated launcher is used by the local runner and in the Slurm batch
// script on the compute node.
// A job can be made to look, from inside, like another one (replication jobs look like seed jobs), with three
// optional JobSandbox fields:
//   - mountRunDirAt: the run directory appears at that path instead (its worktree read-only and `out` read-write
//     under it); every path the run is told (the working directory, OVERSEER_OUTPUT_DIR, policy.json, the audit
//     hook's trusted root) is the inside one; everything on the host side keeps the real paths;
//   - binds: extra read-only binds whose inside path (dest) differs from the host path (src), made after the
//     read-only paths (so one may cover part of a parent), checked like them; src may be inside a denied path only
//     inside the job's own run directory, where such a view is built;
//   - secretViews: decoys like the secret paths', but mirroring the directory `src` and bound and watched at `at`.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TaskMode } from '../core/model';
import { shQuote } from './exec';
import { AUDIT_HOOK_C } from './auditHook';
import { DECOY_LOG, prepareDecoys } from './decoys';
import { DECOYWATCH_PY, LOGLIMIT_PY, PROXY_PY, SITECUSTOMIZE_PY, SUPERVISOR_PY } from './sandboxPy';

export type SandboxMode = 'bwrap' | 'none';

/** Port of the in-sandbox forwarder to the run's API proxy (the sandbox has its own network namespace). */
export const PROXY_PORT = 7480;
export const SANDBOX_ROOT = '/run/overseer';
export const OUTPUT_DIR = 'out';

export interface RunnerLimits {
  /** Address-space limit per process (RLIMIT_AS), MiB. */
  memoryMB?: number;
  /** Processes in the run's pid namespace (the supervisor kills the run beyond this), and RLIMIT_NPROC. */
  processes?: number;
  /** Upper bound on any job's wall time (the approved time limit is capped at this). */
  wallSeconds?: number;
  /** The run is stopped when its log grows beyond this. */
  logMB?: number;
  /** Disk: the run's /tmp is a tmpfs of this size; its outputs directory may hold this much (RLIMIT_FSIZE per file,
   * the supervisor stops the run when the total passes it). */
  diskMB?: number;
}

/** Per-job sandbox details the dispatcher knows (the runner config says whether to confine at all). */
export interface JobSandbox {
  taskMode: TaskMode;
  /** Extra read-only paths visible at the same path (the fleet's public datasets). */
  readOnlyPaths: string[];
  /** Paths that must never be exposed (tokens, ledger, repositories, runs, $HOME): a read-only path at or above one is refused. */
  denyPaths: string[];
  /** Paths nothing of may be visible (labels): a read-only path at, above or inside one is refused. */
  secretPaths?: string[];
  /** Decoys at `at` (a secret path, never exposed otherwise) made from the directory `src` instead of from `at`. */
  secretViews?: { src: string; at: string }[];
  /** Extra read-only binds of host `src` at inside path `dest` (after readOnlyPaths: they may cover part of one).
   * Checked like read-only paths; a missing src is refused; src may be inside a denied path only within the run dir. */
  binds?: { src: string; dest: string }[];
  /** Absolute path at which the run sees its run directory (its worktree and outputs) instead of the real one. */
  mountRunDirAt?: string;
  /** The hub's agent API the run may reach through its proxy, and the job token the proxy adds. */
  proxy?: { upstream: string; token?: string };
}

export class SandboxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxError';
  }
}

/** Files in a run directory written or read by the confinement. */
export const RUN_FILES = {
  sbx: 'sbx',
  sock: 'sock',
  ctl: 'ctl',
  /** The audit hooks' records, written by the supervisor through fd 4 (the sandbox cannot open it by path). */
  auditLog: 'audit.jsonl',
  /** Hits on the decoys, written by the host-side watcher. */
  decoyLog: DECOY_LOG,
  launcher: path.join('sbx', 'launch.sh'),
  policy: path.join('sbx', 'policy.json'),
  proxyConfig: 'proxy.json',
  token: 'job.token',
  /** Written by the supervisor through fd 3 (the sandbox cannot open it by path). */
  sandboxLog: 'sandbox.jsonl',
  /** Written by the host-side proxy. */
  proxyLog: 'proxy.jsonl',
  /** Written by the host-side launcher (limits it enforced). */
  hostLog: 'host.jsonl',
  sandboxJson: 'sandbox.json',
} as const;

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The bwrap binary: an explicit path, or `bwrap` on a fixed system PATH. Undefined if there is none. */
export function findBwrap(explicit?: string): string | undefined {
  if (explicit) return isExecutable(explicit) ? explicit : undefined;
  for (const d of ['/usr/bin', '/bin', '/usr/local/bin', '/usr/sbin']) if (isExecutable(path.join(d, 'bwrap'))) return path.join(d, 'bwrap');
  return undefined;
}

export function noBwrapMessage(runner: string, explicit?: string): string {
  return (
    `runner ${runner}: cannot confine runs: bubblewrap (${explicit ?? 'bwrap'}) is not installed on this machine ` +
    `(${process.platform === 'linux' ? 'install the Debian/Ubuntu package "bubblewrap"' : `${process.platform} is not supported: confined runs need Linux`}). ` +
    `Refusing to run unconfined; a human can set "sandbox": "none" on the runner in fleet.json to allow it.`
  );
}

/**
 * A `no-testing` run starts exactly one program (the seccomp filter refuses every later execve), so its command
 * must be a program with arguments: quotes and `${VAR}` are fine, shell operators are not (they would silently
 * become arguments). Returns why not, or undefined.
 */
export function noTestingCommandError(cmd: string): string | undefined {
  let q: '"' | "'" | undefined;
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i]!;
    if (q) {
      if (c === q) q = undefined;
      else if (c === '\\' && q === '"') i++;
      continue;
    }
    if (c === '"' || c === "'") q = c;
    else if (c === '\\') i++;
    else if (';&|<>`\n(){}*?[]~#'.includes(c) || (c === '$' && cmd[i + 1] !== '{')) {
      return `a no-testing run starts exactly one program: its command must be a program and its arguments, without shell syntax (found ${JSON.stringify(c)} at ${i})`;
    } else if (c === '$') {
      const end = cmd.indexOf('}', i);
      if (end < 0 || !/^\$\{[A-Z_][A-Z0-9_]*\}$/.test(cmd.slice(i, end + 1))) return `a no-testing run's command may only use \${NAME} expansions (at ${i})`;
      i = end;
    }
  }
  if (q) return 'unterminated quote in the command';
  if (!cmd.trim()) return 'empty command';
  return undefined;
}

const isInside = (p: string, root: string) => p === root || p.startsWith(root.endsWith('/') ? root : `${root}/`);

/** Refuse read-only paths that would expose a denied path (at, above or below it). */
export function checkReadOnlyPaths(ro: readonly string[], deny: readonly string[], secret: readonly string[] = []): void {
  for (const p of ro) {
    if (!path.isAbsolute(p)) throw new SandboxError(`read-only path ${JSON.stringify(p)} must be absolute`);
    let r = path.resolve(p);
    try {
      r = fs.realpathSync(r);
    } catch {
      /* missing: skipped by the caller */
    }
    for (const d of [...deny, ...secret]) {
      const dd = path.resolve(d);
      if (isInside(dd, r)) throw new SandboxError(`read-only path ${r} would expose ${dd} to the run`);
    }
    for (const d of secret) {
      const dd = path.resolve(d);
      if (isInside(r, dd)) throw new SandboxError(`read-only path ${r} is inside ${dd}, which no run may see`);
    }
  }
}

const ETC_FILES = [
  '/etc/passwd',
  '/etc/group',
  '/etc/nsswitch.conf',
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/localtime',
  '/etc/alternatives',
  '/etc/protocols',
  '/etc/services',
  '/etc/mime.types',
  '/etc/ssl',
  '/etc/ca-certificates',
  '/etc/os-release',
  '/etc/debian_version',
];

export interface ConfinePlan {
  /** Run the wrapper with `bash <launcher> <command>`. */
  launcher: string;
  /** The job environment as the sandbox will see it (also what the launcher sets with --setenv). */
  env: Record<string, string>;
  /** The outputs directory on the host (the run sees it at env.OVERSEER_OUTPUT_DIR, which differs under mountRunDirAt). */
  outputsDir: string;
}

export interface ConfineInput {
  runDir: string;
  workdir: string;
  logPath: string;
  experimentId: string;
  env: Record<string, string>;
  sandbox?: JobSandbox;
  limits?: RunnerLimits;
  bwrap?: string;
  /** The runner's own read-only paths (runner config). */
  extraReadOnly?: readonly string[];
  /** The approved command (checked for a no-testing run). */
  command?: string;
}

/** Visible roots inside the sandbox (for the audit hook: a path outside all of them cannot exist there). */
function visibleRoots(i: ConfineInput, workdir: string, outputs: string, bindDests: readonly string[]): string[] {
  return ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', ...ETC_FILES, '/sys/devices/system/cpu', '/proc', '/dev', '/tmp', SANDBOX_ROOT, workdir, outputs, ...(i.sandbox?.readOnlyPaths ?? []), ...(i.extraReadOnly ?? []), ...bindDests];
}

const realOrResolved = (p: string) => {
  const r = path.resolve(p);
  try {
    return fs.realpathSync(r);
  } catch {
    return r;
  }
};

/** Where the run sees its worktree and outputs (mountRunDirAt), checked: absolute, clear of the secrets and of /run/overseer. */
function insideRunPaths(i: ConfineInput, mount: string | undefined, secret: readonly string[]): { workdir: string; outputs: string } {
  const outputs = path.join(i.runDir, OUTPUT_DIR);
  if (mount === undefined) return { workdir: i.workdir, outputs };
  if (!path.isAbsolute(mount)) throw new SandboxError(`mountRunDirAt ${JSON.stringify(mount)} must be absolute`);
  const m = path.resolve(mount);
  if (m === '/') throw new SandboxError('cannot mount the run directory at /');
  const rel = path.relative(path.resolve(i.runDir), path.resolve(i.workdir));
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw new SandboxError(`cannot mount the run directory at ${m}: the worktree ${i.workdir} is not inside ${i.runDir}`);
  const at = { workdir: path.join(m, rel), outputs: path.join(m, OUTPUT_DIR) };
  for (const p of [m, at.workdir, at.outputs]) {
    for (const d of [...secret, SANDBOX_ROOT]) {
      const dd = path.resolve(d);
      if (isInside(dd, p) || isInside(p, dd)) throw new SandboxError(`cannot mount the run directory at ${m}: ${p} would cover or be inside ${dd}`);
    }
  }
  return at;
}

/**
 * Refuse extra binds that would expose a denied or secret path: src and dest may not be at, above or inside one,
 * except that src may be inside a denied path within the job's own run directory (strictly inside it: the run
 * directory itself holds the token and the decoy key). A dest may not touch /run/overseer. A missing src is refused.
 * Returns the binds as checked (src resolved through links, dest normalised): what bwrap is given.
 */
export function checkBinds(binds: readonly { src: string; dest: string }[], runDir: string, deny: readonly string[], secret: readonly string[] = []): { src: string; dest: string }[] {
  const run = realOrResolved(runDir);
  const out: { src: string; dest: string }[] = [];
  for (const b of binds) {
    if (!path.isAbsolute(b.src) || !path.isAbsolute(b.dest)) throw new SandboxError(`bind ${JSON.stringify(b.src)} -> ${JSON.stringify(b.dest)}: both paths must be absolute`);
    let src: string;
    try {
      src = fs.realpathSync(path.resolve(b.src));
    } catch {
      throw new SandboxError(`bind source ${b.src} does not exist`);
    }
    const inRun = src !== run && isInside(src, run);
    for (const d of deny) {
      const dd = path.resolve(d);
      if (isInside(dd, src)) throw new SandboxError(`bind source ${src} would expose ${dd} to the run`);
      if (isInside(src, dd) && !inRun) throw new SandboxError(`bind source ${src} is inside ${dd}, which no run may see`);
    }
    for (const d of secret) {
      const dd = path.resolve(d);
      if (isInside(dd, src) || isInside(src, dd)) throw new SandboxError(`bind source ${src} would expose ${dd} to the run`);
    }
    const dests = [...new Set([path.resolve(b.dest), realOrResolved(b.dest)])];
    for (const dest of dests) {
      for (const d of [...deny, ...secret, SANDBOX_ROOT]) {
        const dd = path.resolve(d);
        if (isInside(dd, dest) || isInside(dest, dd)) throw new SandboxError(`bind destination ${dest} would expose or cover ${dd}`);
      }
    }
    out.push({ src, dest: path.resolve(b.dest) });
  }
  return out;
}

/**
 * Write the run's sandbox files (`<runDir>/sbx`, `out`, `sock`, `ctl`, `audit`, the token and proxy config for the
 * host side) and the launcher. Throws SandboxError for an unsafe configuration.
 */
export function prepareConfinedRun(i: ConfineInput): ConfinePlan {
  const sb: JobSandbox = i.sandbox ?? { taskMode: 'normal', readOnlyPaths: [], denyPaths: [] };
  if (sb.taskMode === 'no-testing' && i.command !== undefined) {
    const why = noTestingCommandError(i.command);
    if (why) throw new SandboxError(why);
  }
  const ro = [...new Set([...sb.readOnlyPaths, ...(i.extraReadOnly ?? [])])].filter((p) => fs.existsSync(p));
  const views = sb.secretViews ?? [];
  // the views' `at` are secret paths like the others; their sources (the hidden labels they are made from) too
  const secret = views.length ? [...(sb.secretPaths ?? []), ...views.map((v) => v.at), ...views.map((v) => v.src)] : sb.secretPaths;
  for (const v of views) if (!path.isAbsolute(v.src) || !path.isAbsolute(v.at)) throw new SandboxError(`secret view ${JSON.stringify(v.src)} -> ${JSON.stringify(v.at)}: both paths must be absolute`);
  checkReadOnlyPaths(ro, sb.denyPaths, secret);
  const binds = checkBinds(sb.binds ?? [], i.runDir, sb.denyPaths, secret);
  const bindDests = binds.map((b) => b.dest);
  const r = (f: string) => path.join(i.runDir, f);
  const outputs = r(OUTPUT_DIR);
  // what the run is told: the same paths, or those under mountRunDirAt
  const at = insideRunPaths(i, sb.mountRunDirAt, [...(sb.secretPaths ?? []), ...views.map((v) => v.at)]);
  for (const d of [RUN_FILES.sbx, RUN_FILES.sock, RUN_FILES.ctl, OUTPUT_DIR]) fs.mkdirSync(r(d), { recursive: true });
  fs.rmSync(r('audit'), { recursive: true, force: true }); // the writable audit directory of earlier releases
  fs.mkdirSync(path.join(r(RUN_FILES.sbx), 'site'), { recursive: true });
  for (const f of [RUN_FILES.sandboxLog, RUN_FILES.proxyLog, RUN_FILES.hostLog, RUN_FILES.auditLog, RUN_FILES.decoyLog, path.join(RUN_FILES.ctl, 'decoy.ready'), path.join(RUN_FILES.ctl, 'stop'), path.join(RUN_FILES.sock, 'api.sock'), path.join(RUN_FILES.sbx, 'overseer-python'), path.join(RUN_FILES.sbx, 'overseer-python.python')]) fs.rmSync(r(f), { force: true });
  fs.writeFileSync(r(RUN_FILES.auditLog), '');
  fs.writeFileSync(path.join(r(RUN_FILES.sbx), 'supervisor.py'), SUPERVISOR_PY);
  fs.writeFileSync(path.join(r(RUN_FILES.sbx), 'proxy.py'), PROXY_PY);
  fs.writeFileSync(path.join(r(RUN_FILES.sbx), 'loglimit.py'), LOGLIMIT_PY);
  fs.writeFileSync(path.join(r(RUN_FILES.sbx), 'decoywatch.py'), DECOYWATCH_PY);
  fs.writeFileSync(path.join(r(RUN_FILES.sbx), 'site', 'sitecustomize.py'), SITECUSTOMIZE_PY);
  // the C audit hook: its source (built by the launcher on the machine that runs the sandbox) and its settings
  fs.writeFileSync(path.join(r(RUN_FILES.sbx), 'overseerAudit.c'), AUDIT_HOOK_C);
  const auditSocket = `overseer-audit-${crypto.randomBytes(8).toString('hex')}`;
  fs.writeFileSync(path.join(r(RUN_FILES.sbx), 'audit.conf'), [`mode ${sb.taskMode}`, `sock ${auditSocket}`, `trusted ${at.workdir}`, ''].join('\n'));
  // decoys at the secret paths (labels): made up for this run, bound read-only, watched from the host
  const decoys = prepareDecoys(i.runDir, [...(sb.secretPaths ?? []), ...views]);
  fs.writeFileSync(r('decoywatch.json'), JSON.stringify({ watch: decoys.watch.map((w) => [w.host, w.sandbox]), log: r(RUN_FILES.decoyLog), ready: r(path.join(RUN_FILES.ctl, 'decoy.ready')) }), { mode: 0o600 });

  const inside = (p: string) => path.posix.join(SANDBOX_ROOT, p);
  const limits = i.limits ?? {};
  const policy = {
    experimentId: i.experimentId,
    taskMode: sb.taskMode,
    limits: { memoryMB: limits.memoryMB ?? null, processes: limits.processes ?? null, diskMB: limits.diskMB ?? null },
    proxySocket: sb.proxy ? inside('sock/api.sock') : null,
    // started beside the sandbox at the same time; the supervisor starts the run once they are ready
    waitFor: [...(sb.proxy ? [inside('sock/api.sock')] : []), ...(decoys.watch.length ? [inside('ctl/decoy.ready')] : [])],
    proxyPort: PROXY_PORT,
    stopFile: inside('ctl/stop'),
    auditSocket,
    auditLauncher: inside('sbx/overseer-python'),
    outputsDir: at.outputs,
    visibleRoots: visibleRoots(i, at.workdir, at.outputs, bindDests),
    // host paths the sandbox hides even where a parent is visible (e.g. a fleet under /tmp: the run's /tmp is its own)
    hiddenRoots: [...sb.denyPaths, ...(sb.secretPaths ?? []), ...views.map((v) => v.at), path.dirname(path.dirname(i.runDir)), ...hiddenMountRoot(i.runDir, sb.mountRunDirAt)],
    boundRoots: [at.workdir, at.outputs, ...ro, ...bindDests],
    readOnlyRoots: [at.workdir, ...ro, ...bindDests],
    writableRoots: ['/tmp', '/dev', at.outputs],
  };
  fs.writeFileSync(r(RUN_FILES.policy), JSON.stringify(policy, null, 1));
  if (sb.proxy) {
    fs.writeFileSync(r(RUN_FILES.token), sb.proxy.token ?? '', { mode: 0o600 });
    fs.chmodSync(r(RUN_FILES.token), 0o600);
    const proxyCfg = { proxySocketHost: r(path.join(RUN_FILES.sock, 'api.sock')), upstream: sb.proxy.upstream, tokenFile: r(RUN_FILES.token), experimentId: i.experimentId, proxyLog: r(RUN_FILES.proxyLog) };
    fs.writeFileSync(r(RUN_FILES.proxyConfig), JSON.stringify(proxyCfg), { mode: 0o600 });
  }

  const env: Record<string, string> = { ...i.env };
  delete env.OVERSEER_TOKEN; // the job holds no secret: the proxy adds it
  delete env.CUDA_VISIBLE_DEVICES; // passed through by the launcher (local allocation or Slurm's gres)
  delete env.SLURM_JOB_ID;
  if (sb.proxy) {
    env.OVERSEER_EVAL_URL = `http://127.0.0.1:${PROXY_PORT}`;
    env.ORCHESTRATOR_API_URL = env.OVERSEER_EVAL_URL;
  } else {
    delete env.OVERSEER_EVAL_URL;
  }
  env.HOME = '/tmp/home';
  env.TMPDIR = '/tmp';
  env.OVERSEER_OUTPUT_DIR = at.outputs;
  env.OVERSEER_TASK_MODE = sb.taskMode;
  env.PYTHONPATH = inside('sbx/site');
  env.PYTHONDONTWRITEBYTECODE = '1';
  for (const [k, v] of Object.entries(env)) {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(k) || v.includes('\0')) throw new SandboxError(`invalid job environment entry ${k}`);
  }

  const args: string[] = [
    '--unshare-all',
    '--die-with-parent',
    '--new-session',
    '--cap-drop',
    'ALL',
    '--hostname',
    'overseer-run',
    '--clearenv',
    ...Object.entries(env).flatMap(([k, v]) => ['--setenv', k, v]),
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    // a private /tmp in memory: bounded by the disk limit, else by the memory limit, when there is one
    ...(limits.diskMB || limits.memoryMB ? ['--size', String(Math.round((limits.diskMB ?? limits.memoryMB!) * 1024 * 1024))] : []),
    '--tmpfs',
    '/tmp',
    '--dir',
    '/tmp/home',
    '--ro-bind',
    r(RUN_FILES.sbx),
    inside('sbx'),
    '--ro-bind',
    r(RUN_FILES.sock),
    inside('sock'),
    '--ro-bind',
    r(RUN_FILES.ctl),
    inside('ctl'),
    ...ro.flatMap((p) => ['--ro-bind', p, p]),
    ...binds.flatMap((b) => ['--ro-bind', b.src, b.dest]),
    ...decoys.binds.flatMap((b) => ['--ro-bind', b.src, b.dest]),
    '--ro-bind',
    i.workdir,
    at.workdir,
    '--bind',
    outputs,
    at.outputs,
    '--chdir',
    at.workdir,
  ];
  const logMax = limits.logMB ? Math.round(limits.logMB * 1024 * 1024) : 0;
  const launcher = [
    '#!/bin/bash',
    `# Overseer: confined launch of experiment ${i.experimentId.replace(/[^A-Za-z0-9._-]/g, '?')} (generated). $1 = the approved command.`,
    'set -u',
    `run=${shQuote(i.runDir)}; log=${shQuote(i.logPath)}; logmax=${logMax}; cmd=$1`,
    `bw=${shQuote(i.bwrap ?? 'bwrap')}`,
    `if ! command -v "$bw" >/dev/null 2>&1; then echo "overseer: cannot confine this run: bubblewrap ($bw) is not installed on $(hostname); refusing to run unconfined (a human can set \\"sandbox\\": \\"none\\" on the runner)" >&2; exit 96; fi`,
    'PY=; for p in /usr/bin/python3 /usr/local/bin/python3; do [ -x "$p" ] && { PY=$p; break; }; done',
    '[ -n "$PY" ] || { echo "overseer: the sandbox supervisor needs python3 under /usr on $(hostname)" >&2; exit 96; }',
    'sys=(--ro-bind /usr /usr)',
    'for d in /bin /sbin /lib /lib32 /lib64 /libx32; do if [ -L "$d" ]; then sys+=(--symlink "$(readlink "$d")" "$d"); elif [ -d "$d" ]; then sys+=(--ro-bind "$d" "$d"); fi; done',
    `for f in ${ETC_FILES.join(' ')}; do [ -e "$f" ] && sys+=(--ro-bind "$f" "$f"); done`,
    '[ -d /sys/devices/system/cpu ] && sys+=(--ro-bind /sys/devices/system/cpu /sys/devices/system/cpu)',
    '[ -n "${CUDA_VISIBLE_DEVICES+x}" ] && sys+=(--setenv CUDA_VISIBLE_DEVICES "$CUDA_VISIBLE_DEVICES")',
    '[ -n "${SLURM_JOB_ID+x}" ] && sys+=(--setenv SLURM_JOB_ID "$SLURM_JOB_ID")',
    // a GPU job sees the GPU device nodes (all of them: CUDA_VISIBLE_DEVICES / Slurm's cgroup pick the ones it uses)
    'if [ -n "${CUDA_VISIBLE_DEVICES:-}" ]; then for dv in /dev/nvidia* /dev/dri; do [ -e "$dv" ] && sys+=(--dev-bind "$dv" "$dv"); done; for dv in /sys/bus/pci /sys/devices /sys/module/nvidia; do [ -e "$dv" ] && sys+=(--ro-bind "$dv" "$dv"); done; fi',
    'rm -f "$run/ctl/stop"',
    ...(sb.taskMode === 'no-testing' ? auditBuildLines(path.join(path.dirname(i.runDir), '.audit-hook'), AUDIT_KEY) : []),
    'dw=',
    decoys.watch.length
      ? [
          'rm -f "$run/ctl/decoy.ready"',
          `"$PY" -I -S "$run/sbx/decoywatch.py" "$run/decoywatch.json" </dev/null >>"$run/sbx-decoy.err" 2>&1 &`,
          'dw=$!',
          // not waited for here: the supervisor waits for ctl/decoy.ready before it starts the run
        ].join('\n')
      : ':',
    ...cgroupLines(limits),
    'pp=',
    sb.proxy
      ? [
          `"$PY" -I -S "$run/sbx/proxy.py" "$run/${RUN_FILES.proxyConfig}" </dev/null >>"$run/sbx-proxy.err" 2>&1 &`,
          'pp=$!',
          // not waited for here: the supervisor waits for the socket before it starts the run (in parallel with bwrap)
        ].join('\n')
      : ':',
    'stop() { : > "$run/ctl/stop"; }',
    'trap stop TERM INT HUP',
    // the log limit is exact: the run writes into a pipe, a limiter on this side copies at most logmax bytes
    'lw=',
    'if [ "$logmax" -gt 0 ]; then',
    '  fifo="$run/log.fifo"; rm -f "$fifo"; mkfifo -m 600 "$fifo"',
    `  "$PY" -I -S "$run/sbx/loglimit.py" "$logmax" "$run/${RUN_FILES.hostLog}" "$run/ctl/stop" <"$fifo" &`,
    '  lw=$!',
    '  exec 5>"$fifo"',
    'else',
    '  exec 5>&1', // the log itself, as opened (appending) by the runner: never reopened, never truncated
    'fi',
    // bwrap gets its own process group: a stop (cancel, timeout) reaches it through the stop file, so the
    // supervisor can say what it killed; --die-with-parent still ends it if this launcher is killed.
    // bwrap itself ignores SIGTERM (Slurm signals every process of a cancelled job): the supervisor inside gets
    // it, says what it killed, and ends the sandbox; SIGKILL (and this launcher's death) still end it at once
    'set -m',
    `( trap '' TERM; cg_join; exec "$bw" ${args.map(shQuote).join(' ')} "\${sys[@]}" --remount-ro / -- "$PY" -I -S ${inside('sbx/supervisor.py')} ${inside('sbx/policy.json')} "$cmd" ) </dev/null >&5 2>&5 5>&- 3>>"$run/${RUN_FILES.sandboxLog}" 4>>"$run/${RUN_FILES.auditLog}" &`,
    'b=$!',
    'exec 5>&-', // only the sandbox holds the pipe now: the limiter sees its end
    'set +m',
    'while :; do wait $b; rc=$?; kill -0 $b 2>/dev/null || break; done',
    'if [ "$rc" = 95 ]; then for e in sbx-proxy.err sbx-decoy.err; do [ -s "$run/$e" ] && echo "overseer: $e: $(tail -c 500 "$run/$e")" >&2; done; fi',
    '[ -n "$lw" ] && { wait $lw; rm -f "$run/log.fifo"; }',
    '[ -n "$pp" ] && kill $pp 2>/dev/null',
    '[ -n "$dw" ] && { kill -TERM $dw 2>/dev/null; wait $dw 2>/dev/null; }',
    'cg_done',
    'exit $rc',
    '',
  ].join('\n');
  fs.writeFileSync(r(RUN_FILES.launcher), launcher, { mode: 0o700 });
  fs.writeFileSync(r(RUN_FILES.sandboxJson), JSON.stringify({ mode: 'bwrap', taskMode: sb.taskMode, limits, readOnlyPaths: ro, proxy: !!sb.proxy, at: new Date().toISOString() }));
  return { launcher: r(RUN_FILES.launcher), env, outputsDir: outputs };
}

/** The fleet directory of the mounted run directory, where it is not the real one's (hidden like it). */
function hiddenMountRoot(runDir: string, mount: string | undefined): string[] {
  if (mount === undefined) return [];
  const f = path.dirname(path.dirname(path.resolve(mount)));
  return f === path.dirname(path.dirname(runDir)) ? [] : [f];
}

/** Identifies the C audit hook's source: a new source is built again. */
const AUDIT_KEY = crypto.createHash('sha256').update(AUDIT_HOOK_C).digest('hex').slice(0, 16);

/**
 * Launcher lines of a no-testing run: build the C audit launcher for this machine's /usr python (once per source,
 * interpreter and architecture, in a cache beside the run directories that no sandbox sees) and put a copy in the
 * run's sbx/. Needs gcc and the interpreter's headers (Debian: gcc, libpython3-dev); without them the run falls
 * back to the Python hook and its report says so (audit_hook_weak).
 */
function auditBuildLines(cacheDir: string, key: string): string[] {
  return [
    'pyreal=$(readlink -f "$PY"); pyname=${pyreal##*/}',
    `ab=${shQuote(cacheDir)}/${key}-$pyname-$(uname -m)`,
    'if [ ! -x "$ab/overseer-python" ] && [ -f "/usr/include/$pyname/Python.h" ] && command -v gcc >/dev/null 2>&1; then',
    '  mkdir -p "$ab" && chmod 700 "$ab" && gcc -O2 -fvisibility=hidden -DOVERSEER_PYTHON="\\"$pyreal\\"" -I"/usr/include/$pyname" -o "$ab/build.$$" "$run/sbx/overseerAudit.c" -l"$pyname" -ldl -lm >"$run/sbx-audit-build.err" 2>&1 && mv -f "$ab/build.$$" "$ab/overseer-python"',
    '  rm -f "$ab/build.$$"',
    'fi',
    'if [ -x "$ab/overseer-python" ]; then cp "$ab/overseer-python" "$run/sbx/overseer-python" && printf \'%s\\n\' "$pyreal" > "$run/sbx/overseer-python.python"; fi',
  ];
}

/**
 * Launcher lines for the cgroup limits of a run (pids, memory), where this machine lets the launcher make a child of
 * its own cgroup (cgroup v2, or the v1 pids and memory controllers): a kernel limit over all of the run's processes,
 * a fork bomb included, where RLIMIT_NPROC does not hold (a root hub: root is exempt from it). Defines cg_join
 * (called by the sandbox's subshell) and cg_done (records the limits hit in the host log and removes the groups).
 */
function cgroupLines(limits: RunnerLimits): string[] {
  const pidsMax = limits.processes ? limits.processes + 64 : 0; // + the supervisor's and bwrap's own threads
  const memMax = limits.memoryMB ? Math.round(limits.memoryMB * 1024 * 1024) : 0;
  return [
    `cgs=(); cgtag="overseer-$$-$RANDOM"; pidsmax=${pidsMax}; memmax=${memMax}`,
    // $1 controller (v1 name, or "" for v2), $2 limit file, $3 value
    'cg_make() { local own d; if [ -n "$1" ]; then own=$(awk -F: -v c="$1" \'$2==c{print $3}\' /proc/self/cgroup); [ -n "$own" ] || return; d="/sys/fs/cgroup/$1${own%/}/$cgtag"; else own=$(sed -n \'s/^0:://p\' /proc/self/cgroup); [ -f /sys/fs/cgroup/cgroup.controllers ] || return; d="/sys/fs/cgroup${own%/}/$cgtag-$2"; fi; mkdir "$d" 2>/dev/null || return; if echo "$3" > "$d/$2" 2>/dev/null; then cgs+=("$d"); else rmdir "$d" 2>/dev/null; fi; }',
    'if [ "$pidsmax" -gt 0 ]; then cg_make pids pids.max "$pidsmax"; [ ${#cgs[@]} -gt 0 ] || cg_make "" pids.max "$pidsmax"; fi',
    'n0=${#cgs[@]}; if [ "$memmax" -gt 0 ]; then cg_make memory memory.limit_in_bytes "$memmax"; [ ${#cgs[@]} -gt $n0 ] || cg_make "" memory.max "$memmax"; fi',
    'cg_join() { local d; for d in "${cgs[@]}"; do echo $BASHPID > "$d/cgroup.procs" 2>/dev/null; done; }',
    'cg_done() { local d v ts; ts=$(date +%s); for d in "${cgs[@]}"; do',
    '  v=; if [ -f "$d/pids.events" ]; then v=$(awk \'$1=="max"{print $2}\' "$d/pids.events"); [ "${v:-0}" -gt 0 ] && printf \'{"t":"limit","limit":"processes (cgroup: %d forks refused)","value":%d,"max":%d,"ts":%s}\\n\' "$v" "$((pidsmax + 1))" "$pidsmax" "$ts" >> "$run/host.jsonl"; fi',
    '  v=; if [ -f "$d/memory.failcnt" ]; then v=$(cat "$d/memory.failcnt"); elif [ -f "$d/memory.events" ]; then v=$(awk \'$1=="max"{print $2}\' "$d/memory.events"); fi; [ "${v:-0}" -gt 0 ] && printf \'{"t":"limit","limit":"memory (cgroup)","value":%d,"max":%d,"ts":%s}\\n\' "$(( $(cat "$d/memory.max_usage_in_bytes" 2>/dev/null || cat "$d/memory.peak" 2>/dev/null || echo 0) / 1048576 ))" "$((memmax / 1048576))" "$ts" >> "$run/host.jsonl"',
    '  for k in 1 2 3 4 5 6 7 8 9 10; do rmdir "$d" 2>/dev/null && break; sleep 0.1; done',
    'done; }',
  ];
}

/** Record an unconfined run's mode (the run report names it). */
export function recordUnconfined(runDir: string, taskMode: TaskMode): void {
  fs.mkdirSync(path.join(runDir, OUTPUT_DIR), { recursive: true });
  fs.writeFileSync(path.join(runDir, RUN_FILES.sandboxJson), JSON.stringify({ mode: 'none', taskMode, at: new Date().toISOString() }));
}
