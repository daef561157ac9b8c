export {
  startSandbox,
  DEMO_CREDENTIALS,
  FAULT_CONTROL_PATH,
  type Sandbox,
  type SandboxOptions,
  type SandboxCredentials,
  type SandboxStats,
} from './sandbox-server';
export { type SandboxFaults, type FaultSpec, type SandboxRoute, type FaultName } from './sandbox-faults';
export { generateHistory, pluPrice, REJECTED_REASON, type SandboxDataset, type SyntheticHistoryOptions } from './synthetic-history';
export { loadDataset, dumpDataset, offDocumentRows, SandboxDatasetError, REWARDS_FILE, TRANSACTIONS_FILE } from './dataset-files';
export { MERCHANTS, PERK_SUBSCRIPTIONS, type Merchant } from './merchants';
export { runSandboxCli, USAGE as SANDBOX_USAGE } from './sandbox-cli';
