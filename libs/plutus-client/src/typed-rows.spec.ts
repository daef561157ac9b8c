import type { PlutusErrorCode, Reward, Transaction } from './index';

// Checked by the typecheck target: each @ts-expect-error must meet an error, or typecheck fails.
describe('rows and errors are typed by the document', () => {
  it('a misspelled field does not compile; a transaction type offers the named ones and accepts another', () => {
    const purchase: Transaction = { id: 't1', amount: -450, date: '2026-10-31T10:00:00Z', currency: 'GBP', type: 'PURCHASE' };
    const later: Transaction = { ...purchase, type: 'CASHBACK_ADJUSTMENT' };
    // @ts-expect-error `ammount` is not a field of the document
    const misspelled = purchase.ammount;
    const reward: Reward = { id: 'r1', amount: 1.5, createdAt: '2026-10-31T10:00:00Z' };
    // @ts-expect-error `referenceId` is spelled `reference_id` in the document
    const wrongCase = reward.referenceId;
    expect([purchase.type, later.type, misspelled, wrongCase]).toEqual(['PURCHASE', 'CASHBACK_ADJUSTMENT', undefined, undefined]);
  });

  it('an error code is one of the documented codes', () => {
    const describe = (code: PlutusErrorCode): string => {
      switch (code) {
        case 'PLUTUS_AUTH':
        case 'PLUTUS_CONFIG':
          return 'fix the configuration';
        case 'PLUTUS_GRAPHQL':
        case 'PLUTUS_SCHEMA':
          return 'the document and the service disagree';
        case 'PLUTUS_NETWORK':
        case 'PLUTUS_RATE_LIMIT':
        case 'PLUTUS_SERVER':
        case 'PLUTUS_TIMEOUT':
          return 'try again later';
      }
    };
    // @ts-expect-error not a code the library throws
    const unknown: PlutusErrorCode = 'PLUTUS_OTHER';
    expect([describe('PLUTUS_AUTH'), unknown]).toEqual(['fix the configuration', 'PLUTUS_OTHER']);
  });
});
