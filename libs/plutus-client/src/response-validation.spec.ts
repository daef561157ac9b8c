import { PlutusSchemaError } from './errors';
import { assertMatchesSchema, findSchemaMismatch } from './response-validation';

const reward = {
  id: 'r1',
  amount: 1.5,
  available: false,
  reason: null,
  createdAt: '2024-03-31T00:30:00Z',
  updatedAt: '2024-03-31T01:30:00+01:00',
  rebate_rate: 0.03,
  fiat_amount_rewarded: '0.45',
  currency: 'GBP',
  reference_type: 'card_transaction',
  reference_id: 't1',
  type: 'REBATE',
  some_new_field: { nested: true },
};

describe('response validation', () => {
  it('accepts tolerant shapes: unknown fields, numeric strings, missing optional fields', () => {
    expect(
      findSchemaMismatch('Reward', [reward, { id: 'r2', amount: 0, createdAt: '2024-01-01T00:00:00Z' }], { arrayOf: true }),
    ).toBeUndefined();
  });

  it('names the field path and offending value of a mismatch', () => {
    const error = (() => {
      try {
        assertMatchesSchema('Reward', [reward, { ...reward, amount: 'twelve' }], { arrayOf: true });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(PlutusSchemaError);
    expect((error as PlutusSchemaError).path).toBe('/1/amount');
    expect((error as PlutusSchemaError).value).toBe('twelve');
    expect((error as Error).message).toContain('/1/amount');
    expect((error as Error).message).toContain('"twelve"');
  });

  it('reports a missing required field and a bad timestamp', () => {
    expect(findSchemaMismatch('Reward', { amount: 1, createdAt: '2024-01-01T00:00:00Z' })?.problem).toContain("'id'");
    expect(findSchemaMismatch('Reward', { ...reward, createdAt: 'yesterday' })?.path).toBe('/createdAt');
    expect(findSchemaMismatch('Reward', { ...reward, fiat_amount_rewarded: '1.2.3' })?.path).toBe('/fiat_amount_rewarded');
  });
});
