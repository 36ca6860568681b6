/*  deadletter - a dead letter's row in txw_data.dead_letters, written once  */

#include "deadletter.h"
#include "log.h"
#include "pii.h"
#include "utf8.h"

#include <stdio.h>
#include <string.h>

//  Appends s (at most size bytes, terminated or not) as one text column,
//  cleaned of what PostgreSQL would refuse; empty as NULL when optional.
static void
s_text (txw_copybuf_t *buf, const char *s, size_t size, bool optional)
{
    size_t len = strnlen (s, size);
    if (len == 0 && optional) {
        txw_copybuf_null (buf);
        return;
    }
    if (txw_utf8_valid (s, len)) {
        txw_copybuf_strn (buf, s, len);
        return;
    }
    char clean [TXW_TEXT_MAX * 4 + 1];
    size_t n = txw_utf8_clean (s, len, clean, sizeof clean);
    txw_copybuf_strn (buf, clean, n);
}

void
txw_deadletter_origin (txw_reject_t *reject, const txw_envelope_t *env, uint32_t index)
{
    snprintf (reject->origin_source, sizeof reject->origin_source, "%.*s:%llu",
              (int) env->source_id.len, env->source_id.ptr, (unsigned long long) env->epoch);
    reject->origin_seq = env->seq;
    reject->origin_index = index;
}

void
txw_deadletter_row (txw_copybuf_t *b, const txw_reject_t *r)
{
    s_text (b, r->origin_source, sizeof r->origin_source, false);
    txw_copybuf_int (b, (int64_t) (r->origin_seq & INT64_MAX));
    txw_copybuf_int (b, (int64_t) (r->origin_index & INT32_MAX));
    if (r->line_no)
        txw_copybuf_int (b, (int64_t) (r->line_no & INT64_MAX));
    else
        txw_copybuf_null (b);
    s_text (b, r->tx_id, sizeof r->tx_id, true);
    s_text (b, r->reason, sizeof r->reason, false);
    s_text (b, r->field, sizeof r->field, true);
    s_text (b, r->message, sizeof r->message, false);
    s_text (b, r->payload, sizeof r->payload, false);
    txw_copybuf_ts_ms (b, r->received_ms);
    txw_copybuf_end_row (b);
}

txw_pgwriter_t *
txw_deadletter_writer_new (const char *database_url, bool migrate, size_t max_rows,
                           txw_pgwriter_metrics_t metrics)
{
    txw_pgwriter_config_t config = {
        .name = "dead letters",
        .stage_sql = TXW_DEADLETTER_STAGE_SQL,
        .copy_sql = TXW_DEADLETTER_COPY_SQL,
        .apply_sql = TXW_DEADLETTER_INSERT_SQL,
        .migrate = migrate,
        .max_rows = max_rows,
        .metrics = metrics
    };
    return txw_pgwriter_new (database_url, &config);
}

int
txw_deadletter_queue (txw_pgwriter_t *writer, const txw_reject_t *reject)
{
    txw_copybuf_t *buf = txw_pgwriter_row_begin (writer);
    if (!buf)
        return -1;
    txw_deadletter_row (buf, reject);
    txw_pgwriter_row_end (writer);
    return 0;
}

void
txw_deadletter_correction (const txw_correction_t *c, txw_reject_t *rej)
{
    size_t id_len = strlen (c->tx_id);
    bool id_kept = txw_id_chars_valid (c->tx_id, id_len);
    snprintf (rej->tx_id, sizeof rej->tx_id, "%s", id_kept? c->tx_id: "");
    rej->line_no = c->line_no;
    char tx_id [TXW_ID_MAX + 1], account [TXW_PSEUDONYM_SIZE], actor [TXW_PSEUDONYM_SIZE];
    if (id_kept)
        snprintf (tx_id, sizeof tx_id, "%s", c->tx_id);
    else
        txw_mask_id (c->tx_id, id_len, tx_id, sizeof tx_id);
    txw_mask_id (c->account_id, strlen (c->account_id), account, sizeof account);
    size_t actor_len = strlen (c->actor);
    char actor_text [TXW_ID_MAX * 2 + 1];
    if (txw_pii_safe (c->actor, actor_len))
        txw_json_escape (actor_text, sizeof actor_text, c->actor, actor_len);
    else {
        txw_mask_id (c->actor, actor_len, actor, sizeof actor);
        snprintf (actor_text, sizeof actor_text, "%s", actor);
    }
    snprintf (rej->payload, sizeof rej->payload,
              "{\"tx_id\":\"%s\",\"account_id\":\"%s\",\"ts\":%lld,\"status\":\"%s\","
              "\"corrected_ms\":%lld,\"actor\":\"%s\",\"line_no\":%llu}",
              tx_id, account, (long long) c->ts_ms, txw_correction_status_name (c->status),
              (long long) c->corrected_ms, actor_text, (unsigned long long) c->line_no);
}
