/**
 * Runs `task(i)` for i = 0, 1, 2, ... with at most `concurrency` in flight and yields results in index order.
 * A slot is refilled as soon as any task settles, not only when the oldest one does, so one slow page does not
 * idle the others (results wait, at most `concurrency` of them, for their turn). `hasMore(i)` is asked before
 * starting task i, so it may depend on what earlier tasks found (such as a total that grew).
 */
export async function* orderedPool<T>(
  concurrency: number,
  hasMore: (index: number) => boolean,
  task: (index: number) => Promise<T>,
): AsyncGenerator<T> {
  const started: Promise<T>[] = [];
  let yielded = 0;
  let running = 0;
  const fill = () => {
    // Bounded read-ahead: tasks running plus results waiting never exceed twice the concurrency.
    while (running < concurrency && started.length - yielded < 2 * concurrency && hasMore(started.length)) {
      const promise = task(started.length);
      running += 1;
      // Mark as handled now; the rejection is rethrown when its turn comes to be awaited.
      promise.then(
        () => {
          running -= 1;
          fill();
        },
        () => {
          running -= 1;
        },
      );
      started.push(promise);
    }
  };
  fill();
  while (yielded < started.length) {
    const result = await started[yielded];
    delete started[yielded];
    yielded += 1;
    yield result;
    fill();
  }
}
