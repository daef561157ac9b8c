import type { RejectedRow } from './raw-cleaning';
import type { Table } from '../engine/table';

export interface DatasetQuality {
  rowsIn: number;
  rowsOut: number;
  rejected: number;
  rejectedByReason: Record<string, number>;
  duplicatesRemoved: number;
  /** Share of nulls (0..1) in the columns analysts rely on. */
  nullRates: Record<string, number>;
}

export interface QualityReport {
  transactions: DatasetQuality;
  rewards: DatasetQuality;
  /** Only when the transform built the facts itself (`withFacts`); the pipeline derives them in the warehouse. */
  reward_facts?: {
    rows: number;
    rewardsWithoutTransaction: number;
    pluPriceNullByNote: Record<string, number>;
    nullRates: Record<string, number>;
  };
}

export function countReasons(rejects: readonly RejectedRow[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const reject of rejects) for (const reason of reject.reason.split('; ')) counts[reason] = (counts[reason] ?? 0) + 1;
  return counts;
}

export function nullRates(table: Table, columns: readonly string[]): Record<string, number> {
  const rates: Record<string, number> = {};
  for (const name of columns) {
    const column = table.columns[name];
    let nulls = 0;
    for (let i = 0; i < table.length; i += 1) {
      const value = column[i];
      if (value === null || (typeof value === 'number' && Number.isNaN(value))) nulls += 1;
    }
    rates[name] = table.length === 0 ? 0 : Math.round((nulls / table.length) * 10_000) / 10_000;
  }
  return rates;
}
