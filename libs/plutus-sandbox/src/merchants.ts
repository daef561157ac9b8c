/** Merchants as their names appear on a UK card statement, with a spend range in minor units. */
export interface Merchant {
  description: string;
  category: string;
  currency: 'GBP' | 'EUR';
  minMinor: number;
  maxMinor: number;
  /** Relative frequency. */
  weight: number;
}

export const MERCHANTS: readonly Merchant[] = [
  { description: 'TESCO STORES 3291 LONDON GB', category: 'groceries', currency: 'GBP', minMinor: 350, maxMinor: 9500, weight: 10 },
  { description: "SAINSBURY'S S/MKT LONDON", category: 'groceries', currency: 'GBP', minMinor: 400, maxMinor: 8200, weight: 7 },
  { description: 'LIDL GB LONDON', category: 'groceries', currency: 'GBP', minMinor: 300, maxMinor: 6000, weight: 5 },
  { description: 'PRET A MANGER', category: 'eating out', currency: 'GBP', minMinor: 250, maxMinor: 1400, weight: 8 },
  { description: 'CAFFÈ NERO 0412', category: 'eating out', currency: 'GBP', minMinor: 220, maxMinor: 900, weight: 6 },
  { description: 'DELIVEROO', category: 'eating out', currency: 'GBP', minMinor: 1200, maxMinor: 4500, weight: 4 },
  { description: 'TFL TRAVEL CH', category: 'transport', currency: 'GBP', minMinor: 180, maxMinor: 1600, weight: 9 },
  { description: 'UBER *TRIP', category: 'transport', currency: 'GBP', minMinor: 700, maxMinor: 3800, weight: 3 },
  { description: 'AMAZON.CO.UK*2K4LM', category: 'shopping', currency: 'GBP', minMinor: 500, maxMinor: 12000, weight: 6 },
  { description: 'ZARA UK LTD', category: 'shopping', currency: 'GBP', minMinor: 1500, maxMinor: 9000, weight: 2 },
  { description: 'BOOTS 1102', category: 'health', currency: 'GBP', minMinor: 300, maxMinor: 4000, weight: 3 },
  { description: 'PURE GYM LTD', category: 'health', currency: 'GBP', minMinor: 1999, maxMinor: 2999, weight: 1 },
  { description: 'SHELL ÖLTANK MÜNCHEN', category: 'transport', currency: 'EUR', minMinor: 3000, maxMinor: 9000, weight: 1 },
  { description: 'SNCF PARIS', category: 'travel', currency: 'EUR', minMinor: 2500, maxMinor: 18000, weight: 1 },
  { description: 'CARREFOUR CITY PARIS', category: 'groceries', currency: 'EUR', minMinor: 300, maxMinor: 5000, weight: 1 },
  { description: 'AIRBNB * HMXK2P', category: 'travel', currency: 'EUR', minMinor: 8000, maxMinor: 60000, weight: 1 },
  { description: 'PÂTISSERIE VALÉRIE', category: 'eating out', currency: 'GBP', minMinor: 300, maxMinor: 1800, weight: 2 },
  { description: '東京 RAMEN BAR', category: 'eating out', currency: 'GBP', minMinor: 1100, maxMinor: 3200, weight: 1 },
];

/** Subscriptions Plutus pays back in full up to a cap (a "perk"), charged on a fixed day each month. */
export const PERK_SUBSCRIPTIONS = [
  { description: 'NETFLIX.COM', category: 'entertainment', dayOfMonth: 3, amountMinor: 1099, perkCapMinor: 1000 },
  { description: 'SPOTIFY UK', category: 'entertainment', dayOfMonth: 17, amountMinor: 1199, perkCapMinor: 1000 },
] as const;
