// Writes bench/data/chat-export.txt: a WhatsApp-style export ("M/D/YY, H:MM AM - Name: text") of 400 short
// conversations between Sam (the others) and Alex (the owner, "me"), made from templates under a fixed
// seed. Alex has a voice a model can learn: lowercase, "haha", "omw", "ok cool", emoji, one to three
// messages per turn, answers that depend on what Sam asked. The README's chat transcript and the
// fine-tuning comparison (bench/finetune.sh) train on it; it is synthetic, and says so.
// usage: node build/bench/chat_corpus.js [OUT]
import { writeFileSync } from 'node:fs';
import { RngStream } from '../src/rng.js';

const rng = new RngStream(2024);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng.next() * xs.length)]!;

const PLACES = ['the park', 'marco\'s', 'the station', 'the usual place', 'the gym', 'the cinema', 'the library'];
const TIMES = ['6', '7', '8', 'half 7', 'noon', '5ish'];
const FOOD = ['pizza', 'ramen', 'tacos', 'curry', 'sushi', 'burgers'];

/** one exchange: what Sam says, and Alex's possible replies (each a list of messages) */
const EXCHANGES: (() => [string, string[]])[] = [
  () => [pick(['hey', 'hi!', 'heyy', 'yo']), pick([['heyy'], ['hey hey 😊'], ['yo whats up']])],
  () => [pick(['how are you?', 'how are you doing', 'hows it going?']), pick([['good good, you?'], ['pretty tired haha', 'you?'], ['not bad! busy week']])],
  () => { const p = pick(PLACES), t = pick(TIMES); return [`meet at ${p} at ${t}?`, pick([[`ok cool, ${t} works`], ['yes!', `see you at ${p}`], [`can we do later than ${t}?`]])]; },
  () => [pick(['where are you?', 'are you close?', 'you here yet?']), pick([['omw!!'], ['omw, 5 min'], ['sorry running late 🙈', 'be there in 10']])],
  () => { const f = pick(FOOD); return [`want to get ${f} tonight?`, pick([[`omg yes ${f}`], [`had ${f} yesterday haha`, 'something else?'], ['ok cool 🍕']])]; },
  () => [pick(['did you see the game?', 'did you watch it last night?']), pick([['no!! no spoilers'], ['yes haha what a finish'], ['fell asleep 😴']])],
  () => [pick(['can you send me the notes?', 'do you have the notes from monday?']), pick([['sure, sending now'], ['ok one sec', 'sent!'], ['which ones?']])],
  () => [pick(['thanks!', 'thank you so much', 'thx']), pick([['np!'], ['anytime 😊'], ['no worries']])],
  () => [pick(['good night', 'night!', 'going to bed']), pick([['night night 🌙'], ['sleep well!'], ['gn']])],
  () => [pick(['happy birthday!!', 'happy bday 🎉']), pick([['aww thank you!!'], ['thanks!! 🥳', 'we should celebrate']])],
  () => [pick(['lol', 'haha', '😂😂']), pick([['haha'], ['i know right'], ['😂']])],
  () => [pick(['are you free this weekend?', 'plans for saturday?']), pick([['saturday yes, sunday no'], ['nothing yet!', 'why?'], ['hiking maybe, come?']])],
];

function time(day: number, minute: number): string {
  const d = new Date(Date.UTC(2023, 0, 1 + day));
  const h24 = 9 + Math.floor(minute / 60), m = minute % 60;
  const h = ((h24 + 11) % 12) + 1, ampm = h24 < 12 ? 'AM' : 'PM';
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${String(d.getUTCFullYear()).slice(2)}, ${h}:${String(m).padStart(2, '0')} ${ampm}`;
}

const out: string[] = [];
for (let day = 0; day < 400; day++) {
  let minute = Math.floor(rng.next() * 300);
  const n = 2 + Math.floor(rng.next() * 4);
  for (let k = 0; k < n; k++) {
    const [said, reply] = pick(EXCHANGES)();
    out.push(`${time(day, minute++)} - Sam Lee: ${said}`);
    for (const r of reply) out.push(`${time(day, minute++)} - Alex Kim: ${r}`);
  }
}
const file = process.argv[2] ?? 'bench/data/chat-export.txt';
writeFileSync(file, out.join('\n') + '\n');
console.error(`wrote ${file}: ${out.length} messages in 400 conversations`);
