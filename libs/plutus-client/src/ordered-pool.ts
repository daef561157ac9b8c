/**
 * Runs `task(i)` for i = 0, 1, 2, ... with at most `concurrency` in flight and yields results in index order.
 * `hasMore(i)` is asked before starting task i, after every earlier result has been yielded or started, so
 * it may depend on what earlier tasks found (such as a total that grew).
 */
export async function* orderedPool<T>(
  concurrency: number,
  hasMore: (index: number) => boolean,
  task: (index: number) => Promise<T>,
): AsyncGenerator<T> {
  const inFlight: Promise<T>[] = [];
  let next = 0;
  const fill = () => {
    while (inFlight.length < concurrency && hasMore(next)) {
      const started = task(next);
      // Mark as handled now; the rejection is rethrown when its turn comes to be awaited.
      started.catch(() => undefined);
      inFlight.push(started);
      next += 1;
    }
  };
  fill();
  while (inFlight.length > 0) {
    const result = await (inFlight.shift() as Promise<T>);
    yield result;
    fill();
  }
}
