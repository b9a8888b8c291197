// Running runner commands (sbatch, squeue, scancel, ...) without a shell: locally via execFile, or on a remote
// login node through `ssh host -- <argv>`. ssh joins the remote argv into one string for the remote shell, so
// every word is single-quoted here; the argv building is pure and unit-tested.
import { execFile } from 'node:child_process';

export interface CommandTarget {
  /** `user@host` or an ssh config alias; undefined = run locally. */
  sshHost?: string;
  /** Extra environment for local execution (e.g. SLURM_CONF). */
  env?: Record<string, string>;
}

/** Quote one word for a POSIX shell. */
export function shQuote(s: string): string {
  if (s === '') return "''";
  if (/^[A-Za-z0-9_\-.,:/=@%+]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The argv that runs `cmd args...` on the target. Remote env assignments are passed with `env K=V`. */
export function buildArgv(target: CommandTarget, cmd: string, args: readonly string[]): { file: string; args: string[] } {
  if (!target.sshHost) return { file: cmd, args: [...args] };
  if (target.sshHost.startsWith('-')) throw new Error(`invalid ssh host ${JSON.stringify(target.sshHost)}`);
  const envWords = Object.entries(target.env ?? {}).map(([k, v]) => shQuote(`${k}=${v}`));
  const remote = [...(envWords.length ? ['env', ...envWords] : []), shQuote(cmd), ...args.map(shQuote)];
  return {
    file: 'ssh',
    args: ['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=15', '-T', target.sshHost, '--', remote.join(' ')],
  };
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

export class CommandError extends Error {
  constructor(
    readonly argv: string[],
    readonly result: ExecResult,
  ) {
    super(`${argv.join(' ').slice(0, 200)} exited ${result.code}: ${(result.stderr || result.stdout).trim().slice(0, 500)}`);
    this.name = 'CommandError';
  }
}

/** Run a command on the target; never throws for a non-zero exit (check `code`), throws if it cannot start. */
export function runCommand(
  target: CommandTarget,
  cmd: string,
  args: readonly string[],
  opts: { timeoutMs?: number; input?: string; maxBuffer?: number } = {},
): Promise<ExecResult> {
  const { file, args: argv } = buildArgv(target, cmd, args);
  const env = target.sshHost ? process.env : { ...process.env, ...(target.env ?? {}) };
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      argv,
      { env, timeout: opts.timeoutMs ?? 60_000, maxBuffer: opts.maxBuffer ?? 64 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err && typeof (err as NodeJS.ErrnoException).code === 'string') {
          reject(new Error(`cannot run ${file}: ${err.message}`));
          return;
        }
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
        resolve({ stdout, stderr: err && (err as { killed?: boolean }).killed ? `${stderr}\n(timed out)` : stderr, code });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Run and throw CommandError on a non-zero exit. */
export async function runChecked(target: CommandTarget, cmd: string, args: readonly string[], opts?: { timeoutMs?: number; input?: string }): Promise<string> {
  const r = await runCommand(target, cmd, args, opts);
  if (r.code !== 0) throw new CommandError([cmd, ...args], r);
  return r.stdout;
}
