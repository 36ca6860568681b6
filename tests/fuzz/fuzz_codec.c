/*  fuzz_codec - the wire codec: envelopes, every record type, skipping values

    The input is tried three ways. As a frame: an envelope whose records are
    decoded by its type; a frame that decodes whole is packed again (the
    batch writer and the record encoders) and must decode to the same
    header, and packing that once more must give the very same bytes. As a
    bare record, by every record decoder: what decodes is encoded and must
    decode to an equal struct, having used exactly the bytes that skipping
    one value uses. And as a sequence of values for txw_cursor_skip, which
    must stay inside the input and always move forward.                      */

#include "codec.h"
#include "fuzz.h"

typedef union {
    txw_raw_tx_t raw;
    txw_tx_t tx;
    txw_reject_t rej;
    txw_alert_t alert;
    txw_window_t win;
    txw_heartbeat_t hb;
    txw_ack_t ack;
    txw_correction_t correction;
} s_record_t;

static int
s_decode (uint32_t type, txw_cursor_t *cur, s_record_t *r)
{
    const char *error = NULL;
    int rc;
    switch (type) {
        case TXW_MSG_RAW_TX:    rc = txw_raw_tx_decode (cur, &r->raw, &error); break;
        case TXW_MSG_TX:
        case TXW_MSG_SCORED_TX: rc = txw_tx_decode (cur, type == TXW_MSG_SCORED_TX, &r->tx, &error); break;
        case TXW_MSG_REJECT:    rc = txw_reject_decode (cur, &r->rej, &error); break;
        case TXW_MSG_ALERT:     rc = txw_alert_decode (cur, &r->alert, &error); break;
        case TXW_MSG_WINDOW:    rc = txw_window_decode (cur, &r->win, &error); break;
        case TXW_MSG_HEARTBEAT: rc = txw_heartbeat_decode (cur, &r->hb, &error); break;
        case TXW_MSG_ACK:       rc = txw_ack_decode (cur, &r->ack, &error); break;
        case TXW_MSG_CORRECTION: rc = txw_correction_decode (cur, &r->correction, &error); break;
        default: abort ();
    }
    FUZZ_CHECK (rc == 0 || rc == -1, "decoder returned %d", rc);
    FUZZ_CHECK (rc == 0 || (error && *error), "type %u failed without a reason", type);
    return rc;
}

static void
s_encode (uint32_t type, msgpack_packer *pk, const s_record_t *r)
{
    switch (type) {
        case TXW_MSG_RAW_TX:    txw_raw_tx_encode (pk, &r->raw); break;
        case TXW_MSG_TX:
        case TXW_MSG_SCORED_TX: txw_tx_encode (pk, &r->tx); break;
        case TXW_MSG_REJECT:    txw_reject_encode (pk, &r->rej); break;
        case TXW_MSG_ALERT:     txw_alert_encode (pk, &r->alert); break;
        case TXW_MSG_WINDOW:    txw_window_encode (pk, &r->win); break;
        case TXW_MSG_HEARTBEAT: txw_heartbeat_encode (pk, &r->hb); break;
        case TXW_MSG_ACK:       txw_ack_encode (pk, &r->ack); break;
        case TXW_MSG_CORRECTION: txw_correction_encode (pk, &r->correction); break;
        default: abort ();
    }
}

//  --- Equality, field by field ---------------------------------------------
//  Fixed buffers are C strings (encoders write them up to their NUL).

