-- Queries that read the orders service's effects from its PostgreSQL database once the
-- system is quiet. Each query is named by the comment above it; the column names are
-- the contract the harness reads (view, kind, key, id, amount, at / view, key, value,
-- seq / id, state).

-- name: effects
-- Every applied order, once in the write model (orders) and once in the read model
-- (projected). id is the order's Idempotency-Key, so a key applied twice (the
-- ORDERS_DEDUP=off bug) shows as two rows with the same id; at is when it was applied,
-- in Unix nanoseconds.
SELECT 'write' AS view, 'order' AS kind, o.customer AS key, o.idem_key AS id, o.amount AS amount,
       (extract(epoch FROM o.created_at) * 1e9)::bigint AS at
  FROM orders o
UNION ALL
SELECT 'read' AS view, 'order' AS kind, p.customer AS key, o.idem_key AS id, p.amount AS amount,
       (extract(epoch FROM p.projected_at) * 1e9)::bigint AS at
  FROM projected p
  JOIN orders o ON o.id = p.order_id
 ORDER BY view DESC, at, id;

-- name: states
-- Each customer's total in each model; seq is the number of orders it counts, so a read
-- model that holds the right total by chance but not the right orders still differs.
SELECT 'write' AS view, customer AS key, SUM(amount)::bigint AS value, COUNT(*)::bigint AS seq
  FROM orders
 GROUP BY customer
UNION ALL
SELECT 'read' AS view, customer AS key, total AS value, orders AS seq
  FROM customer_totals
 ORDER BY view DESC, key;

-- name: operations
-- Every Idempotency-Key the service recorded: the operation was applied (a key is only
-- recorded in the transaction that creates its order).
SELECT key AS id, 'applied' AS state
  FROM idempotency
 ORDER BY key;
