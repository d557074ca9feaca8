/** A problem with what the user asked for (flags, files): one line on stderr, exit code 2. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/** Exit code for bad input (flags, missing or corrupt files, wrong architecture). */
export const EXIT_BAD_INPUT = 2;
/** Exit code for a run that failed after starting (e.g. training diverged). */
export const EXIT_FAILED = 1;
