import * as fs from 'node:fs';
import * as path from 'node:path';
import { LEDGER_FILE, verifyLedgerFile } from '../core/ledger';
import { parseCommand } from './args';

const USAGE = 'usage: overseer ledger verify (--fleet <fleet-dir> | <fleet-dir> | <ledger.jsonl>)    (default: $OVERSEER_FLEET)';

/** `overseer ledger verify --fleet <dir>` (or the directory or ledger file as its argument, like `status`): exit 0
 * if the chain is intact, 2 naming the first bad seq, 1 when there is nothing to verify. */
export async function ledgerCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (sub !== 'verify') {
    process.stderr.write(`overseer ledger: ${sub === undefined ? 'missing subcommand' : `unknown subcommand ${JSON.stringify(sub)}`}\n${USAGE}\n`);
    return 1;
  }
  const p = parseCommand(rest, { fleet: { type: 'string' } }, USAGE, { allowPositionals: true });
  if (typeof p === 'number') return p;
  if (p.positionals.length > 1 || (p.positionals.length === 1 && p.values.fleet !== undefined)) {
    process.stderr.write(`overseer ledger verify: name one fleet (--fleet <dir> or <dir>)\n${USAGE}\n`);
    return 1;
  }
  const target = p.values.fleet ?? p.positionals[0] ?? process.env.OVERSEER_FLEET;
  if (!target) {
    process.stderr.write(`overseer ledger verify: name a fleet directory (--fleet <dir>, or OVERSEER_FLEET)\n${USAGE}\n`);
    return 1;
  }
  const file = fs.existsSync(target) && fs.statSync(target).isDirectory() ? path.join(target, LEDGER_FILE) : target;
  if (!fs.existsSync(file)) {
    process.stderr.write(`overseer ledger verify: no ledger at ${file}\n`);
    return 1;
  }
  const r = verifyLedgerFile(file);
  if (r.ok) {
    process.stdout.write(`ok: ${r.events} events, head ${r.headHash}\n`);
    return 0;
  }
  process.stdout.write(`BAD at seq ${r.badSeq}: ${r.why} (${r.events} good events before it)\n`);
  return 2;
}
