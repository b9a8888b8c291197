// Run logs: one output channel per experiment, tailing GET /api/runs/:id/log until the run has ended and
// the log is fully read.
import * as vscode from 'vscode';
import { DisposableBase } from './disposable';
import type { HubConnection } from './hubConnection';
import { RunLogText } from './runLogText';

const ENDED = new Set(['succeeded', 'failed', 'cancelled', 'timed_out', 'scored', 'vetoed', 'superseded']);

interface Tail {
  channel: vscode.OutputChannel;
  offset: number;
  ended: boolean;
  timer?: NodeJS.Timeout;
  busy: boolean;
  text: RunLogText;
}

export class RunLogs extends DisposableBase {
  private readonly tails = new Map<string, Tail>();

  constructor(
    private readonly conn: HubConnection,
    private readonly intervalMs = 1000,
  ) {
    super();
    this._register(
      conn.onEvent((e) => {
        if (e.type !== 'experiment.finished') return;
        const t = this.tails.get(e.data.experimentId);
        if (t) {
          t.ended = true;
          void this.poll(e.data.experimentId);
        }
      }),
    );
  }

  /** Open (or focus) the run log of an experiment and start tailing it. */
  async show(experimentId: string): Promise<vscode.OutputChannel> {
    let t = this.tails.get(experimentId);
    if (!t) {
      const channel = this._register(vscode.window.createOutputChannel(`Overseer Run: ${experimentId}`));
      t = { channel, offset: 0, ended: false, busy: false, text: new RunLogText() };
      this.tails.set(experimentId, t);
      const client = await this.conn.ready;
      const x = await client.getExperiment(experimentId);
      t.ended = ENDED.has(x.state);
      channel.appendLine(`# ${experimentId} — ${x.state}${x.run ? ` on ${x.run.runner} (job ${x.run.jobId}, commit ${x.run.commit.slice(0, 12)})` : ''}`);
      await this.poll(experimentId);
    }
    t.channel.show(true);
    return t.channel;
  }

  /** Text appended so far for an experiment (tests). */
  offsetOf(experimentId: string): number | undefined {
    return this.tails.get(experimentId)?.offset;
  }

  private async poll(experimentId: string): Promise<void> {
    const t = this.tails.get(experimentId);
    if (!t || t.busy) return;
    t.busy = true;
    clearTimeout(t.timer);
    let eof = false;
    try {
      const client = await this.conn.ready;
      for (let i = 0; i < 50; i++) {
        const r = await client.runLog(experimentId, t.offset);
        if (r.text) t.channel.append(t.text.push(r.text));
        const advanced = r.nextOffset > t.offset;
        t.offset = r.nextOffset;
        eof = r.eof;
        if (eof || !advanced) break;
      }
      if (eof && t.ended) t.channel.append(t.text.end());
    } catch (err) {
      const msg = (err as Error).message;
      if (!/not_found|no log|404/i.test(msg)) t.channel.appendLine(`[overseer] cannot read the log: ${msg}`);
    } finally {
      t.busy = false;
    }
    if (t.ended && eof) return;
    t.timer = setTimeout(() => void this.poll(experimentId), this.intervalMs);
  }

  override dispose(): void {
    for (const t of this.tails.values()) clearTimeout(t.timer);
    this.tails.clear();
    super.dispose();
  }
}
