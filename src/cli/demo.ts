// `overseer demo`: a demo fleet (9 agents, nine directions, the real weak-to-strong codebase and digits dataset of
// fixtures/w2s-demo), the hub on a fixed port dispatching approved experiments to confined local runs (or to the
// Slurm runner with --slurm), the deterministic simulator acting as the agents, and code-server with the Overseer extension and the fleet open.
// Prints each start-up step with its time, then the URL to open. The agents keep working, one proposal across the
// fleet every 20–40 s (sweeps among them), until the demo is stopped or their budgets run out. Ctrl-C stops
// everything (code-server runs in its own process group) and leaves the fleet as it was: the next start resumes it.
// scripts/demo.sh builds the VSIX and installs code-server first, then runs this.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEMO_POLICY } from '../core/policy';
import { startHub, type Hub } from '../hub/server';
import { agentIdFor } from '../fleet/directions';
import { startDiversityMonitor } from '../fleet/diversityMonitor';
import { defaultDirectionsFile, prepareSimulatedFleet, simulateFleet } from '../fleet/simulator';
import { parseCommand } from './args';

const USAGE = [
  'usage: overseer demo [--fleet .fleet-demo/fleet] [--fresh] [--port 8787] [--cs-port 8080] [--vsix overseer.vsix]',
  '                     [--code-server .tools/code-server/node_modules/code-server/out/node/entry.js] [--no-browser] [--slurm]',
  '                     [--seed 1] [--pace 20-40] [--interval-ms 5000] [--steps N]',
  '  --fresh           start a new fleet (default: resume the one in --fleet)',
  '  --port 0          any free port for the hub (printed)',
  '  --no-browser      no code-server: print the hub URL and how to open the fleet in your own VS Code (alias --no-code-server)',
  '  --pace MIN-MAX    seconds between the fleet\'s proposals (default 20-40); answers to your decisions come at once',
  '  --interval-ms N   time between the agents\' rounds (forum activity, reading results; default 5000)',
  '  --steps N         stop the agents after N rounds (default: until Ctrl-C or their budgets run out)',
].join('\n');

/** `[ 12.3 s] ...`: time since the demo started (scripts/demo.sh passes its own start in OVERSEER_DEMO_T0). */
const T0 = Number(process.env.OVERSEER_DEMO_T0) > 0 ? Number(process.env.OVERSEER_DEMO_T0) : Date.now();
function step(msg: string): void {
  process.stdout.write(`[${((Date.now() - T0) / 1000).toFixed(1).padStart(5)} s] ${msg}\n`);
}

function parsePace(v: string | undefined): [number, number] {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:-\s*(\d+(?:\.\d+)?))?\s*$/.exec(v ?? '20-40');
  const lo = m ? Number(m[1]) : NaN;
  const hi = m ? Number(m[2] ?? m[1]) : NaN;
  if (!(lo >= 0 && hi >= lo)) throw new Error(`--pace must be seconds MIN-MAX (e.g. 20-40), got ${JSON.stringify(v)}`);
  return [lo * 1000, hi * 1000];
}

function fail(msg: string): number {
  process.stderr.write(`overseer demo: ${msg}\n`);
  return 1;
}

function port(v: string | undefined, dflt: number, name: string, allowAny = false): number {
  const n = v === undefined ? dflt : Number(v);
  if (!Number.isInteger(n) || n < (allowAny ? 0 : 1) || n > 65535) throw new Error(`--${name} must be a TCP port${allowAny ? ' (0: any free one)' : ''}, got ${JSON.stringify(v)}`);
  return n;
}

