// Ledger benchmarks: durable appends/s with group commit vs a raw writeSync+fsyncSync per event of the same
// bytes (same run, same disk), and cold start of a 1M-event fleet with and without a snapshot.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { canonicalJson } from '../src/core/canonical';
import { GENESIS, LEDGER_FILE, Ledger, hashEvent } from '../src/core/ledger';
import { FleetService } from '../src/core/service';

const actor = { kind: 'agent' as const, id: 'aar-1' };
const data = (i: number) => ({ postId: `f-${i % 1000}`, commentId: `c-${i}`, content: `comment number ${i}` });

async function durableAppends(n: number, concurrency: number): Promise<{ perSec: number; syncs: number; lines: string[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-ledger-'));
  const l = await Ledger.open(dir);
  const t0 = performance.now();
  let i = 0;
  const worker = async () => {
    while (i < n) {
      const k = i++;
      await l.append('forum.commented', actor, data(k));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const secs = (performance.now() - t0) / 1000;
  await l.close();
  const lines = fs.readFileSync(path.join(dir, LEDGER_FILE), 'utf8').split('\n').filter(Boolean);
  fs.rmSync(dir, { recursive: true, force: true });
  return { perSec: n / secs, syncs: l.stats.syncs, lines };
}

function rawFsyncPerEvent(lines: string[]): number {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-raw-'));
  const fd = fs.openSync(path.join(dir, 'raw.jsonl'), 'a');
  const t0 = performance.now();
  for (const line of lines) {
    fs.writeSync(fd, line + '\n');
    fs.fsyncSync(fd);
  }
  const secs = (performance.now() - t0) / 1000;
  fs.closeSync(fd);
  fs.rmSync(dir, { recursive: true, force: true });
  return lines.length / secs;
}

/** Write a valid N-event ledger directly (fast), for load benchmarks. */
function writeBigLedger(dir: string, n: number): void {
  fs.mkdirSync(dir, { recursive: true });
  const fd = fs.openSync(path.join(dir, LEDGER_FILE), 'w');
  let prev = GENESIS;
  const ts = new Date('2026-11-25T00:00:00Z').toISOString();
  let chunk: string[] = [];
  for (let seq = 1; seq <= n; seq++) {
    const base = { seq, ts, type: 'forum.commented' as const, actor, data: data(seq), prev };
    const hash = hashEvent(base);
    chunk.push(canonicalJson({ ...base, hash }));
    prev = hash;
    if (chunk.length === 10_000) {
      fs.writeSync(fd, chunk.join('\n') + '\n');
      chunk = [];
    }
  }
  if (chunk.length) fs.writeSync(fd, chunk.join('\n') + '\n');
  fs.closeSync(fd);
}

export async function benchLedger(): Promise<void> {
  console.log('\n== ledger ==');
  const n = 20_000;
  const grouped = await durableAppends(n, 256);
  const raw = rawFsyncPerEvent(grouped.lines.slice(0, 2000));
  console.log(`durable appends, group commit (256 concurrent writers): ${grouped.perSec.toFixed(0)} events/s, ${grouped.syncs} fsyncs for ${n} events`);
  console.log(`baseline: writeSync+fsyncSync per event, same bytes:      ${raw.toFixed(0)} events/s`);
  console.log(`ratio group commit / per-event fsync: ${(grouped.perSec / raw).toFixed(1)}x   (target >= 20000 events/s: ${grouped.perSec >= 20_000 ? 'met' : 'NOT met'})`);

  const big = Number(process.env.BENCH_LEDGER_EVENTS ?? 1_000_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-load-'));
  let t0 = performance.now();
  writeBigLedger(dir, big);
  console.log(`wrote a ${big}-event ledger (${(fs.statSync(path.join(dir, LEDGER_FILE)).size / 1e6).toFixed(0)} MB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  t0 = performance.now();
  let svc = await FleetService.open(dir);
  const full = (performance.now() - t0) / 1000;
  console.log(`cold load, no snapshot (full chain verification): ${full.toFixed(2)} s`);
  await svc.close(); // writes a snapshot
  t0 = performance.now();
  svc = await FleetService.open(dir);
  const snap = (performance.now() - t0) / 1000;
  console.log(`cold load with snapshot: ${snap.toFixed(3)} s   (ratio ${(full / snap).toFixed(0)}x faster; target < 2 s: ${snap < 2 ? 'met' : 'NOT met'})`);
  await svc.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
