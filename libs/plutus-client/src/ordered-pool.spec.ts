import { orderedPool } from './ordered-pool';

describe('orderedPool', () => {
  it('keeps order while running up to the concurrency limit', async () => {
    let running = 0;
    let peak = 0;
    const delays = [30, 5, 20, 1, 10, 2];
    const results: number[] = [];
    for await (const value of orderedPool(
      3,
      (i) => i < delays.length,
      async (i) => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, delays[i]));
        running -= 1;
        return i;
      },
    )) {
      results.push(value);
    }
    expect(results).toEqual([0, 1, 2, 3, 4, 5]);
    expect(peak).toBe(3);
  });

  it('rethrows a failed task in its turn without unhandled rejections', async () => {
    const seen: number[] = [];
    const run = async () => {
      for await (const value of orderedPool(
        2,
        (i) => i < 4,
        async (i) => {
          if (i === 1) throw new Error('task 1 failed');
          return i;
        },
      )) {
        seen.push(value);
      }
    };
    await expect(run()).rejects.toThrow('task 1 failed');
    expect(seen).toEqual([0]);
  });
});
