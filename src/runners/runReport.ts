// The run report: a machine-readable record of what a run tried that its rules forbid or its sandbox denied,
// built on the host when the run ends from four sources of different trust:
//   host     what the host observed itself (the API proxy's refusals, limits the launcher enforced, the time
//            limit, an unconfined runner): authoritative;
//   sandbox  the supervisor inside the sandbox, written through an fd the run cannot open (exec attempts the
//            seccomp filter refused, processes left behind, the process limit): trusted as far as the sandbox is;
//   audit    the audit hooks' records (the C hook of a no-testing run, the Python hook of every run), sent as
//            datagrams to the supervisor, which writes them to a file outside every mount. The run can send such
//            datagrams too: evidence, parsed defensively (size and line caps, strict shapes, clipped text). A
//            forged line can only make a run look worse.
// Every file is opened by the host without following links, non-blocking, regular files only, with a byte cap:
// none of them is in a mount the run can write, and if one were replaced anyway the host would not block on it
// nor read what it points at (the report then says the evidence was not a regular file, and nothing of it).
// Any violation makes the run's scores unverified (core/fleet.ts), with the report's summary as the reason.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TaskMode } from '../core/model';
import { RUN_FILES } from './confine';

export type ReportSource = 'host' | 'sandbox' | 'audit';

export interface RunReportItem {
  kind: string;
  detail: string;
  source: ReportSource;
  /** The attempt was refused (by the sandbox, the proxy, the seccomp filter or the audit hook). */
  blocked: boolean;
  /** Forbidden by the run's rules: makes its scores unverified. */
  violation: boolean;
  count: number;
}

export interface RunReport {
  version: 1;
  sandbox: 'bwrap' | 'none';
  taskMode: TaskMode;
  violations: number;
  items: RunReportItem[];
  /** Items left out beyond the cap. */
  truncated: number;
  evidence: { auditLines: number; auditRejected: number; sandboxLines: number; proxyRequests: number; supervisorEnded: boolean };
  summary: string;
}

const MAX_FILE = 2 * 1024 * 1024;
const MAX_LINES = 5000;
const MAX_ITEMS = 200;
const clip = (s: unknown, n = 300): string => String(s ?? '').replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, n);

/** Open a file the run might have influenced: no symlink followed, no blocking on a FIFO or device, regular files only. */
export function readCapped(file: string, max: number): { text: string; size: number } | { error: 'missing' | 'not_regular' } {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
  } catch (err) {
    return { error: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'not_regular' };
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return { error: 'not_regular' };
    const buf = Buffer.alloc(Math.min(st.size, max));
    let n = 0;
    while (n < buf.length) {
      const k = fs.readSync(fd, buf, n, buf.length - n, n);
      if (k <= 0) break;
      n += k;
    }
    return { text: buf.subarray(0, n).toString('utf8'), size: st.size };
  } catch {
    return { error: 'not_regular' };
  } finally {
    fs.closeSync(fd);
  }
}

function readLines(file: string, notRegular?: (f: string) => void): { lines: unknown[]; rejected: number; exists: boolean } {
  const got = readCapped(file, MAX_FILE);
  if ('error' in got) {
    if (got.error === 'not_regular') notRegular?.(path.basename(file));
    return { lines: [], rejected: 0, exists: false };
  }
  const text = got.text;
  const out: unknown[] = [];
  let rejected = 0;
  for (const l of text.split('\n').slice(0, MAX_LINES)) {
    if (!l.trim()) continue;
    try {
      const v = JSON.parse(l) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v) && typeof (v as { t?: unknown }).t === 'string') out.push(v);
      else rejected++;
    } catch {
      rejected++;
    }
  }
  return { lines: out, rejected, exists: true };
}

export interface RunReportInput {
  runDir: string;
  sandbox: 'bwrap' | 'none';
  taskMode: TaskMode;
  /** How the job ended, from the runner. */
  phase?: string;
  reason?: string;
}

