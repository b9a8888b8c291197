// CI smoke test of the README: every command it lists (fenced bash/sh blocks, and inline `npm …` / `overseer …` /
// `npx overseer …` spans) is classified and, where cheap, run for real:
//   - `overseer` commands: `<command> --help` for every one; every reviewer command (status … audit flag, sweep
//     approve, ledger verify, token create, eval resume) also exactly as written, in README order, against a live
//     demo fleet (`overseer demo --no-browser`: its hub, its simulated agents proposing, sweeps among them), with real
//     ids substituted for the placeholders (./fleet, exp-7, the commit 39f9bcff, <sweep>, aar-3, http://hub:8787,
//     reviewer.token), through the package's own bin (`npx --no-install overseer`); no output may show a newline
//     as a `<U+000A>` marker;
//   - `npm run <script>`: the script must exist; cheap ones run; long-running services are skipped with a reason;
//   - anything the test does not recognise fails it, so a new README command cannot go unchecked.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as net from 'node:net';
import * as os from 'node:os';
import type { Experiment } from '../../../src/core/model';
import { HubClient } from '../../../src/hub/client';
import { runningHub } from '../../../src/hub/server';

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
/** `overseer` commands run exactly as the README writes them (on the demo fleet, ids substituted) when they name a
 * fleet or hub. The rest run as `--help`: they start long-running services or need an API key (hub, fleet start,
 * agent-proxy, demo), or are prose mentions without arguments. */
const AS_WRITTEN = new Set(['status', 'queue', 'show', 'diff', 'approve', 'veto', 'request-changes', 'runs', 'logs', 'leaderboard', 'sweep', 'policy', 'audit', 'ledger', 'token', 'eval']);
/** Reviewer commands that need a state the live demo fleet does not reach by itself in a few minutes: run as --help
 * here, and as written against a real hub by the suite named. */
const COVERED_ELSEWHERE: Record<string, string> = {
  agent: 'needs an open agent episode (the demo fleet runs without episodes); run as written by test/integration/cli/agentCli.test.ts',
  accept: 'needs a flagged proposal whose run has succeeded; run as written by test/integration/cli/human.test.ts',
};
const LONG_RUNNING: Record<string, string> = {
  hub: 'a long-running hub (the demo runs one)',
  'agent-proxy': 'a long-running forwarder',
  fleet: 'runs Claude agents (needs an Anthropic API key)',
  demo: 'the demo itself (this test runs it)',
  screen: 'needs a patch and an experiment file (test/integration/screening covers it)',
};

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

