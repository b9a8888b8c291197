// `overseer` command-line entry point. Each command lives in its own module and is loaded on demand.

type Command = { summary: string; load: () => Promise<(argv: string[]) => Promise<number>> };

const COMMANDS: Record<string, Command> = {
  ledger: {
    summary: 'ledger verify --fleet <dir> (or <dir>)    verify the hash chain of a fleet ledger',
    load: async () => (await import('./ledger')).ledgerCommand,
  },
  hub: { summary: 'hub --fleet <dir> [--port P] [--host H] [--init --name N]    run the fleet hub', load: async () => (await import('./hub')).hubCommand },
  token: { summary: 'token create --fleet <dir> (--agent ID | --human ID)    print a new bearer token once', load: async () => (await import('./token')).tokenCommand },
  screen: {
    summary: 'screen --repo R --patch P --experiment E.json [--ai]    screen a proposal for evaluation gaming (JSON report)',
    load: async () => (await import('./screen')).screenCommand,
  },
  runner: {
    summary: 'runner list|test <name> --fleet D   list runners / submit a tiny job and report OK or the failure',
    load: async () => (await import('./runner')).runnerCommand,
  },
  fleet: {
    summary: 'fleet start|simulate --fleet D [--agents 9] ...    run Claude research agents, or the deterministic simulator',
    load: async () => (await import('./fleet')).fleetCommand,
  },
  demo: {
    summary: 'demo [--fresh] [--port 8787] [--cs-port 8080] [--vsix F]    demo fleet + hub + simulator + code-server (see scripts/demo.sh)',
    load: async () => (await import('./demo')).demoCommand,
  },
  'agent-proxy': {
    summary: 'agent-proxy --token-file F [--port P] [--hub URL]    loopback forwarder adding an agent\'s token (AAR: ORCHESTRATOR_API_URL)',
    load: async () => (await import('./agentProxy')).agentProxyCommand,
  },
  agent: {
    summary: 'agent pause|resume|retire|review|release|show|episodes <agent> [--note N]    one decision per agent episode (humans)',
    load: async () => (await import('./agentEpisodes')).agentCommand,
  },
  eval: { summary: 'eval status|resume <agent> --hub URL [--token T]    agents\' evaluation access; lift a probing suspension', load: async () => (await import('./eval')).evalCommand },
  // Registered by their areas (one line each): hub, token, screen, runner, fleet, demo.
  // The human CLI (src/cli/human.ts): --fleet <dir> or --hub <url>; --json for scripts.
  status: human('status [<fleet-dir>]    the fleet at a glance: agents, open proposals, queue counts'),
  queue: human('queue [--state undecided|all|<state>] [--agent A] [--json]    experiments (default: awaiting a decision)'),
  show: human('show <exp>    an experiment: command, rationale, screening findings, diffstat, run, score'),
  diff: human('diff <exp> [--file F]    the patch under review'),
  approve: human('approve <exp> [--reason R] [--commit SHA]    approve the pinned commit/tree it shows'),
  veto: human('veto <exp> --reason R [--commit SHA]    veto a proposal'),
  'request-changes': human('request-changes <exp> --reason R [--commit SHA]    send a proposal back to its agent'),
  accept: human('accept <exp> --reason R [--false-alarm kind@file:line=why]    accept a flagged result after seeing it'),
  runs: human('runs [--agent A] [--active]    dispatched runs: runner, job, exit, run report'),
  logs: human('logs <exp> [-f]    a run\'s log (follow until it ends)'),
  leaderboard: human('leaderboard [--dataset D] [--all]    verified scores: PGR with CI over seeds'),
  sweep: human('sweep approve|veto|request-changes <sweep> [--reason R]    decide a sweep, each member at its own pin'),
  policy: human('policy [show|set|off|enable <rule>]    the approval policy (CEL rules set by humans, audited)'),
  audit: human('audit [list|confirm <exp>|flag <exp> --reason R]    post-hoc audits of automatic approvals'),
};

function human(summary: string): Command {
  const name = summary.split(' ')[0]!;
  return { summary, load: async () => (await import('./human')).humanCommands[name]! };
}

export function usage(): string {
  return ['usage: overseer <command> [options]', '', ...Object.entries(COMMANDS).map(([, c]) => `  ${c.summary}`), '', 'status … leaderboard take --fleet <dir> (the hub serving it, or one opened for the command) or --hub <url>', '(token from OVERSEER_TOKEN or --token-file <f>); exit 0 ok, 1 refused by the hub, 2 usage, 3 hub unreachable.'].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 1;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`overseer: unknown command ${JSON.stringify(name)}\n${usage()}\n`);
    return 1;
  }
  try {
    return await (await cmd.load())(rest);
  } catch (err) {
    process.stderr.write(`overseer ${name}: ${(err as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`${(err as Error).stack ?? err}\n`);
      process.exitCode = 1;
    },
  );
}
