// CI smoke test of the README: every command it lists (fenced bash/sh blocks, and inline `npm …` / `overseer …` /
// `npx overseer …` spans) is classified and, where cheap, run for real:
//   - `overseer` commands: `<command> --help` for every one; the read-only ones (status, queue, show, diff, runs, logs,
//     leaderboard, policy show, audit list, ledger verify) also exactly as written, against a real hub fixture (placeholders such as ./fleet,
//     exp-7, http://hub:8787 mapped onto it), through the package's own bin (`npx --no-install overseer`);
//   - `npm run <script>`: the script must exist; cheap ones run; long-running services are skipped with a reason;
//   - anything the test does not recognise fails it, so a new README command cannot go unchecked.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startHubFixture, type HubFixture } from '../../support/hubFixture';

const ROOT = path.resolve(__dirname, '../../..');
const README = path.join(ROOT, 'README.md');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; scripts: Record<string, string> };

/** npm scripts that start long-running services, install system software or run suites: not run here. */
const SKIP_SCRIPTS: Record<string, string> = {
  demo: 'long-running: a hub, the simulator and code-server until interrupted (covered by the e2e suites)',
  e2e: 'drives code-server in Chromium for minutes; needs npm run e2e:setup',
  'e2e:setup': 'downloads and installs code-server and Chromium',
  'test:exthost': 'starts code-server with mocha inside the extension host',
  'slurm:up': 'installs and starts a Slurm cluster (system services)',
  'slurm:down': 'stops the Slurm cluster',
  bench: 'benchmarks take minutes; npm run attack (one of them) runs here',
  package: 'a production build into dist/ and vsce; the path the README names is checked statically below',
  test: 'the test suite itself',
  'test:unit': 'the test suite itself',
  'test:integration': 'the test suite itself',
};
/** Cheap npm scripts run for real (a few seconds each). */
const RUN_SCRIPTS = new Set(['attack']);
/** `overseer` commands that only read: run exactly as the README writes them. Others run as `--help`. */
const READ_ONLY = new Set(['status', 'queue', 'show', 'diff', 'runs', 'logs', 'leaderboard']);
/** Commands with subcommands: the read-only subcommands, run as written too. */
const READ_ONLY_SUB: Record<string, string[]> = { policy: ['show'], audit: ['list'] };

interface Listed {
  line: number;
  text: string;
}

/** Commands of the README: lines of bash/sh code blocks and inline code spans that start like a command. */
function readmeCommands(md: string): Listed[] {
  const out: Listed[] = [];
  const lines = md.split('\n');
  let fence: string | undefined;
  for (const [i, raw] of lines.entries()) {
    const m = /^\s*```(\S*)/.exec(raw);
    if (m) {
      fence = fence === undefined ? m[1]! : undefined;
      continue;
    }
    if (fence !== undefined) {
      if (/^(bash|sh|shell|console)$/.test(fence) && raw.trim() && !raw.trim().startsWith('#')) out.push({ line: i + 1, text: raw.trim() });
      continue;
    }
    for (const span of raw.matchAll(/`([^`]+)`/g)) {
      const t = span[1]!.trim();
      if (/^(npm (ci|test|run)\b|npx overseer\b|overseer [a-z])/.test(t)) out.push({ line: i + 1, text: t });
    }
  }
  return out;
}

/** The simple commands of a `a && b` list (an `&&` inside quotes belongs to its word). */
function andList(s: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quote = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '&' && s[i + 1] === '&') {
      parts.push(cur.trim());
      cur = '';
      i++;
      continue;
    }
    cur += c;
  }
  parts.push(cur.trim());
  return parts;
}

/** Shell words of one simple command: '…' and "…" quoting, a trailing # comment dropped. */
function words(s: string): string[] {
  const w: string[] = [];
  let cur = '';
  let any = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "'" || c === '"') {
      const j = s.indexOf(c, i + 1);
      assert.ok(j > i, `unbalanced quote in ${s}`);
      cur += s.slice(i + 1, j);
      any = true;
      i = j;
    } else if (/\s/.test(c)) {
      if (any) w.push(cur);
      cur = '';
      any = false;
    } else if (c === '#' && !any) {
      break;
    } else {
      cur += c;
      any = true;
    }
  }
  if (any) w.push(cur);
  return w;
}

interface Outcome {
  listed: Listed;
  /** The simple command (one side of an &&). */
  part?: string;
  how: 'ran' | 'help' | 'skipped';
  why?: string;
}

