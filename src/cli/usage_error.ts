// An error the CLI reports as one line without a stack: bad flags, missing files, bad input.
export class UsageError extends Error {
  constructor(message: string, public exitCode = 2) {
    super(message);
    this.name = 'UsageError';
  }
}
