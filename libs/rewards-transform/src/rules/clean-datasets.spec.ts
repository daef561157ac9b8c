import { ROWS_READ_STEP } from '../engine/raw-csv-reader';
import { tableRows, type Table } from '../engine/table';
import { cleanTransactions } from './clean-datasets';

const HEADER = 'id,model,user_id,currency,amount,date,type,is_debit,description';

/** `rows` transactions; every 1,000th has an amount the rules reject, and some descriptions are quoted. */
function transactionsCsv(rows: number): string {
  const lines = [HEADER];
  for (let i = 0; i < rows; i += 1) {
    const amount = i % 1000 === 999 ? 'abc' : String(-(i % 9000) - 1);
    const description = i % 7 === 0 ? `"CAFE ${i % 50}, LONDON"` : `TESCO STORES ${i % 300}`;
    const day = String((i % 28) + 1).padStart(2, '0');
    lines.push(`t-${i},card_transaction,u1,GBP,${amount},2024-03-${day}T10:00:00.000+00:00,PURCHASE,true,${description}`);
  }
  return lines.join('\n') + '\n';
}

describe('cleanTransactions handing its rows over as it reads', () => {
  it('hands over every kept row once, in order, with the derived columns, in steps of ROWS_READ_STEP', () => {
    const text = transactionsCsv(2 * ROWS_READ_STEP + 12_345);
    const handed: Table[] = [];
    const streamed = cleanTransactions(text, {}, (rows) => handed.push(rows));
    const whole = cleanTransactions(text);

    expect(handed.map((rows) => rows.length)).toEqual([ROWS_READ_STEP, ROWS_READ_STEP, streamed.table.length - 2 * ROWS_READ_STEP]);
    expect(streamed.rejects).toHaveLength(whole.rejects.length);
    expect(whole.rejects.length).toBeGreaterThan(100);
    expect(Object.keys(handed[0].columns)).toEqual(Object.keys(whole.table.columns));
    expect(handed.flatMap((rows) => tableRows(rows))).toEqual(tableRows(whole.table));
    expect(tableRows(streamed.table)).toEqual(tableRows(whole.table));
  });

  it('hands over nothing for a text with no kept row, and the final table stays whole', () => {
    const handed: Table[] = [];
    const read = cleanTransactions(`${HEADER}\nt-1,card_transaction,u1,GBP,abc,2024-03-01T10:00:00Z,PURCHASE,true,X\n`, {}, (rows) =>
      handed.push(rows),
    );
    expect(handed).toEqual([]);
    expect(read.table.length).toBe(0);
    expect(read.rejects).toHaveLength(1);
  });
});
