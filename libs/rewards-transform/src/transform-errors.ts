/** A raw file that cannot be transformed at all (as opposed to single bad rows, which are quarantined). */
export class RawInputError extends Error {
  readonly dataset: string;
  constructor(dataset: string, message: string) {
    super(`${dataset}: ${message}`);
    this.name = 'RawInputError';
    this.dataset = dataset;
  }
}
