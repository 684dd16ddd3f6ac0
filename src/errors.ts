/**
 * Every error cutover raises on purpose. The message names the object in backticks, `hint` says what to
 * do next, and the class decides the exit code (see src/cli/exit-codes.ts).
 */
export class CutoverError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad arguments, config, versions or ARNs: nothing was changed. */
export class UserInputError extends CutoverError {}

/** A deployment or rollback failed; traffic is on the fleet that was live before. */
export class DeploymentFailed extends CutoverError {}

/** Another deploy or rollback of the same artifact and environment holds the lock. */
export class LockHeld extends CutoverError {}

export function describeCause(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
