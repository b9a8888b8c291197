// Run-log text for display, pure (no vscode): terminal sequences become markers saying what they would have done
// (`⟦link → host⟧`, `⟦title: …⟧`, `⟦cursor up 3⟧`, a CR rewrite `⟦CR⟧` and a new line; colours dropped), every other
// hidden character becomes a visible marker (shared/textSafety), and the
// local runner wrapper's job-control notices (`[1]+ Done bash -c ...`, printed by bash's `set -m`) are left out.
// Chunks arrive at arbitrary offsets, so a partial last line is held until its newline (or the end).
import { logText } from '../shared/textSafety';

/** A job-control notice of the wrapper shell: `[1]+  Done  bash -c "…"`, `[2]- Exit 1 bash "$launch" "$cmd"`, `[1]+ Killed …`. */
export const JOB_LINE = /^\[\d+\][+\- ]?\s+(?:Done|Exit \d+|Terminated|Killed|Stopped|Running|Hangup|Interrupt|Aborted|Segmentation fault)(?:\s*\(core dumped\))?\s+bash (?:-c |")/;

export class RunLogText {
  private partial = '';

  /** Display text for the next chunk (complete lines only; the rest waits for `push` or `end`). */
  push(chunk: string): string {
    const text = this.partial + chunk;
    const cut = text.lastIndexOf('\n');
    if (cut < 0) {
      this.partial = text;
      return '';
    }
    this.partial = text.slice(cut + 1);
    return this.render(text.slice(0, cut + 1));
  }

  /** Whatever is still held (the log ended without a final newline). */
  end(): string {
    const t = this.partial;
    this.partial = '';
    return t ? this.render(t) : '';
  }

  private render(t: string): string {
    const shown = logText(t);
    return shown
      .split('\n')
      .filter((l) => !JOB_LINE.test(l))
      .join('\n');
  }
}
