// Thousands of random malformed requests (bounded in count and time): no 5xx, no crash, ledger intact.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { verifyLedgerFile } from '../../../src/core/ledger';
import { mulberry32 } from '../../../src/evaluation/stats';
import { startHubFixture, type HubFixture } from '../../support/hubFixture';

const COUNT = Number(process.env.HUB_FUZZ_COUNT ?? 3000);
const TIME_BUDGET_MS = 40_000;
const CONCURRENCY = 16;

const ROUTES: [string, string][] = [
  ['POST', '/api/findings/share'],
  ['GET', '/api/findings/all'],
  ['GET', '/api/findings'],
  ['POST', '/api/findings/search'],
  ['GET', '/api/findings/:id'],
  ['POST', '/api/findings/:id/vote'],
  ['GET', '/api/findings/:id/comments'],
  ['POST', '/api/findings/:id/comments'],
  ['POST', '/api/findings/:id/verdict'],
  ['GET', '/api/leaderboard'],
  ['GET', '/api/snapshots/:id'],
  ['POST', '/api/evaluate-predictions'],
  ['POST', '/api/experiments'],
  ['GET', '/api/experiments'],
  ['GET', '/api/experiments/:id'],
  ['GET', '/api/inbox'],
  ['GET', '/api/whoami'],
  ['GET', '/api/fleet'],
  ['GET', '/api/agents'],
  ['GET', '/api/agents/:id'],
  ['GET', '/api/agents/:id/commits'],
  ['GET', '/api/experiments/:id/files'],
  ['GET', '/api/experiments/:id/diff'],
  ['GET', '/api/experiments/:id/content'],
  ['GET', '/api/experiments/:id/comments'],
  ['POST', '/api/experiments/:id/approve'],
  ['POST', '/api/experiments/:id/veto'],
  ['POST', '/api/experiments/:id/request-changes'],
  ['POST', '/api/experiments/:id/comments'],
  ['POST', '/api/experiments/:id/viewed'],
  ['POST', '/api/experiments/:id/cancel'],
  ['POST', '/api/agents/:id/budget'],
  ['POST', '/api/agents/:id/pause'],
  ['POST', '/api/agents/:id/charge'],
  ['POST', '/api/agents/:id/resume'],
  ['GET', '/api/audit'],
  ['GET', '/api/evaluation/status'],
  ['POST', '/api/evaluation/final'],
  ['GET', '/api/runs/:id/log'],
  ['POST', '/mcp'],
  ['PUT', '/api/experiments'],
  ['GET', '/api/../../etc/passwd'],
  ['GET', '/%ff%fe'],
];

const KEYS = ['commit', 'tree', 'title', 'summary', 'vote', 'content', 'reason', 'note', 'file', 'line', 'side', 'body', 'predictions', 'dataset', 'split', 'resources', 'taskMode', 'command', 'rationale', 'query', 'limit', 'gpuHours', 'verdict', 'viewed', '__proto__', 'constructor', 'jsonrpc', 'method', 'params', 'id'];

