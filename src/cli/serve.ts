// `lstm-cuda serve RUN`: the local page over a run directory (src/serve/server.ts does the work). Listens
// on 127.0.0.1 unless --host names another address; runs until Ctrl-C.
import { parseFlags, type FlagSpec } from './flags.js';
import { UsageError } from './usage_error.js';
import { withInterrupt } from './interrupt.js';
import { isDeviceName } from '../device.js';
import { startServer, DEFAULT_PORT, type RunningServer } from '../serve/server.js';
import type { DeviceName } from '../backend.js';

const USAGE = 'usage: lstm-cuda serve RUN [--port N] [--host ADDRESS] [--device D]';

/** the flags `train --serve` shares */
export const SERVE_FLAGS: Record<string, FlagSpec> = {
  port: { type: 'integer', help: `port of the page (0 = any free port; default ${DEFAULT_PORT})`, min: 0, max: 65535 },
  host: { type: 'string', help: 'address to listen on (default 127.0.0.1; another one lets other machines use the page)' },
};

const SPEC: Record<string, FlagSpec> = {
  ...SERVE_FLAGS,
  device: { type: 'string', help: 'device that generates (default: the default device)' },
};

/** Starts the page for `dir` and prints its address; `--host` given counts as naming the address explicitly. */
export async function serveRun(dir: string, f: { port?: number; host?: string; device?: DeviceName }, opts: { allowMissingCheckpoint?: boolean } = {}): Promise<RunningServer> {
  const s = await startServer({
    dir, port: f.port, host: f.host, allowNonLoopback: f.host !== undefined, device: f.device, allowMissingCheckpoint: opts.allowMissingCheckpoint,
  });
  if (f.host !== undefined && !['127.0.0.1', 'localhost', '::1'].includes(f.host)) {
    process.stderr.write(`warning: listening on ${f.host}: anyone who can reach this address can use the page\n`);
  }
  process.stderr.write(`serving '${dir}' at ${s.url}\n`);
  return s;
}

/** resolves on the first Ctrl-C (the CLI's SIGINT handler: a second one exits at once) */
export function untilInterrupted(): Promise<void> {
  return withInterrupt((signal) => new Promise<void>((done) => {
    const poll = setInterval(() => { if (signal.interrupted) { clearInterval(poll); done(); } }, 100);
  }), 'stopping the server');
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, SPEC, USAGE);
  if (!parsed) return 0;
  const { values: f, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError(`expected one run directory, got ${positionals.length ? positionals.map((p) => `'${p}'`).join(' ') : 'none'}\n${USAGE}`);
  const device = f.device as string | undefined;
  if (device !== undefined && !isDeviceName(device)) throw new UsageError(`--device: unknown device '${device}'`);
  const s = await serveRun(positionals[0]!, { port: f.port as number | undefined, host: f.host as string | undefined, device: device as DeviceName | undefined });
  process.stderr.write('Ctrl-C stops the server\n');
  await untilInterrupted();
  await s.close();
  return 0;
}
