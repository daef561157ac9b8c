/** Finds the row of a key. */
export interface KeyLookup {
  /** The row holding `key`, or -1. */
  rowOf(key: string | null): number;
}

/**
 * A hash index from the values of a key column to row numbers, for a million keys: open addressing over one
 * Int32Array sized up front, and its own hash of the characters. A Map of that size took most of the
 * de-duplication's time growing and re-hashing, and was one more million-entry object for every collection.
 */
export class KeyIndex implements KeyLookup {
  private readonly slots: Int32Array;
  private readonly mask: number;
  private nullRow = -1;
  /** Slot of the key `insertOrFind` last found, for `replaceFound`. */
  private foundSlot = -1;

  /** An empty index over `keys` (rows are positions in it), with room for `capacity` distinct keys. */
  constructor(
    private readonly keys: readonly (string | null)[],
    capacity = keys.length,
  ) {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.slots = new Int32Array(size).fill(-1);
    this.mask = size - 1;
  }

  /** Every row of `keys`, the later row winning for a repeated key. */
  static of(keys: readonly (string | null)[]): KeyIndex {
    const index = new KeyIndex(keys);
    for (let row = 0; row < keys.length; row += 1) if (index.insertOrFind(row) >= 0) index.replaceFound(row);
    return index;
  }

  rowOf(key: string | null): number {
    if (key === null) return this.nullRow;
    for (let slot = hashOf(key) & this.mask; ; slot = (slot + 1) & this.mask) {
      const row = this.slots[slot];
      if (row < 0) return -1;
      if (this.keys[row] === key) return row;
    }
  }

  /** Adds the key of `row` and answers -1, or, if the key is there already, answers its row and changes nothing. */
  insertOrFind(row: number): number {
    const key = this.keys[row];
    if (key === null || key === undefined) {
      if (this.nullRow >= 0) {
        this.foundSlot = -2;
        return this.nullRow;
      }
      this.nullRow = row;
      return -1;
    }
    for (let slot = hashOf(key) & this.mask; ; slot = (slot + 1) & this.mask) {
      const existing = this.slots[slot];
      if (existing < 0) {
        this.slots[slot] = row;
        return -1;
      }
      if (this.keys[existing] === key) {
        this.foundSlot = slot;
        return existing;
      }
    }
  }

  /** Points the key `insertOrFind` just found at `row` instead (a row with the same key). */
  replaceFound(row: number): void {
    if (this.foundSlot === -2) this.nullRow = row;
    else this.slots[this.foundSlot] = row;
  }
}

/** FNV-1a over the UTF-16 code units, with a final mix so that sequential ids spread over the table. */
function hashOf(key: string): number {
  let hash = 0x811c9dc5;
  for (let at = 0; at < key.length; at += 1) hash = Math.imul(hash ^ key.charCodeAt(at), 0x01000193);
  hash ^= hash >>> 15;
  hash = Math.imul(hash, 0x2c1b3c6d);
  return hash ^ (hash >>> 12);
}
