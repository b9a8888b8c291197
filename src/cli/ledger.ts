import * as fs from 'node:fs';
import * as path from 'node:path';
import { LEDGER_FILE, verifyLedgerFile } from '../core/ledger';

/** `overseer ledger verify <fleet-dir|ledger.jsonl>`: exit 0 if the chain is intact, 2 naming the first bad seq. */
export async function ledgerCommand(argv: string[]): Promise<number> {
  const [sub, target] = argv;
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write('usage: overseer ledger verify <fleet-dir>\n');
    return 0;
  }
  if (sub !== 'verify' || !target) {
    process.stderr.write('usage: overseer ledger verify <fleet-dir>\n');
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