/** A free TCP port on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(p));
    });
  });
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms: number, demoOut: () => string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}; the demo printed:\n${demoOut().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('README commands (CI smoke test, on a live demo fleet)', function () {
  // about 25 commands through npx against a live fleet: a few minutes on an idle machine, far more on a loaded one
  this.timeout(1_500_000);
  const outcomes: Outcome[] = [];
  const listed = readmeCommands(fs.readFileSync(README, 'utf8'));
  let tmp: string;
  let fleetDir: string;
  let demo: ReturnType<typeof spawn> | undefined;
  let demoOut = '';
  let hubUrl: string;
  let humanToken: string;
  let tokenFile: string;
  let human: HubClient;

  before(async () => {
    ensureBundle();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-readme-'));
    fleetDir = path.join(tmp, 'fleet');
    // The demo as a newcomer starts it (without code-server), paced fast: a proposal across the fleet every 1–2 s.
    demo = spawn(process.execPath, ['dist/cli.js', 'demo', '--no-browser', '--fresh', '--fleet', fleetDir, '--port', String(await freePort()), '--interval-ms', '300', '--pace', '1-2'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    demo.stdout!.on('data', (d) => (demoOut += d));
    demo.stderr!.on('data', (d) => (demoOut += d));
    const lock = await until('the demo hub (hub.json)', async () => demo!.exitCode === null && runningHub(fleetDir), 120_000, () => demoOut);
    hubUrl = lock.url;
    tokenFile = path.join(tmp, 'human-token.txt');
    humanToken = (await until('the demo human token', async () => fs.existsSync(tokenFile) && fs.readFileSync(tokenFile, 'utf8').trim(), 30_000, () => demoOut)) as string;
    human = new HubClient(hubUrl, humanToken);
  });
  after(async () => {
    if (demo && demo.exitCode === null) {
      demo.kill('SIGINT');
      await new Promise((r) => {
        const t = setTimeout(() => (demo!.kill('SIGKILL'), r(undefined)), 20_000);
        demo!.once('exit', () => (clearTimeout(t), r(undefined)));
      });
    }
    const by = (h: Outcome['how']) => outcomes.filter((o) => o.how === h);
    console.log(`    README: ${listed.length} commands listed; ${by('ran').length} ran as written, ${by('help').length} ran as --help, ${by('skipped').length} skipped`);
    for (const o of by('skipped')) console.log(`      skipped README:${o.listed.line} \`${o.part ?? o.listed.text}\`: ${o.why}`);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true, maxRetries: 5, retryDelay: 500 });
  });

  it('lists the commands it documents (sanity: the extraction finds the CLI section)', () => {
    assert.ok(listed.length >= 20, `only ${listed.length} commands found`);
    for (const c of ['status', 'queue', 'show', 'diff', 'approve', 'veto', 'request-changes', 'runs', 'logs', 'leaderboard', 'sweep approve', 'ledger verify']) {
      assert.ok(listed.some((l) => new RegExp(`overseer ${c}\\b`).test(l.text)), `README lists no overseer ${c}`);
    }
  });

  it('the VSIX path the README names is the one npm run package writes', () => {
    const md = fs.readFileSync(README, 'utf8');
    assert.ok(md.includes(`code --install-extension dist-vsix/${pkg.name}-${pkg.version}.vsix`), 'README install line names dist-vsix/<name>-<version>.vsix');
    const script = fs.readFileSync(path.join(ROOT, pkg.scripts.package!.split(' ').pop()!), 'utf8');
    assert.match(script, /OUT="\$\{1:-\$ROOT\/dist-vsix\/\$NAME-\$VERSION\.vsix\}"/);
  });

  it('runs every command the README lists on the demo fleet as written (or its --help), skipping only long-running services', async () => {
    const out = () => demoOut;
    // ---- what the live fleet offers, picked as each command needs it (each decision takes one out of the queue)
    const used = new Set<string>();
    const open = async (): Promise<Experiment[]> => {
      const t = await human.triage();
      const inSweep = new Set(t.sweeps.flatMap((s) => s.experimentIds));
      // newest first: an agent at its cap supersedes its oldest proposal, which would end it under the command
      return t.experiments.filter((x) => x.state === 'awaiting_review' && !used.has(x.id) && !inSweep.has(x.id) && !x.screening?.gaming && x.risk?.level !== 'critical').sort((a, b) => b.proposedSeq - a.proposedSeq);
    };
    const takeOpen = async (what: string): Promise<Experiment> => {
      const x = await until(`a proposal awaiting review for ${what}`, async () => (await open())[0], 180_000, out);
      used.add(x.id);
      return x;
    };
    let approved: Experiment | undefined;
    let shown: Experiment | undefined;
    const forCommand = async (cmd: string, sub: string | undefined): Promise<Record<string, string>> => {
      if (cmd === 'show' || cmd === 'diff') {
        shown ??= await until('a screened proposal', async () => (await human.triage()).experiments.find((x) => x.state === 'awaiting_review'), 180_000, out);
        return { 'exp-7': shown.id };
      }
      if (cmd === 'approve') {
        approved = await takeOpen('approve');
        return { 'exp-7': approved.id, '39f9bcff': approved.commit.slice(0, 8) };
      }
      if (cmd === 'veto' || cmd === 'request-changes') return { 'exp-7': (await takeOpen(cmd)).id };
      if (cmd === 'logs') {
        assert.ok(approved, 'logs -f follows the run of the experiment approved above');
        return { 'exp-7': approved.id };
      }
      if (cmd === 'sweep') {
        const sw = await until(
          'an open sweep without a flagged or critical member',
          async () => {
            const t = await human.triage();
            const byId = new Map(t.experiments.map((x) => [x.id, x]));
            return [...t.sweeps].reverse().find((s) => s.experimentIds.every((i) => byId.get(i)?.state === 'awaiting_review' && !byId.get(i)?.screening?.gaming && byId.get(i)?.risk?.level !== 'critical'));
          },
          180_000,
          out,
        );
        for (const i of sw.experimentIds) used.add(i);
        return { 'exp-7': sw.id, '<sweep>': sw.id };
      }
      if (cmd === 'audit' && sub === 'flag') {
        // the policy set by the README's `policy set` approves the next low-risk proposal by itself
        const a = await until('an automatic approval of the policy set above', async () => (await human.policy()).lastHour.find((q) => !q.audit), 180_000, out);
        return { 'exp-7': a.experimentId };
      }
      if (cmd === 'eval') {
        // the agent a probing alert suspended if there is one, else the demo's probing agent (resume is then a no-op)
        const st = (await human.evaluationStatus()) as { agents?: { agentId: string; suspended: unknown; probing?: unknown[] }[] };
        const s = st.agents?.find((a) => a.suspended) ?? st.agents?.find((a) => a.probing?.length) ?? st.agents?.[0];
        assert.ok(s, 'GET /api/evaluation/status lists the agents');
        return { '<agent>': s.agentId };
      }
      return {};
    };
    const fixed: Record<string, string> = { './fleet': fleetDir, '<fleet>': fleetDir, '<fleet-dir>': fleetDir, 'http://hub:8787': hubUrl, URL: hubUrl, 'reviewer.token': tokenFile, T: humanToken, 'aar-3': 'agent-3' };

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
          if (LONG_RUNNING[cmd]) {
            outcomes.push({ listed: l, part, how: 'help', why: LONG_RUNNING[cmd] });
            continue;
          }
          if (COVERED_ELSEWHERE[cmd]) {
            outcomes.push({ listed: l, part, how: 'help', why: COVERED_ELSEWHERE[cmd] });
            continue;
          }
          // A command that names what it acts on runs as written; a bare mention in prose (`overseer queue`,
          // `overseer policy show|set|off|enable <rule>`) runs as --help.
          const names = rest.some((w) => w === '--fleet' || w === '--hub') || ((cmd === 'status' || cmd === 'ledger') && rest.some((w) => /fleet/.test(w)));
          if (!AS_WRITTEN.has(cmd) || !names || rest.some((w) => w.includes('|'))) {
            if (!AS_WRITTEN.has(cmd)) failures.push(`${where}: a command the smoke test does not know; run it as written or say why it cannot`);
            else outcomes.push({ listed: l, part, how: 'help' });
            continue;
          }
          let subst: Record<string, string>;
          try {
            subst = { ...fixed, ...(await forCommand(cmd, rest[0])) };
          } catch (err) {
            failures.push(`${where}: ${(err as Error).message}`);
            continue;
          }
          const args = [cmd, ...rest].map((w) => subst[w] ?? w);
          const t0 = Date.now();
          const r = await exec('npx', ['--no-install', 'overseer', ...args], env, 180_000);
          if (process.env.OVERSEER_TEST_VERBOSE) console.log(`      README:${l.line} overseer ${args.join(' ')} → exit ${r.code} in ${Date.now() - t0} ms`);
          if (r.code !== 0) {
            failures.push(`${where}: exit ${r.code} (ran: overseer ${args.join(' ')})\n${(r.stderr || r.stdout).slice(-1000)}`);
            continue;
          }
          if (/<U\+000A>/.test(r.stdout)) failures.push(`${where}: prints a newline as a <U+000A> marker:\n${r.stdout.split('\n').find((x) => x.includes('<U+000A>'))!.slice(0, 300)}`);
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
    const ran = outcomes.filter((o) => o.how === 'ran').map((o) => o.part ?? o.listed.text);
    for (const c of ['sweep approve', 'approve', 'veto', 'request-changes', 'logs', 'audit flag', 'policy set', 'ledger verify', 'eval resume']) {
      assert.ok(ran.some((t) => new RegExp(`overseer ${c}\\b`).test(t)), `overseer ${c} ran as written on the demo fleet`);
    }
    // what the decisions did, read back from the hub: the approved one ran, the sweep's members are decided
    const x = await human.getExperiment(approved!.id);
    assert.ok(['running', 'succeeded', 'scored', 'failed', 'dispatched'].includes(x.state), `${x.id} was approved and dispatched (now ${x.state})`);
  });
});
