import { Command } from 'commander';
import { VERSION } from '../app.js';
import { UserError } from '../core/index.js';
import { registerCampaignCommands } from './campaign-commands.js';
import { registerDeliveryCommands } from './delivery-commands.js';
import { registerDemoCommand } from './demo-command.js';
import { registerDestinationCommands } from './destination-commands.js';
import { registerLabelCommands, registerPolicyCommands } from './governance-commands.js';
import { registerIdentityCommands } from './identity-commands.js';
import { registerImportCommand } from './import-command.js';
import { registerKeyCommands } from './key-commands.js';
import { registerOrchestrationCommands } from './orchestration-commands.js';
import { registerSegmentCommands } from './segment-commands.js';
import { registerServeCommand } from './serve-command.js';
import { registerSourceCommands } from './source-commands.js';

const program = new Command('sluice')
  .description('Sluice: ingest events and profiles, resolve identities, evaluate segments, activate them.')
  .version(VERSION)
  .showHelpAfterError();

registerServeCommand(program);
registerSourceCommands(program);
registerKeyCommands(program);
registerImportCommand(program);
registerDemoCommand(program);
registerIdentityCommands(program);
registerSegmentCommands(program);
registerDestinationCommands(program);
registerDeliveryCommands(program);
registerCampaignCommands(program);
registerOrchestrationCommands(program);
registerLabelCommands(program);
registerPolicyCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof UserError) {
    console.error(`error: ${err.message}`);
    for (const issue of err.issues.slice(1)) console.error(`  ${issue.path.join('.')}: ${issue.message}`);
    process.exit(1);
  }
  throw err;
}
