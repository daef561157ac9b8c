/**
 * The API gives no merchant category code, only the statement text, so categories come from keyword rules.
 * First match wins; unknown merchants are "other" (and visible as such on the dashboard, not hidden).
 */
const CATEGORY_RULES: ReadonlyArray<[RegExp, string]> = [
  [/\b(TESCO|SAINSBURY|LIDL|ALDI|ASDA|WAITROSE|MORRISONS|CO-?OP|CARREFOUR|M&S SIMPLY)\b/i, 'groceries'],
  [/\b(PRET|CAFF[EÈ]|COSTA|STARBUCKS|DELIVEROO|JUST EAT|UBER \*?EATS|RAMEN|P[AÂ]TISSERIE|MCDONALD|NANDO)/i, 'eating out'],
  [/\b(TFL|UBER|TRAINLINE|SHELL|BP |ESSO|LIME\*|BOLT)\b/i, 'transport'],
  [/\b(SNCF|AIRBNB|BOOKING\.COM|EASYJET|RYANAIR|BRITISH AIRWAYS|HOTEL)\b/i, 'travel'],
  [/\b(NETFLIX|SPOTIFY|DISNEY|APPLE\.COM|YOUTUBE|CINEMA|STEAM)/i, 'entertainment'],
  [/\b(AMAZON|ZARA|H&M|ASOS|JOHN LEWIS|ARGOS|IKEA|EBAY)/i, 'shopping'],
  [/\b(BOOTS|SUPERDRUG|PHARMACY|GYM)\b/i, 'health'],
  [/\bTOP ?UP\b/i, 'top-up'],
  [/^REFUND\b/i, 'refund'],
];

export function merchantCategory(description: string | null): string {
  if (!description) return 'other';
  // A refund is shown under the category of what was refunded.
  const merchant = description.replace(/^REFUND\s+/i, '');
  for (const [pattern, category] of CATEGORY_RULES) if (pattern.test(merchant)) return category;
  return 'other';
}
