// Pure entry point the hub calls on every proposal: static detectors, then (optionally) the AI reviewer, merged
// so that the AI can only add findings or raise severities.
import type { ScreeningFinding, ScreeningReport, TaskMode } from '../core/model';
import { type AiReviewOptions, DEFAULT_AI_MODEL, reviewWithAi } from './aiReviewer';
import { DEFAULT_ALLOWED_HOSTS, runStaticDetectors } from './detectors';
import { DEFAULT_MAX_DIFF_CHARS, parseProposalDiff } from './patchModel';
import { buildReport, dedupeFindings, mergeFindings } from './report';

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
  /** Run the AI reviewer too. */
  ai?: AiReviewOptions;
}

const MAX_FILES_LOADED = 300;
const MAX_FILE_CHARS = 2_000_000;

export async function screenProposal(input: ScreenProposalInput): Promise<ScreeningReport> {
  const diff = parseProposalDiff(input.diff ?? '', input.maxDiffChars ?? DEFAULT_MAX_DIFF_CHARS);
  if (input.files) {
    const load = diff.files.filter((f) => !f.binary && f.status !== 'deleted').slice(0, MAX_FILES_LOADED);
    await Promise.all(
      load.map(async (f) => {
        try {
          const text = await input.files!(f.path);
          if (typeof text === 'string' && text.length <= MAX_FILE_CHARS) {
            const lines = text.replace(/\r\n/g, '\n').split('\n');
            if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
            f.content = lines;
          }
        } catch {
          // Content is an aid for context; the diff alone still gets screened.
        }
      }),
    );
  }
  const staticFindings = dedupeFindings(
    runStaticDetectors({
      diff,
      command: input.command ?? '',
      taskMode: input.taskMode,
      title: input.title ?? '',
      rationale: input.rationale ?? '',
      allowedHosts: input.allowedHosts ?? DEFAULT_ALLOWED_HOSTS,
    }),
  );
  if (!input.ai) return buildReport(staticFindings);

  const review = await reviewWithAi(
    {
      title: input.title ?? '',
      rationale: input.rationale ?? '',
      command: input.command ?? '',
      taskMode: input.taskMode,
      diff: input.diff ?? '',
      staticFindings,
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
