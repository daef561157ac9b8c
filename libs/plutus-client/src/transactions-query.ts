/**
 * The Hasura operation the Plutus web app sends for the card statement. Ordered by date then id, both
 * descending, so offset pages are stable for a fixed `to` bound. A null variable means "no bound" in Hasura.
 */
export const TRANSACTIONS_VIEW_QUERY = `query transactions_view($offset: Int, $limit: Int, $from: timestamptz, $to: timestamptz, $type: String) {
  transactions_view_aggregate(where: {_and: [{date: {_gte: $from}}, {date: {_lte: $to}}, {type: {_eq: $type}}]}) {
    aggregate {
      totalCount: count
      __typename
    }
    __typename
  }
  transactions_view(
    order_by: [{date: desc}, {id: desc}]
    offset: $offset
    limit: $limit
    where: {_and: [{date: {_gte: $from}}, {date: {_lte: $to}}, {type: {_eq: $type}}]}
  ) {
    id
    model
    user_id
    currency
    amount
    date
    type
    is_debit
    description
    __typename
  }
}`;
