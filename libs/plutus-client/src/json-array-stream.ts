import { PlutusError } from './errors';

/**
 * Reads a JSON array from a stream of text chunks and hands over each element's JSON text as soon as it is
 * complete, so a ledger of millions of rows is never one string (V8 caps a string near 512 MB) nor one array.
 * Only the array's own structure is tracked (depth, strings, escapes); each element is parsed by JSON.parse.
 */
/** The body is valid JSON but not an array. (Malformed or cut-off text is a SyntaxError, as JSON.parse says.) */
export class JsonArrayStreamError extends PlutusError {
  constructor(message: string) {
    super('JSON_NOT_ARRAY', message);
  }
}

const enum State {
  BeforeArray,
  BeforeElement,
  InElement,
  AfterElement,
  Done,
}

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

/**
 * Every element of a JSON array body, parsed, handed over in batches (the elements completed by each chunk
 * read), awaiting the consumer between reads; a body that is not an array throws.
 */
export async function forEachArrayBatch(body: ReadableStream<Uint8Array>, onBatch: (values: unknown[]) => void | Promise<void>): Promise<void> {
  const splitter = new JsonArraySplitter();
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let batch: unknown[] = [];
  const handle = (json: string) => void batch.push(JSON.parse(json));
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
      splitter.push(text, handle);
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
  if (rest) splitter.push(rest, handle);
  splitter.end();
  await flush();
}
