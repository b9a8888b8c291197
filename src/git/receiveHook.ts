// The hub's pre-receive hook: git runs it (through the hook script hubRepo.ts writes) with the pushed objects in
// quarantine and the ref updates on stdin. It applies receiveCheck.ts and exits non-zero to refuse the push;
// what it prints on stderr reaches the pusher as `remote: ...`. Bundled as dist/receiveHook.js.
import { checkPush, DEFAULT_RECEIVE_LIMITS, parseUpdates, type ReceiveLimits } from './receiveCheck';

const QUARANTINE_VARS = ['GIT_DIR', 'GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_QUARANTINE_PATH'] as const;

async function main(): Promise<number> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const updates = parseUpdates(Buffer.concat(chunks).toString('utf8'));
  const env: Record<string, string> = {};
  for (const k of QUARANTINE_VARS) if (process.env[k]) env[k] = process.env[k]!;
  let limits: ReceiveLimits = DEFAULT_RECEIVE_LIMITS;
  if (process.env.OVERSEER_RECEIVE_LIMITS) limits = { ...limits, ...(JSON.parse(process.env.OVERSEER_RECEIVE_LIMITS) as Partial<ReceiveLimits>) };
  const errors = await checkPush(process.cwd(), updates, env, limits);
  for (const e of errors.slice(0, 50)) process.stderr.write(`overseer: ${e}\n`);
  if (errors.length > 50) process.stderr.write(`overseer: ... and ${errors.length - 50} more\n`);
  return errors.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`overseer: push check failed: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
