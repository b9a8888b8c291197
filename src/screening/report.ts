// Report model: severity order, de-duplication, the static/AI merge rule and the score.
import type { ScreeningFinding, ScreeningReport, Severity } from '../core/model';

export const SEVERITIES: readonly Severity[] = ['info', 'low', 'medium', 'high', 'critical'];

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export function maxSeverity(a: Severity, b: Severity): Severity {
  return severityRank(a) >= severityRank(b) ? a : b;
}

const WEIGHT: Record<Severity, number> = { info: 0, low: 0.1, medium: 0.35, high: 0.7, critical: 0.95 };

function keyOf(f: ScreeningFinding): string {
  return `${f.kind}\u0000${f.file}\u0000${f.line}`;
}

/** Collapse findings with the same kind, file and line, keeping the highest severity and confidence. */
export function dedupeFindings(findings: readonly ScreeningFinding[]): ScreeningFinding[] {
  const byKey = new Map<string, ScreeningFinding>();
  for (const f of findings) {
    const k = keyOf(f);
    const prev = byKey.get(k);
    if (!prev) byKey.set(k, { ...f });
    else {
      prev.severity = maxSeverity(prev.severity, f.severity);
      prev.confidence = Math.max(prev.confidence, f.confidence);
    }
  }
  return [...byKey.values()];
}

/**
 * The merge rule, enforced here and nowhere else: every static finding survives with at least its static
 * severity and confidence. An AI finding on the same kind/file/line may only raise them; any other AI finding is
 * added. Nothing the reviewer says (and so nothing an agent smuggles into its proposal) can remove or lower a
 * static finding.
 */
export function mergeFindings(staticFindings: readonly ScreeningFinding[], aiFindings: readonly ScreeningFinding[]): ScreeningFinding[] {
  const merged = dedupeFindings(staticFindings.map((f) => ({ ...f, source: 'static' as const })));
  const byKey = new Map(merged.map((f) => [keyOf(f), f]));
  for (const a of aiFindings) {
    const ai: ScreeningFinding = { ...a, source: 'ai' };
    const hit = byKey.get(keyOf(ai));
    if (hit) {
      hit.severity = maxSeverity(hit.severity, ai.severity);
      hit.confidence = Math.max(hit.confidence, ai.confidence);
      continue;
    }
    byKey.set(keyOf(ai), ai);
    merged.push(ai);
  }
  return merged;
}

/** Probability-style combination: 1 - Π(1 - weight(severity)·confidence). Adding a finding never lowers it. */
export function scoreFindings(findings: readonly ScreeningFinding[]): number {
  let keep = 1;
  for (const f of findings) keep *= 1 - WEIGHT[f.severity] * Math.min(1, Math.max(0, f.confidence));
  return Math.round((1 - keep) * 1000) / 1000;
}

/** Gaming is suspected when at least one high/critical finding is reasonably confident. */
export function isGaming(findings: readonly ScreeningFinding[]): boolean {
  return findings.some((f) => severityRank(f.severity) >= severityRank('high') && f.confidence >= 0.5);
}

export function sortFindings(findings: ScreeningFinding[]): ScreeningFinding[] {
  return findings.sort(
    (a, b) => severityRank(b.severity) - severityRank(a.severity) || a.file.localeCompare(b.file) || a.line - b.line || a.kind.localeCompare(b.kind),
  );
}

export function buildReport(findings: ScreeningFinding[], ai?: ScreeningReport['ai']): ScreeningReport {
  const sorted = sortFindings(findings);
  const report: ScreeningReport = { gaming: isGaming(sorted), score: scoreFindings(sorted), findings: sorted };
  if (ai) report.ai = ai;
  return report;
}
