-- 030_training_labels: the scheduled retraining reads the labels
--
-- The supervised model (txw-train --supervised-out, and the rescoring
-- loop's retraining, txw-rescore --supervised) learns from the labels:
-- per transaction the chargeback's, else the latest disposition's. The
-- retraining logs in as the rescoring login (group txw_rescore: the
-- k8s CronJob txw-retrain, compose's and make run's rescore loop) or as
-- a reader (txw_read: txw-train run by hand), so both may read the
-- columns that choice needs; not who set a label (set_by) nor its note.

-- --- Grants (012's rule) -------------------------------------------------------------
GRANT SELECT (tx_id, source, label, set_at) ON txw_data.labels TO txw_rescore, txw_read;
