import { parseArgs } from 'node:util';
import { dumpDataset, offDocumentRows, SandboxDatasetError } from './dataset-files';
import { totpCode } from '@org/plutus-client/internal';
import { DEMO_CREDENTIALS, FAULT_CONTROL_PATH, startSandbox } from './sandbox-server';
import type { SandboxFaults } from './sandbox-faults';

export const USAGE = `plutus-sandbox: a local Plutus API with synthetic (or your own) card data

Usage: plutus-sandbox [--port 4010] [--host 127.0.0.1] [--seed 42] [--months 36] [--now ISO]
                      [--data DIR] [--latency MS] [--faults JSON] [--quiet]
       plutus-sandbox --dump DIR [--seed 42] [--months 36] [--now ISO]
       plutus-sandbox totp [--secret BASE32]

  --data DIR    serve DIR/rewards.json and DIR/transactions.json instead of generated data
  --dump DIR    write the generated dataset to DIR in that format, then exit
  --latency MS  add this delay to every response
  --faults JSON inject faults, e.g. '{"rateLimit":{"times":2,"retryAfterSeconds":3,"routes":["transactions"]}}'
                (fields: latencyMs, rateLimit, serverError, dropConnection, expiredToken, malformedJson, wrongType,
                rejectLogin; each with times, after, routes). On a loopback host they can also be changed while
                it runs: curl -X PUT http://127.0.0.1:4010/__sandbox/faults -d '{"serverError":{"times":1}}'
  totp          print the sign-in code valid now (for curl: POST /auth/login {"email","password","token"})`;

/**
 * The CLI as a function: `log` gets every line it prints, and `stopSignal` resolves when a serving sandbox
 * should stop (SIGINT/SIGTERM in the real CLI).
 */
export async function runSandboxCli(
  argv: string[],
  log: (line: string) => void = console.log,
  stopSignal: Promise<void> = waitForTermination(),
): Promise<number> {
  if (argv[0] === 'totp') return printTotp(argv.slice(1), log);
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '4010' },
      host: { type: 'string', default: '127.0.0.1' },
      seed: { type: 'string', default: '42' },
      months: { type: 'string', default: '36' },
      now: { type: 'string' },
      data: { type: 'string' },
      dump: { type: 'string' },
      latency: { type: 'string' },
      faults: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    log(USAGE);
    return 0;
  }
  const number = (name: string, text: string | undefined) => {
    const value = Number(text);
    if (text === undefined || !Number.isFinite(value)) throw new SandboxDatasetError(`--${name} must be a number, got ${text}`);
    return value;
  };
  let faults: SandboxFaults | undefined;
  if (values.faults !== undefined) {
    try {
      faults = JSON.parse(values.faults) as SandboxFaults;
    } catch {
      throw new SandboxDatasetError(`--faults must be JSON, e.g. '{"serverError":{"times":1}}', got ${values.faults}`);
    }
    if (!faults || typeof faults !== 'object' || Array.isArray(faults)) throw new SandboxDatasetError('--faults must be a JSON object.');
  }
  if (values.latency) faults = { ...faults, latencyMs: number('latency', values.latency) };
  const loopback = ['127.0.0.1', 'localhost', '::1'].includes(values.host ?? '');
  const sandbox = await startSandbox({
    port: values.dump ? 0 : number('port', values.port),
    host: values.host,
    seed: number('seed', values.seed),
    months: number('months', values.months),
    now: values.now,
    dataset: values.data,
    faults,
    faultControl: loopback,
    onRequest: values.quiet ? undefined : (line) => log(line),
  });
  if (values.dump) {
    const data = sandbox.data();
    await dumpDataset(data, values.dump);
    await sandbox.close();
    log(`wrote ${data.rewards.length} rewards and ${data.transactions.length} transactions to ${values.dump}`);
    return 0;
  }
  const { email, password, totpSecret } = sandbox.credentials;
  log(`Plutus sandbox listening on ${sandbox.url}`);
  if (values.data) {
    const off = offDocumentRows(sandbox.data());
    if (off.rewards + off.transactions > 0) {
      log(
        `  serving ${off.rewards} reward(s) and ${off.transactions} transaction(s) that break the API document, as they are (e.g. ${off.examples[0]})`,
      );
    }
  }
  log(`  sign in with email=${email} password=${password} totpSecret=${totpSecret} (sandbox-only credentials)`);
  log(`  a code for the sign-in: plutus-sandbox totp${loopback ? `; faults while it runs: PUT ${sandbox.url}${FAULT_CONTROL_PATH}` : ''}`);
  await stopSignal;
  await sandbox.close();
  return 0;
}

/** `totp`: the code an authenticator would show now for the sandbox's secret (or `--secret`). */
function printTotp(argv: string[], log: (line: string) => void): number {
  const { values } = parseArgs({ args: argv, options: { secret: { type: 'string' } } });
  const secret = values.secret ?? DEMO_CREDENTIALS.totpSecret;
  try {
    log(totpCode(secret, Date.now()));
  } catch {
    throw new SandboxDatasetError('--secret must be base32 (letters A-Z and digits 2-7).');
  }
  return 0;
}

function waitForTermination(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
