export { runLocalRunnerCli, type CliIo } from './local-runner-cli';
export { runPipelineOnce, WAREHOUSE_FILE, type RunOutcome } from './run-pipeline';
export { readRunnerConfig, ConfigError, USAGE, type RunnerConfig } from './runner-config';
export { verifyDataDir, formatVerifyReport } from './verify-data-dir';
export { PartWorkerPool, partWorkerScript, defaultTransformThreads } from './part-worker-pool';
