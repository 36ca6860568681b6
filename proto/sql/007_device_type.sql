-- 007_device_type: a transaction's device type, and the device dimension
--
-- device_type is an optional field of the ingest format (ios, android,
-- web, pos_terminal, atm, ...; lower case). Transactions stored before it
-- existed, and those that do not give one, have NULL. The windows of the
-- new "device" dimension need no change to the schema: a window row names
-- its dimension by text.
ALTER TABLE txw_data.transactions ADD COLUMN device_type text;

CREATE OR REPLACE VIEW txw.transactions AS
SELECT tx_id, ts, account_id, amount_minor, currency, amount_rep_minor,
       merchant_id, category, channel, branch_id, region, country, device_id,
       product_id, status, score, reasons, model_version, stored_at,
       device_type
FROM txw_data.transactions;
