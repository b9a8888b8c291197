// Task rules a fleet declares in fleet.json (`tasks.<name>`), read by the screener and the AI reviewer:
//   mode               "normal" | "no-testing" (candidate code must not be executed)
//   protectedPaths     globs of scorer, baselines, tests, conftest: edits are findings
//   labelPaths         globs of label files agents must never read
//   heldOutPaths       globs of held-out inputs: may be predicted on, never trained on
//   allowedHosts       hosts code may contact (loopback is always allowed)
//   resultsMustReport  keys a results file must carry (e.g. "all_seeds")
//   protectedSymbols   organisers' values inside a larger file: "pkg.module.NAME" (a Python assignment) or
//                      "path/to/file.yaml:key" (a top-level YAML block); edits to them are findings
//   answerCarryingFields  dataset fields that carry the answer (e.g. "support"): reading them is label access
//   transfer           the hidden transfer task: {datasets: {visible: hidden}, seeds?, protocol: {goldLabels},
//                      tolerance, release} (core/replication.ts)
//   candidatePaths     globs of the candidate programs of a no-testing task (accepted and kept; only those
//                      are "candidate code": running the repository's own tests there is allowed)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import type { TaskMode } from '../core/model';
import { type TransferConfig, transferConfigSchema } from '../core/replication';

export interface TaskRules {
  mode?: TaskMode;
  protectedPaths: string[];
  labelPaths: string[];
  heldOutPaths: string[];
  allowedHosts?: string[];
  resultsMustReport: string[];
  protectedSymbols: string[];
  answerCarryingFields: string[];
  candidatePaths: string[];
  /** The hidden transfer task results must replicate on (core/replication.ts). */
  transfer?: TransferConfig;
}

const modeSchema = z.enum(['normal', 'no-testing', 'no_testing']).transform((m): TaskMode => (m === 'no_testing' ? 'no-testing' : m));

export const taskRulesSchema = z
  .strictObject({
    mode: modeSchema.optional(),
    protectedPaths: z.array(z.string().min(1)).default([]),
    labelPaths: z.array(z.string().min(1)).default([]),
    heldOutPaths: z.array(z.string().min(1)).default([]),
    allowedHosts: z.array(z.string().min(1)).optional(),
    resultsMustReport: z.array(z.string().min(1)).default([]),
    protectedSymbols: z.array(z.string().regex(/^[^:\s]+(:[^:\s]+)?$/, 'a dotted Python name "pkg.module.NAME" or "file:key"')).default([]),
    answerCarryingFields: z.array(z.string().regex(/^[A-Za-z_][\w-]*$/, 'a field name')).default([]),
    candidatePaths: z.array(z.string().min(1)).default([]),
    transfer: transferConfigSchema.optional(),
  });

export class TaskRulesError extends Error {}

/** The `tasks` section of a parsed fleet.json → rules per task name (clear errors on bad input). */
export function parseTaskRules(raw: unknown, source = 'fleet.json'): Map<string, TaskRules> {
  const out = new Map<string, TaskRules>();
  if (raw === undefined) return out;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new TaskRulesError(`${source}: "tasks" must be an object of task name → rules`);
  for (const [name, v] of Object.entries(raw as Record<string, unknown>)) {
    const r = taskRulesSchema.safeParse(v);
    if (!r.success) {
      const issues = r.error.issues.map((i) => `${i.path.join('.') || '(task)'}: ${i.message}`).join('; ');
      throw new TaskRulesError(`${source}: tasks.${name} is invalid: ${issues}`);
    }
    out.set(name, r.data);
  }
  return out;
}

/** Defaults for a repository that declares nothing (the demo's layout and common names). */
export const DEFAULT_TASK_RULES: TaskRules = {
  protectedPaths: [],
  labelPaths: [],
  heldOutPaths: [],
  resultsMustReport: [],
  protectedSymbols: [],
  answerCarryingFields: [],
  candidatePaths: [],
};

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
      if (glob[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export function matchesAny(path: string, globs: readonly string[]): boolean {
  return globs.some((g) => globToRegExp(g.replace(/^\.\//, '')).test(path) || (!g.includes('/') && globToRegExp(g).test(path.split('/').pop() ?? path)));
}

/** Does a string the program uses name one of these paths? (exact path, or its file name with or without extension) */
export function namesPath(value: string, globs: readonly string[]): boolean {
  const v = value.replace(/\\/g, '/');
  for (const g of globs) {
    if (matchesAny(v, [g]) || matchesAny(v.replace(/^.*?\//, ''), [g])) return true;
    const base = g.split('/').pop() ?? g;
    if (base.includes('*')) continue;
    const stem = base.replace(/\.[^.]+$/, '');
    const vb = v.split('/').pop() ?? v;
    if (vb === base || (stem.length >= 6 && (vb === stem || vb.replace(/\.[^.]+$/, '') === stem))) return true;
  }
  return false;
}

/**
 * The rules a hub applies to every proposal: `<fleetDir>/fleet.json` `tasks`, when it declares exactly one task
 * (a fleet runs one task). No file, no section → undefined (defaults). More than one task, or invalid rules →
 * a TaskRulesError naming the problem.
 */
export function loadFleetTaskRules(fleetDir: string): TaskRules | undefined {
  const file = path.join(fleetDir, 'fleet.json');
  if (!fs.existsSync(file)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new TaskRulesError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const tasks = parseTaskRules((raw as Record<string, unknown> | null)?.['tasks'], file);
  if (tasks.size === 0) return undefined;
  if (tasks.size > 1) throw new TaskRulesError(`${file}: declares ${tasks.size} tasks (${[...tasks.keys()].join(', ')}); a fleet's hub screens against one`);
  return [...tasks.values()][0];
}
