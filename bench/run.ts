// `npm run bench`: runs every area's benchmark that exists, each printing ratios against a baseline
// measured in the same run. `npm run bench -- ledger hub` runs only those.
import * as fs from 'node:fs';
import * as path from 'node:path';

const AREAS: [name: string, file: string, fn: string][] = [
  ['ledger', 'ledger', 'benchLedger'],
  ['hub', 'hub', 'benchHub'],
  ['runners', 'runners', 'benchRunners'],
  ['replication', 'replication', 'benchReplication'],
  ['screening', 'screening', 'benchScreening'],
  ['evaluation', 'evaluation', 'benchEvaluation'],
  ['attack', 'attack', 'benchAttack'],
  ['extension', 'extension', 'benchExtension'],
  ['fleet', 'fleet', 'benchFleet'],
  ['attention', 'attention', 'benchAttention'],
  ['demo', 'demo', 'benchDemo'],
];

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  for (const [name, file, fn] of AREAS) {
    if (only.length && !only.includes(name)) continue;
    if (!fs.existsSync(path.join(__dirname, `${file}.ts`))) continue;
    const mod = (await import(`./${file}`)) as Record<string, () => Promise<void>>;
    if (typeof mod[fn] !== 'function') continue;
    await mod[fn]!();
  }
}
main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
