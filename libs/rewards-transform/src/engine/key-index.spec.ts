import { KeyIndex } from './key-index';

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
