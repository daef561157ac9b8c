import { dedupeLatest } from './dedupe';
import { KeyIndex } from './key-index';
import { tableRows, type Table } from './table';

describe('KeyIndex', () => {
  it('finds every key of a large column, and answers -1 for keys it does not hold', () => {
    const keys = Array.from({ length: 50_000 }, (_, i) => (i % 7 === 0 ? `r-${i}` : `t-${i.toString(36)}`));
    const index = KeyIndex.of(keys);
    for (let row = 0; row < keys.length; row += 1) expect(index.rowOf(keys[row])).toBe(row);
    expect(index.rowOf('t-missing')).toBe(-1);
    expect(index.rowOf('')).toBe(-1);
    expect(index.rowOf(null)).toBe(-1);
  });

  it('lets the later row win for a repeated key, null included', () => {
    const index = KeyIndex.of(['a', null, 'b', 'a', null, 'ä']);
    expect([index.rowOf('a'), index.rowOf('b'), index.rowOf(null), index.rowOf('ä')]).toEqual([3, 2, 4, 5]);
  });

  it('finds without changing until told to replace', () => {
    const keys = ['x', 'y', 'x'];
    const index = new KeyIndex(keys);
    expect([index.insertOrFind(0), index.insertOrFind(1), index.insertOrFind(2)]).toEqual([-1, -1, 0]);
    expect(index.rowOf('x')).toBe(0);
    index.replaceFound(2);
    expect(index.rowOf('x')).toBe(2);
  });
});

describe('dedupeLatest', () => {
  const table = (ids: string[], versions: number[]): Table => ({
    length: ids.length,
    columns: { id: ids, version: Float64Array.from(versions), seq: Float64Array.from(ids.map((_, i) => i)) },
  });

  it('keeps the latest version of each key, in the original order, the later row winning ties', () => {
    const result = dedupeLatest(table(['a', 'b', 'a', 'c', 'b', 'a'], [2, 1, 1, 5, 1, 2]), 'id', 'version');
    expect(tableRows(result.table).map((row) => row['seq'])).toEqual([3, 4, 5]);
    expect(result.duplicatesRemoved).toBe(3);
    expect([result.index().rowOf('c'), result.index().rowOf('b'), result.index().rowOf('a')]).toEqual([0, 1, 2]);
  });

  it('keeps the later row without a version column, and the same table when nothing repeats', () => {
    expect(tableRows(dedupeLatest(table(['a', 'a'], [9, 1]), 'id').table).map((row) => row['seq'])).toEqual([1]);
    const unique = table(['a', 'b'], [1, 1]);
    const result = dedupeLatest(unique, 'id', 'version');
    expect(result.table).toBe(unique);
    expect(result.index().rowOf('b')).toBe(1);
  });
});
