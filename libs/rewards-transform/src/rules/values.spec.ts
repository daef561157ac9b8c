import { boolean, currency, instant, integer, scaledDecimal } from './values';

describe('cell parsers', () => {
  it('parses decimals exactly from text, never through a float', () => {
    expect(scaledDecimal('0.1', 6, 'x')).toBe(100000);
    expect(scaledDecimal(' 0.27 ', 6, 'x')).toBe(270000);
    expect(scaledDecimal('-12.5', 2, 'x')).toBe(-1250);
    expect(scaledDecimal('.5', 2, 'x')).toBe(50);
    expect(scaledDecimal('3', 2, 'x')).toBe(300);
    expect(scaledDecimal('0.30000000', 2, 'x')).toBe(30);
    expect(scaledDecimal('', 2, 'x')).toBeNull();
    expect(scaledDecimal('1.234', 2, 'fee')).toEqual({ problem: 'fee has more than 2 decimals' });
    expect(scaledDecimal('1e3', 2, 'fee')).toEqual({ problem: 'fee not a number' });
    expect(scaledDecimal('.', 2, 'fee')).toEqual({ problem: 'fee not a number' });
  });

  it('gives the same answers on the fast path as on the general one', () => {
    expect(scaledDecimal('-0.27', 6, 'x')).toBe(-270000);
    expect(scaledDecimal('1234567.125', 3, 'x')).toBe(1234567125);
    expect(scaledDecimal('5.', 2, 'x')).toBe(500);
    expect(scaledDecimal('12345678901234567890', 0, 'x')).toEqual({ problem: 'x out of range' });
    expect(integer('007', 'amount')).toBe(7);
    expect(integer('1.0', 'amount')).toEqual({ problem: 'amount not an integer' });
    expect(integer('+12', 'amount')).toBe(12);
  });

  it('accepts only whole minor units for integers', () => {
    expect(integer('-1250', 'amount')).toBe(-1250);
    expect(integer('-12.50', 'amount')).toEqual({ problem: 'amount not an integer' });
    expect(integer('99999999999999999999', 'amount')).toEqual({ problem: 'amount out of range' });
  });

  it('reads instants with offsets as UTC, across a DST change', () => {
    expect(instant('2024-03-31T02:30:00+01:00', 'date')).toBe(Date.parse('2024-03-31T01:30:00Z'));
    expect(instant('2024-10-27T01:30:00+02:00', 'date')).toBe(Date.parse('2024-10-26T23:30:00Z'));
    expect(instant('2024-04-03T19:00:00.123+0000', 'date')).toBe(Date.parse('2024-04-03T19:00:00.123Z'));
    expect(instant('2024-04-01T00:00:00', 'date')).toEqual({ problem: 'date has no UTC offset' });
    expect(instant('yesterday', 'date')).toEqual({ problem: 'unparseable date' });
    expect(instant('2024-02-30T00:00:00Z', 'date')).toEqual({ problem: 'unparseable date' });
  });

  it('reads booleans and currency codes strictly', () => {
    expect(boolean(' TRUE ', 'b')).toBe(true);
    expect(boolean('0', 'b')).toBe(false);
    expect(boolean('yes', 'b')).toEqual({ problem: 'b not a boolean' });
    expect(currency(' eur ', 'currency')).toBe('EUR');
    expect(currency('POUNDS', 'currency')).toEqual({ problem: 'currency not a currency code' });
  });
});
