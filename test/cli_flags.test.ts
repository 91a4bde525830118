// The shared flag parser (src/cli/flags.ts) and the top-level command line: negative numbers are values
// (the range check then speaks), near misses get "did you mean", --help shows what each value is, and
// `lstm-cuda --version` prints the package's version.
import test from 'tape';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { helpText, nearestName, parseFlags, type FlagSpec } from '../src/cli/flags.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const PKG = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string };

const SPEC: Record<string, FlagSpec> = {
  temperature: { type: 'number', metavar: 'T', min: 0, default: 0.8, help: 'softmax temperature' },
  shift: { type: 'number', short: 's', help: 'any real number' },
  seed: { type: 'integer', min: 0, help: 'random seed' },
  hidden: { type: 'integer', min: 1, help: 'hidden size' },
  prime: { type: 'string', default: '', help: 'text to start from' },
  out: { type: 'string', metavar: 'DIR', help: 'run directory' },
  device: { type: 'string', choices: ['ref', 'cpu', 'cuda', 'emu'], help: 'device' },
  quiet: { type: 'boolean', help: 'no output' },
};

function parseError(argv: string[]): string {
  try {
    parseFlags(argv, SPEC, 'usage: x');
  } catch (e) {
    return (e as Error).message;
  }
  return '(no error)';
}

test('flags: negative numbers are values, and the range check names the flag', (t) => {
  const ok = parseFlags(['--shift', '-1.5', '-s', '-2', '--prime', '-3', 'file'], SPEC, 'usage: x');
  // -s is given after --shift: the later value wins, as parseArgs does
  t.equal(ok?.values.shift, -2, '`-s -2` takes -2 as the value of --shift');
  t.equal(ok?.values.prime, '-3', 'a string flag takes a negative number as its value');
  t.deepEqual(ok?.positionals, ['file'], 'positionals untouched');
  t.equal(parseFlags(['--shift', '-.5'], SPEC, 'u')?.values.shift, -0.5, '-.5');
  t.equal(parseFlags(['--shift', '-1e-3'], SPEC, 'u')?.values.shift, -1e-3, '-1e-3');
  t.equal(parseError(['--temperature', '-1']), '--temperature must be ≥ 0, got -1', '--temperature -1: the range check, not "ambiguous"');
  t.equal(parseError(['--seed', '-1']), '--seed must be ≥ 0, got -1', '--seed -1');
  t.equal(parseError(['--seed', '-1.5']), "--seed expects an integer, got '-1.5'", '--seed -1.5');
  t.deepEqual(parseFlags(['--quiet', '--', '--shift', '-1'], SPEC, 'u')?.positionals, ['--shift', '-1'], 'after -- nothing is rewritten');
  t.match(parseError(['--shift', '-x']), /'--shift' argument is ambiguous/, 'a dash value that is not a number stays ambiguous');
  t.end();
});

test('flags: an unknown flag or choice gets "did you mean" when one is near', (t) => {
  t.match(parseError(['--hiden', '3']), /^Unknown option '--hiden' \(did you mean --hidden\?\)/, '--hiden → --hidden');
  t.match(parseError(['--temprature=2']), /did you mean --temperature\?/, '--temprature=2 → --temperature');
  t.match(parseError(['--temp', '2']), /did you mean --temperature\?/, 'a unique prefix');
  t.match(parseError(['--seeed', '1']), /did you mean --seed\?/, 'an extra letter');
  t.notOk(/did you mean/.test(parseError(["--banana", "1"])), 'nothing near: no suggestion');
  t.match(parseError(['--banana', '1']), /Run with --help for the options/, 'points at --help');
  t.equal(parseError(['--device', 'cdua']), "--device must be one of ref, cpu, cuda, emu, got 'cdua' (did you mean cuda?)", 'a mistyped choice');
  t.equal(nearestName('x', ['out', 'seed']), undefined, 'one letter is too short to guess from');
  t.end();
});

test('flags: --help names each value and shows no empty default', (t) => {
  const help = helpText('usage: x', SPEC);
  t.match(help, /--temperature T +softmax temperature \(default 0\.8\)/, 'metavar T and the default');
  t.match(help, /--out DIR +run directory\n/, 'metavar DIR');
  t.match(help, /--hidden N +hidden size\n/, 'integers default to N');
  t.match(help, /--shift X +any real number\n/, 'numbers default to X');
  t.match(help, /--device ref\|cpu\|cuda\|emu +device\n/, 'choices listed');
  t.match(help, /--prime TEXT +text to start from\n/, 'strings default to TEXT; the empty default is not shown');
  t.notOk(/\(default \)/.test(help), 'no "(default )" anywhere');
  t.end();
});

test('lstm-cuda --version prints the package version; an unknown command gets "did you mean"', (t) => {
  for (const flag of ['--version', '-v']) {
    const r = spawnSync(process.execPath, [MAIN, flag], { encoding: 'utf8' });
    t.equal(r.status, 0, `${flag}: exit 0`);
    t.equal(r.stdout, `lstm-cuda ${PKG.version}\n`, `${flag}: prints lstm-cuda ${PKG.version}`);
  }
  const bad = spawnSync(process.execPath, [MAIN, 'trian'], { encoding: 'utf8' });
  t.equal(bad.status, 2, 'unknown command: exit 2');
  t.match(bad.stderr, /unknown command 'trian' \(did you mean train\?\)/);
  t.end();
});
