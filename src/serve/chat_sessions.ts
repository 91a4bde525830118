// The page's conversations: one ChatSession (src/chat/chat.ts, the reply function of `lstm-cuda chat`)
// per browser tab, its LSTM state carried from message to message. A conversation keeps the model it
// started with (a checkpoint reload does not change a conversation midway); idle ones are dropped after
// IDLE_MS, and at most MAX_SESSIONS live at once (the oldest goes first).
import { randomUUID } from 'node:crypto';
import { ChatSession, type ChatReply } from '../chat/chat.js';
import type { ModelLease } from './run_view.js';

const IDLE_MS = 30 * 60 * 1000;
const MAX_SESSIONS = 32;

interface Live {
  session: ChatSession;
  lease: ModelLease;
  used: number;
}

export class ChatSessions {
  private readonly live = new Map<string, Live>();

  /**
   * Answers `message` in conversation `id` (a new one when absent or expired, using `acquire()` for the
   * model). ChatSession.reply is synchronous: one reply (at most maxLength tokens) runs without yielding.
   */
  reply(id: string | undefined, message: string, acquire: () => ModelLease, o: { temperature: number; seed?: number }): { session: string; reply: ChatReply; step: number; fresh: boolean } {
    this.sweep();
    let key = id !== undefined && this.live.has(id) ? id : undefined;
    const fresh = key === undefined;
    if (key === undefined) {
      const lease = acquire();
      let session: ChatSession;
      try {
        session = new ChatSession(lease.model, lease.vocab, { seed: o.seed, onWarning: () => {} });
      } catch (e) {
        lease.release();
        throw e;
      }
      key = randomUUID();
      this.live.set(key, { session, lease, used: Date.now() });
      while (this.live.size > MAX_SESSIONS) this.drop(this.live.keys().next().value!);
    }
    const l = this.live.get(key)!;
    l.used = Date.now();
    // Map order = least recently used first
    this.live.delete(key);
    this.live.set(key, l);
    const r = l.session.reply(message, { temperature: o.temperature });
    return { session: key, reply: r, step: l.lease.step, fresh };
  }

  /** Forgets conversation `id` (the page's New button). */
  drop(id: string): void {
    const l = this.live.get(id);
    if (!l) return;
    this.live.delete(id);
    l.session.dispose();
    l.lease.release();
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, l] of this.live) if (now - l.used > IDLE_MS) this.drop(id);
  }

  close(): void {
    for (const id of [...this.live.keys()]) this.drop(id);
  }
}
