// Chatting with a model trained on conversations (the `turns` data mode, src/chat/turns.ts): you write as
// the other side, the model answers as the owner. A ChatSession keeps one LSTM state through the whole
// conversation: each of your messages is fed as `them: text\n`, then `me: `, and the reply is drawn token by
// token (Generator: on the device, valid UTF-8 in byte mode) until the owner's line ends. After that newline
// one more token is drawn: if it starts `me: ` the owner goes on with another message (the marker is fed
// and drawing continues), anything else hands the turn back (that token is not fed). So a reply is one or
// more messages and ends where the model ends its turn, or at maxLength / maxMessages.
import type { CharRNN } from '../nn/char_rnn.js';
import { showSymbol, type Vocab } from '../text/vocab.js';
import { Generator, checkModelVocab } from '../sample/generator.js';
import { checkArray, checkFunction, checkObject, checkOptions, checkString } from '../args.js';
import type { GeneratedToken } from '../sample/sample.js';
import { ME_MARKER, THEM_MARKER, markerOf } from './turns.js';

export interface ChatReplyOptions {
  /** default 0.8; ≤ 0 greedy */
  temperature?: number;
  /** 0 = all (default) */
  topK?: number;
  /** 1 = all (default) */
  topP?: number;
  /** tokens per reply at most (default 400) */
  maxLength?: number;
  /** messages per reply at most (default 5) */
  maxMessages?: number;
  /** called for each token of the reply as it is drawn (streaming); `message` counts from 0 */
  onToken?: (t: GeneratedToken & { message: number }) => void;
}

export interface ChatReply {
  /** the reply: its messages joined by '\n' */
  text: string;
  messages: string[];
  /** every drawn token of the reply, with its log-probability and entropy */
  perToken: GeneratedToken[];
  /** Σ log p of the drawn tokens, nats */
  logProb: number;
  /** mean per-token entropy, nats */
  entropy: number;
  /** 'turn': the model handed the turn back; 'length' / 'messages': cut at maxLength / maxMessages */
  ended: 'turn' | 'length' | 'messages';
  /** characters of your message that are not in the vocabulary (skipped) */
  skipped: string[];
}

export interface ChatSessionOptions {
  /** uint32 seed of the draws (default random) */
  seed?: number;
  /** byte vocabularies: allow invalid UTF-8 (default false) */
  rawBytes?: boolean;
  /** who you are in the conversation: 'them' (default, the anonymised others) or a name (runs prepared with --keep-names) */
  as?: string;
  /** warnings (default console.warn) */
  onWarning?: (message: string) => void;
}

export interface ChatMessageRecord {
  role: 'me' | 'them';
  text: string;
}

export class ChatSession {
  /** the conversation so far */
  readonly history: ChatMessageRecord[] = [];
  private gen: Generator;
  private offset = 0;
  private readonly seed: number;
  private readonly meIds: Int32Array;
  private readonly themMarker: string;
  private readonly newline: number;

  constructor(readonly model: CharRNN, readonly vocab: Vocab, private readonly opts: ChatSessionOptions = {}) {
    checkModelVocab('ChatSession', model, vocab);
    this.opts = checkOptions('ChatSession', opts);
    if (this.opts.as !== undefined) checkString('ChatSession: as', this.opts.as);
    if (this.opts.onWarning !== undefined) checkFunction('ChatSession: onWarning', this.opts.onWarning);
    this.themMarker = this.opts.as === undefined ? THEM_MARKER : markerOf(this.opts.as);
    const missing = [...new Set([...vocab.encode(ME_MARKER + this.themMarker + '\n').unknown])];
    if (missing.length) {
      throw new Error(`this model cannot chat: its vocabulary lacks ${missing.map(showSymbol).join(' ')} of the turn markers ` +
        `'${ME_MARKER.trim()}' / '${this.themMarker.trim()}' (train it on a file made by lstm-cuda prepare --turns)`);
    }
    this.meIds = vocab.encode(ME_MARKER).ids;
    this.newline = vocab.encode('\n').ids[0]!;
    this.seed = (this.opts.seed ?? Math.floor(Math.random() * 2 ** 32)) >>> 0;
    this.gen = this.start();
  }

  /** a fresh state that has read a conversation break (the empty line between conversations) */
  private start(): Generator {
    const g = new Generator(this.model, this.vocab, { rawBytes: this.opts.rawBytes });
    g.feed([this.newline]);
    return g;
  }

  /** Forgets the conversation: the next message starts a new one. */
  reset(): void {
    this.gen.dispose();
    this.gen = this.start();
    this.history.length = 0;
  }

