#!/usr/bin/env node
// lstm-cuda command line: dispatches to one module per subcommand. Each module exports
// `run(argv: string[]): Promise<number>` returning the exit code; a UsageError is printed without a stack.
import { UsageError } from './usage_error.js';
import { installInterruptHandler } from './interrupt.js';
import '../ops/methods.js'; // the Tensor method sugar, for every command
import { VERSION } from '../version.js';
import { nearestName } from './flags.js';

installInterruptHandler(); // first: a Ctrl-C while commands load is handled too

const COMMANDS: Record<string, { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> }> = {
  train: { summary: 'train a char-rnn on a text file', load: () => import('./train.js') },
  sample: { summary: 'generate text from a trained run directory', load: () => import('./sample.js') },
  chat: { summary: 'talk to a run trained on conversations: it replies in your voice', load: () => import('./chat.js') },
  prepare: { summary: 'turn a chat export into training text of your own messages', load: () => import('./prepare.js') },
  info: { summary: 'show backends and devices (why one is unavailable), or what a run directory holds', load: () => import('./info.js') },
  serve: { summary: 'a local web page: sample with per-character probabilities, chat, live loss curves', load: () => import('./serve.js') },
  demo: { summary: 'train briefly on the embedded corpus and sample (npm start)', load: () => import('./demo.js') },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([k, v]) => `  ${k.padEnd(8)} ${v.summary}`);
  return `usage: lstm-cuda <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun 'lstm-cuda <command> --help' for a command's options; 'lstm-cuda --version' for the version.`;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(usage());
    return cmd === undefined ? 2 : 0;
  }
  if (cmd === '--version' || cmd === '-v' || cmd === 'version') {
    console.log(`lstm-cuda ${VERSION}`);
    return 0;
  }
  const entry = COMMANDS[cmd];
  if (!entry) {
    const near = nearestName(cmd, Object.keys(COMMANDS));
    console.error(`lstm-cuda: unknown command '${cmd}'${near !== undefined ? ` (did you mean ${near}?)` : ''}\n${usage()}`);
    return 2;
  }
  const mod = await entry.load();
  return mod.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`lstm-cuda: ${err.message}`);
      process.exitCode = err.exitCode;
    } else {
      console.error(`lstm-cuda: ${err instanceof Error ? err.message : String(err)}`);
      if (process.env.LSTM_CUDA_DEBUG && err instanceof Error) console.error(err.stack);
      process.exitCode = 1;
    }
  },
);
