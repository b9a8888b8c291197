// `overseer eval status|resume`: a human's view of agents' evaluation access on a running hub, and lifting a
// probing suspension (recorded in the ledger as `eval.resumed`, attributed to the human the token names).
import * as fs from 'node:fs';
import { HubClient } from '../hub/client';
import { parseCommand } from './args';

const USAGE = [
  'usage: overseer eval status --hub URL [--token T | --token-file F]',
  '       overseer eval resume <agent-id> --hub URL [--token T | --token-file F] [--note "what you checked"]',
  '            A probing alert suspends an agent\'s evaluation access until a human resumes it. The token is a human',
  '            token (default: env OVERSEER_TOKEN or OVERSEER_HUB_TOKEN); --token-file as for the other commands.',
].join('\n');

interface AgentEval {
  agentId: string;
  suspended: { dataset: string; split: string; since: string; seq: number; nearDuplicates: number | null } | null;
  lastResumed: { by: string; at: string; note?: string } | null;
}

export async function evalCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (sub !== 'status' && sub !== 'resume') {
    process.stderr.write(`${sub === undefined ? 'missing subcommand' : `unknown subcommand ${JSON.stringify(sub)}`}\n${USAGE}\n`);
    return 1;
  }
  const p = parseCommand(rest, { hub: { type: 'string' }, token: { type: 'string' }, 'token-file': { type: 'string' }, note: { type: 'string' } }, USAGE, { required: ['hub'], allowPositionals: sub === 'resume' });
  if (typeof p === 'number') return p;
  let token = p.values.token;
  if (p.values['token-file'] !== undefined) {
    try {
      token = fs.readFileSync(p.values['token-file'], 'utf8').trim();
    } catch (err) {
      process.stderr.write(`cannot read --token-file: ${(err as Error).message}\n`);
      return 1;
    }
  }
  token ||= process.env.OVERSEER_TOKEN?.trim() || process.env.OVERSEER_HUB_TOKEN;
  if (!token) {
    process.stderr.write(`a human token is required (--token T or env OVERSEER_HUB_TOKEN)\n${USAGE}\n`);
    return 1;
  }
  const client = new HubClient(p.values.hub, token);
  if (sub === 'status') {
    const st = (await client.evaluationStatus()) as { agents?: AgentEval[] };
    for (const a of st.agents ?? []) {
      const s = a.suspended;
      const line = s
        ? `SUSPENDED since ${s.since} (probing suspected on ${s.dataset}/${s.split}, alert #${s.seq})`
        : `ok${a.lastResumed ? ` (resumed by ${a.lastResumed.by} at ${a.lastResumed.at})` : ''}`;
      process.stdout.write(`${a.agentId}\t${line}\n`);
    }
    return 0;
  }
  if (p.positionals.length !== 1) {
    process.stderr.write(`resume takes exactly one agent id\n${USAGE}\n`);
    return 1;
  }
  const agentId = p.positionals[0]!;
  await client.resumeEvaluation(agentId, p.values.note);
  process.stdout.write(`evaluation access of ${agentId} resumed\n`);
  return 0;
}
