// Child process for the crash test: appends events as fast as it can, in concurrent groups, and prints
// "ack <seq> <hash>" for every append that resolved (i.e. was acknowledged as durable).
import { Ledger } from '../../../src/core/ledger';

async function main(): Promise<void> {
  const dir = process.argv[2]!;
  const ledger = await Ledger.open(dir, { onWarning: (m) => process.stderr.write(`warn ${m}\n`) });
  process.stdout.write(`ready ${ledger.lastSeq}\n`);
  let i = 0;
  for (;;) {
    const group = 1 + (i % 37);
    const ps = [];
    for (let k = 0; k < group; k++, i++) {
      ps.push(
        ledger
          .append('forum.commented', { kind: 'agent', id: `aar-${i % 9}` }, { postId: `f-${i % 100}`, commentId: `c-${process.pid}-${i}`, content: `comment ${i} ✓ ${'x'.repeat(i % 200)}` })
          .then((e) => process.stdout.write(`ack ${e.seq} ${e.hash}\n`)),
      );
    }
    await Promise.all(ps);
  }
}
void main();
