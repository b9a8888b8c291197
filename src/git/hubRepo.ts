// Hub-owned code storage: one bare repository per agent under `<fleet>/git/<agent>.git`, whose config, hooks
// and attributes the hub alone writes. Code arrives in two ways, both through git's own receive-pack and the
// hub's pre-receive checks (receiveCheck.ts):
// - a push over smart HTTP (`/git/<agent>.git`, see hub/gitHttp.ts), for agents anywhere;
// - an import from a local working copy (the simulator, the Claude fleet runtime, the demo). No git process
//   ever reads the working copy: the hub reads its ref files itself, copies its objects into a scratch
//   repository of its own with a reader that follows no symlink, alternates file or .git file and checks every
//   object's hash (objectCopy.ts), and pushes the named commits from there into the agent's repository.
// Commits the human reviewed are pinned under refs/overseer/pins/, which agents cannot push to, so a force push
// never takes away what was approved. No vscode import.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GitExecError, runGit } from './exec';
import { copyObjects, type CopyReport, ObjectCopyError } from './objectCopy';
import { loadPushLimits } from './pushLimits';
import { asciiSafe } from './receiveCheck';

const SHA = /^[0-9a-f]{40}$/;

export class ImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportError';
  }
}

/** Where an agent's hub repository lives in a fleet directory. */
export function hubRepoPath(fleetDir: string, agentId: string): string {
  return path.join(fleetDir, 'git', `${agentId}.git`);
}

/** The hub's hooks directory for a fleet's repositories (only pre-receive). */
function hooksDir(reposDir: string): string {
  return path.join(reposDir, '.hooks');
}

/**
 * How the hook runs the check: the bundled dist/receiveHook.js (what an installed hub and `npm test` use), or,
 * in a source checkout whose bundle is missing or older than the sources, the TypeScript itself under tsx.
 */
function hookCommand(): string[] {
  // Next to the bundle that holds this code (dist/), or in the dist/ of a checkout above it (test bundles).
  const candidates = [path.join(__dirname, 'receiveHook.js')];
  for (let d = __dirname, i = 0; i < 6; i++, d = path.dirname(d)) candidates.push(path.join(d, 'dist', 'receiveHook.js'));
  const bundled = candidates.find((f) => fs.existsSync(f));
  const sources = ['receiveHook.ts', 'receiveCheck.ts', 'treeLinks.ts', 'exec.ts'].map((f) => path.join(__dirname, f)).filter((f) => fs.existsSync(f));
  const newest = Math.max(0, ...sources.map((f) => fs.statSync(f).mtimeMs));
  if (bundled && fs.statSync(bundled).mtimeMs >= newest) return [process.execPath, bundled];
  if (sources.length) {
    let loader: string | undefined;
    try {
      loader = require.resolve('tsx');
    } catch {
      loader = undefined;
    }
    if (loader) return [process.execPath, '--import', 'file://' + loader, path.join(__dirname, 'receiveHook.ts')];
  }
  if (bundled) return [process.execPath, bundled];
  throw new Error('the receive check (receiveHook.js) is missing from this installation');
}

const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Write (or refresh) the pre-receive hook for the repositories in `reposDir`; returns the hooks directory. */
export function ensureHooks(reposDir: string): string {
  const dir = hooksDir(reposDir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const script = `#!/bin/sh\n# Written by the Overseer hub: checks every push before any ref moves.\nELECTRON_RUN_AS_NODE=1 exec ${hookCommand().map(sh).join(' ')}\n`;
  const file = path.join(dir, 'pre-receive');
  if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== script) {
    fs.writeFileSync(file + '.tmp', script, { mode: 0o700 });
    fs.renameSync(file + '.tmp', file);
  }
  return dir;
}

const REPO_CONFIG: [string, string][] = [
  ['core.bare', 'true'],
  ['core.logAllRefUpdates', 'true'],
  ['receive.fsckObjects', 'true'],
  ['receive.denyNonFastForwards', 'false'],
  ['receive.denyDeletes', 'false'],
  ['receive.advertisePushOptions', 'false'],
  ['receive.maxInputSize', String(512 * 1024 * 1024)],
  ['transfer.fsckObjects', 'true'],
  ['http.receivepack', 'true'],
  ['http.uploadpack', 'true'],
  ['uploadpack.allowAnySHA1InWant', 'false'],
  ['gc.auto', '0'],
  ['gc.pruneExpire', 'never'],
  // Local pushes (imports) clear command-line config for receive-pack, so the repository names the hub's
  // hooks itself; relative to the repository, where git runs a bare repository's hooks.
  ['core.hooksPath', '../.hooks'],
];