#define S_SAME_STR(a, b, f) \
    FUZZ_CHECK (strcmp ((a)->f, (b)->f) == 0, #f " '%s' became '%s'", (a)->f, (b)->f)
#define S_SAME_INT(a, b, f) \
    FUZZ_CHECK ((a)->f == (b)->f, #f " %lld became %lld", (long long) (a)->f, (long long) (b)->f)

static bool
s_view_equal (txw_str_t a, txw_str_t b)
{
    if (!a.ptr || !b.ptr)
        return !a.ptr && !b.ptr;
    return a.len == b.len && (a.len == 0 || memcmp (a.ptr, b.ptr, a.len) == 0);
}

static void
s_raw_equal (const txw_raw_tx_t *a, const txw_raw_tx_t *b)
{
    //  A field of the wrong type is encoded as nil: it is absent after.
    FUZZ_CHECK (b->bad_field == -1, "re-decoded raw record has bad field %d", b->bad_field);
    for (int i = 0; i < TXW_RAW_TEXT_FIELDS; i++)
        if (i != a->bad_field)
            FUZZ_CHECK (s_view_equal (*txw_raw_text_of (a, i), *txw_raw_text_of (b, i)),
                        "raw field %s changed", txw_raw_field_names [i]);
        else
            FUZZ_CHECK (!txw_raw_text_of (b, i)->ptr, "bad raw field %s is not absent",
                        txw_raw_field_names [i]);
    S_SAME_INT (a, b, ts_is_int);
    if (a->ts_is_int)
        S_SAME_INT (a, b, ts_ms);
    S_SAME_INT (a, b, origin_us);
    S_SAME_INT (a, b, line_no);
}

static void
s_tx_equal (const txw_tx_t *a, const txw_tx_t *b)
{
    S_SAME_STR (a, b, tx_id);
    S_SAME_INT (a, b, ts_ms);
    S_SAME_STR (a, b, account_id);
    S_SAME_INT (a, b, amount_minor);
    S_SAME_STR (a, b, currency);
    S_SAME_STR (a, b, merchant_id);
    S_SAME_STR (a, b, category);
    S_SAME_INT (a, b, channel);
    S_SAME_STR (a, b, branch_id);
    S_SAME_STR (a, b, region);
    S_SAME_STR (a, b, country);
    S_SAME_STR (a, b, device_id);
    S_SAME_STR (a, b, product_id);
    S_SAME_INT (a, b, status);
    S_SAME_INT (a, b, origin_us);
    FUZZ_CHECK (a->origin_id == b->origin_id && a->origin_ref == b->origin_ref,
                "origin changed");
    S_SAME_INT (a, b, hour);
    S_SAME_INT (a, b, weekday);
    S_SAME_INT (a, b, amount_rep_minor);
    S_SAME_INT (a, b, scored);
    S_SAME_INT (a, b, score);
    S_SAME_INT (a, b, reasons);
    S_SAME_STR (a, b, model_version);
    S_SAME_STR (a, b, device_type);
}

static void
s_reject_equal (const txw_reject_t *a, const txw_reject_t *b)
{
    S_SAME_STR (a, b, origin_source);
    S_SAME_INT (a, b, origin_seq);
    S_SAME_INT (a, b, origin_index);
    S_SAME_INT (a, b, line_no);
    S_SAME_STR (a, b, tx_id);
    S_SAME_STR (a, b, reason);
    S_SAME_STR (a, b, field);
    S_SAME_STR (a, b, message);
    S_SAME_STR (a, b, payload);
    S_SAME_INT (a, b, received_ms);
}

static void
s_alert_equal (const txw_alert_t *a, const txw_alert_t *b)
{
    S_SAME_STR (a, b, kind);
    S_SAME_STR (a, b, tx_id);
    S_SAME_INT (a, b, ts_ms);
    S_SAME_STR (a, b, account_id);
    S_SAME_INT (a, b, score);
    S_SAME_INT (a, b, reasons);
    S_SAME_INT (a, b, amount_minor);
    S_SAME_STR (a, b, currency);
    S_SAME_INT (a, b, amount_rep_minor);
    S_SAME_STR (a, b, merchant_id);
    S_SAME_STR (a, b, country);
    S_SAME_INT (a, b, channel);
    S_SAME_STR (a, b, model_version);
    S_SAME_INT (a, b, raised_ms);
    S_SAME_STR (a, b, region);
    S_SAME_STR (a, b, message);
}

static void
s_window_equal (const txw_window_t *a, const txw_window_t *b)
{
    S_SAME_STR (a, b, dimension);
    S_SAME_STR (a, b, key);
    S_SAME_INT (a, b, window_start_ms);
    S_SAME_INT (a, b, window_ms);
    S_SAME_INT (a, b, shard);
    S_SAME_INT (a, b, tx_count);
    S_SAME_INT (a, b, amount_sum);
    S_SAME_INT (a, b, amount_min);
    S_SAME_INT (a, b, amount_max);
    S_SAME_INT (a, b, approved);
    S_SAME_INT (a, b, declined);
    S_SAME_INT (a, b, failed);
    S_SAME_INT (a, b, flagged);
    S_SAME_INT (a, b, score_sum);
    S_SAME_INT (a, b, late);
    S_SAME_INT (a, b, closed);
    S_SAME_INT (a, b, approved_amount_sum);
}

static void
s_correction_equal (const txw_correction_t *a, const txw_correction_t *b)
{
    S_SAME_STR (a, b, tx_id);
    S_SAME_STR (a, b, account_id);
    S_SAME_INT (a, b, ts_ms);
    S_SAME_INT (a, b, status);
    S_SAME_INT (a, b, corrected_ms);
    S_SAME_STR (a, b, actor);
    S_SAME_STR (a, b, reason);
    S_SAME_INT (a, b, line_no);
    FUZZ_CHECK (a->origin_id == b->origin_id && a->origin_ref == b->origin_ref,
                "correction origin changed");
}

static void
s_equal (uint32_t type, const s_record_t *a, const s_record_t *b)
{
    switch (type) {
        case TXW_MSG_RAW_TX:    s_raw_equal (&a->raw, &b->raw); break;
        case TXW_MSG_TX:
        case TXW_MSG_SCORED_TX: s_tx_equal (&a->tx, &b->tx); break;
        case TXW_MSG_REJECT:    s_reject_equal (&a->rej, &b->rej); break;
        case TXW_MSG_ALERT:     s_alert_equal (&a->alert, &b->alert); break;
        case TXW_MSG_WINDOW:    s_window_equal (&a->win, &b->win); break;
        case TXW_MSG_HEARTBEAT:
            S_SAME_INT (&a->hb, &b->hb, watermark_ms);
            S_SAME_INT (&a->hb, &b->hb, sent_ms);
            break;
        case TXW_MSG_ACK:
            FUZZ_CHECK (a->ack.origin_id == b->ack.origin_id
                        && a->ack.origin_ref == b->ack.origin_ref, "acknowledgement changed");
            break;
        case TXW_MSG_CORRECTION: s_correction_equal (&a->correction, &b->correction); break;
        default: abort ();
    }
}

//  --- The three ways ----------------------------------------------------------

//  Decodes a whole frame and packs it again into batch (initialised here
//  when it returns 0). Returns -1 if the frame does not decode.
static int
s_repack (const void *data, size_t size, txw_envelope_t *env, txw_batch_t *batch)
{
    const char *error = NULL;
    if (txw_envelope_decode (data, size, env, &error)) {
        FUZZ_CHECK (error && *error, "envelope refused without a reason");
        return -1;
    }
    FUZZ_CHECK (env->version == TXW_PROTO_VERSION && env->type >= 1
                && env->type <= TXW_MSG_TYPE_MAX, "envelope version %u type %u",
                env->version, env->type);
    FUZZ_CHECK (env->source_id.len <= TXW_NAME_MAX * 2, "source id of %u bytes",
                env->source_id.len);
    FUZZ_CHECK (env->records.p >= (const uint8_t *) data
                && env->records.end == (const uint8_t *) data + size
                && env->records.p <= env->records.end, "records cursor outside the frame");
    FUZZ_CHECK (env->count <= (size_t) (env->records.end - env->records.p),
                "%u records in %zu bytes", env->count,
                (size_t) (env->records.end - env->records.p));
    char source [TXW_NAME_MAX * 2 + 1];
    memcpy (source, env->source_id.ptr, env->source_id.len);
    source [env->source_id.len] = 0;
    txw_batch_init (batch, env->type, source, env->epoch);
    txw_cursor_t cur = env->records;
    for (uint32_t i = 0; i < env->count; i++) {
        s_record_t r;
        if (s_decode (env->type, &cur, &r)) {
            txw_batch_fini (batch);
            return -1;
        }
        FUZZ_CHECK (cur.p <= cur.end, "record %u ends past the frame", i);
        s_encode (env->type, &batch->pk, &r);
        txw_batch_added (batch);
    }
    txw_batch_seal (batch, env->seq, env->sent_us);
    return 0;
}

static void
s_frame (const uint8_t *data, size_t size)
{
    txw_envelope_t env, env1, env2;
    txw_batch_t first, second;
    if (s_repack (data, size, &env, &first))
        return;
    int rc = s_repack (first.buf.data, first.buf.size, &env1, &second);
    FUZZ_CHECK (rc == 0, "a packed frame of type %u does not decode", env.type);
    FUZZ_CHECK (env1.type == env.type && env1.epoch == env.epoch && env1.seq == env.seq
                && env1.sent_us == env.sent_us && env1.count == env.count,
                "envelope header changed in a round trip");
    size_t source_len = strnlen (env.source_id.ptr, env.source_id.len);
    FUZZ_CHECK (env1.source_id.len == source_len
                && memcmp (env1.source_id.ptr, env.source_id.ptr, source_len) == 0,
                "source id changed in a round trip");
    FUZZ_CHECK (first.buf.size == second.buf.size
                && memcmp (first.buf.data, second.buf.data, first.buf.size) == 0,
                "packing a decoded frame twice gives different bytes");
    FUZZ_CHECK (txw_envelope_decode (second.buf.data, second.buf.size, &env2, NULL) == 0,
                "second packing does not decode");
    txw_batch_fini (&first);
    txw_batch_fini (&second);
}

static void
s_record (const uint8_t *data, size_t size, uint32_t type)
{
    txw_cursor_t cur = { data, data + size };
    s_record_t r;
    if (s_decode (type, &cur, &r)) {
        FUZZ_CHECK (cur.p >= data && cur.p <= data + size, "failed decoder left the input");
        return;
    }
    FUZZ_CHECK (cur.p > data && cur.p <= data + size, "decoder moved %td bytes",
                cur.p - data);
    //  A record is one value: skipping it ends where decoding did.
    txw_cursor_t skip = { data, data + size };
    FUZZ_CHECK (txw_cursor_skip (&skip) == 0 && skip.p == cur.p,
                "type %u decoded %td bytes, skip %s at %td", type, cur.p - data,
                skip.p == cur.p? "failed": "stopped", skip.p - data);

    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
    s_encode (type, &pk, &r);
    txw_cursor_t again = { (const uint8_t *) buf.data, (const uint8_t *) buf.data + buf.size };
    s_record_t r2;
    FUZZ_CHECK (s_decode (type, &again, &r2) == 0, "encoded record of type %u does not decode",
                type);
    FUZZ_CHECK (again.p == again.end, "encoded record of type %u has %td bytes left", type,
                again.end - again.p);
    s_equal (type, &r, &r2);
    msgpack_sbuffer_destroy (&buf);
}

static void
s_skip_all (const uint8_t *data, size_t size)
{
    txw_cursor_t cur = { data, data + size };
    while (cur.p < cur.end) {
        const uint8_t *before = cur.p;
        if (txw_cursor_skip (&cur)) {
            FUZZ_CHECK (cur.p >= data && cur.p <= cur.end, "failed skip left the input");
            break;
        }
        FUZZ_CHECK (cur.p > before && cur.p <= cur.end, "skip moved %td bytes", cur.p - before);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    //  A private copy of exactly size bytes: any read past it is caught.
    uint8_t *copy = malloc (size? size: 1);
    if (size)
        memcpy (copy, data, size);
    s_frame (copy, size);
    for (uint32_t type = 1; type <= TXW_MSG_TYPE_MAX; type++)
        if (type != TXW_MSG_SCORED_TX)
            s_record (copy, size, type);
    s_skip_all (copy, size);
    free (copy);
    return 0;
}
