// Hub-side dispatcher in its own process, for the crash test: `node --import=tsx crashChild.ts <fleetDir> <config.json>`.
// Prints "ready" once the dispatcher started; runs until killed (SIGKILL in the test) or SIGTERM (clean stop).
import * as fs from 'node:fs';
import { FleetService } from '../../../src/core/service';
import { parseRunnersConfig } from '../../../src/runners/config';
import { startDispatcher } from '../../../src/runners/dispatcher';

async function main(): Promise<void> {
  const [fleetDir, configFile] = process.argv.slice(2);
  if (!fleetDir || !configFile) throw new Error('usage: crashChild.ts <fleetDir> <config.json>');
  const service = await FleetService.open(fleetDir, { onWarning: (m) => process.stderr.write(`warn: ${m}\n`) });
  const config = parseRunnersConfig(JSON.parse(fs.readFileSync(configFile, 'utf8')));
  const d = startDispatcher(service, config, {
    pollMs: 200,
    localKillGraceSeconds: 1,
    onWarning: (m) => process.stderr.write(`dispatcher: ${m}\n`),
  });
  service.onEvent((e) => process.stdout.write(`event ${e.seq} ${e.type} ${(e.data as { experimentId?: string }).experimentId ?? ''}\n`));
  process.stdout.write(`ready ${process.pid} active=${d.active().join(',')}\n`);
  process.on('SIGTERM', () => {
    void d
      .stop()
      .then(() => service.close())
      .then(() => process.exit(0));
  });
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
