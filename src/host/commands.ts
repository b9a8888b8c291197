// Commands of the host (sidebar, diffs, triage). Every command accepts tree nodes, ids or nothing (then it
// asks with a quick pick); decisions always send the experiment's pinned commit and tree.
import * as vscode from 'vscode';
import { ID_RE } from '../core/events';
import type { Experiment } from '../core/model';
import { HubError } from '../hub/client';
import { HELDOUT, finalCandidates, finalDatasets, finalSummary, parsePredictions, runPredictions } from '../shared/leaderboardFinal';
import type { ReviewComments } from './review/comments';
import { openChangesSinceLastReview, openExperimentDiff } from './review/diff';
import { parseRevUri } from './review/revFs';
import type { HubConnection } from './hubConnection';
import { TOKEN_SECRET } from './hubConnection';
import type { RunLogs } from './runLog';
import type { AgentsTreeProvider } from './trees/agentsTree';
import type { AuditTreeProvider } from './trees/auditTree';
import type { ForumTreeProvider } from './trees/forumTree';
import { ExperimentNode, FileNode, SweepNode, type QueueNode, type QueueTreeProvider } from './trees/queueTree';
import { categoryOf, sweepMemberOf, type SweepRow } from './trees/queueModel';
import { plain, plainName } from './text';
import { escapeIcons } from '../shared/textSafety';
import { sweepApproval } from '../shared/reviewProtocol';
import type { ReviewPanel } from './webviews/reviewPanel';

export interface CommandDeps {
  conn: HubConnection;
  queue: QueueTreeProvider;
  queueView: vscode.TreeView<QueueNode>;
  agents: AgentsTreeProvider;
  forum: ForumTreeProvider;
  audit: AuditTreeProvider;
  comments: ReviewComments;
  runLogs: RunLogs;
  secrets: vscode.SecretStorage;
}

/** Extract an experiment id from a command argument: id string, tree node, or `{experimentId}`. */
export function experimentIdOf(arg: unknown): string | undefined {
  let v: unknown = arg;
  if (arg instanceof ExperimentNode || arg instanceof FileNode) v = arg.experimentId;
  else if (arg && typeof arg === 'object') v = (arg as { experimentId?: unknown; id?: unknown }).experimentId ?? (arg as { id?: unknown }).id;
  return typeof v === 'string' && ID_RE.test(v) ? v : undefined;
}

/** Extract a sweep id from a command argument: id string, sweep tree node, or `{sweepId}`. */
export function sweepIdOf(arg: unknown): string | undefined {
  const v = arg instanceof SweepNode ? arg.sweepId : arg && typeof arg === 'object' ? (arg as { sweepId?: unknown }).sweepId : arg;
  return typeof v === 'string' && ID_RE.test(v) ? v : undefined;
}

/** A proposal's risk reasons for a confirmation (most severe first, agent-influenced text sanitized). */
function riskLines(x: Experiment, n = 4): string[] {
  const rs = x.risk?.reasons ?? [];
  return rs.length ? rs.slice(0, n).map((r) => `• [${r.level}] ${plain(r.text, 200)}`) : ['• risk was not assessed by the hub'];
}

function agentIdOf(arg: unknown): string | undefined {
  const v = arg && typeof arg === 'object' ? (arg as { agentId?: unknown }).agentId : arg;
  return typeof v === 'string' && ID_RE.test(v) ? v : undefined;
}

/** Quick pick labels render `$(icon)` syntax: agent-written text must not (escaped, shown literally). */
function noIcons(s: string): string {
  return escapeIcons(s);
}

const DATASET_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MAX_PREDICTIONS_FILE = 64 * 1024 * 1024;

export function errorText(err: unknown): string {
  if (err instanceof HubError) return plain(err.message, 500);
  return plain((err as Error)?.message ?? String(err), 500);
}

/** Register a command whose failure is shown to the human as an error message (never an unhandled rejection). */
export function registerGuarded(id: string, fn: (...args: any[]) => unknown): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
    try {
      return await fn(...args);
    } catch (err) {
      void vscode.window.showErrorMessage(`Overseer: ${errorText(err)}`);
      return undefined;
    }
  });
}

