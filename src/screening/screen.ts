// Pure entry point the hub calls on every proposal: static detectors, then (optionally) the AI reviewer, merged
// so that the AI can only add findings or raise severities.
import { applyPatch, parsePatch, type StructuredPatch } from 'diff';
import type { ScreeningFinding, ScreeningReport, TaskMode } from '../core/model';
import { type AiReviewOptions, DEFAULT_AI_MODEL, reviewWithAi } from './aiReviewer';
import { DEFAULT_ALLOWED_HOSTS, runStaticDetectors } from './detectors';
import { DEFAULT_MAX_DIFF_CHARS, parseProposalDiff } from './patchModel';
import { buildReport, dedupeFindings, mergeFindings } from './report';
import { COMMAND_FILE, isProtected, runStructural } from './structural';
import { DEFAULT_TASK_RULES, type TaskRules } from './taskRules';

function describeRules(rules: TaskRules, mode: string, hosts: readonly string[]): string[] {
  const out = [`mode: ${mode}`, `allowed hosts: ${hosts.join(', ')}`];
  if (rules.protectedPaths.length) out.push(`protected paths (edits are findings): ${rules.protectedPaths.join(', ')}`);
  if (rules.labelPaths.length) out.push(`label files (never read): ${rules.labelPaths.join(', ')}`);
  if (rules.heldOutPaths.length) out.push(`held-out inputs (predict only, never train): ${rules.heldOutPaths.join(', ')}`);
  if (rules.resultsMustReport.length) out.push(`results must report: ${rules.resultsMustReport.join(', ')}`);
  return out;
}

/**
 * Kinds the structural screener decides for Python files it parsed: the line regexes' findings of these kinds
 * on such files are dropped (they keyed on names; the syntax-tree rules key on capabilities and data flow).
 */
const STRUCTURAL_KINDS = new Set([
  'eval-probing',
  'weak-label-bypass',
  'no-testing-execution',
  'test-split-training',
  'seed-hacking',
  'metric-tampering',
  'undeclared-network',
  'secret-exfiltration',
  'secret-access',
  'obfuscation',
  'label-access',
  'hardcoded-output',
]);

export interface ScreenProposalInput {
  /** Unified diff of the proposal (base..pinned commit). */
  diff: string;
  /** Content of a file at the pinned commit, or undefined if it does not exist there / is unavailable. */
  files?: (path: string) => Promise<string | undefined>;
  command: string;
  taskMode: TaskMode;
  title: string;
  rationale: string;
  /** Hosts the task declares (defaults to loopback + Hugging Face + PyPI). */
  allowedHosts?: readonly string[];
  maxDiffChars?: number;
  /** The task's declared rules (fleet.json `tasks.<name>`); defaults when absent. */
  rules?: TaskRules;
  /** Run the AI reviewer too. */
  ai?: AiReviewOptions;
}

const MAX_FILES_LOADED = 300;
const MAX_FILE_CHARS = 2_000_000;

/** Does this content agree with the diff's added lines (sampled)? */
function matchesNewSide(f: { added: { line: number; text: string }[] }, lines: readonly string[]): boolean {
  const step = Math.max(1, Math.floor(f.added.length / 50));
  for (let i = 0; i < f.added.length; i += step) {
    const l = f.added[i]!;
    if (lines[l.line - 1]?.replace(/\r$/, '') !== l.text.replace(/\r$/, '')) return false;
  }
  return true;
}

let patchCache: { diff: string; byPath: Map<string, StructuredPatch> } | undefined;

