// `overseer hub --fleet D [--port P] [--host H] [--init --name N [--agents a,b]] [--dispatch]`: run the hub
// standalone until SIGINT/SIGTERM, then close cleanly (ledger flushed, snapshot written).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LEDGER_FILE } from '../core/ledger';
import { createFleet } from '../hub/fleetSetup';
import { runningHub, startHub } from '../hub/server';
import { parseCommand } from './args';

const USAGE = 'usage: overseer hub --fleet <dir> [--port <p>] [--host <h>] [--init --name <fleet-name> [--agents id1,id2]] [--dispatch [--public-url <url jobs use>]] [--no-screen]';

export async function hubCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(
    argv,
    {
      fleet: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      init: { type: 'boolean' },
      name: { type: 'string' },
      agents: { type: 'string' },
      dispatch: { type: 'boolean' },
      'no-screen': { type: 'boolean' },
      'public-url': { type: 'string' },
    },
    USAGE,
    { required: ['fleet'] },
  );
  if (typeof parsed === 'number') return parsed;
  const a = parsed.values;
  const port = a.port === undefined ? 0 : Number(a.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`invalid --port ${JSON.stringify(a.port)}\n`);
    return 1;
  }
  const dir = path.resolve(a.fleet);
  const other = runningHub(dir);
  if (other && other.pid !== process.pid) {
    process.stderr.write(`a hub (pid ${other.pid}) already serves ${dir} at ${other.url}\n`);
    return 1;
  }
  const hasLedger = fs.existsSync(path.join(dir, LEDGER_FILE)) && fs.statSync(path.join(dir, LEDGER_FILE)).size > 0;
  let firstToken = false;
  if (!hasLedger) {
    if (!a.init || !a.name) {
      process.stderr.write(`${dir} holds no fleet; create one with --init --name <fleet-name> [--agents id1,id2]\n`);
      return 1;
    }
    const agents = (a.agents ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((id) => ({ id, direction: '' }));
    await createFleet(dir, { name: a.name, agents });
    firstToken = true;
  } else if (a.init) {
    process.stderr.write(`${dir} already holds a fleet; --init ignored\n`);
  }
  if (a['public-url'] !== undefined && !/^https?:\/\/[^\s/]+(\/\S*)?$/.test(a['public-url'])) {
    process.stderr.write(`invalid --public-url ${JSON.stringify(a['public-url'])} (expected http(s)://host[:port])\n`);
    return 1;
  }
  const hub = await startHub({ fleetDir: dir, host: a.host, port, dispatch: !!a.dispatch, screen: !a['no-screen'], publicUrl: a['public-url'] });
  process.stdout.write(`overseer hub: fleet ${JSON.stringify(hub.service.state.name)} listening on ${hub.url}\n`);
  if (firstToken || !hub.tokens.records().some((t) => t.principal.kind === 'human' && !t.revoked)) {
    const t = hub.createToken({ kind: 'human', id: 'admin' });
    process.stdout.write(`human token for "admin" (shown once): ${t}\n`);
  }
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      process.stdout.write(`overseer hub: ${sig}, closing\n`);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve();
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
  await hub.close();
  process.stdout.write('overseer hub: closed\n');
  return 0;
}
