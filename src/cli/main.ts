#!/usr/bin/env node
// `biblio`: the command line for the Biblio API (submit with live progress, status, list,
// search, refresh-url, reanalyze, dead letters, keys). Every command has --help and --json.
import { Command, Option } from 'commander';
import { registerDlq } from './commands/dlq';
import { registerKeys } from './commands/keys';
import { registerReanalyze } from './commands/reanalyze';
import { registerSearch } from './commands/search';
import { registerSubmit } from './commands/submit';
import { registerUsage } from './commands/usage';
import { registerVideoCommands } from './commands/videos';
import { EXIT } from './context';

export function buildProgram(): Command {
  const program = new Command('biblio')
    .description('Biblio video pipeline: submit videos, follow them, search them, handle dead letters')
    .addOption(new Option('--api-url <url>', 'the Biblio API').env('BIBLIO_API_URL').default('http://127.0.0.1:3000'))
    .addOption(new Option('--api-key <key>', 'API key, sent as a bearer token').env('BIBLIO_API_KEY'))
    .option('--json', 'print machine-readable JSON instead of text')
    .showHelpAfterError('(see biblio --help, or biblio <command> --help)')
    .exitOverride((err) => {
      // --help/--version exit 0; a usage error exits 2 with commander's one-line message.
      process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.usage);
    })
    .addHelpText(
      'after',
      `
Exit codes: 0 done (for submit: the video is ready); 1 the request or the video failed (one line
with the typed reason); 2 usage error; 3 the API is unreachable or failed (5xx).

Examples:
  biblio submit holiday.mp4             upload (or copy to a local API's ingest dir) and follow it
  biblio submit https://example.com/a.mp4 --id a1
  biblio status a1 --json
  biblio search beach sunset --tags outdoor --min-duration 10
  biblio dlq list --state open && biblio dlq replay 7
  biblio usage --from 2026-12-01 --json
  biblio reanalyze --delayed            analyse every video whose analysis was delayed`,
    );
  registerSubmit(program);
  registerVideoCommands(program);
  registerReanalyze(program);
  registerSearch(program);
  registerDlq(program);
  registerKeys(program);
  registerUsage(program);
  return program;
}

if (require.main === module) {
  void buildProgram().parseAsync(process.argv);
}
