/**
 * Errors the CLI reports as one line. A UsageError is the user's typing (exit 2, as
 * argparse does); a CliError is anything else worth a clear message (exit 1).
 */
export class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export class UsageError extends CliError {
  override name = "UsageError";
  constructor(message: string) {
    super(message, 2);
  }
}