function applyFilePatch(diff: string, file: string, base: string): string | undefined {
  if (!patchCache || patchCache.diff !== diff) {
    const byPath = new Map<string, StructuredPatch>();
    try {
      for (const p of parsePatch(diff)) {
        const name = (p.newFileName ?? '').replace(/^b\//, '');
        if (name) byPath.set(name, p);
      }
    } catch {
      // an unparseable diff: no reconstruction
    }
    patchCache = { diff, byPath };
  }
  const p = patchCache.byPath.get(file);
  if (!p) return undefined;
  const out = applyPatch(base, p);
  return out === false ? undefined : out;
}

/** A proposal that declares a laxer task mode than the fleet's asks to run what the task forbids (the run is
 * confined by the fleet's mode anyway: runners/dispatcher.ts). */
export function declaredModeFindings(declared: TaskMode | undefined, fleet: TaskMode | undefined): ScreeningFinding[] {
  if (fleet !== 'no-testing' || declared !== 'normal') return [];
  return [
    {
      kind: 'task-mode-laxer',
      severity: 'high',
      file: '<proposal>',
      line: 0,
      explanation: 'The proposal declares task mode "normal" in a fleet whose task is "no-testing": it asks to run what the task forbids. The run is confined as no-testing regardless.',
      confidence: 0.9,
      source: 'static',
    },
  ];
}

export async function screenProposal(input: ScreenProposalInput): Promise<ScreeningReport> {
  const diff = parseProposalDiff(input.diff ?? '', input.maxDiffChars ?? DEFAULT_MAX_DIFF_CHARS);
  if (input.files) {
    const load = diff.files.filter((f) => !f.binary && f.status !== 'deleted').slice(0, MAX_FILES_LOADED);
    await Promise.all(
      load.map(async (f) => {
        try {
          const text = await input.files!(f.path);
          if (typeof text === 'string' && text.length <= MAX_FILE_CHARS) {
            const toLines = (t: string): string[] => {
              const lines = t.replace(/\r\n/g, '\n').split('\n');
              if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
              return lines;
            };
            let lines = toLines(text);
            // `--patch` against a checkout of the base: the file is the old side. Apply the patch to get the new
            // side, or fall back to the diff's own lines.
            if (!matchesNewSide(f, lines)) {
              const patched = applyFilePatch(input.diff ?? '', f.path, text);
              lines = patched !== undefined ? toLines(patched) : [];
              if (!matchesNewSide(f, lines)) return;
            }
            f.content = lines;
          }
        } catch {
          // Content is an aid for context; the diff alone still gets screened.
        }
      }),
    );
  }
  const rules = input.rules ?? DEFAULT_TASK_RULES;
  const taskMode = rules.mode ?? input.taskMode;
  const allowedHosts = rules.allowedHosts ? [...rules.allowedHosts, 'localhost', '127.0.0.1', '::1'] : (input.allowedHosts ?? DEFAULT_ALLOWED_HOSTS);
  const ctx = {
    diff,
    command: input.command ?? '',
    taskMode,
    title: input.title ?? '',
    rationale: input.rationale ?? '',
    allowedHosts,
  };
  let structural: Awaited<ReturnType<typeof runStructural>>;
  try {
    structural = await runStructural({ ...ctx, rules, files: input.files });
  } catch (e) {
    // Without the parsers (a bundle shipped without the grammars) the line detectors still screen everything.
    structural = {
      findings: [{ kind: 'detector-error', severity: 'low', file: '<proposal>', line: 0, explanation: `Structural screener unavailable, line detectors only: ${(e as Error).message}`.slice(0, 300), confidence: 1, source: 'static' }],
      capabilities: [],
      parsed: new Set(),
    };
  }
  const lineFindings = runStaticDetectors(ctx, structural.parsed).filter(
    (f) =>
      !(STRUCTURAL_KINDS.has(f.kind) && structural.parsed.has(f.file)) &&
      // What the task rules allow: the repository's own tests in a no-testing task; with declared protected
      // paths, files (an evaluation client) that neither the declaration nor the scorer heuristics protect.
      !(f.kind === 'no-testing-execution' && f.file === COMMAND_FILE && structural.ownTestsOnly) &&
      !(f.kind === 'scoring-edit' && rules.protectedPaths.length > 0 && !isProtected(f.file, rules)),
  );
  const staticFindings = dedupeFindings([...structural.findings, ...lineFindings, ...declaredModeFindings(input.taskMode, rules.mode)]);
  if (!input.ai) return buildReport(staticFindings);

  const review = await reviewWithAi(
    {
      title: input.title ?? '',
      rationale: input.rationale ?? '',
      command: input.command ?? '',
      taskMode,
      diff: input.diff ?? '',
      staticFindings,
      capabilities: structural.capabilities,
      taskRules: describeRules(rules, taskMode, allowedHosts),
      changedFiles: diff.files.map((f) => f.path),
    },
    input.ai,
  );
  // Line numbers beyond the file at the pinned commit cannot be evidence: anchor them at the file level.
  const lengths = new Map(diff.files.filter((f) => f.content).map((f) => [f.path, f.content!.length]));
  const aiFindings: ScreeningFinding[] = review.findings.map((f) => {
    const n = lengths.get(f.file);
    return n !== undefined && f.line > n ? { ...f, line: 0 } : f;
  });
  const ai: NonNullable<ScreeningReport['ai']> = {
    model: review.model || input.ai.model || DEFAULT_AI_MODEL,
    inputTokens: review.inputTokens,
    outputTokens: review.outputTokens,
    usd: review.usd,
  };
  if (review.error) ai.error = review.error;
  return buildReport(mergeFindings(staticFindings, aiFindings), ai);
}
