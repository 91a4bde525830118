// Ctrl-C (SIGINT) for the whole CLI. main.ts installs the handler before it loads any command, so a SIGINT
// at any instant is handled: outside a graceful section it exits 130 at once (nothing is being written);
// inside withInterrupt (training) the first one asks the work to save and stop at the next step boundary
// and the second exits 130 without saving (checkpoints are atomic commits, so that loses only the steps
// since the last one).
let section: { signal: { interrupted: boolean }; note: string } | null = null;
let installed = false;

export function installInterruptHandler(): void {
  if (installed) return;
  installed = true;
  process.on('SIGINT', () => {
    if (section && !section.signal.interrupted) {
      section.signal.interrupted = true;
      process.stderr.write(`\n${section.note}\n`);
      return;
    }
    process.stderr.write(section ? '\ninterrupted again: exiting without saving\n' : '\ninterrupted\n');
    process.exit(130);
  });
}

/** Runs fn as a graceful section: the first Ctrl-C sets signal.interrupted (and prints `note`), the second exits. */
export async function withInterrupt<T>(fn: (signal: { interrupted: boolean }) => Promise<T>, note: string): Promise<T> {
  installInterruptHandler();
  const prev = section;
  const mine = { signal: { interrupted: false }, note };
  section = mine;
  try {
    return await fn(mine.signal);
  } finally {
    section = prev;
  }
}
