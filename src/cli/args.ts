// Shared option parsing for `overseer` commands: node's parseArgs in strict mode, a usage line on bad
// options, --help, and required options. Returns the parsed values, or the exit code to return.
import { type ParseArgsConfig, parseArgs } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;
type Values<O extends Options> = ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: boolean }>>['values'];

export function parseCommand<O extends Options, R extends keyof O & string = never>(
  argv: string[],
  options: O,
  usage: string,
  opts: { required?: R[]; allowPositionals?: boolean } = {},
): { values: Values<O> & Record<R, string>; positionals: string[] } | number {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: !!opts.allowPositionals });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${usage}\n`);
    return 1;
  }
  const values = parsed.values as Record<string, unknown>;
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  for (const r of opts.required ?? []) {
    if (values[r] === undefined) {
      process.stderr.write(`--${r} is required\n${usage}\n`);
      return 1;
    }
  }
  return { values: values as Values<O> & Record<R, string>, positionals: parsed.positionals };
}
