// The experiment file `overseer screen --experiment E.json` reads. Accepts the hub's camelCase fields and the
// shape Python agents write (AAR style, snake_case): {"agent","title","rationale","command","task_mode","gpus",
// "est_gpu_hours"}. `task_mode` is a documented alias of `taskMode`; "no_testing" of "no-testing". Unknown keys
// and conflicting duplicates are errors, never silently ignored.
import { z } from 'zod';
import type { TaskMode } from '../core/model';

export interface ScreenExperiment {
  title: string;
  rationale: string;
  command: string;
  taskMode: TaskMode;
  commit?: string;
  agent?: string;
  /** fleet.json task whose declared rules apply. */
  task?: string;
}

const mode = z.enum(['normal', 'no-testing', 'no_testing']).transform((m): TaskMode => (m === 'no_testing' ? 'no-testing' : m));
const num = z.number().nonnegative();

const schema = z.strictObject({
  title: z.string(),
  rationale: z.string().default(''),
  command: z.string(),
  taskMode: mode.optional(),
  task_mode: mode.optional(),
  commit: z.string().min(1).optional(),
  agent: z.string().optional(),
  agent_id: z.string().optional(),
  agentId: z.string().optional(),
  task: z.string().min(1).optional(),
  gpus: num.optional(),
  est_gpu_hours: num.optional(),
  estGpuHours: num.optional(),
});

export const EXPERIMENT_KEYS = Object.keys(schema.shape);

/** Parse an experiment object; throws Error with every problem named. */
export function parseExperiment(raw: unknown): ScreenExperiment {
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issues = r.error.issues
      .map((i) => {
        if (i.code === 'unrecognized_keys') return `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => JSON.stringify(k)).join(', ')} (known: ${EXPERIMENT_KEYS.join(', ')})`;
        return `${i.path.join('.') || '(root)'}: ${i.message}`;
      })
      .join('; ');
    throw new Error(issues);
  }
  const d = r.data;
  if (d.taskMode && d.task_mode && d.taskMode !== d.task_mode) throw new Error(`taskMode (${d.taskMode}) and task_mode (${d.task_mode}) disagree`);
  const out: ScreenExperiment = { title: d.title, rationale: d.rationale, command: d.command, taskMode: d.taskMode ?? d.task_mode ?? 'normal' };
  if (d.commit) out.commit = d.commit;
  const agent = d.agent ?? d.agent_id ?? d.agentId;
  if (agent) out.agent = agent;
  if (d.task) out.task = d.task;
  return out;
}
