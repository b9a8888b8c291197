// Hub benchmarks. Load comes from a second process (this file forked, driving autocannon's API) so the
// generator does not share the hub's event loop.
//  1. Agent request mixes (reads only; propose+read) against the hub, and against a bare node:http
//     server answering the same JSON bodies in the same run (the ratio is the framework+auth+validation cost).
//  2. Event latency from ledger append to an SSE client (p50/p99).
//  3. A push of a typical proposal commit (12 files) over smart HTTP into the hub (receive checks included)
//     and the proposal after it, against `git push` of the same commits to a plain local bare repository.
import { execFile, fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { createFleet } from '../src/hub/fleetSetup';
import { readSse } from '../src/hub/client';
import { startHub } from '../src/hub/server';

interface LoadSpec {
  url: string;
  connections: number;
  duration: number;
  requests: { method: string; path: string; headers?: Record<string, string>; body?: string }[];
}

interface LoadResult {
  reqPerSec: number;
  p50: number;
  p99: number;
  total: number;
  non2xx: number;
  errors: number;
}

const CHILD_FLAG = 'OVERSEER_HUB_BENCH_CHILD';

async function childMain(): Promise<void> {
  const spec = JSON.parse(process.env.OVERSEER_HUB_BENCH_SPEC!) as LoadSpec;
  const spec2 = 'autocannon'; // untyped module: a variable specifier keeps tsc from requiring declarations
  const mod = (await import(spec2)) as { default: (o: unknown) => Promise<Record<string, any>> };
  const autocannon = mod.default;
  const r = await autocannon({ url: spec.url, connections: spec.connections, duration: spec.duration, requests: spec.requests });
  const out: LoadResult = {
    reqPerSec: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    total: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors,
  };
  process.send!(out);
}

if (process.env[CHILD_FLAG] === '1') {
  childMain().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}

function load(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, [], {
      execArgv: ['--import=tsx'],
      env: { ...process.env, [CHILD_FLAG]: '1', OVERSEER_HUB_BENCH_SPEC: JSON.stringify(spec) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result: LoadResult | undefined;
    child.on('message', (m) => (result = m as LoadResult));
    child.on('error', reject);
    child.on('exit', (code) => (result ? resolve(result) : reject(new Error(`load generator exited with ${code}`))));
  });
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const fmt = (r: LoadResult) =>
  `${Math.round(r.reqPerSec)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms (${r.total} requests, ${r.non2xx} non-2xx, ${r.errors} errors)`;

export async function benchHub(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-hub-'));
  const agents = Array.from({ length: 4 }, (_, i) => ({ id: `aar-${i + 1}`, direction: 'bench' }));
  const setup = await createFleet(dir, { name: 'bench', agents, budgets: { gpuHours: 1e9 }, files: { 'train.py': 'print(1)\n' }, config: { maxOpenProposals: 0 } }); // load, not a fleet's pace
  const hub = await startHub({ fleetDir: dir, heartbeatMs: 60_000 });
  const tokens = agents.map((a) => hub.createToken({ kind: 'agent', id: a.id }));
  await hub.idle();
  const duration = Number(process.env.HUB_BENCH_SECONDS ?? 8);
  const connections = Number(process.env.HUB_BENCH_CONNECTIONS ?? 32);
  try {
    // Some state to read.
    const a1 = tokens[0]!;
    const auth = (t: string) => ({ authorization: `Bearer ${t}` });
    const json = { 'content-type': 'application/json' };
    const commit = setup.agents[0]!.head;
    const proposeBody = JSON.stringify({
      commit,
      command: 'python train.py',
      title: 'bench',
      rationale: 'load',
      resources: { gpus: 0, gpuHours: 0, timeLimitMinutes: 5 },
      taskMode: 'normal',
    });
    const res0 = await fetch(`${hub.url}/api/experiments`, { method: 'POST', headers: { ...auth(a1), ...json }, body: proposeBody });
    const x = (await res0.json()) as { id: string };
    for (let i = 0; i < 20; i++) {
      await fetch(`${hub.url}/api/findings/share`, { method: 'POST', headers: { ...auth(tokens[i % 4]!), ...json }, body: JSON.stringify({ summary: `finding ${i} about pseudo labels`, pgr: i / 40 }) });
    }
    await hub.service.idle();

    const reads = [
      { method: 'GET', path: `/api/experiments/${x.id}`, headers: auth(a1) },
      { method: 'GET', path: '/api/inbox?after=0', headers: auth(a1) },
      { method: 'GET', path: '/api/findings?limit=10', headers: auth(a1) },
      { method: 'GET', path: '/api/experiments', headers: auth(a1) },
      { method: 'GET', path: '/api/whoami', headers: auth(a1) },
    ];
    // Baseline: the same bodies from a bare node:http server.
    const bodies = new Map<string, string>();
    for (const r of reads) bodies.set(r.path, await (await fetch(`${hub.url}${r.path}`, { headers: r.headers })).text());
    const bodyOfPropose = await (await fetch(`${hub.url}/api/experiments/${x.id}`, { headers: auth(a1) })).text();
    const bare = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const b = req.method === 'POST' ? bodyOfPropose : bodies.get(req.url ?? '');
        res.writeHead(b ? 200 : 404, { 'content-type': 'application/json; charset=utf-8' });
        res.end(b ?? '{}');
      });
    });
    await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
    const bareUrl = `http://127.0.0.1:${(bare.address() as { port: number }).port}`;

    // Mix with proposals: 1 propose per 20 requests (agents mostly read: inbox polls, forum, own experiments).
    const mix = [...reads, ...reads, ...reads, ...reads.slice(0, 4), { method: 'POST', path: '/api/experiments', headers: { ...auth(a1), ...json }, body: proposeBody }];

    console.log(`hub: ${connections} connections x ${duration}s per run, load from a forked autocannon process, ${os.cpus().length} CPUs`);
    const baseReads = await load({ url: bareUrl, connections, duration, requests: reads });
    const hubReads = await load({ url: hub.url, connections, duration, requests: reads });
    console.log(`  reads   bare node:http : ${fmt(baseReads)}`);
    console.log(`  reads   hub            : ${fmt(hubReads)}  -> ${(hubReads.reqPerSec / baseReads.reqPerSec).toFixed(2)}x of bare`);
    const baseMix = await load({ url: bareUrl, connections, duration, requests: mix });
    const before = hub.service.state.experiments.size;
    const hubMix = await load({ url: hub.url, connections, duration, requests: mix });
    await new Promise((r) => setTimeout(r, 2000)); // proposals still in flight when the generator stopped
    await hub.service.idle();
    const proposed = hub.service.state.experiments.size - before;
    console.log(`  propose+read (1:19) bare: ${fmt(baseMix)}`);
    console.log(`  propose+read (1:19) hub : ${fmt(hubMix)}  -> ${(hubMix.reqPerSec / baseMix.reqPerSec).toFixed(2)}x of bare; ${proposed} proposals pinned`);
    const listBytes = (await (await fetch(`${hub.url}/api/experiments`, { headers: auth(a1) })).text()).length;
    console.log(`  (the agent's GET /api/experiments grew to ${hub.service.state.experimentsOf('aar-1').length} experiments, ${Math.round(listBytes / 1024)} KB, during the mix; the bare server answers the 1-experiment body)`);
    const goal = (name: string, r: LoadResult, base: LoadResult) =>
      console.log(
        `  target ${name} >= 2000 req/s at p99 < 20 ms: ${r.reqPerSec >= 2000 && r.p99 < 20 ? 'met' : 'NOT met'} (${Math.round(r.reqPerSec)} req/s, p99 ${r.p99} ms; same-run bare node:http ${Math.round(base.reqPerSec)} req/s, p99 ${base.p99} ms -> ${(r.reqPerSec / base.reqPerSec).toFixed(2)}x)`,
      );
    goal('reads', hubReads, baseReads);
    goal('propose+read (1:19)', hubMix, baseMix);
    await new Promise<void>((r) => bare.close(() => r()));
    // Proposal latency alone (git resolution of the pinned commit dominates: one git process per lookup).
    const pl: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      const r = await fetch(`${hub.url}/api/experiments`, { method: 'POST', headers: { ...auth(a1), ...json }, body: proposeBody });
      await r.text();
      pl.push(performance.now() - t0);
    }
    pl.sort((p, q) => p - q);
    console.log(`  single proposal (sequential, 10): p50 ${quantile(pl, 0.5).toFixed(1)} ms, max ${pl[pl.length - 1]!.toFixed(1)} ms`);
    await hub.service.idle();

    // Event latency: ledger append -> SSE client.
    const ac = new AbortController();
    const res = await fetch(`${hub.url}/api/events?after=${hub.service.ledger.lastSeq}`, { headers: auth(tokens[1]!), signal: ac.signal });
    const sent = new Map<string, number>();
    const lat: number[] = [];
    const N = 500;
    const reading = (async () => {
      try {
        for await (const m of readSse(res.body!, ac.signal)) {
          if (m.event !== 'ledger') continue;
          const e = JSON.parse(m.data) as { type: string; data: { summary?: string } };
          const t = e.data.summary ? sent.get(e.data.summary) : undefined;
          if (t !== undefined) lat.push(performance.now() - t);
          if (lat.length >= N) break;
        }
      } catch {
        /* aborted */
      }
    })();
    await new Promise((r) => setTimeout(r, 100));
    for (let i = 0; i < N; i++) {
      const summary = `latency probe ${i}`;
      sent.set(summary, performance.now());
      void hub.service.post({ kind: 'agent', id: 'aar-3' }, { title: 'probe', summary });
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 5)); // bursts of 10
    }
    const deadline = Date.now() + 20_000;
    while (lat.length < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    await reading;
    lat.sort((p, q) => p - q);
    console.log(
      `  event latency append->SSE client (fsync included): p50 ${quantile(lat, 0.5).toFixed(2)} ms, p99 ${quantile(lat, 0.99).toFixed(2)} ms over ${lat.length} events (target p99 < 100 ms: ${quantile(lat, 0.99) < 100 ? 'met' : 'NOT met'})`,
    );

    await benchPush(hub.url, tokens[3]!, 'aar-4', dir);
  } finally {
    await hub.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function git(cwd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('git', args, { cwd, env: { PATH: process.env.PATH!, HOME: cwd, GIT_TERMINAL_PROMPT: '0', GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@x', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@x' } }, (err, out, se) =>
      err ? reject(new Error(`${args.join(' ')}: ${se}`)) : resolve(out),
    ),
  );
}

