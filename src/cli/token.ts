// `overseer token create --fleet D (--agent ID | --human ID)`: print a new bearer token once. The token's
// sha256 goes to <fleet>/tokens.json (0600); `auth.token_created` goes to the ledger (by this process, or
// by the running hub that owns the ledger).
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { Actor } from '../core/model';
import { FleetService } from '../core/service';
import { TokenStore } from '../hub/auth';
import { runningHub } from '../hub/server';

const USAGE = 'usage: overseer token create --fleet <dir> (--agent <id> | --human <id>)\n       overseer token list --fleet <dir>\n       overseer token revoke --fleet <dir> --id <token-id>';

export async function tokenCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let a;
  try {
    a = parseArgs({
      args: rest,
      options: { fleet: { type: 'string' }, agent: { type: 'string' }, human: { type: 'string' }, id: { type: 'string' } },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 1;
  }
  if (!a.fleet || !['create', 'list', 'revoke'].includes(sub ?? '')) {
    process.stderr.write(`${USAGE}\n`);
    return 1;
  }
  const dir = path.resolve(a.fleet);
  const store = new TokenStore(dir);
  if (sub === 'list') {
    for (const t of store.records()) process.stdout.write(`${t.id}\t${t.principal.kind}:${t.principal.id}\t${t.createdAt}${t.revoked ? '\trevoked' : ''}\n`);
    return 0;
  }
  const hub = runningHub(dir);
  if (sub === 'revoke') {
    if (!a.id || !store.revoke(a.id)) {
      process.stderr.write(`no active token ${JSON.stringify(a.id ?? '')}\n`);
      return 1;
    }
    if (!hub) await withService(dir, (s) => s.append('auth.token_revoked', { kind: 'system', id: 'overseer-cli' }, { tokenId: a.id! }));
    process.stdout.write(`revoked ${a.id}\n`);
    return 0;
  }
  if (!!a.agent === !!a.human) {
    process.stderr.write(`name exactly one of --agent or --human\n${USAGE}\n`);
    return 1;
  }
  const principal: Actor = a.agent ? { kind: 'agent', id: a.agent } : { kind: 'human', id: a.human! };
  if (!hub) {
    // No hub owns the ledger: check the agent exists, then record the event ourselves.
    const ok = await withService(dir, async (s) => {
      if (principal.kind === 'agent' && !s.state.agent(principal.id)) {
        process.stderr.write(`no agent ${JSON.stringify(principal.id)} in fleet ${JSON.stringify(s.state.name)}\n`);
        return false;
      }
      const { token, record } = store.create(principal);
      await s.append('auth.token_created', { kind: 'system', id: 'overseer-cli' }, { principal, tokenId: record.id });
      process.stdout.write(`${token}\n`);
      return true;
    });
    return ok ? 0 : 1;
  }
  const { token } = store.create(principal);
  process.stdout.write(`${token}\n`);
  process.stderr.write(`(the running hub at ${hub.url} records the token in the ledger)\n`);
  return 0;
}

async function withService<T>(dir: string, fn: (s: FleetService) => Promise<T>): Promise<T> {
  const s = await FleetService.open(dir);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}
