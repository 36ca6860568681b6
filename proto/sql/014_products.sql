-- 014_products: the product catalogue, and the order a line item belongs to
--
-- order_id is an optional field of the ingest format: the line items of one
-- order (a basket) share it, so what is bought together can be read back
-- from the transactions. Transactions stored before it existed, and those
-- that do not give one, have NULL.
--
-- txw_data.products is a dimension table: one row per product id, loaded
-- from a CSV catalogue by `txwctl products load --database-url` as the
-- owner (like the first API key), never by a pipeline stage, so no service
-- group may write it. A transaction's product_id is not a foreign key: a
-- product missing from the catalogue is still stored and counted, as an
-- unknown product, and a catalogue may be loaded before or after the
-- transactions that name its products. price_minor is in minor units of
-- currency, as amounts are everywhere else.
ALTER TABLE txw_data.transactions ADD COLUMN order_id text;

CREATE OR REPLACE VIEW txw.transactions AS
SELECT tx_id, ts, account_id, amount_minor, currency, amount_rep_minor,
       merchant_id, category, channel, branch_id, region, country, device_id,
       product_id, status, score, reasons, model_version, stored_at,
       device_type, order_id
FROM txw_data.transactions;

CREATE TABLE txw_data.products (
    product_id   text PRIMARY KEY,
    name         text NOT NULL,
    category     text NOT NULL,
    price_minor  bigint NOT NULL CHECK (price_minor > 0),
    currency     text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE VIEW txw.products AS
SELECT product_id, name, category, price_minor, currency, updated_at
FROM txw_data.products;

GRANT SELECT ON txw.products TO txw_api, txw_read;
