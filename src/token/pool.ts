/**
 * Bounded concurrency for batch work such as `prewarm`.
 *
 * @module
 */

/**
 * Maps `items` through `fn` with at most `limit` calls in flight, keeping the order of the
 * results. `fn` must not reject (a rejection rejects the whole map, like `Promise.all`).
 *
 * @example
 * ```ts
 * import { mapLimited } from "./pool.ts";
 *
 * const doubled = await mapLimited([1, 2, 3], 2, (n) => Promise.resolve(n * 2));
 * if (doubled.join() !== "2,4,6") throw new Error("order");
 * ```
 *
 * @param items The inputs.
 * @param limit Calls in flight at most (1 or more).
 * @param fn The work per item.
 * @returns The results, in the order of `items`.
 */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index], index);
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker);
  await Promise.all(workers);
  return results;
}
