// The `evaluation` section of `<fleet>/fleet.json`: the settings a fleet's humans may change, validated
// strictly (an unknown key or a wrong type is an error naming the field, never silently ignored).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import type { EvaluationSettingsOverrides } from './service';

const count = z.number().int().nonnegative();

export const evaluationConfigSchema = z.strictObject({
  /** Suspend an agent's evaluation access on a probing alert until a human resumes it (default true). */
  freezeOnProbing: z.boolean().optional(),
  /** Run-bound evaluations allowed per approved experiment (default 10). */
  runEvalLimit: count.optional(),
  /** Default per-agent query budget on the test split when no human set one (default 500). */
  testBudget: count.optional(),
});

export type EvaluationConfig = z.infer<typeof evaluationConfigSchema>;

export class EvaluationConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvaluationConfigError';
  }
}

/** Validate the `evaluation` value of a parsed fleet.json (undefined → no overrides). */
export function parseEvaluationConfig(raw: unknown, source = 'fleet.json'): EvaluationSettingsOverrides {
  if (raw === undefined) return {};
  const r = evaluationConfigSchema.safeParse(raw);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `evaluation${i.path.map((p) => `.${String(p)}`).join('')}: ${i.message}`);
    throw new EvaluationConfigError(`${source}: invalid evaluation configuration: ${issues.join('; ')}`);
  }
  const c = r.data;
  const out: EvaluationSettingsOverrides = {};
  if (c.freezeOnProbing !== undefined) out.freezeOnProbing = c.freezeOnProbing;
  if (c.runEvalLimit !== undefined) out.runEvalLimit = c.runEvalLimit;
  if (c.testBudget !== undefined) out.defaultBudget = { test: c.testBudget };
  return out;
}

/** Read the `evaluation` section of `<fleetDir>/fleet.json`; a missing file or section means the defaults. */
export function loadEvaluationConfig(fleetDir: string): EvaluationSettingsOverrides {
  const file = path.join(fleetDir, 'fleet.json');
  if (!fs.existsSync(file)) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new EvaluationConfigError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new EvaluationConfigError(`${file}: expected a JSON object`);
  return parseEvaluationConfig((raw as Record<string, unknown>).evaluation, file);
}
