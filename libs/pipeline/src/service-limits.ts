/**
 * The AWS limits the state machine is built within. Each is a hard limit of the service (no quota increase
 * lifts it), and breaking one fails a run in a way no retry cures, so the pipeline checks them before AWS does.
 */
export const STATE_MACHINE_LIMITS = {
  /**
   * Step Functions: a state's input or output is at most 256 KiB of UTF-8
   * (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html, "Maximum input or output size for
   * a task, state, or execution"); past it the execution fails with States.DataLimitExceeded.
   */
  payloadBytes: 256 * 1024,
  /**
   * Lambda: a function runs for at most 900 seconds
   * (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html, "Function timeout").
   */
  lambdaTimeoutSeconds: 900,
} as const;
