// `lstm-cuda chat RUN`: talk to a model trained on conversations (prepare --turns, then train). You type as
// the other side; the model answers as the owner, streamed, until it ends its turn; one LSTM state carries
// the whole conversation (src/chat/chat.ts). `--reply TEXT` answers one message and exits; `--json` prints
// the reply with per-token log-probabilities. Input that is not a terminal is read one message per line.
import { createInterface } from 'node:readline';
import { parseFlags, type FlagSpec } from './flags.js';
import { UsageError } from './usage_error.js';
import { DRAW_FLAGS, loadForGeneration } from './sample.js';
import { ChatSession, type ChatReply } from '../chat/chat.js';
import { ME_MARKER } from '../chat/turns.js';

const USAGE = 'usage: lstm-cuda chat RUN [--reply TEXT] [--json] [--temperature T] [--top-k K] [--top-p P] [--length N] [--seed S] [--device D]';

const SPEC: Record<string, FlagSpec> = {
  reply: { type: 'string', help: 'answer this one message and exit (for scripts)' },
  json: { type: 'boolean', help: 'print each reply as JSON: text, messages, how it ended, logProb, per-token token/char/logp/entropy' },
  length: { type: 'integer', help: 'tokens per reply at most', default: 400, min: 1 },
  messages: { type: 'integer', help: 'messages per reply at most', default: 5, min: 1 },
  as: { type: 'string', help: "your role in the conversation: 'them' (default) or a name, for runs prepared with --keep-names" },
  ...DRAW_FLAGS,
};

function replyJson(message: string, r: ChatReply): string {
  return JSON.stringify({
    message, text: r.text, messages: r.messages, ended: r.ended, logProb: r.logProb, entropy: r.entropy, skipped: r.skipped,
    tokens: r.perToken.map((t) => ({ token: t.token, char: t.char, logp: t.logp, entropy: t.entropy })),
  });
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, SPEC, USAGE);
  if (!parsed) return 0;
  const { values: f, positionals } = parsed;
  const ckpt = loadForGeneration(positionals, f.device as string | undefined, USAGE);
  if (ckpt.config.mode !== 'turns') {
    ckpt.model.dispose();
    throw new UsageError(`'${positionals[0]}' was trained in ${ckpt.config.mode} mode, not on conversations: make the training file with lstm-cuda prepare --turns, then train on it`, 1);
  }
  const json = !!f.json;
  const session = new ChatSession(ckpt.model, ckpt.vocab, {
    seed: f.seed as number | undefined, rawBytes: !!f['raw-bytes'], as: f.as as string | undefined,
    onWarning: (m) => console.error(m),
  });
  const draw = {
    temperature: f.temperature as number, topK: f['top-k'] as number, topP: f['top-p'] as number,
    maxLength: f.length as number, maxMessages: f.messages as number,
  };
  const me = ME_MARKER.trim().replace(/:$/, '');
  /** one reply: streamed as `me> …` lines (text), or one JSON line */
  const answer = (message: string): ChatReply => {
    let line = -1;
    const r = session.reply(message, {
      ...draw,
      onToken: json ? undefined : (t) => {
        if (t.message !== line) { process.stdout.write(`${line >= 0 ? '\n' : ''}${me}> `); line = t.message; }
        if (t.char) process.stdout.write(t.char);
      },
    });
    process.stdout.write(json ? replyJson(message, r) + '\n' : '\n');
    return r;
  };
  try {
    if (f.reply !== undefined) {
      answer(f.reply as string);
      return 0;
    }
    const tty = process.stdin.isTTY === true;
    if (tty && !json) console.error(`chatting with '${positionals[0]}': you write as the other side, it answers as '${me}'. /new starts a new conversation, Ctrl-D ends.`);
    const rl = createInterface({ input: process.stdin, output: tty ? process.stdout : undefined, prompt: tty ? 'you> ' : '', terminal: tty });
    if (tty) rl.prompt();
    for await (const raw of rl) {
      const msg = raw.trim();
      if (msg === '/new') { session.reset(); if (tty) console.error('(new conversation)'); }
      else if (msg === '/quit') break;
      else if (msg) answer(msg);
      if (tty) rl.prompt();
    }
    rl.close();
    return 0;
  } finally {
    session.dispose();
    ckpt.model.dispose();
  }
}