/** Create the agent's bare repository if missing; (re)assert the hub's config. Idempotent. */
export async function ensureHubRepo(repo: string, opts: { branch?: string } = {}): Promise<void> {
  const parent = path.dirname(repo);
  fs.mkdirSync(parent, { recursive: true });
  ensureHooks(parent);
  if (!fs.existsSync(path.join(repo, 'HEAD'))) {
    await runGit(parent, ['init', '-q', '--bare', '-b', opts.branch ?? 'main', repo]);
    // No sample hooks, no description: nothing in this repository but what the hub put there.
    fs.rmSync(path.join(repo, 'hooks'), { recursive: true, force: true });
    fs.mkdirSync(path.join(repo, 'info'), { recursive: true });
    fs.writeFileSync(path.join(repo, 'info', 'attributes'), '* -text -filter -ident -working-tree-encoding -export-subst\n');
    const cfg = REPO_CONFIG.map(([k, v]) => {
      const [section, ...rest] = k.split('.');
      return { section: section!, key: rest.join('.'), v };
    });
    const bySection = new Map<string, string[]>();
    for (const c of cfg) bySection.set(c.section, [...(bySection.get(c.section) ?? []), `\t${c.key} = ${c.v}`]);
    const text = [...bySection].map(([s, lines]) => `[${s}]\n${lines.join('\n')}`).join('\n') + '\n[core]\n\trepositoryformatversion = 0\n';
    fs.writeFileSync(path.join(repo, 'config'), text, { mode: 0o600 });
  }
}

/** A pin name (an experiment id) and a full commit SHA: nothing else reaches refs/overseer/pins/. */
export function validPin(name: string, commit: string): boolean {
  return SHA.test(commit) && /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/.test(name) && !name.endsWith('.lock');
}

/** Pin a reviewed commit so it survives force pushes and deletions of the agent's branches. */
export async function pinCommit(repo: string, name: string, commit: string): Promise<void> {
  if (!validPin(name, commit)) throw new Error('invalid pin');
  // A loose ref written the way git writes one (temp file, rename): no process per proposal. The repository is the
  // hub's own, and nothing else writes under refs/overseer/.
  const dir = path.join(repo, 'refs', 'overseer', 'pins');
  await fs.promises.mkdir(dir, { recursive: true });
  const tmp = path.join(repo, `pin-${name}.${process.pid}.tmp`);
  await fs.promises.writeFile(tmp, commit + '\n');
  await fs.promises.rename(tmp, path.join(dir, name));
}

/** Branches of a working copy, read from its ref files (no git process runs there). Symlinks are refused. */
export function readWorkingCopyRefs(workdir: string): Map<string, string> {
  const gitDir = path.join(workdir, '.git');
  const st = lstatOrUndefined(gitDir);
  if (!st || !st.isDirectory()) throw new ImportError(`${workdir} has no .git directory of its own (a .git file or symlink is not accepted)`);
  const refs = new Map<string, string>();
  const packed = path.join(gitDir, 'packed-refs');
  const pst = lstatOrUndefined(packed);
  if (pst?.isFile()) {
    for (const line of fs.readFileSync(packed, 'utf8').split('\n')) {
      const m = /^([0-9a-f]{40}) (refs\/heads\/\S+)$/.exec(line);
      if (m) refs.set(m[2]!, m[1]!);
    }
  }
  const walk = (dir: string, prefix: string, depth: number) => {
    if (depth > 20) return;
    for (const name of fs.readdirSync(dir)) {
      const p = path.join(dir, name);
      const s = fs.lstatSync(p);
      if (s.isSymbolicLink()) throw new ImportError(`ref ${asciiSafe(prefix + name)} is a symlink; not importing`);
      if (s.isDirectory()) walk(p, `${prefix}${name}/`, depth + 1);
      else if (s.isFile() && !name.endsWith('.lock') && s.size <= 200) {
        const v = fs.readFileSync(p, 'utf8').trim();
        if (SHA.test(v)) refs.set(prefix + name, v);
      }
    }
  };
  const heads = path.join(gitDir, 'refs', 'heads');
  const hst = lstatOrUndefined(heads);
  if (hst?.isDirectory()) walk(heads, 'refs/heads/', 0);
  else if (hst) throw new ImportError(`${workdir}/.git/refs/heads is not a directory`);
  return refs;
}

function lstatOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch {
    return undefined;
  }
}

/** Branches of a hub repository. */
export async function hubBranches(repo: string): Promise<Map<string, string>> {
  const out = await runGit(repo, ['for-each-ref', '--format=%(objectname) %(refname)', 'refs/heads']);
  const m = new Map<string, string>();
  for (const l of out.split('\n')) {
    const [sha, ref] = l.split(' ');
    if (sha && ref) m.set(ref, sha);
  }
  return m;
}

const importLocks = new Map<string, Promise<unknown>>();

/**
 * Bring the branches of a local working copy into the agent's hub repository. Branches that already point at
 * the same commit are skipped; the rest go through receive-pack and the pre-receive checks, so a refused ref
 * raises ImportError with git's own message. Branches deleted in the working copy are kept in the hub.
 */
export async function importWorkingCopy(workdir: string, repo: string): Promise<{ updated: string[] }> {
  const prev = importLocks.get(repo) ?? Promise.resolve();
  const run = prev.then(
    () => doImport(workdir, repo),
    () => doImport(workdir, repo),
  );
  const tail = run.catch(() => undefined);
  importLocks.set(repo, tail);
  void tail.then(() => {
    if (importLocks.get(repo) === tail) importLocks.delete(repo);
  });
  return run;
}

async function doImport(workdir: string, repo: string): Promise<{ updated: string[] }> {
  const wst = lstatOrUndefined(workdir);
  if (wst?.isSymbolicLink()) throw new ImportError(`${workdir} is a symbolic link; not importing`);
  const src = readWorkingCopyRefs(workdir);
  const have = await hubBranches(repo);
  const todo = [...src].filter(([ref, sha]) => have.get(ref) !== sha);
  if (!todo.length) return { updated: [] };
  // The scratch repository: hub-owned config, no refs, its own objects only (copied in by the import reader,
  // which follows no symlink, alternates file or .git file and checks every object's hash; objectCopy.ts).
  const scratch = path.join(path.dirname(repo), '.import', path.basename(repo));
  if (!fs.existsSync(path.join(scratch, 'HEAD'))) {
    fs.mkdirSync(path.dirname(scratch), { recursive: true });
    await runGit(path.dirname(scratch), ['init', '-q', '--bare', scratch]);
    fs.rmSync(path.join(scratch, 'hooks'), { recursive: true, force: true });
  }
  // Scratch repositories of earlier releases borrowed the working copy's objects through alternates.
  fs.rmSync(path.join(scratch, 'objects', 'info', 'alternates'), { force: true });
  let copied: CopyReport;
  try {
    copied = await copyObjects(path.join(workdir, '.git'), `${workdir}/.git`, scratch, loadPushLimits(path.dirname(path.dirname(repo))));
  } catch (err) {
    if (err instanceof ObjectCopyError) throw new ImportError(err.message);
    throw err;
  }
  const hooks = ensureHooks(path.dirname(repo));
  const refspecs = todo.map(([ref, sha]) => `+${sha}:${ref}`);
  try {
    await runGit(scratch, ['push', '--porcelain', '--no-verify', '--quiet', path.resolve(repo), ...refspecs], { protocols: ['file'], hooksPath: hooks });
  } catch (err) {
    const se = err instanceof GitExecError ? err.stderr : (err as Error).message;
    const lines = se
      .split('\n')
      .map((l) => l.replace(/^remote:\s*/, '').trim())
      .filter((l) => l && !/^(To |error: failed to push)/.test(l));
    const hard = copied.hardLinked
      ? `; ${copied.hardLinked} object file${copied.hardLinked === 1 ? ' was' : 's were'} not read because ${copied.hardLinked === 1 ? 'it has' : 'they have'} more than one hard link (run \`git repack -a -d\` in the working copy)`
      : '';
    throw new ImportError(`push into the hub repository refused: ${lines.join('; ').slice(0, 2000)}${hard}`);
  }
  return { updated: todo.map(([ref]) => ref) };
}