function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

/** dist/cli.js (the package's bin) is rebuilt when any source is newer, so the bundle under test is current. */
function ensureBundle(): void {
  const bin = path.join(ROOT, 'dist/cli.js');
  const built = fs.existsSync(bin) ? fs.statSync(bin).mtimeMs : 0;
  let newest = fs.statSync(path.join(ROOT, 'package.json')).mtimeMs;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
    }
  };
  walk(path.join(ROOT, 'src'));
  if (built >= newest) return;
  const r = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
  assert.equal(r.status, 0, `node esbuild.mjs failed\n${r.stdout}\n${r.stderr}`);
}

describe('README commands (CI smoke test)', function () {
  this.timeout(300_000);
  let fx: HubFixture;
  let expId: string;
  let tokenFile: string;
  const outcomes: Outcome[] = [];
  const listed = readmeCommands(fs.readFileSync(README, 'utf8'));

  before(async () => {
    ensureBundle();
    fx = await startHubFixture({ agents: 2 });
    // One experiment with a finished run and a log, so show / diff / logs -f / runs have something to print.
    const commit = await fx.commit('aar-1', { 'train.py': 'lr = 0.01\nprint("train")\n' }, 'lower the learning rate');
    const x = await fx.agent('aar-1').propose({ commit, command: 'python train.py', title: 'lower lr', rationale: 'smoke', resources: { gpus: 0, gpuHours: 1, timeLimitMinutes: 5 }, taskMode: 'normal' });
    await fx.hub.idle();
    await fx.human.approve(x.id, { commit: x.commit, tree: x.tree });
    const logPath = path.join(fx.dir, 'runs', x.id, 'job.log');
    fs.mkdirSync(path.dirname(logPath), { recursive: true });
    fs.writeFileSync(logPath, 'epoch 1 loss 0.5\n');
    await fx.service.markDispatched(x.id, { runner: 'local', jobId: 'job-1', commit: x.commit, tree: x.tree, logPath });
    await fx.service.markFinished(x.id, { state: 'succeeded', exitCode: 0 });
    await fx.hub.idle();
    expId = x.id;
    tokenFile = path.join(fx.dir, 'reviewer.token');
    fs.writeFileSync(tokenFile, `${fx.humanToken}\n`, { mode: 0o600 });
  });
  after(async () => {
    await fx?.close();
    const by = (h: Outcome['how']) => outcomes.filter((o) => o.how === h);
    console.log(`    README: ${listed.length} commands listed; ${by('ran').length} ran as written, ${by('help').length} ran as --help, ${by('skipped').length} skipped`);
    for (const o of by('skipped')) console.log(`      skipped README:${o.listed.line} \`${o.part ?? o.listed.text}\`: ${o.why}`);
  });

  it('lists the commands it documents (sanity: the extraction finds the CLI section)', () => {
    assert.ok(listed.length >= 20, `only ${listed.length} commands found`);
    for (const c of ['status', 'queue', 'show', 'diff', 'approve', 'veto', 'request-changes', 'runs', 'logs', 'leaderboard']) {
      assert.ok(listed.some((l) => new RegExp(`overseer ${c}\\b`).test(l.text)), `README lists no overseer ${c}`);
    }
  });

  it('the VSIX path the README names is the one npm run package writes', () => {
    const md = fs.readFileSync(README, 'utf8');
    assert.ok(md.includes(`code --install-extension dist-vsix/${pkg.name}-${pkg.version}.vsix`), 'README install line names dist-vsix/<name>-<version>.vsix');
    const script = fs.readFileSync(path.join(ROOT, pkg.scripts.package!.split(' ').pop()!), 'utf8');
    assert.match(script, /OUT="\$\{1:-\$ROOT\/dist-vsix\/\$NAME-\$VERSION\.vsix\}"/);
  });

  it('runs every command the README lists (or its --help), skipping only long-running services', async () => {
    const subst = (w: string): string =>
      ({ './fleet': fx.dir, '<fleet>': fx.dir, '<fleet-dir>': fx.dir, 'exp-7': expId, '<exp>': expId, 'http://hub:8787': fx.url, URL: fx.url, 'reviewer.token': tokenFile })[w] ?? w;
    const helpSeen = new Map<string, string>();
    const failures: string[] = [];
    for (const l of listed) {
      for (const part of andList(l.text)) {
        let argv = words(part);
        const env: Record<string, string> = {};
        while (argv[0] && /^[A-Z_][A-Z0-9_]*=/.test(argv[0])) {
          const [k, ...v] = argv.shift()!.split('=');
          env[k!] = v.join('=');
        }
        const where = `README:${l.line} \`${part}\``;
        if (argv[0] === 'npm') {
          if (argv[1] === 'ci') {
            outcomes.push({ listed: l, part, how: 'skipped', why: 'installs dependencies (done before the tests run)' });
            continue;
          }
          const script = argv[1] === 'test' ? 'test' : argv[1] === 'run' ? argv[2] : undefined;
          if (!script || !(script in pkg.scripts)) {
            failures.push(`${where}: no npm script ${JSON.stringify(script)} in package.json`);
            continue;
          }
          if (SKIP_SCRIPTS[script]) {
            outcomes.push({ listed: l, part, how: 'skipped', why: SKIP_SCRIPTS[script] });
            continue;
          }
          if (!RUN_SCRIPTS.has(script)) {
            failures.push(`${where}: the smoke test does not know whether npm run ${script} is cheap; classify it`);
            continue;
          }
          const r = await exec('npm', ['run', '-s', script, ...argv.slice(3)], env, 120_000);
          if (r.code !== 0) failures.push(`${where}: exit ${r.code}\n${r.stderr.slice(-2000)}`);
          else outcomes.push({ listed: l, part, how: 'ran' });
          continue;
        }
        if (argv[0] === 'npx' && argv[1] === 'overseer') argv = argv.slice(1);
        if (argv[0] === 'overseer') {
          const [cmd, ...rest] = argv.slice(1);
          if (!cmd) {
            failures.push(`${where}: no command`);
            continue;
          }
          if (!helpSeen.has(cmd)) {
            const h = await exec('npx', ['--no-install', 'overseer', cmd, '--help']);
            const text = h.stdout + h.stderr;
            if (h.code !== 0 || !/usage/i.test(h.stdout)) failures.push(`${where}: overseer ${cmd} --help exited ${h.code} (usage on stdout: ${/usage/i.test(h.stdout)})\n${text.slice(0, 500)}`);
            // no paragraph of a help text printed twice
            const paras = text.split(/\n\s*\n/).map((p) => p.trim()).filter((p) => p.length > 30);
            const dup = paras.find((p, i) => paras.indexOf(p) !== i);
            if (dup) failures.push(`${where}: overseer ${cmd} --help prints a paragraph twice: ${dup.slice(0, 80)}`);
            helpSeen.set(cmd, text);
          }
          // A read-only command that names what to read runs as written; a bare mention in prose runs as --help.
          const names = rest.includes('--fleet') || rest.includes('--hub');
          const readOnly =
            (READ_ONLY.has(cmd) && (names || (cmd === 'status' && rest.length > 0))) ||
            (cmd === 'ledger' && rest[0] === 'verify' && rest.length >= 2) ||
            ((READ_ONLY_SUB[cmd]?.includes(rest[0] ?? '') ?? false) && names);
          if (!readOnly) {
            outcomes.push({ listed: l, part, how: 'help' });
            continue;
          }
          const args = [cmd, ...rest].map(subst);
          const r = await exec('npx', ['--no-install', 'overseer', ...args], env);
          if (r.code !== 0) {
            failures.push(`${where}: exit ${r.code}\n${r.stderr.slice(-1000)}`);
            continue;
          }
          if (args.includes('--json')) {
            try {
              JSON.parse(r.stdout);
            } catch (err) {
              failures.push(`${where}: --json output does not parse: ${(err as Error).message}`);
              continue;
            }
          } else if (!r.stdout.trim()) failures.push(`${where}: printed nothing`);
          outcomes.push({ listed: l, part, how: 'ran' });
          continue;
        }
        if (argv[0] === 'code') {
          outcomes.push({ listed: l, part, how: 'skipped', why: 'needs a desktop VS Code' });
          continue;
        }
        if (argv[0] === 'git') {
          outcomes.push({ listed: l, part, how: 'skipped', why: 'an agent-side git example against a remote hub (pushes are covered by test/integration/git)' });
          continue;
        }
        failures.push(`${where}: a command the smoke test does not know; teach it (run it, or skip it with a reason)`);
      }
    }
    assert.deepEqual(failures, [], failures.join('\n\n'));
    assert.ok(outcomes.filter((o) => o.how === 'ran').length >= 10, 'at least the CLI section ran as written');
  });
});