async function waitHttp(url: string, ms: number, child: ChildProcess): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (child.exitCode !== null) return false;
    try {
      if ((await fetch(url)).ok) return true;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/** Point the demo fleet's runners at the CI Slurm cluster (scripts/slurm.sh env), if it is up; else an error. */
function useSlurmRunner(fleetDir: string): string | undefined {
  let env = '';
  try {
    env = execFileSync('bash', [path.resolve('scripts', 'slurm.sh'), 'env'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '--slurm: scripts/slurm.sh env failed (start the cluster with `bash scripts/slurm.sh install && bash scripts/slurm.sh start`)';
  }
  const m = /SLURM_CONF=(\S+)/.exec(env);
  if (!m || !fs.existsSync(m[1]!.replace(/^["']|["']$/g, ''))) return '--slurm: no Slurm cluster found (scripts/slurm.sh env names no slurm.conf)';
  process.env.SLURM_CONF = m[1]!.replace(/^["']|["']$/g, '');
  try {
    execFileSync('sinfo', ['-h'], { stdio: 'ignore', env: process.env });
  } catch {
    return '--slurm: sinfo failed: is the cluster started (bash scripts/slurm.sh start)?';
  }
  const file = path.join(fleetDir, 'fleet.json');
  const cfg = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  cfg.runners = [{ name: 'slurm', type: 'slurm', maxConcurrent: 2, gpus: 0, slurmConf: process.env.SLURM_CONF }];
  fs.writeFileSync(file, JSON.stringify(cfg, null, 2) + '\n');
  process.stdout.write(`--slurm: approved experiments run on the Slurm cluster (${process.env.SLURM_CONF})\n`);
  return undefined;
}

/** The demo's approval policy, written into fleet.json for a human to apply (policies are off until a human sets
 * one: `overseer policy set --from-fleet-json`, or "Overseer: Load Approval Policy from fleet.json"). */
function writeDemoPolicy(fleetDir: string): void {
  const file = path.join(fleetDir, 'fleet.json');
  const cfg = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  if (cfg.approvalPolicy !== undefined) return; // a human's edit of a kept fleet wins
  cfg.approvalPolicy = { rules: DEMO_POLICY.rules, auditShare: DEMO_POLICY.auditShare };
  fs.writeFileSync(file, JSON.stringify(cfg, null, 2) + '\n');
}

export async function demoCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(
    argv,
    {
      fleet: { type: 'string' },
      fresh: { type: 'boolean' },
      port: { type: 'string' },
      'cs-port': { type: 'string' },
      vsix: { type: 'string' },
      'code-server': { type: 'string' },
      'no-code-server': { type: 'boolean' },
      'no-browser': { type: 'boolean' },
      pace: { type: 'string' },
      seed: { type: 'string' },
      steps: { type: 'string' },
      'interval-ms': { type: 'string' },
      slurm: { type: 'boolean' },
    },
    USAGE,
  );
  if (typeof parsed === 'number') return parsed;
  const a = parsed.values;
  const fleetDir = path.resolve(a.fleet ?? path.join('.fleet-demo', 'fleet'));
  const demoRoot = path.dirname(fleetDir);
  let hubPort: number, csPort: number, pace: [number, number];
  try {
    hubPort = port(a.port, 8787, 'port', true);
    csPort = port(a['cs-port'], 8080, 'cs-port');
    pace = parsePace(a.pace);
  } catch (err) {
    return fail((err as Error).message);
  }
  const noBrowser = !!(a['no-browser'] || a['no-code-server']);
  const seed = Number(a.seed ?? 1);
  const intervalMs = Number(a['interval-ms'] ?? 5000);
  const steps = a.steps === undefined ? Infinity : Number(a.steps);
  if (![seed, intervalMs].every((x) => Number.isInteger(x) && x >= 0) || !(steps === Infinity || (Number.isInteger(steps) && steps >= 0))) return fail('--seed, --steps and --interval-ms must be non-negative integers');
  const agents = 9;

  if (a.fresh) fs.rmSync(fleetDir, { recursive: true, force: true });
  const resuming = fs.existsSync(path.join(fleetDir, 'ledger.jsonl'));
  step(resuming ? `fleet: resuming the demo fleet in ${fleetDir} (--fresh starts a new one)` : `fleet: creating the demo fleet in ${fleetDir} (9 agents, their sandbox repositories, the digits dataset)`);
  await prepareSimulatedFleet(fleetDir, { agents, seed, directionsFile: defaultDirectionsFile(), name: 'w2s-demo', transfer: true });
  writeDemoPolicy(fleetDir);
  if (a.slurm) {
    const err = useSlurmRunner(fleetDir);
    if (err) return fail(err);
  }

  step('hub: starting (screening, dispatch to confined local runs)');
  let hub: Hub;
  try {
    hub = await startHub({ fleetDir, host: '127.0.0.1', port: hubPort, dispatch: true, onWarning: (m) => process.stderr.write(`hub: ${m}\n`) });
  } catch (err) {
    return fail(`cannot start the hub on 127.0.0.1:${hubPort}: ${(err as Error).message} (is another demo running? use --port)`);
  }
  const monitor = startDiversityMonitor(hub.service, { everyDocs: agents });
  const humanToken = hub.createToken({ kind: 'human', id: 'demo-reviewer' });
  const tokens: Record<string, string> = {};
  for (let i = 0; i < agents; i++) tokens[agentIdFor(i)] = hub.createToken({ kind: 'agent', id: agentIdFor(i) });
  await hub.idle();
  const tokenFile = path.join(demoRoot, 'human-token.txt');
  fs.writeFileSync(tokenFile, `${humanToken}\n`, { mode: 0o600 });

  const controller = new AbortController();
  let cs: ChildProcess | undefined;
  const killCs = () => {
    if (cs?.pid && cs.exitCode === null) {
      try {
        process.kill(-cs.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
  };
  process.on('exit', killCs);
  const onSignal = () => {
    process.stdout.write(`\nstopping the demo; the fleet stays in ${fleetDir} and the next \`npm run demo\` resumes it (--fresh starts over) ...\n`);
    controller.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  step(`hub: ${hub.url} serving fleet ${JSON.stringify(hub.service.state.name)}`);
  try {
    let workbench: string | undefined;
    if (!noBrowser) {
      const entry = path.resolve(a['code-server'] ?? path.join('.tools', 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js'));
      if (!fs.existsSync(entry)) return fail(`code-server not found at ${entry}; run scripts/e2e-setup.sh (or pass --no-code-server)`);
      const csDir = path.join(demoRoot, 'code-server');
      const userData = path.join(csDir, 'user-data');
      const exts = path.join(csDir, 'extensions');
      fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
      fs.writeFileSync(path.join(csDir, 'config.yaml'), 'auth: none\ncert: false\n');
      const settingsFile = path.join(userData, 'User', 'settings.json');
      let settings: Record<string, unknown> = {};
      try {
        settings = JSON.parse(fs.readFileSync(settingsFile, 'utf8')) as Record<string, unknown>;
      } catch {
        /* new */
      }
      Object.assign(settings, { 'overseer.hubUrl': hub.url, 'overseer.humanName': 'demo-reviewer', 'workbench.startupEditor': 'none', 'security.workspace.trust.enabled': false, 'git.openRepositoryInParentFolders': 'never' });
      fs.writeFileSync(settingsFile, JSON.stringify(settings, null, 2));
      const csArgs = [entry, '--config', path.join(csDir, 'config.yaml'), '--user-data-dir', userData, '--extensions-dir', exts];
      const env = { ...process.env, EXTENSIONS_GALLERY: '{}', XDG_DATA_HOME: path.join(csDir, 'xdg-data'), OVERSEER_HUB_URL: hub.url, OVERSEER_HUB_TOKEN: humanToken };
      if (a.vsix) {
        // The same VSIX as last time (by content) is installed already: a warm start skips the install.
        const vsix = path.resolve(a.vsix);
        const digest = createHash('sha256').update(fs.readFileSync(vsix)).digest('hex');
        const marker = path.join(csDir, 'installed-vsix.sha256');
        const have = fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8').trim() : '';
        if (have === digest && fs.existsSync(exts) && fs.readdirSync(exts).some((d) => d.startsWith('overseer-dev.overseer'))) step('code-server: the Overseer extension is installed already (same VSIX)');
        else {
          step(`code-server: installing the Overseer extension (${path.basename(vsix)}) into the demo's own code-server profile`);
          execFileSync(process.execPath, [...csArgs, '--force', '--install-extension', vsix], { stdio: ['ignore', 'ignore', 'inherit'], env });
          fs.writeFileSync(marker, `${digest}\n`);
        }
      }
      step(`code-server: starting on 127.0.0.1:${csPort}`);
      cs = spawn(
        process.execPath,
        [...csArgs, '--bind-addr', `127.0.0.1:${csPort}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', fleetDir],
        { detached: true, stdio: ['ignore', 'ignore', 'inherit'], env },
      );
      workbench = `http://127.0.0.1:${csPort}/?folder=${encodeURIComponent(fleetDir)}`;
      if (!(await waitHttp(`http://127.0.0.1:${csPort}/healthz`, 60_000, cs))) return fail(`code-server did not start on port ${csPort}`);
      step('code-server: up');
    }

    process.stdout.write(
      [
        '',
        '================ Overseer demo ================',
        `hub:          ${hub.url}   (fleet ${JSON.stringify(hub.service.state.name)}, 9 agents)`,
        workbench ? `open:         ${workbench}` : 'code-server:  not started (--no-browser)',
        `human token:  ${humanToken}`,
        `              (also in ${tokenFile}; in VS Code run "Overseer: Set Hub Token" and paste it once)`,
        '',
        `${workbench ? 'Your own VS Code instead' : 'Open it in your own VS Code'}: \`code --install-extension ${a.vsix ? path.resolve(a.vsix) : 'dist-vsix/overseer-<version>.vsix (npm run package)'}\`,`,
        `set "overseer.hubUrl" to ${hub.url} and run "Overseer: Set Hub Token" with the token above; or stop this demo`,
        `and open ${fleetDir} as a folder, which starts an embedded hub on it.`,
        '',
        `The simulator now acts as 9 agents: a proposal across the fleet every ${pace[0] / 1000}–${pace[1] / 1000} s (sweeps and gaming among them),`,
        'forum posts and votes in between, until Ctrl-C or their GPU budgets run out.',
        `Review them in the Overseer sidebar: what you approve runs (${a.slurm ? 'Slurm' : 'confined local runs'}), scores`,
        'through its job token and fills the leaderboard; the agents read the results and adapt. Ctrl-C stops everything.',
        `Approval policy: off. fleet.json holds the demo's rule (${DEMO_POLICY.rules[0]!.expr});`,
        `apply it with "Overseer: Load Approval Policy from fleet.json" or \`overseer policy set --from-fleet-json --fleet ${fleetDir}\`.`,
        '================================================',
        '',
      ].join('\n'),
    );
    const sim = simulateFleet({
      fleetDir,
      agents,
      seed,
      steps,
      hub: { url: hub.url, tokens },
      intervalMs,
      pace: { proposalMs: pace, activity: 0.2 },
      sweeps: 0.5,
      signal: controller.signal,
      log: (l) => process.stdout.write(`${l}\n`),
    });
    await sim.catch((err) => process.stderr.write(`simulator stopped: ${(err as Error).message}\n`));
    if (!controller.signal.aborted) {
      process.stdout.write(`the agents stopped (${Number.isFinite(steps) ? `--steps ${steps}` : 'their budgets are spent'}); the hub${cs ? ' and code-server keep' : ' keeps'} running. Ctrl-C stops ${cs ? 'them' : 'it'}.\n`);
      await new Promise<void>((r) => controller.signal.addEventListener('abort', () => r(), { once: true }));
    }
    return 0;
  } finally {
    killCs();
    monitor.stop();
    await hub.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