/** Which audit kinds are violations (in normal and in no-testing runs). */
const AUDIT_RULES: Record<string, { violation: (noTesting: boolean) => boolean; label: string }> = {
  path_denied: { violation: () => true, label: 'path outside the sandbox' },
  write_denied: { violation: () => true, label: 'write to a read-only path' },
  proc_access: { violation: () => true, label: "another process's /proc entry" },
  network: { violation: () => true, label: 'network outside the run proxy' },
  program_started: { violation: (nt) => nt, label: 'program started' },
  dynamic_code: { violation: (nt) => nt, label: 'code that is not a file' },
  ctypes: { violation: () => false, label: 'ctypes' },
  test_framework: { violation: (nt) => nt, label: 'test framework on candidate code' },
  forbidden_module: { violation: (nt) => nt, label: 'module that runs code outside the audit hook' },
};

export function buildRunReport(i: RunReportInput): RunReport {
  const noTesting = i.taskMode === 'no-testing';
  const items = new Map<string, RunReportItem>();
  const add = (it: Omit<RunReportItem, 'count'>) => {
    const key = `${it.source}\u0000${it.kind}\u0000${it.detail}`;
    const cur = items.get(key);
    if (cur) cur.count++;
    else items.set(key, { ...it, count: 1 });
  };
  const r = (f: string) => path.join(i.runDir, f);
  const notRegular = (f: string) =>
    add({ kind: 'evidence_replaced', detail: `the run's evidence file ${clip(f, 40)} is not a regular file: not read`, source: 'host', blocked: true, violation: true });

  if (i.sandbox === 'none') add({ kind: 'unconfined', detail: 'the runner is configured with "sandbox": "none": nothing of this run was confined', source: 'host', blocked: false, violation: true });
  if (i.phase === 'timed_out') add({ kind: 'limit', detail: clip(i.reason ?? 'time limit reached'), source: 'host', blocked: true, violation: false });

  // host: the API proxy and the launcher
  const proxy = readLines(r(RUN_FILES.proxyLog), notRegular);
  let proxyRequests = 0;
  for (const v of proxy.lines as Array<Record<string, unknown>>) {
    if (v.t === 'proxy_request') proxyRequests++;
    else if (v.t === 'proxy_denied') add({ kind: 'proxy_denied', detail: clip(`${clip(v.method, 10)} ${clip(v.path)}${v.reason ? ` (${clip(v.reason, 80)})` : ''}`), source: 'host', blocked: true, violation: true });
  }
  for (const v of readLines(r(RUN_FILES.hostLog), notRegular).lines as Array<Record<string, unknown>>) {
    if (v.t === 'limit') add({ kind: 'limit', detail: clip(`${clip(v.limit, 60)} limit: ${Number(v.value)} > ${Number(v.max)}`), source: 'host', blocked: true, violation: false });
  }
  // host: the decoy watcher (inotify on the decoys from outside the sandbox)
  for (const v of readLines(r(RUN_FILES.decoyLog), notRegular).lines as Array<Record<string, unknown>>) {
    if (v.t !== 'decoy') continue;
    const how = v.how === 'list' ? 'listed' : v.how === 'read' ? 'read' : 'opened';
    add({ kind: 'decoy_access', detail: clip(`${how} the decoy at ${clip(v.path, 250)} (where the fleet keeps secrets)`), source: 'host', blocked: false, violation: true });
  }

  // sandbox: the supervisor
  const sb = readLines(r(RUN_FILES.sandboxLog), notRegular);
  let ended = false;
  for (const v of sb.lines as Array<Record<string, unknown>>) {
    switch (v.t) {
      case 'end':
        ended = true;
        break;
      case 'exec_blocked':
        add({ kind: 'exec_blocked', detail: clip(`program ${clip(v.program)} (seccomp)`), source: 'sandbox', blocked: true, violation: true });
        break;
      case 'survivors':
        for (const p of (Array.isArray(v.processes) ? v.processes : []).slice(0, 50) as Array<Record<string, unknown>>) {
          const how = Array.isArray(p.detached) && p.detached.length ? ` (${p.detached.map((h) => clip(h, 20)).join(', ')})` : '';
          add({ kind: 'survivor', detail: clip(`still running after the command ended, killed: ${clip(p.cmd, 200)}${how}`), source: 'sandbox', blocked: true, violation: true });
        }
        break;
      case 'stopped':
        for (const p of (Array.isArray(v.detached) ? v.detached : []).slice(0, 50) as Array<Record<string, unknown>>) {
          const how = Array.isArray(p.detached) ? p.detached.map((h) => clip(h, 20)).join(', ') : '';
          add({ kind: 'survivor', detail: clip(`detached from the run (${how}), killed at stop: ${clip(p.cmd, 200)}`), source: 'sandbox', blocked: true, violation: true });
        }
        break;
      case 'limit':
        add({ kind: 'limit', detail: clip(`${clip(v.limit, 20)} limit: ${Number(v.value)} > ${Number(v.max)}${v.where ? ` (${clip(v.where, 20)})` : ''}`), source: 'sandbox', blocked: true, violation: false });
        break;
      case 'audit_hook_weak':
        add({ kind: 'audit_hook_weak', detail: clip(`no-testing enforced by the Python audit hook only: ${clip(v.error)}`), source: 'sandbox', blocked: false, violation: false });
        break;
      case 'audit_overflow':
        add({ kind: 'audit_overflow', detail: clip(`${Number(v.dropped)} audit record(s) over the cap were dropped (${Number(v.kept)} kept)`), source: 'sandbox', blocked: false, violation: false });
        break;
      case 'start_failed':
        add({ kind: 'start_failed', detail: clip(`did not appear: ${(Array.isArray(v.missing) ? v.missing : []).map((m) => clip(m, 100)).join(', ')}`), source: 'sandbox', blocked: false, violation: false });
        break;
      case 'seccomp_error':
      case 'proxy_unreachable':
        add({ kind: String(v.t), detail: clip(v.error), source: 'sandbox', blocked: false, violation: false });
        break;
      default:
        break;
    }
  }
  if (i.sandbox === 'bwrap' && sb.exists && sb.lines.length && !ended && i.phase === 'succeeded') {
    add({ kind: 'supervisor_missing', detail: 'the sandbox supervisor did not record the end of the run', source: 'host', blocked: false, violation: true });
  }

  // audit: evidence
  const audit = readLines(r(RUN_FILES.auditLog), notRegular);
  let auditRejected = audit.rejected;
  for (const v of audit.lines as Array<Record<string, unknown>>) {
    const rule = AUDIT_RULES[String(v.t)];
    if (!rule || typeof v.detail !== 'string') {
      auditRejected++;
      continue;
    }
    // what the C hook refused in a no-testing run is a violation whatever its kind (ctypes included)
    const refusedByC = noTesting && v.hook === 'c' && v.blocked === true;
    add({ kind: String(v.t), detail: clip(`${rule.label}: ${clip(v.detail)}`), source: 'audit', blocked: v.blocked === true, violation: rule.violation(noTesting) || refusedByC });
  }
  if (auditRejected) add({ kind: 'audit_malformed', detail: `${auditRejected} audit line(s) were not in the hook's format`, source: 'host', blocked: false, violation: false });

  const all = [...items.values()].sort((a, b) => Number(b.violation) - Number(a.violation) || order(a.source) - order(b.source));
  const violations = all.filter((x) => x.violation).length;
  const kinds = [...new Set(all.filter((x) => x.violation).map((x) => x.kind))];
  const summary =
    i.sandbox === 'none'
      ? 'unconfined run (runner sandbox "none"): its scores cannot be verified'
      : violations
        ? `${violations} violation(s): ${kinds.join(', ')}`.slice(0, 2000)
        : all.length
          ? `no violations (${all.length} note(s))`
          : 'no violations';
  return {
    version: 1,
    sandbox: i.sandbox,
    taskMode: i.taskMode,
    violations,
    items: all.slice(0, MAX_ITEMS),
    truncated: Math.max(0, all.length - MAX_ITEMS),
    evidence: { auditLines: audit.lines.length, auditRejected, sandboxLines: sb.lines.length, proxyRequests, supervisorEnded: ended },
    summary,
  };
}

function order(s: ReportSource): number {
  return s === 'host' ? 0 : s === 'sandbox' ? 1 : 2;
}

/** The report as text for the end of the run log. */
export function formatRunReport(rep: RunReport): string {
  const lines = [`overseer run report: ${rep.summary} (sandbox ${rep.sandbox}, task mode ${rep.taskMode})`];
  for (const it of rep.items) lines.push(`  ${it.violation ? 'VIOLATION' : 'note     '} [${it.source}] ${it.kind}${it.blocked ? ' (blocked)' : ''}: ${it.detail}${it.count > 1 ? ` ×${it.count}` : ''}`);
  if (rep.truncated) lines.push(`  … ${rep.truncated} more`);
  return `${lines.join('\n')}\n`;
}
