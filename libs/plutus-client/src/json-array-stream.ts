import { PlutusError } from './errors';

/** The body is valid JSON but not an array. (Malformed or cut-off text is a SyntaxError, as JSON.parse says.) */
export class JsonArrayStreamError extends PlutusError {
  constructor(message: string) {
    super('PLUTUS_SCHEMA', message);
  }
}

const enum State {
  BeforeArray,
  BeforeElement,
  InElement,
  Done,
}

/**
 * Reads a JSON array from a stream of text chunks and hands over each element's JSON text as soon as it is
 * complete, so a ledger of millions of rows is never one string (V8 caps a string near 512 MB) nor one array.
 * Two ways to read a chunk, with the same result: `push` tracks the array's own structure character by character
 * (depth, strings, escapes) and hands over each element's text; `pushValues` parses all the elements a chunk
 * completes with one JSON.parse, and falls back to `push` when it cannot tell where they end.
 */
export class JsonArraySplitter {
  private state = State.BeforeArray;
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** The unfinished element carried over from earlier chunks. */
  private carry = '';

  /** Feeds one chunk; calls `onElement` with the JSON text of each element completed in it. */
  push(chunk: string, onElement: (json: string) => void): void {
    let start = this.state === State.InElement ? 0 : -1;
    for (let i = 0; i < chunk.length; i += 1) {
      const code = chunk.charCodeAt(i);
      if (this.state === State.InElement) {
        if (this.inString) {
          if (this.escaped) this.escaped = false;
          else if (code === 0x5c) this.escaped = true;
          else if (code === 0x22) this.inString = false;
          continue;
        }
        if (code === 0x22) this.inString = true;
        else if (code === 0x7b || code === 0x5b) this.depth += 1;
        else if (code === 0x7d || code === 0x5d) {
          if (this.depth === 0) {
            // The array's own `]` ends the last element.
            this.emit(chunk, start, i, onElement);
            this.state = State.Done;
            start = -1;
          } else this.depth -= 1;
        } else if (code === 0x2c && this.depth === 0) {
          this.emit(chunk, start, i, onElement);
          this.state = State.BeforeElement;
          start = -1;
        }
        continue;
      }
      if (code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09) continue;
      if (this.state === State.BeforeArray) {
        if (code !== 0x5b) throw new JsonArrayStreamError(`expected a JSON array, found ${JSON.stringify(chunk[i])}`);
        this.state = State.BeforeElement;
      } else if (this.state === State.BeforeElement) {
        if (code === 0x5d) {
          this.state = State.Done;
          continue;
        }
        this.state = State.InElement;
        this.depth = 0;
        start = i;
        i -= 1; // read the element's first character as part of it
      } else if (this.state === State.Done) {
        throw new SyntaxError('Unexpected text after the end of the JSON array');
      }
    }
    if (this.state === State.InElement) this.carry += chunk.slice(start === -1 ? 0 : start);
  }

