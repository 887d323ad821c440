/** The CLI's one usage error: the command line is wrong (exit 2, with the usage). */
export class UsageError extends Error {
  /** The verb the command line was for, when known (check answers its bad usage as a plugin: exit 3). */
  command?: string;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