export async function benchPush(url: string, token: string, agentId: string, dir: string): Promise<void> {
  const N = Number(process.env.HUB_BENCH_PUSHES ?? 30);
  const clone = path.join(dir, 'bench-clone');
  const plain = path.join(dir, 'bench-plain.git');
  const auth = ['-c', `http.extraHeader=Authorization: Bearer ${token}`];
  await git(dir, [...auth, 'clone', '-q', `${url}/git/${agentId}.git`, clone]);
  await git(dir, ['init', '-q', '--bare', plain]);
  await git(clone, ['push', '-q', plain, 'HEAD:refs/heads/main']);
  const hubPush: number[] = [];
  const plainPush: number[] = [];
  const propose: number[] = [];
  for (let i = 0; i < N; i++) {
    for (let f = 0; f < 12; f++) {
      const file = path.join(clone, `src/module${f}.py`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, `# module ${f}\n` + Array.from({ length: 200 }, (_, k) => `value_${k} = ${(i * 7 + k * f) % 1000}\n`).join(''));
    }
    await git(clone, ['add', '-A']);
    await git(clone, ['commit', '-q', '-m', `proposal ${i}`]);
    const sha = (await git(clone, ['rev-parse', 'HEAD'])).trim();
    let t0 = performance.now();
    await git(clone, ['push', '-q', plain, 'HEAD:refs/heads/research']);
    plainPush.push(performance.now() - t0);
    t0 = performance.now();
    await git(clone, [...auth, 'push', '-q', 'origin', 'HEAD:refs/heads/research']);
    hubPush.push(performance.now() - t0);
    t0 = performance.now();
    const r = await fetch(`${url}/api/experiments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ commit: sha, command: 'python train.py', title: `push ${i}`, rationale: 'bench', resources: { gpus: 0, gpuHours: 0, timeLimitMinutes: 5 }, taskMode: 'normal' }),
    });
    if (!r.ok) throw new Error(`propose after push: ${r.status} ${await r.text()}`);
    propose.push(performance.now() - t0);
  }
  for (const a of [hubPush, plainPush, propose]) a.sort((p, q) => p - q);
  const q = (a: number[]) => `p50 ${quantile(a, 0.5).toFixed(1)} ms, p99 ${quantile(a, 0.99).toFixed(1)} ms`;
  console.log(`  push of a 12-file proposal commit, ${N} pushes:`);
  console.log(`    git push to a plain local bare repository : ${q(plainPush)}`);
  console.log(`    git push to the hub over smart HTTP       : ${q(hubPush)}  -> ${(quantile(hubPush, 0.5) / quantile(plainPush, 0.5)).toFixed(2)}x of plain at p50`);
  console.log(`    the proposal of the pushed commit         : ${q(propose)}`);
}
