import { forEachArrayBatch, JsonArraySplitter, JsonArrayStreamError } from './json-array-stream';

function randomValue(random: () => number, depth = 0): unknown {
  const pick = random();
  if (depth > 2 || pick < 0.3)
    return ['plain', 'quote " inside', 'back\\slash \\" mixed', 'brackets ] } [ { , :', 'émoji 💳', ''][Math.floor(random() * 6)];
  if (pick < 0.45) return Math.round(random() * 1e6) / 100;
  if (pick < 0.55) return random() < 0.5 ? null : random() < 0.5;
  if (pick < 0.75) return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(random, depth + 1));
  return Object.fromEntries(Array.from({ length: Math.floor(random() * 5) }, (_, i) => [`k${i}]"`, randomValue(random, depth + 1)]));
}

function seeded(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
}

describe('JsonArraySplitter', () => {
  it('gives the elements JSON.parse would, however the text is cut into chunks', () => {
    const random = seeded(7);
    for (let round = 0; round < 300; round += 1) {
      const array = Array.from({ length: Math.floor(random() * 8) }, () => randomValue(random));
      const text = round % 3 === 0 ? JSON.stringify(array, null, 2) : ` ${JSON.stringify(array)}\n`;
      const splitter = new JsonArraySplitter();
      const seen: unknown[] = [];
      for (let at = 0; at < text.length;) {
        const size = 1 + Math.floor(random() * 12);
        splitter.push(text.slice(at, at + size), (json) => seen.push(JSON.parse(json)));
        at += size;
      }
      splitter.end();
      expect(seen).toEqual(array);
    }
  });

  it('pushValues gives the values JSON.parse would, however the text is cut, for objects with strings that look like their ends', () => {
    const random = seeded(11);
    const tricky = ['},{', '}]', '"}, {"', '\\', '}', ',', ']', ' }\n, {'];
    let fastChunks = 0;
    for (let round = 0; round < 400; round += 1) {
      // Mostly flat objects (the ledger's shape), some nested, some strings built to fool a search for `},`.
      const array = Array.from({ length: Math.floor(random() * 12) }, (_, i) =>
        round % 5 === 0
          ? randomValue(random)
          : {
              id: `r${i}`,
              note: tricky[Math.floor(random() * tricky.length)],
              amount: random() * 100,
              nested: random() < 0.3 ? { a: [{ b: '},{' }] } : null,
            },
      );
      const text = round % 3 === 0 ? JSON.stringify(array, null, 2) : ` ${JSON.stringify(array)}\n`;
      const splitter = new JsonArraySplitter();
      const seen: unknown[] = [];
      for (let at = 0; at < text.length;) {
        const size = 1 + Math.floor(random() * (round % 2 ? 12 : 400));
        splitter.pushValues(text.slice(at, at + size), (values) => {
          if (values.length > 1) fastChunks += 1;
          seen.push(...values);
        });
        at += size;
      }
      splitter.end();
      expect(seen).toEqual(array);
    }
    // The fast path was taken (several elements in one parse), not only the character-by-character one.
    expect(fastChunks).toBeGreaterThan(100);
  });

  it('pushValues reads an element longer than many chunks, nested and full of `},`, and the elements around it', () => {
    const long = { id: 'long', parts: Array.from({ length: 40_000 }, (_, i) => ({ i, text: '},{"x":1}]' })) };
    const array = [{ id: 'before' }, long, { id: 'after' }, 7, 'eight'];
    const text = JSON.stringify(array);
    expect(text.length).toBeGreaterThan(2 ** 20);
    const splitter = new JsonArraySplitter();
    const seen: unknown[] = [];
    for (let at = 0; at < text.length; at += 65_536) splitter.pushValues(text.slice(at, at + 65_536), (values) => seen.push(...values));
    splitter.end();
    expect(seen).toEqual(array);
  });

  it('pushValues refuses what push refuses', () => {
    expect(() => new JsonArraySplitter().pushValues(' {"data": []}', () => undefined)).toThrow(JsonArrayStreamError);
    expect(() => new JsonArraySplitter().pushValues('[{"a": 1}] 2', () => undefined)).toThrow(SyntaxError);
    expect(() => new JsonArraySplitter().pushValues('[1] 2', () => undefined)).toThrow(SyntaxError);
    const cut = new JsonArraySplitter();
    cut.pushValues('[{"id": "a"}, {"id": "b"}', () => undefined);
    expect(() => cut.end()).toThrow(SyntaxError);
    const malformed = new JsonArraySplitter();
    expect(() => malformed.pushValues('[{"id": "a"}, {"id": }, {"id": "c"}]', () => undefined)).toThrow(SyntaxError);
  });

  it('refuses what is not an array, text after it, and an array cut off', () => {
    expect(() => new JsonArraySplitter().push('{"data": []}', () => undefined)).toThrow(JsonArrayStreamError);
    expect(() => new JsonArraySplitter().push('[1] 2', () => undefined)).toThrow(SyntaxError);
    const cut = new JsonArraySplitter();
    cut.push('[{"id": "a"}, {"id": ', () => undefined);
    expect(() => cut.end()).toThrow(SyntaxError);
  });

  it('tells a body of another shape (valid JSON) from malformed text (a SyntaxError)', async () => {
    const stream = (text: string) => new Blob([text]).stream();
    await expect(forEachArrayBatch(stream('{"data": []}'), () => undefined)).rejects.toBeInstanceOf(JsonArrayStreamError);
    await expect(forEachArrayBatch(stream('{"data": [{"id": "cut-off'), () => undefined)).rejects.toBeInstanceOf(SyntaxError);
  });

  it('reads a byte stream, multi-byte characters split across chunks included', async () => {
    const bytes = new TextEncoder().encode(JSON.stringify([{ merchant: 'CAFFÈ 東京 💳' }, { merchant: 'x' }]));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < bytes.length; at += 3) controller.enqueue(bytes.slice(at, at + 3));
        controller.close();
      },
    });
    const seen: unknown[] = [];
    await forEachArrayBatch(stream, (values) => void seen.push(...values));
    expect(seen).toEqual([{ merchant: 'CAFFÈ 東京 💳' }, { merchant: 'x' }]);
  });
});
