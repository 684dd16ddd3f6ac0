/** The exit codes a pipeline can act on. `--help` prints this table. */
export const ExitCode = {
  ok: 0,
  failed: 1,
  badInput: 2,
  locked: 3,
} as const;

export const exitCodeHelp = `Exit codes:
  0  done
  1  deploy or rollback failed; traffic is on the fleet that was live before, or the message says
     where it is and which command settles it (status: nothing serves the environment)
  2  bad input (arguments, config, version); nothing was changed
  3  another deploy or rollback of this artifact and environment is running`;