describe('hub fuzz', function () {
  this.timeout(120_000);
  let fx: HubFixture;
  let expId: string;
  let commit: string;
  let tree: string;
  before(async () => {
    fx = await startHubFixture({ agents: 2, hub: { bodyLimit: 32 * 1024 } });
    commit = await fx.commit('aar-1', { 'train.py': 'print(1)\n' });
    const x = await fx.agent('aar-1').propose({ commit, command: 'python train.py', title: 't', rationale: 'r', resources: { gpus: 1, gpuHours: 1, timeLimitMinutes: 5 }, taskMode: 'normal' });
    expId = x.id;
    tree = x.tree;
    await fx.agent('aar-2').shareFinding({ summary: 'seed finding' });
  });
  after(async () => {
    await fx?.close();
  });

  it(`survives ${COUNT} random malformed requests with no 5xx and an intact ledger`, async () => {
    const rnd = mulberry32(20260501);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const int = (n: number) => Math.floor(rnd() * n);
    const randStr = (max: number) => {
      const n = int(max);
      let s = '';
      for (let i = 0; i < n; i++) s += String.fromCodePoint(pick([0x41 + int(26), 0x30 + int(10), 0x2f, 0x2e, 0x22, 0x5c, 0x0, 0x1f600, 0xe9, 0x3c, 0x20, 0x0a]));
      return s;
    };
    const randValue = (depth = 0): unknown => {
      switch (int(depth > 2 ? 6 : 9)) {
        case 0: return null;
        case 1: return rnd() < 0.5;
        case 2: return pick([0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, 40, 1_000_000_000]);
        case 3: return randStr(40);
        case 4: return pick([commit, tree, expId, 'f-1', 'aar-1', 'aar-2', 'x'.repeat(5001), 'up', 'down', 'head', 'base', 'normal', 'train.py', '../x']);
        case 5: return pick(['', ' ', '0'.repeat(40), 'g'.repeat(40)]);
        case 6: return Array.from({ length: int(5) }, () => randValue(depth + 1));
        default: {
          const o: Record<string, unknown> = {};
          for (let i = int(6); i > 0; i--) o[pick(KEYS)] = randValue(depth + 1);
          return o;
        }
      }
    };
    const validish = (): Record<string, unknown> => {
      const base: Record<string, unknown> = pick([
        { commit, tree, reason: 'r' },
        { commit, command: 'c', title: 't', rationale: 'r', resources: { gpus: 1, gpuHours: 1, timeLimitMinutes: 5 }, taskMode: 'normal' },
        { summary: 's', pgr: 0.1 },
        { vote: 'up' },
        { content: 'c' },
        { file: 'train.py', line: 1, side: 'head', body: 'b' },
        { predictions: [0, 1], dataset: 'none' },
        { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_experiment', arguments: { id: expId } } },
      ]);
      // Mutate: drop, retype or add a field.
      const keys = Object.keys(base);
      const m = int(3);
      if (m === 0 && keys.length) delete base[pick(keys)];
      else if (m === 1 && keys.length) base[pick(keys)] = randValue(1);
      else base[pick(KEYS)] = randValue(1);
      return base;
    };
    const tokens = [fx.humanToken, fx.agentTokens['aar-1']!, fx.agentTokens['aar-2']!, 'garbage', ''];
    const ids = [expId, 'f-1', 'aar-1', 'aar-2', 'exp-9999', '..', '%2e%2e', 'a'.repeat(300), '%00', commit, '-rf', 'HEAD~1'];
    const queries = ['', '?after=-1', '?limit=abc', '?sort=top&limit=2', '?file=../../x', '?path=train.py&side=head', '?path=train.py&side=sideways', '?ref=--all', '?offset=1e99', '?dataset=' + 'x'.repeat(300), '?a=1&a=2', '?query=%ff'];

    const statuses = new Map<number, number>();
    const fivexx: string[] = [];
    const t0 = Date.now();
    let sent = 0;
    const one = async () => {
      const [method, route] = pick(ROUTES);
      const url = route.replace(':id', () => encodeURIComponent(pick(ids)).replace(/%25/g, '%')) + pick(queries);
      const headers: Record<string, string> = {};
      const tok = pick(tokens);
      if (tok) headers.authorization = `Bearer ${tok}`;
      let body: string | Buffer | undefined;
      if (method !== 'GET') {
        const kind = int(6);
        if (kind === 0) body = Buffer.from(Array.from({ length: int(200) }, () => int(256)));
        else if (kind === 1) body = JSON.stringify(randValue());
        else if (kind === 2) body = JSON.stringify(validish()).slice(0, int(60) + 1);
        else if (kind === 3) body = Buffer.concat([Buffer.from('{"summary":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]);
        else if (kind === 4) body = JSON.stringify({ summary: 'x'.repeat(40 * 1024) });
        else body = JSON.stringify(validish());
        headers['content-type'] = pick(['application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/jsonx']);
        if (route === '/mcp') headers.accept = 'application/json, text/event-stream';
      }
      const desc = `${method} ${url} ${typeof body === 'string' ? body.slice(0, 120) : body ? '<bytes>' : ''}`;
      try {
        const res = await fetch(`${fx.url}${url}`, { method, headers, body: typeof body === 'string' || body === undefined ? body : new Uint8Array(body), signal: AbortSignal.timeout(10_000) });
        await res.arrayBuffer();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status >= 500) fivexx.push(`${res.status} ${desc}`);
      } catch (err) {
        fivexx.push(`network error ${(err as Error).message} on ${desc}`);
      }
    };
    const worker = async () => {
      while (sent < COUNT && Date.now() - t0 < TIME_BUDGET_MS) {
        sent++;
        await one();
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    assert.ok(sent >= Math.min(COUNT, 500), `only ${sent} requests in the time budget`);
    assert.deepEqual(fivexx.slice(0, 10), [], `5xx or crashes: ${fivexx.length}`);
    // Mostly refusals, as intended.
    let four = 0;
    for (const [s, n] of statuses) if (s >= 400 && s < 500) four += n;
    assert.ok(four > sent / 2, JSON.stringify([...statuses]));
    // Still healthy, ledger intact.
    const me = await fx.human.whoami();
    assert.equal(me.actor.id, 'alice');
    await fx.hub.idle();
    const r = verifyLedgerFile(path.join(fx.dir, 'ledger.jsonl'));
    assert.ok(r.ok, r.why);
    assert.equal(r.events, fx.service.ledger.lastSeq);
  });
});
