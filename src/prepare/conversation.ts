// What every chat-export reader produces: conversations of messages, each message tagged with what it is
// (text, or a kind that `prepare` skips and counts: attachment, system line, call, ...), plus the text
// classifiers shared by the formats (the "X sent an attachment." / "image omitted" style placeholders).

/** What a message is; everything but 'text' is skipped by `prepare` and counted under its kind. */
export type MessageKind =
  | 'text'
  | 'system' // service lines: "X added Y", "Messages and calls are end-to-end encrypted", nickname changes
  | 'attachment' // photos, videos, audio, files, GIFs, shared links without text, polls, locations
  | 'sticker'
  | 'call'
  | 'unsent' // unsent / deleted messages
  | 'reaction' // "Reacted 😂 to your message"
  | 'forwarded'; // Telegram messages forwarded from someone else: not your words

export interface ChatMessage {
  /** display name of the sender (null for system lines without one) */
  sender: string | null;
  /** epoch milliseconds; NaN when the export's date could not be read */
  time: number;
  /** the message text as exported (newlines kept; cleaned later) */
  text: string;
  kind: MessageKind;
}

export interface Conversation {
  /** where it came from: a file path, or `archive.zip:entry/path` */
  source: string;
  /** thread title when the export names one */
  title: string;
  /** messages in chronological order (ties keep export order) */
  messages: ChatMessage[];
  /** how the dates were read, for formats whose day/month order is ambiguous (WhatsApp), in words */
  dateOrder?: string;
}

export type ExportFormat = 'messenger' | 'messenger-html' | 'whatsapp' | 'telegram';

/** An input error (missing file, unreadable export): the CLI prints it on one line and exits 1. */
export class ExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExportError';
  }
}

/** Sorts by time, keeping export order for equal times (Array.prototype.sort is stable). */
export function sortChronologically(messages: ChatMessage[]): ChatMessage[] {
  return messages.sort((a, b) => (Number.isNaN(a.time) || Number.isNaN(b.time) ? 0 : a.time - b.time));
}

// Messenger placeholders written in place of the real content (English exports).
const MESSENGER_ATTACHMENT = /\bsent (an? )?(attachment|photo|photos|video|GIF|voice message|audio clip|link|location|file|\d+ photos)\.?$/i;
const MESSENGER_STICKER = /\bsent a sticker\.?$/i;
const MESSENGER_CALL = /^((the )?(video )?(chat|call) ended|.{1,80} (missed (a|your) (video )?call|called you|started a (video )?(call|chat)|joined the (video )?(call|chat))( from .{1,80})?|you called .{1,80})\.$/i;
const MESSENGER_UNSENT = /^(.{1,80} unsent a message|this message was unsent|this message was deleted)\.?$/i;
const MESSENGER_REACTION = /^(reacted .{1,16} to (your|a) message|liked a message)\.?$/i;
// Anchored to the whole text and its final period, so that "I added him to the group" stays a message.
const MESSENGER_SYSTEM = /^.{1,80}? (set the nickname for .+|set (his|her|their|your) (own )?nickname to .+|cleared (the|his|her|their|your) nickname.*|changed the group photo|named the group .+|removed the group name|changed the (chat )?theme.*|set the (emoji|quick reaction) to .+|added .+ to the group|removed .+ from the group|left the group|created the group.*|pinned a message|are now connected on Messenger|can now message and call each other.*)\.$/i;

/** Kind of a Messenger message from its text alone (the JSON fields are checked by the reader first). */
export function messengerTextKind(text: string): MessageKind {
  const t = text.trim();
  if (MESSENGER_STICKER.test(t)) return 'sticker';
  if (MESSENGER_ATTACHMENT.test(t)) return 'attachment';
  if (MESSENGER_UNSENT.test(t)) return 'unsent';
  if (MESSENGER_REACTION.test(t)) return 'reaction';
  if (MESSENGER_CALL.test(t)) return 'call';
  if (MESSENGER_SYSTEM.test(t)) return 'system';
  return 'text';
}
