// `overseer screen --repo R [--patch P] --experiment E.json [--base B] [--ai] [--base-url U] [--model M]`
// Prints the screening report as JSON on stdout. Exit 0 on success, 1 on bad input (message on stderr).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Sandbox } from '../git/sandbox';
import { parseExperiment, type ScreenExperiment } from '../screening/experimentFile';
import { decodeLenient } from '../screening/patchModel';
import { screenProposal } from '../screening/screen';
import { parseTaskRules, type TaskRules } from '../screening/taskRules';
import { parseCommand } from './args';

const USAGE = `usage: overseer screen --repo <git repo> --experiment <experiment.json> [--patch <file.diff>] [--base <rev>]
                       [--fleet <fleet.json>] [--task <name>]
                       [--ai] [--base-url <url>] [--model <id>] [--allow-host <host>]... [--pretty]
  experiment.json: {"title", "rationale", "command", "taskMode": "normal"|"no-testing", "commit"?, "task"?}
    also accepted as agents write it: "task_mode" (alias of taskMode), "agent", "gpus", "est_gpu_hours";
    any other key is an error.
  Without --patch the diff is computed as git diff <base>..<commit> (base defaults to commit^).
  --fleet reads the task rules (fleet.json "tasks"); --task (or the experiment's "task") picks one; a single
    declared task applies by default.
  --ai uses ANTHROPIC_API_KEY from the environment.`;

// git's well-known empty tree object, used as the base of a root commit.
const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

class InputError extends Error {}

function fail(msg: string): number {
  process.stderr.write(`overseer screen: ${msg}\n`);
  return 1;
}

function readFileOrThrow(p: string, what: string): Buffer {
  try {
    return fs.readFileSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`cannot read ${what} ${p}${code ? ` (${code})` : ''}`);
  }
}

export async function screenCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(
    argv,
    {
      repo: { type: 'string' },
      patch: { type: 'string' },
      experiment: { type: 'string' },
      base: { type: 'string' },
      ai: { type: 'boolean', default: false },
      'base-url': { type: 'string' },
      model: { type: 'string' },
      'allow-host': { type: 'string', multiple: true },
      fleet: { type: 'string' },
      task: { type: 'string' },
      pretty: { type: 'boolean', default: false },
    },
    USAGE,
  );
  if (typeof parsed === 'number') return parsed;
  const args = parsed.values;
  try {
    if (!args.repo) throw new InputError('--repo is required');
    if (!args.experiment) throw new InputError('--experiment is required');
    const repo = path.resolve(args.repo);
    if (!fs.existsSync(repo) || !fs.statSync(repo).isDirectory()) throw new InputError(`repo ${repo} is not a directory`);

    let expJson: unknown;
    const expText = readFileOrThrow(args.experiment, 'experiment file').toString('utf8');
    try {
      expJson = JSON.parse(expText);
    } catch (e) {
      throw new InputError(`experiment file ${args.experiment} is not valid JSON: ${(e as Error).message}`);
    }
    let experiment: ScreenExperiment;
    try {
      experiment = parseExperiment(expJson);
    } catch (e) {
      throw new InputError(`experiment file ${args.experiment} is invalid: ${(e as Error).message}`);
    }
    const exp = { data: experiment };
    let rules: TaskRules | undefined;
    if (args.fleet) {
      let fleetJson: unknown;
      try {
        fleetJson = JSON.parse(readFileOrThrow(args.fleet, 'fleet file').toString('utf8'));
      } catch (e) {
        if (e instanceof InputError) throw e;
        throw new InputError(`fleet file ${args.fleet} is not valid JSON: ${(e as Error).message}`);
      }
      let tasks: Map<string, TaskRules>;
      try {
        tasks = parseTaskRules((fleetJson as Record<string, unknown> | null)?.['tasks'], args.fleet);
      } catch (e) {
        throw new InputError((e as Error).message);
      }
      const name = args.task ?? experiment.task ?? (tasks.size === 1 ? [...tasks.keys()][0] : undefined);
      if (name === undefined) {
        if (tasks.size > 1) throw new InputError(`${args.fleet} declares ${tasks.size} tasks (${[...tasks.keys()].join(', ')}): pick one with --task`);
      } else {
        rules = tasks.get(name);
        if (!rules) throw new InputError(`${args.fleet} declares no task ${JSON.stringify(name)} (have: ${[...tasks.keys()].join(', ') || 'none'})`);
      }
    } else if (args.task) throw new InputError('--task needs --fleet');

    // Read through the hub's hardened git (no config of the repository can start a program) and the same
    // in-process diff the hub shows reviewers.
    if (!fs.existsSync(path.join(repo, '.git')) && !fs.existsSync(path.join(repo, 'HEAD'))) throw new InputError(`${repo} is not a git repository`);
    const sb = new Sandbox(repo);
    const rev = exp.data.commit ?? 'HEAD';
    let commit: string;
    try {
      commit = (await sb.resolve(rev)).commit;
    } catch {
      throw new InputError(`commit ${rev} not found in ${repo}`);
    }

    let diff: string;
    if (args.patch) {
      diff = decodeLenient(readFileOrThrow(args.patch, 'patch file'));
    } else {
      let base: string | undefined;
      if (args.base) {
        try {
          base = (await sb.resolve(args.base)).commit;
        } catch {
          throw new InputError(`base ${args.base} not found in ${repo}`);
        }
      } else {
        base = (await sb.log(commit, 1))[0]?.parents[0]; // root commit: everything is new
      }
      diff = (await sb.diff(base, commit)).patch;
    }

    let ai;
    if (args.ai) {
      const apiKey = process.env['ANTHROPIC_API_KEY'];
      if (!apiKey) throw new InputError('--ai needs ANTHROPIC_API_KEY in the environment');
      ai = { apiKey, baseURL: args['base-url'], model: args.model };
    }

    const report = await screenProposal({
      diff,
      files: async (p) => {
        try {
          return (await sb.fileAt(commit, p))?.toString('utf8');
        } catch {
          return undefined;
        }
      },
      command: exp.data.command,
      taskMode: exp.data.taskMode,
      title: exp.data.title,
      rationale: exp.data.rationale,
      allowedHosts: args['allow-host'] && args['allow-host'].length > 0 ? [...args['allow-host'], 'localhost', '127.0.0.1', '::1'] : undefined,
      rules,
      ai,
    });
    const out = { commit, ...report };
    process.stdout.write(`${JSON.stringify(out, null, args.pretty ? 2 : undefined)}\n`);
    return 0;
  } catch (e) {
    if (e instanceof InputError) return fail(e.message);
    return fail(`unexpected error: ${(e as Error).message}`);
  }
}
