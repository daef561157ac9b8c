import { PlutusNetworkError, PlutusRateLimitError, PlutusServerError, PlutusTimeoutError } from './errors';
import type { PlutusLogger } from './logger';
import { backoffDelayMs, parseRetryAfterMs, type RetryPolicy } from './retry-policy';

export interface RetryingFetchOptions {
  policy: RetryPolicy;
  timeoutMs: number;
  logger: PlutusLogger;
  fetch?: (request: Request) => Promise<Response>;
  sleep: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

/**
 * A `fetch` for openapi-fetch that retries what is worth retrying: 429 (waiting as long as `Retry-After`
 * asks, within a cap), 5xx, connection failures and timeouts, with exponential backoff and jitter.
 * Other statuses come back untouched for the caller to interpret. Each attempt has its own timeout.
 */
export function createRetryingFetch(options: RetryingFetchOptions): (request: Request) => Promise<Response> {
  const baseFetch = options.fetch ?? ((request: Request) => fetch(request));
  const now = options.now ?? Date.now;
  const { policy, timeoutMs, logger } = options;

  return async function retryingFetch(request: Request): Promise<Response> {
    const target = describeTarget(request);
    let lastFailure: () => Error = () => new PlutusNetworkError(`${target} was not attempted.`, { attempts: 0 });
    for (let attempt = 1; attempt <= policy.maxAttempts; attempt += 1) {
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
      let waitMs: number;
      try {
        const response = await baseFetch(new Request(request.clone(), { signal }));
        if (response.status !== 429 && response.status < 500) return response;
        await response.body?.cancel().catch(() => undefined);
        const retryAfterMs = parseRetryAfterMs(response.headers.get('retry-after'), now());
        if (response.status === 429) {
          lastFailure = () =>
            new PlutusRateLimitError(
              `${target} was rate limited (429) on all ${attempt} attempts; wait and run again, or lower concurrency.`,
              { attempts: attempt, retryAfterSeconds: retryAfterMs === undefined ? undefined : retryAfterMs / 1000 },
            );
          waitMs = Math.min(retryAfterMs ?? backoffDelayMs(policy, attempt, options.random), policy.maxRetryAfterMs);
        } else {
          lastFailure = () =>
            new PlutusServerError(`${target} answered ${response.status} on all ${attempt} attempts; the service is failing, try later.`, {
              status: response.status,
              attempts: attempt,
            });
          waitMs = retryAfterMs ?? backoffDelayMs(policy, attempt, options.random);
        }
        logger.warn('plutus request will be retried', { target, status: response.status, attempt, waitMs });
      } catch (error) {
        if (request.signal?.aborted) throw error;
        if (timeout.aborted) {
          lastFailure = () =>
            new PlutusTimeoutError(`${target} timed out after ${timeoutMs} ms on all ${attempt} attempts.`, {
              timeoutMs,
              attempts: attempt,
            });
        } else {
          lastFailure = () =>
            new PlutusNetworkError(`${target} failed to connect or was cut off on all ${attempt} attempts (${causeText(error)}).`, {
              attempts: attempt,
              cause: error,
            });
        }
        waitMs = backoffDelayMs(policy, attempt, options.random);
        logger.warn('plutus request will be retried', { target, error: causeText(error), attempt, waitMs });
      }
      if (attempt < policy.maxAttempts) await options.sleep(waitMs);
    }
    throw lastFailure();
  };
}

/** Method, host and path only: query strings and headers may carry secrets. */
export function describeTarget(request: Request): string {
  const url = new URL(request.url);
  return `${request.method} ${url.host}${url.pathname}`;
}

function causeText(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code) return cause.code;
  if (error instanceof Error) return error.message;
  return String(error);
}
