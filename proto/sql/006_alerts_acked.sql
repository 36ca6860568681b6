-- 006_alerts_acked: find recent acknowledgements without scanning all alerts
--
-- The push gateway asks every few seconds which alerts were acknowledged
-- since it last looked, to tell the open dashboards.
CREATE INDEX alerts_acked ON txw_data.alerts (acked_at) WHERE acked_at IS NOT NULL;