export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
  const { conn, queue, queueView } = deps;
  const reg = registerGuarded;

  async function pickExperiment(placeHolder: string, filter: (x: Experiment) => boolean): Promise<string | undefined> {
    await queue.loaded;
    const items = queue.model
      .triageOrder()
      .concat(queue.model.children('approved'), queue.model.children('dispatched'), queue.model.children('running'))
      .filter(filter)
      .map((x) => ({ label: noIcons(plainName(x.title, 'title', 120)) || x.id, description: noIcons(`${x.id} · ${plain(x.agentId, 40)} · ${x.state}`), id: x.id }));
    if (!items.length) {
      void vscode.window.showInformationMessage('Overseer: no matching experiment.');
      return undefined;
    }
    return (await vscode.window.showQuickPick(items, { placeHolder, matchOnDescription: true }))?.id;
  }

  const undecided = (x: Experiment) => categoryOf(x.state) === 'undecided';

  async function reason(title: string, experimentId: string, prompt: string): Promise<string | undefined> {
    const r = await vscode.window.showInputBox({
      title: `${title} ${experimentId}`,
      prompt,
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim() ? undefined : 'A reason is required (the agent receives it in its inbox).'),
    });
    return r?.trim() || undefined;
  }

  /** Confirmation by risk: low approves at once; above low a modal naming the level and the top reasons;
   * critical requires typing the experiment id (never one click). */
  async function confirmByRisk(x: Experiment, opts: { confirmGaming?: boolean }): Promise<boolean> {
    const level = x.risk?.level ?? 'medium';
    const title = plainName(x.title, 'title', 80);
    if (x.screening?.gaming && opts.confirmGaming !== false) {
      const go = await vscode.window.showWarningMessage(
        `Screening flagged ${x.id} ("${title}") for possible evaluation gaming (${level} risk). Approve anyway?`,
        { modal: true, detail: [...(x.screening.findings ?? []).slice(0, 5).map((f) => `• ${plain(f.file, 80)}:${f.line} ${plain(f.explanation, 160)}`), '', `Risk: ${level}`, ...riskLines(x)].join('\n') },
        'Approve Anyway',
      );
      if (go !== 'Approve Anyway') return false;
    } else if (level === 'medium' || level === 'high') {
      const go = await vscode.window.showWarningMessage(
        `Approve ${x.id} ("${title}")? It is ${level} risk.`,
        { modal: true, detail: [`Risk: ${level}`, ...riskLines(x)].join('\n') },
        'Approve',
      );
      if (go !== 'Approve') return false;
    }
    if (level === 'critical') {
      const typed = await vscode.window.showInputBox({
        title: `Approve ${x.id}: CRITICAL risk`,
        prompt: `Critical risk: ${riskLines(x, 3).map((l) => l.slice(2)).join('; ')}. Type the experiment id ${x.id} to approve it at ${x.commit.slice(0, 12)}.`,
        placeHolder: x.id,
        ignoreFocusOut: true,
        validateInput: (v) => (v.trim() === x.id ? undefined : `Type ${x.id} exactly to approve a critical-risk proposal`),
      });
      if (typed?.trim() !== x.id) return false;
    }
    return true;
  }

  async function approve(arg?: unknown, opts: { confirmGaming?: boolean; quiet?: boolean } = {}): Promise<Experiment | undefined> {
    const id = experimentIdOf(arg) ?? (await pickExperiment('Experiment to approve', undecided));
    if (!id) return undefined;
    const client = await conn.ready;
    const x = await client.getExperiment(id);
    if (!(await confirmByRisk(x, opts))) return undefined;
    const r = await client.approve(x.id, { commit: x.commit, tree: x.tree });
    queue.apply([r]);
    if (!opts.quiet) void vscode.window.showInformationMessage(`Approved ${x.id} at ${x.commit.slice(0, 10)}.`);
    return r;
  }

  async function decideWithReason(kind: 'veto' | 'requestChanges', arg?: unknown, given?: string): Promise<Experiment | undefined> {
    const verb = kind === 'veto' ? 'Veto' : 'Request changes on';
    const id = experimentIdOf(arg) ?? (await pickExperiment(`Experiment to ${kind === 'veto' ? 'veto' : 'send back'}`, undecided));
    if (!id) return undefined;
    const why = given?.trim() || (await reason(verb, id, kind === 'veto' ? 'Why is this experiment vetoed?' : 'What should the agent change?'));
    if (!why) return undefined;
    const client = await conn.ready;
    const x = await client.getExperiment(id);
    const body = { commit: x.commit, tree: x.tree, reason: why };
    const r = kind === 'veto' ? await client.veto(id, body) : await client.requestChanges(id, body);
    queue.apply([r]);
    void vscode.window.showInformationMessage(`${kind === 'veto' ? 'Vetoed' : 'Requested changes on'} ${id}.`);
    return r;
  }

  function selectedUndecided(clicked?: unknown, selected?: unknown): string[] {
    const nodes = Array.isArray(selected) && selected.length ? selected : clicked ? [clicked] : queueView.selection;
    // a sweep row in the selection stands for its open members (each still goes through the risk rules)
    const ids = nodes.flatMap((n: unknown) => (n instanceof SweepNode ? queue.model.sweepMembers(n.sweepId).map((x) => x.id) : [experimentIdOf(n)])).filter((id): id is string => !!id);
    return [...new Set(ids)].filter((id) => {
      const x = queue.model.get(id);
      return x && undecided(x);
    });
  }

  async function approveSelected(clicked?: unknown, selected?: unknown): Promise<{ approved: string[]; skipped: string[]; failed: string[] }> {
    let ids = selectedUndecided(clicked, selected);
    if (!ids.length) {
      await queue.loaded;
      const items = queue.model.triageOrder().map((x) => ({ label: noIcons(plainName(x.title, 'title', 120)) || x.id, description: noIcons(`${x.id} · ${plain(x.agentId, 40)}${x.screening?.gaming ? ' · ⚠ gaming suspected' : ''}`), id: x.id }));
      const picked = await vscode.window.showQuickPick(items, { canPickMany: true, placeHolder: 'Experiments to approve' });
      ids = picked?.map((p) => p.id) ?? [];
    }
    const result = { approved: [] as string[], skipped: [] as string[], failed: [] as string[] };
    if (!ids.length) return result;
    const client = await conn.ready;
    // Bulk approval is for low and medium risk only: gaming-flagged, high and critical proposals need their own review.
    const todo: Experiment[] = [];
    const gaming: string[] = [];
    const risky: string[] = [];
    for (const id of ids) {
      try {
        const x = await client.getExperiment(id);
        const level = x.risk?.level ?? 'medium';
        if (x.screening?.gaming) gaming.push(id);
        else if (level === 'high' || level === 'critical') risky.push(`${id} (${level})`);
        else todo.push(x);
      } catch (err) {
        result.failed.push(`${id}: ${errorText(err)}`);
      }
    }
    result.skipped.push(...gaming, ...risky.map((r) => r.replace(/ \(.*$/, '')));
    const medium = todo.filter((x) => (x.risk?.level ?? 'medium') !== 'low');
    if (medium.length) {
      const go = await vscode.window.showWarningMessage(
        `Approve ${todo.length} experiment${todo.length === 1 ? '' : 's'}? ${medium.length} ${medium.length === 1 ? 'is' : 'are'} medium risk.`,
        {
          modal: true,
          detail: medium
            .slice(0, 10)
            .map((x) => `${x.id} ("${plainName(x.title, 'title', 60)}"): ${riskLines(x, 2).map((l) => l.slice(2)).join('; ')}`)
            .concat(medium.length > 10 ? [`… and ${medium.length - 10} more`] : [])
            .join('\n'),
        },
        'Approve All',
      );
      if (go !== 'Approve All') return result;
    }
    for (const x of todo) {
      try {
        queue.apply([await client.approve(x.id, { commit: x.commit, tree: x.tree })]);
        result.approved.push(x.id);
      } catch (err) {
        result.failed.push(`${x.id}: ${errorText(err)}`);
      }
    }
    const msg = `Approved ${result.approved.length} experiment${result.approved.length === 1 ? '' : 's'}` +
      (gaming.length ? `; skipped ${gaming.length} flagged for gaming (${gaming.join(', ')})` : '') +
      (risky.length ? `; skipped ${risky.length} of high or critical risk (${risky.join(', ')})` : '') +
      (gaming.length || risky.length ? ' — approve those individually' : '') +
      (result.failed.length ? `; ${result.failed.length} failed: ${result.failed.join('; ')}` : '');
    if (result.failed.length) void vscode.window.showWarningMessage(msg);
    else void vscode.window.showInformationMessage(msg);
    return result;
  }

  // ---------------------------------------------------------------- sweeps

  async function pickSweep(arg: unknown, placeHolder: string): Promise<SweepRow | undefined> {
    await queue.loaded;
    const id = sweepIdOf(arg);
    if (id) {
      const row = queue.model.sweep(id) ?? queue.model.sweepOf(id);
      if (!row) throw new Error(`${id} is not an open sweep (its members were decided, or it was regrouped: refresh the queue)`);
      return row;
    }
    const rows = queue.model.sweepList();
    if (!rows.length) {
      void vscode.window.showInformationMessage('Overseer: no open sweep.');
      return undefined;
    }
    const items = rows.map((r) => ({ label: noIcons(plainName(r.label, 'title', 160)), description: noIcons(`${r.id} · ${r.memberIds.length} experiments`), id: r.id }));
    const pick = await vscode.window.showQuickPick(items, { placeHolder, matchOnDescription: true });
    return pick ? queue.model.sweep(pick.id) : undefined;
  }

  /** The sweep's members as the queue shows them (the pins decided), each checked against the hub now. */
  async function sweepMembers(row: SweepRow): Promise<{ shown: Experiment[]; now: Experiment[] }> {
    const shown = queue.model.sweepMembers(row.id);
    const client = await conn.ready;
    const now = await Promise.all(shown.map((x) => client.getExperiment(x.id)));
    return { shown, now };
  }

  async function sweepConflict(err: unknown): Promise<never> {
    if (err instanceof HubError && err.status === 409) {
      await queue.reload();
      throw new Error(`the sweep changed since it was shown (${errorText(err)}); the queue was reloaded: review it again`);
    }
    throw err;
  }

  async function approveSweep(arg?: unknown): Promise<Experiment[] | undefined> {
    const row = await pickSweep(arg, 'Sweep to approve');
    if (!row) return undefined;
    const { shown, now } = await sweepMembers(row);
    const rule = sweepApproval(now.map(sweepMemberOf));
    if (rule.refused) {
      void vscode.window.showWarningMessage(`Overseer: ${plain(rule.refused, 600)}`);
      return undefined;
    }
    const label = plainName(row.label, 'title', 120);
    if (rule.confirm.length) {
      const byId = new Map(now.map((x) => [x.id, x]));
      const go = await vscode.window.showWarningMessage(
        `Approve the sweep "${label}" (${shown.length} experiments)? ${rule.confirm.length} ${rule.confirm.length === 1 ? 'member is' : 'members are'} above low risk (highest: ${rule.highest}).`,
        {
          modal: true,
          detail: rule.confirm
            .map((c) => `${c.id} — ${c.level}: ${riskLines(byId.get(c.id)!, 2).map((l) => l.slice(2)).join('; ')}`)
            .concat(['', `Each experiment gets its own approval pinned to its own commit: ${shown.map((x) => `${x.id}@${x.commit.slice(0, 10)}`).join(', ')}`])
            .join('\n'),
        },
        `Approve Sweep (${shown.length})`,
      );
      if (go !== `Approve Sweep (${shown.length})`) return undefined;
    }
    const client = await conn.ready;
    const r = await client
      .decideSweep({ decision: 'approve', members: shown.map((x) => ({ experimentId: x.id, commit: x.commit, tree: x.tree })) })
      .catch(sweepConflict);
    queue.apply(r.experiments);
    void vscode.window.showInformationMessage(`Approved the sweep of ${r.experiments.length}: ${r.experiments.map((x) => `${x.id} at ${x.commit.slice(0, 10)}`).join(', ')}.`);
    return r.experiments;
  }

  async function decideSweepWithReason(kind: 'veto' | 'request_changes', arg?: unknown, given?: string): Promise<Experiment[] | undefined> {
    const row = await pickSweep(arg, kind === 'veto' ? 'Sweep to veto' : 'Sweep to send back');
    if (!row) return undefined;
    const shown = queue.model.sweepMembers(row.id);
    const why =
      given?.trim() ||
      (
        await vscode.window.showInputBox({
          title: `${kind === 'veto' ? 'Veto' : 'Request changes on'} the sweep ${plainName(row.label, 'title', 100)} (${shown.length} experiments)`,
          prompt: kind === 'veto' ? 'Why is this sweep vetoed? (each agent receives it)' : 'What should the agent change? (each member is sent back)',
          ignoreFocusOut: true,
          validateInput: (v) => (v.trim() ? undefined : 'A reason is required (the agents receive it in their inbox).'),
        })
      )?.trim();
    if (!why) return undefined;
    const client = await conn.ready;
    const r = await client
      .decideSweep({ decision: kind, reason: why, members: shown.map((x) => ({ experimentId: x.id, commit: x.commit, tree: x.tree })) })
      .catch(sweepConflict);
    queue.apply(r.experiments);
    void vscode.window.showInformationMessage(`${kind === 'veto' ? 'Vetoed' : 'Requested changes on'} the sweep of ${r.experiments.length}: ${r.experiments.map((x) => x.id).join(', ')}.`);
    return r.experiments;
  }

  async function openSweep(arg?: unknown): Promise<ReviewPanel | undefined> {
    const row = await pickSweep(arg, 'Sweep to review');
    if (!row) return undefined;
    const panel = await vscode.commands.executeCommand<ReviewPanel | undefined>('overseer.openReview', row.memberIds[0]);
    panel?.showSweep(row.id, row.memberIds);
    return panel;
  }

  async function triageMove(step: 1 | -1): Promise<string | undefined> {
    await queue.loaded;
    const order = queue.model.triageOrder().map((x) => x.id);
    if (!order.length) {
      void vscode.window.showInformationMessage('Overseer: nothing awaits review.');
      return undefined;
    }
    const cur = conn.activeReview ? order.indexOf(conn.activeReview) : -1;
    const next = order[cur < 0 ? 0 : (cur + step + order.length) % order.length]!;
    await vscode.commands.executeCommand('overseer.openReview', next);
    return next;
  }

  function activeOrThrow(): string {
    const id = conn.activeReview;
    if (!id) throw new Error('no experiment is open in the review panel');
    return id;
  }

  async function markViewed(arg: unknown, viewed: boolean): Promise<void> {
    let experimentId: string | undefined;
    let file: string | undefined;
    if (arg instanceof FileNode) {
      experimentId = arg.experimentId;
      file = arg.file.path;
    } else if (arg instanceof vscode.Uri) {
      const ref = parseRevUri(arg);
      if (ref.kind !== 'experiment') throw new Error('only proposal files can be marked as viewed');
      experimentId = ref.experimentId;
      file = ref.path;
    } else if (arg && typeof arg === 'object') {
      experimentId = experimentIdOf(arg);
      file = (arg as { file?: unknown }).file as string | undefined;
    } else {
      const uri = vscode.window.activeTextEditor?.document.uri;
      if (uri) return markViewed(uri, viewed);
    }
    if (!experimentId || typeof file !== 'string') throw new Error('no file to mark');
    const client = await conn.ready;
    await client.markViewed(experimentId, file, viewed);
  }

  /** Final evaluation on the held-out split (human action): experiment, dataset, predictions, modal confirm. */
  async function runFinalEvaluation(arg?: unknown, datasetArg?: unknown): Promise<Record<string, unknown> | undefined> {
    const client = await conn.ready;
    const { experiments } = await client.listExperiments();
    let id = experimentIdOf(arg);
    if (!id) {
      const candidates = finalCandidates(experiments);
      if (!candidates.length) {
        void vscode.window.showInformationMessage('Overseer: no scored or succeeded experiment to evaluate on the held-out split.');
        return undefined;
      }
      const items = candidates.map((x) => ({
        label: noIcons(plainName(x.title, 'title', 120)) || x.id,
        description: noIcons(`${x.id} · ${plain(x.agentId, 40)} · ${x.state}${x.score ? ` · ${plain(x.score.dataset, 40)} PGR ${x.score.pgr === null ? 'n/a' : x.score.pgr.toFixed(3)}` : ''}`),
        detail: runPredictions(x) ? 'held-out predictions recorded by the run (results.json)' : 'no held-out predictions recorded by the run: you will choose a predictions file',
        id: x.id,
      }));
      id = (await vscode.window.showQuickPick(items, { placeHolder: 'Experiment to evaluate on the held-out split', matchOnDescription: true }))?.id;
      if (!id) return undefined;
    }
    const x = experiments.find((y) => y.id === id) ?? (await client.getExperiment(id));
    const title = plain(x.title, 80);

    const given = typeof datasetArg === 'string' ? datasetArg : arg && typeof arg === 'object' ? (arg as { dataset?: unknown }).dataset : undefined;
    let dataset: string | undefined = typeof given === 'string' && DATASET_RE.test(given) ? given : undefined;
    if (!dataset) {
      const OTHER = 'Other dataset…';
      const known = finalDatasets(x, experiments);
      const pick = known.length
        ? await vscode.window.showQuickPick([...known.map((d) => ({ label: noIcons(plain(d, 64)), dataset: d })), { label: OTHER, dataset: '' }], { placeHolder: `Dataset for the final evaluation of ${x.id}` })
        : { label: OTHER, dataset: '' };
      if (!pick) return undefined;
      dataset =
        pick.dataset ||
        (
          await vscode.window.showInputBox({
            title: `Dataset for the final evaluation of ${x.id}`,
            ignoreFocusOut: true,
            validateInput: (v) => (DATASET_RE.test(v.trim()) ? undefined : 'A dataset name: letters, digits, . _ - (max 64)'),
          })
        )?.trim();
      if (!dataset) return undefined;
    }

    let predictions: number[] | undefined;
    if (!runPredictions(x)) {
      const uris = await vscode.window.showOpenDialog({
        canSelectMany: false,
        openLabel: 'Use Predictions',
        filters: { JSON: ['json'] },
        title: `Held-out predictions of ${x.id} (a JSON array of integer labels)`,
      });
      if (!uris?.length) return undefined;
      const st = await vscode.workspace.fs.stat(uris[0]!);
      if (st.size > MAX_PREDICTIONS_FILE) throw new Error(`the predictions file is ${st.size} bytes (limit ${MAX_PREDICTIONS_FILE})`);
      predictions = parsePredictions(Buffer.from(await vscode.workspace.fs.readFile(uris[0]!)).toString('utf8'));
    }

    const go = await vscode.window.showWarningMessage(
      `Run the final evaluation of ${x.id} ("${title}") on the held-out split of ${plain(dataset, 64)}?`,
      {
        modal: true,
        detail:
          'Held-out queries are limited: every final evaluation is recorded in the ledger and each extra look at the held-out split ' +
          'makes its scores less trustworthy. Evaluate only final candidates, once.' +
          (predictions ? `\n\nPredictions: ${predictions.length} from the chosen file.` : '\n\nPredictions: recorded by the run (results.json).'),
      },
      'Run Final Evaluation',
    );
    if (go !== 'Run Final Evaluation') return undefined;
    const r = await client.evaluationFinal({ dataset, split: HELDOUT, experiment_id: x.id, ...(predictions ? { predictions } : {}) });
    void vscode.window
      .showInformationMessage(`Final evaluation of ${x.id} on ${plain(dataset, 64)} (held-out): ${finalSummary(r)}`, 'Open Leaderboard')
      .then((choice) => (choice ? vscode.commands.executeCommand('overseer.openLeaderboard') : undefined));
    return r;
  }

  return [
    reg('overseer.runFinalEvaluation', (arg?: unknown, dataset?: unknown) => runFinalEvaluation(arg, dataset)),
    reg('overseer.refresh', async () => {
      await Promise.all([queue.reload(), deps.agents.reload(), deps.forum.reload(), deps.audit.reload()]);
    }),
    reg('overseer.reconnectHub', () => conn.connect()),
    reg('overseer.showHubStatus', () => {
      const s = conn.status;
      void vscode.window.showInformationMessage(
        `Overseer hub: ${s.state}${s.mode ? ` (${s.mode})` : ''}${s.url ? ` at ${s.url}` : ''}${s.fleetDir ? `, fleet ${s.fleetDir}` : ''}, seq ${s.lastSeq}, acting as ${conn.human}${s.error ? ` — ${s.error}` : ''}`,
      );
    }),
    reg('overseer.setHubToken', async (token?: unknown) => {
      const t =
        typeof token === 'string'
          ? token
          : await vscode.window.showInputBox({ title: 'Overseer: team hub token', prompt: 'Bearer token of a human principal on the hub set in overseer.hubUrl', password: true, ignoreFocusOut: true });
      if (t === undefined) return;
      if (t.trim()) await deps.secrets.store(TOKEN_SECRET, t.trim());
      else await deps.secrets.delete(TOKEN_SECRET);
      await conn.connect();
    }),
    reg('overseer.approveExperiment', (arg?: unknown) => approve(arg)),
    reg('overseer.vetoExperiment', (arg?: unknown, why?: unknown) => decideWithReason('veto', arg, typeof why === 'string' ? why : undefined)),
    reg('overseer.requestChanges', (arg?: unknown, why?: unknown) => decideWithReason('requestChanges', arg, typeof why === 'string' ? why : undefined)),
    reg('overseer.approveSelected', approveSelected),
    reg('overseer.openSweep', (arg?: unknown) => openSweep(arg)),
    reg('overseer.approveSweep', (arg?: unknown) => approveSweep(arg)),
    reg('overseer.vetoSweep', (arg?: unknown, why?: unknown) => decideSweepWithReason('veto', arg, typeof why === 'string' ? why : undefined)),
    reg('overseer.requestChangesOnSweep', (arg?: unknown, why?: unknown) => decideSweepWithReason('request_changes', arg, typeof why === 'string' ? why : undefined)),
    reg('overseer.cancelRun', async (arg?: unknown, why?: unknown) => {
      const id = experimentIdOf(arg) ?? (await pickExperiment('Run to cancel', (x) => ['approved', 'dispatched', 'running'].includes(x.state)));
      if (!id) return undefined;
      const r =
        typeof why === 'string' ? why : await vscode.window.showInputBox({ title: `Cancel ${id}`, prompt: 'Reason (optional)', ignoreFocusOut: true });
      if (r === undefined) return undefined;
      const client = await conn.ready;
      const x = await client.cancel(id, r.trim() || undefined);
      void vscode.window.showInformationMessage(`Cancel requested for ${id}.`);
      return x;
    }),
    reg('overseer.showRunLog', async (arg?: unknown) => {
      const id = experimentIdOf(arg) ?? (await pickExperiment('Run log of', (x) => !!x.run || x.state === 'running'));
      if (!id) return undefined;
      return deps.runLogs.show(id);
    }),
    reg('overseer.openDiff', async (arg?: unknown, fileArg?: unknown, lineArg?: unknown) => {
      let experimentId = experimentIdOf(arg);
      let file: unknown = arg instanceof FileNode ? arg.file.path : (arg as { file?: unknown } | undefined)?.file ?? fileArg;
      let line: unknown = (arg as { line?: unknown } | undefined)?.line ?? lineArg;
      if (!experimentId) experimentId = await pickExperiment('Experiment', () => true);
      if (!experimentId) return;
      if (typeof file !== 'string') {
        const { files } = await (await conn.ready).experimentFiles(experimentId);
        const pick = await vscode.window.showQuickPick(files.map((f) => ({ label: noIcons(plainName(f.path, 'file', 200)), path: f.path, description: `+${f.additions} −${f.deletions}${f.viewed ? ' · viewed' : ''}` })), { placeHolder: 'File' });
        if (!pick) return;
        file = pick.path;
        line = undefined;
      }
      await openExperimentDiff(conn, { experimentId, file: file as string, line: typeof line === 'number' ? line : undefined });
      await deps.comments.refresh(experimentId).catch(() => undefined);
    }),
    reg('overseer.openChangesSinceLastReview', async (arg?: unknown) => {
      const id = experimentIdOf(arg) ?? (await pickExperiment('Follow-up proposal', (x) => !!x.supersedes));
      if (!id) return undefined;
      return openChangesSinceLastReview(conn, id);
    }),
    reg('overseer.markFileViewed', (arg?: unknown) => markViewed(arg, true)),
    reg('overseer.markFileUnviewed', (arg?: unknown) => markViewed(arg, false)),
    reg('overseer.postReviewComment', (reply: vscode.CommentReply) => deps.comments.post(reply)),
    reg('overseer.pauseAgent', async (arg?: unknown) => {
      const id = agentIdOf(arg);
      if (!id) throw new Error('choose an agent in the Agents view');
      const why = await vscode.window.showInputBox({ title: `Pause ${id}`, prompt: 'Reason (the agent is told)', ignoreFocusOut: true, validateInput: (v) => (v.trim() ? undefined : 'A reason is required') });
      if (!why) return;
      await (await conn.ready).pauseAgent(id, why.trim());
    }),
    reg('overseer.resumeAgent', async (arg?: unknown) => {
      const id = agentIdOf(arg);
      if (!id) throw new Error('choose an agent in the Agents view');
      await (await conn.ready).resumeAgent(id);
    }),
    reg('overseer.resumeAgentEvaluation', async (arg?: unknown) => {
      const id = agentIdOf(arg);
      if (!id) throw new Error('choose an agent in the Agents view');
      const note = await vscode.window.showInputBox({ title: `Resume evaluation access of ${id}`, prompt: 'What you checked (recorded in the ledger; optional)', ignoreFocusOut: true });
      if (note === undefined) return;
      await (await conn.ready).resumeEvaluation(id, note.trim() || undefined);
      void vscode.window.showInformationMessage(`Evaluation access of ${id} resumed.`);
    }),
    reg('overseer.setBudget', async (arg?: unknown) => {
      const id = agentIdOf(arg);
      if (!id) throw new Error('choose an agent in the Agents view');
      const v = await vscode.window.showInputBox({
        title: `GPU-hour budget of ${id}`,
        ignoreFocusOut: true,
        validateInput: (s) => (/^\d+(\.\d+)?$/.test(s.trim()) ? undefined : 'A non-negative number of GPU-hours'),
      });
      if (v === undefined) return;
      await (await conn.ready).setBudget(id, { gpuHours: Number(v) });
    }),
    reg('overseer.setFindingVerdict', async (arg?: unknown) => {
      const id = typeof arg === 'string' ? arg : (arg as { id?: string } | undefined)?.id;
      if (!id || !ID_RE.test(id)) throw new Error('choose a finding in the Forum view');
      const pick = await vscode.window.showQuickPick(
        [
          { label: 'verified', description: 'metrics reproduced / trustworthy' },
          { label: 'suspect', description: 'possible gaming or error' },
          { label: 'retracted', description: 'wrong; agents are told' },
        ],
        { placeHolder: `Verdict on finding ${id}` },
      );
      if (!pick) return;
      const note = await vscode.window.showInputBox({ title: `Note for ${pick.label} (optional)`, ignoreFocusOut: true });
      if (note === undefined) return;
      await (await conn.ready).findingVerdict(id, pick.label as 'verified' | 'suspect' | 'retracted', note.trim() || undefined);
    }),
    reg('overseer.forumSortNew', () => deps.forum.setSort('new')),
    reg('overseer.forumSortTop', () => deps.forum.setSort('top')),
    reg('overseer.triageApprove', () => approve(activeOrThrow())),
    reg('overseer.triageVeto', () => decideWithReason('veto', activeOrThrow())),
    reg('overseer.triageRequestChanges', () => decideWithReason('requestChanges', activeOrThrow())),
    reg('overseer.triageNext', () => triageMove(1)),
    reg('overseer.triagePrevious', () => triageMove(-1)),
  ];
}