  /**
   * Feeds one chunk; calls `onValues` with the elements completed in it, parsed (or not at all, when it completes
   * none). Reading character by character in JavaScript cost about 3.4 s of a 2.9M-row ledger (900 MB) and parsing
   * each element on its own 2 s more; here the text up to the last `}` that is followed by `,` or `]` is parsed at
   * once, as `[` + text + `]`. That parse can only succeed when the `}` ends an element at the array's own level: a
   * `}` inside a string leaves the string open, and one inside a nested value leaves a bracket open. When it
   * fails, or the chunk has no such `}` (elements that are not objects, a chunk inside one long element), the
   * text is read character by character instead.
   */
  pushValues(chunk: string, onValues: (values: unknown[]) => void): void {
    if (this.state === State.BeforeArray) {
      const open = nextNonSpace(chunk, 0);
      if (open === -1) return;
      // Anything but `[` is refused by `push`, with its message.
      if (chunk.charCodeAt(open) !== 0x5b) return this.push(chunk, () => undefined);
      this.state = State.BeforeElement;
      chunk = chunk.slice(open + 1);
    }
    // The carried text is where an element started; past a long one (longer than any chunk), the character reader
    // carries on alone, so a huge element is never parsed again and again as it grows.
    if (this.state === State.BeforeElement || (this.state === State.InElement && this.carry.length <= MAX_CARRY_FOR_ONE_PARSE)) {
      const text = (this.state === State.InElement ? this.carry : '') + chunk;
      let cut = text.lastIndexOf('}');
      for (let tries = 0; cut >= 0 && tries < 3; tries += 1, cut = text.lastIndexOf('}', cut - 1)) {
        const after = nextNonSpace(text, cut + 1);
        const separator = after === -1 ? -1 : text.charCodeAt(after);
        if (separator !== 0x2c && separator !== 0x5d) continue;
        let values: unknown[];
        try {
          values = JSON.parse(`[${text.slice(0, cut + 1)}]`) as unknown[];
        } catch {
          break;
        }
        this.carry = '';
        this.depth = 0;
        this.inString = false;
        this.escaped = false;
        if (separator === 0x5d) {
          if (nextNonSpace(text, after + 1) !== -1) throw new SyntaxError('Unexpected text after the end of the JSON array');
          this.state = State.Done;
        } else {
          // The rest (part of the next element, or the array's end) is short: read it character by character.
          this.state = State.BeforeElement;
          this.push(text.slice(after + 1), (json) => void values.push(JSON.parse(json)));
        }
        onValues(values);
        return;
      }
    }
    // Character by character from where the last read stopped: the carried element's state (depth, string, escape)
    // was kept by `push` itself, so only the new text is read.
    const values: unknown[] = [];
    this.push(chunk, (json) => void values.push(JSON.parse(json)));
    if (values.length) onValues(values);
  }

  /** Call after the last chunk: throws if the array did not end. */
  end(): void {
    if (this.state !== State.Done) throw new SyntaxError('Unexpected end of JSON input: the array ended early (the body was cut off)');
  }

  private emit(chunk: string, start: number, end: number, onElement: (json: string) => void): void {
    const text = this.carry + chunk.slice(start === -1 ? 0 : start, end);
    this.carry = '';
    onElement(text);
  }
}

/** Above this, an unfinished element is left to the character reader (undici's chunks are at most 64 KiB). */
const MAX_CARRY_FOR_ONE_PARSE = 1 << 20;

/** The index of the first character from `from` on that is not JSON whitespace, or -1. */
function nextNonSpace(text: string, from: number): number {
  for (let i = from; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code !== 0x20 && code !== 0x0a && code !== 0x0d && code !== 0x09) return i;
  }
  return -1;
}

/**
 * Every element of a JSON array body, parsed, handed over in batches (the elements completed by each chunk
 * read), awaiting the consumer between reads; a body that is not an array throws.
 */
export async function forEachArrayBatch(
  body: ReadableStream<Uint8Array>,
  onBatch: (values: unknown[]) => void | Promise<void>,
): Promise<void> {
  const splitter = new JsonArraySplitter();
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let batch: unknown[] = [];
  const handle = (values: unknown[]) => {
    if (!batch.length) batch = values;
    else for (const value of values) batch.push(value);
  };
  const flush = async () => {
    if (!batch.length) return;
    const full = batch;
    batch = [];
    await onBatch(full);
  };
  let seen = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const text = decoder.decode(value, { stream: true });
    try {
      splitter.pushValues(text, handle);
    } catch (error) {
      if (!(error instanceof JsonArrayStreamError)) throw error;
      // Not an array: tell malformed text (a SyntaxError, worth a retry) from valid JSON of another shape.
      seen += text;
      for (let next = await reader.read(); !next.done; next = await reader.read()) seen += decoder.decode(next.value, { stream: true });
      JSON.parse(seen + decoder.decode());
      throw error;
    }
    await flush();
  }
  const rest = decoder.decode();
  if (rest) splitter.pushValues(rest, handle);
  splitter.end();
  await flush();
}