  /** Reads earlier messages into the state without replying (e.g. a conversation restored by a web page). */
  replay(history: ChatMessageRecord[]): void {
    checkArray('ChatSession.replay: history', history);
    history.forEach((m, i) => {
      checkObject(`ChatSession.replay: history[${i}]`, m);
      checkString(`ChatSession.replay: history[${i}].text`, m.text);
      if (m.role !== 'me' && m.role !== 'them') throw new TypeError(`ChatSession.replay: history[${i}].role must be 'me' or 'them', got ${JSON.stringify(m.role)}`);
    });
    const ids: number[] = [];
    for (const m of history) {
      const text = m.text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
      ids.push(...this.vocab.encode(m.role === 'me' ? ME_MARKER : this.themMarker).ids, ...this.vocab.encode(text).ids, this.newline);
      this.history.push({ role: m.role, text });
    }
    this.gen.feed(ids);
  }

  /** Feeds your message (one line: line breaks become spaces) and draws the model's reply. */
  reply(message: string, options: ChatReplyOptions = {}): ChatReply {
    checkString('ChatSession.reply: message', message);
    const o = checkOptions('ChatSession.reply', options);
    if (o.onToken !== undefined) checkFunction('ChatSession.reply: onToken', o.onToken);
    const text = message.replace(/\s*[\r\n]+\s*/g, ' ').trim();
    const enc = this.vocab.encode(text);
    if (enc.unknown.length) {
      (this.opts.onWarning ?? console.warn)(`warning: your message has ${enc.unknown.length} character(s) not in the vocabulary, skipped: ${enc.unknown.map(showSymbol).join(' ')}`);
    }
    this.history.push({ role: 'them', text });
    const them = this.vocab.encode(this.themMarker).ids;
    this.gen.feed(Int32Array.from([...them, ...enc.ids, this.newline, ...this.meIds]));

    const maxLength = o.maxLength ?? 400, maxMessages = o.maxMessages ?? 5;
    const draw = () => this.gen.draw({ temperature: o.temperature ?? 0.8, topK: o.topK ?? 0, topP: o.topP ?? 1, seed: this.seed, offset: this.offset++ });
    const messages: string[] = [];
    const perToken: GeneratedToken[] = [];
    let current: number[] = [];
    let ended: ChatReply['ended'] = 'length';
    const endMessage = () => { messages.push(this.vocab.decode(current)); current = []; };
    const dec = this.vocab.streamDecoder();
    while (perToken.length < maxLength || (this.gen.masked && !this.gen.atBoundary)) {
      const d = draw();
      const isEnd = d.token === this.newline || d.token === this.vocab.stopId;
      const tok: GeneratedToken = { token: d.token, char: isEnd ? '' : dec.push(d.token), logp: d.logp, entropy: d.entropy };
      perToken.push(tok);
      o.onToken?.({ ...tok, message: messages.length });
      if (!isEnd) {
        current.push(d.token);
        this.gen.feed([d.token]);
        continue;
      }
      endMessage();
      this.gen.feed([this.newline]); // STOP too ends the line: the state reads the newline either way
      if (messages.length >= maxMessages) { ended = 'messages'; break; }
      // who speaks next: the owner again (another message), or the turn goes back
      const next = draw();
      perToken.push({ token: next.token, char: '', logp: next.logp, entropy: next.entropy });
      if (next.token !== this.meIds[0]) { ended = 'turn'; break; }
      this.gen.feed(this.meIds);
    }
    if (ended === 'length') {
      endMessage();
      this.gen.feed([this.newline]); // close the owner's line so that the next message reads as a new line
    }
    for (const m of messages) this.history.push({ role: 'me', text: m });
    const logProb = perToken.reduce((a, t) => a + t.logp, 0);
    const entropy = perToken.length ? perToken.reduce((a, t) => a + t.entropy, 0) / perToken.length : 0;
    return { text: messages.join('\n'), messages, perToken, logProb, entropy, ended, skipped: enc.unknown };
  }

  dispose(): void {
    this.gen.dispose();
  }
}

/**
 * One reply without keeping a session: the conversation so far (`history`, oldest first; yours as 'them')
 * is replayed into a fresh state, then `message` is answered. For a web page or a script.
 */
export function reply(
  source: { model: CharRNN; vocab: Vocab },
  message: string,
  opts: ChatReplyOptions & ChatSessionOptions & { history?: ChatMessageRecord[] } = {},
): ChatReply {
  checkObject('reply: source (a loaded checkpoint, or {model, vocab})', source);
  const s = new ChatSession(source.model, source.vocab, checkOptions('reply', opts));
  try {
    s.replay(opts.history ?? []);
    return s.reply(message, opts);
  } finally {
    s.dispose();
  }
}
