// The package's version, read once from its package.json (through the package's own exports, so it works
// from dist/, from the test build and when installed as a dependency): `lstm-cuda --version`, `info`.
import { createRequire } from 'node:module';

export const VERSION: string = (createRequire(import.meta.url)('lstm-cuda/package.json') as { version: string }).version;
