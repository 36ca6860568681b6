/*  test_codec - round trips and hostile input for the wire codec           */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec.h"
#include "log.h"
#include "money.h"
#include "pii.h"
#include "reasons.h"

static txw_tx_t
s_sample_tx (bool scored)
{
    txw_tx_t tx;
    memset (&tx, 0, sizeof tx);
    strcpy (tx.tx_id, "T1-42");
    tx.ts_ms = 1767607200123;
    strcpy (tx.account_id, "A000123");
    tx.amount_minor = 1250;
    strcpy (tx.currency, "EUR");
    strcpy (tx.merchant_id, "M00042");
    strcpy (tx.category, "grocery");
    tx.channel = TXW_CHANNEL_POS;
    strcpy (tx.branch_id, "B017");
    strcpy (tx.region, "R3");
    strcpy (tx.country, "DE");
    strcpy (tx.device_id, "D99");
    tx.status = TXW_STATUS_DECLINED;
    tx.origin_us = 1767607200123456;
    tx.hour = 10;
    tx.weekday = 0;
    tx.amount_rep_minor = 1250;
    strcpy (tx.device_type, "android");
    tx.origin_id = 0xF00DFACECAFEBEEFull;       //  all 64 bits used
    tx.origin_ref = txw_origin_ref (TXW_MSG_RAW_TX, 77, 511);
    strcpy (tx.order_id, "O1-314");
    if (scored) {
        tx.scored = true;
        tx.score = 87;
        tx.reasons = TXW_REASON_NEW_DEVICE | TXW_REASON_AMOUNT_SPIKE;
        strcpy (tx.model_version, "rules-1");
    }
    return tx;
}

//  Packs one TX batch and returns its frame (caller frees).
static char *
s_frame (const txw_tx_t *tx, int records, size_t *size, uint32_t type)
{
    txw_batch_t batch;
    txw_batch_init (&batch, type, "validator@test", 77);
    for (int i = 0; i < records; i++) {
        txw_tx_encode (&batch.pk, tx);
        txw_batch_added (&batch);
    }
    txw_batch_seal (&batch, 5, 1234567);
    char *copy = malloc (batch.buf.size);
    memcpy (copy, batch.buf.data, batch.buf.size);
    *size = batch.buf.size;
    txw_batch_fini (&batch);
    return copy;
}

static void
test_tx_round_trip (void **state)
{
    (void) state;
    for (int scored = 0; scored < 2; scored++) {
        txw_tx_t tx = s_sample_tx (scored);
        size_t size;
        char *frame = s_frame (&tx, 3, &size, scored? TXW_MSG_SCORED_TX: TXW_MSG_TX);
        txw_envelope_t env;
        const char *error = NULL;
        assert_int_equal (txw_envelope_decode (frame, size, &env, &error), 0);
        assert_int_equal (env.type, scored? TXW_MSG_SCORED_TX: TXW_MSG_TX);
        assert_int_equal (env.seq, 5);
        assert_int_equal (env.epoch, 77);
        assert_int_equal (env.sent_us, 1234567);
        assert_int_equal (env.count, 3);
        assert_memory_equal (env.source_id.ptr, "validator@test", env.source_id.len);
        for (int i = 0; i < 3; i++) {
            txw_tx_t out;
            memset (&out, 0, sizeof out);
            assert_int_equal (txw_tx_decode (&env.records, scored, &out, &error), 0);
            assert_memory_equal (&out, &tx, sizeof tx);
        }
        free (frame);
    }
}

static void
test_reject_alert_window_round_trip (void **state)
{
    (void) state;
    msgpack_sbuffer buf;
    msgpack_packer pk;
    msgpack_sbuffer_init (&buf);
    msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);

    txw_reject_t rej, rej_out;
    memset (&rej, 0, sizeof rej);
    strcpy (rej.origin_source, "producer:1");
    rej.origin_seq = 9;
    rej.origin_index = 3;
    rej.line_no = 1041;
    strcpy (rej.reason, "bad_currency");
    strcpy (rej.field, "currency");
    strcpy (rej.message, "currency 'XXQ' is not ISO 4217");
    strcpy (rej.payload, "{\"tx_id\":\"T1\"}");
    rej.received_ms = 99;
    txw_reject_encode (&pk, &rej);

    txw_alert_t alert, alert_out;
    memset (&alert, 0, sizeof alert);
    strcpy (alert.kind, "fraud");
    strcpy (alert.tx_id, "T1-9");
    alert.score = 91;
    alert.reasons = TXW_REASON_CARD_TESTING;
    alert.amount_minor = -5;
    strcpy (alert.currency, "JPY");
    alert.channel = TXW_CHANNEL_ONLINE;
    txw_alert_encode (&pk, &alert);

    txw_window_t win, win_out;
    memset (&win, 0, sizeof win);
    strcpy (win.dimension, "region");
    strcpy (win.key, "R3");
    win.window_start_ms = -60000;
    win.window_ms = 60000;
    win.shard = 2;
    win.tx_count = 1ll << 40;
    win.amount_min = INT64_MIN;
    win.amount_max = INT64_MAX;
    win.closed = true;
    txw_window_encode (&pk, &win);

    txw_cursor_t cur = { (const uint8_t *) buf.data, (const uint8_t *) buf.data + buf.size };
    const char *error;
    assert_int_equal (txw_reject_decode (&cur, &rej_out, &error), 0);
    assert_memory_equal (&rej, &rej_out, sizeof rej);
    memset (&alert_out, 0, sizeof alert_out);
    assert_int_equal (txw_alert_decode (&cur, &alert_out, &error), 0);
    assert_memory_equal (&alert, &alert_out, sizeof alert);
    memset (&win_out, 0, sizeof win_out);
    assert_int_equal (txw_window_decode (&cur, &win_out, &error), 0);
    assert_memory_equal (&win, &win_out, sizeof win);
    assert_true (cur.p == cur.end);
    msgpack_sbuffer_destroy (&buf);
}

//  A correction round-trips in a batch, its status travels by name (any
//  case), a short record of the four required fields takes the defaults,
//  and a text past its limit or a record too short is malformed.
static void
test_correction (void **state)
{
    (void) state;
    txw_correction_t c;
    memset (&c, 0, sizeof c);
    strcpy (c.tx_id, "T1-42");
    strcpy (c.account_id, "A000123");
    c.ts_ms = 1767607200123;
    c.status = TXW_CORRECTION_CHARGED_BACK;
    c.corrected_ms = 1767700000000;
    strcpy (c.actor, "ops-key");
    strcpy (c.reason, "card holder disputes it");
    c.line_no = 4;
    c.origin_id = 0xF00DFACECAFEBEEFull;
    c.origin_ref = txw_origin_ref (TXW_MSG_CORRECTION, 3, 1);
    txw_batch_t batch;
    txw_batch_init (&batch, TXW_MSG_CORRECTION, "ingest@test", 9);
    txw_correction_encode (&batch.pk, &c);
    txw_batch_added (&batch);
    txw_batch_seal (&batch, 1, 2);
    txw_envelope_t env;
    assert_int_equal (txw_envelope_decode (batch.buf.data, batch.buf.size, &env, NULL), 0);
    assert_int_equal (env.type, TXW_MSG_CORRECTION);
    assert_int_equal (env.count, 1);
    txw_correction_t out;
    assert_int_equal (txw_correction_decode (&env.records, &out, NULL), 0);
    assert_memory_equal (&out, &c, sizeof c);
    assert_true (env.records.p == env.records.end);
    txw_batch_fini (&batch);
    assert_string_equal (txw_msg_type_name (TXW_MSG_CORRECTION), "correction");
    assert_string_equal (txw_correction_status_name (TXW_CORRECTION_REVERSED), "reversed");
    assert_int_equal (txw_correction_status_parse ("Refunded", 8), TXW_CORRECTION_REFUNDED);
    assert_int_equal (txw_correction_status_parse ("approved", 8), TXW_CORRECTION_UNKNOWN);
    assert_int_equal (txw_status_parse ("reversed", 8), TXW_STATUS_UNKNOWN);

    msgpack_sbuffer buf;
    msgpack_packer pk;
    msgpack_sbuffer_init (&buf);
    msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
    const char *texts [] = { "T9", "A9", NULL, "REVERSED" };
    msgpack_pack_array (&pk, 4);
    for (int i = 0; i < 4; i++)
        if (texts [i]) {
            msgpack_pack_str (&pk, strlen (texts [i]));
            msgpack_pack_str_body (&pk, texts [i], strlen (texts [i]));
        }
        else
            msgpack_pack_int64 (&pk, 1767607200000);
    txw_cursor_t cur = { (const uint8_t *) buf.data, (const uint8_t *) buf.data + buf.size };
    assert_int_equal (txw_correction_decode (&cur, &out, NULL), 0);
    assert_string_equal (out.tx_id, "T9");
    assert_int_equal (out.status, TXW_CORRECTION_REVERSED);
    assert_int_equal (out.corrected_ms, 0);
    assert_string_equal (out.actor, "");
    assert_int_equal (out.origin_id, 0);
    assert_true (cur.p == cur.end);

    //  An unknown status decodes (the validator names it in a dead letter).
    msgpack_sbuffer_clear (&buf);
    msgpack_pack_array (&pk, 4);
    for (int i = 0; i < 4; i++) {
        const char *text = i == 3? "approved": "x";
        if (i == 2)
            msgpack_pack_int64 (&pk, 1);
        else {
            msgpack_pack_str (&pk, strlen (text));
            msgpack_pack_str_body (&pk, text, strlen (text));
        }
    }
    cur = (txw_cursor_t) { (const uint8_t *) buf.data, (const uint8_t *) buf.data + buf.size };
    assert_int_equal (txw_correction_decode (&cur, &out, NULL), 0);
    assert_int_equal (out.status, TXW_CORRECTION_UNKNOWN);

    //  A reason past TXW_TEXT_MAX, and a record of three fields.
    char long_reason [TXW_TEXT_MAX + 2];
    memset (long_reason, 'r', sizeof long_reason);
    long_reason [TXW_TEXT_MAX + 1] = 0;
    msgpack_sbuffer_clear (&buf);
    msgpack_pack_array (&pk, 7);
    for (int i = 0; i < 7; i++) {
        const char *text = i == 6? long_reason: "x";
        if (i == 2 || i == 4)
            msgpack_pack_int64 (&pk, 1);
        else {
            msgpack_pack_str (&pk, strlen (text));
            msgpack_pack_str_body (&pk, text, strlen (text));
        }
    }
    const char *error = NULL;
    cur = (txw_cursor_t) { (const uint8_t *) buf.data, (const uint8_t *) buf.data + buf.size };
    assert_int_equal (txw_correction_decode (&cur, &out, &error), -1);
    assert_string_equal (error, "malformed correction field");
    //  A text holding NUL cannot name "T1".
    msgpack_sbuffer_clear (&buf);
    msgpack_pack_array (&pk, 4);
    msgpack_pack_str (&pk, 4);
    msgpack_pack_str_body (&pk, "T1\0x", 4);
    msgpack_pack_str (&pk, 2);
    msgpack_pack_str_body (&pk, "A1", 2);
    msgpack_pack_int64 (&pk, 1);
    msgpack_pack_str (&pk, 8);
    msgpack_pack_str_body (&pk, "reversed", 8);
    cur = (txw_cursor_t) { (const uint8_t *) buf.data, (const uint8_t *) buf.data + buf.size };
    assert_int_equal (txw_correction_decode (&cur, &out, &error), -1);
    //  A line number past INT64_MAX (a bigint where it is stored).
    msgpack_sbuffer_clear (&buf);
    c.line_no = (uint64_t) INT64_MAX + 1;
    txw_correction_encode (&pk, &c);
    cur = (txw_cursor_t) { (const uint8_t *) buf.data, (const uint8_t *) buf.data + buf.size };
    assert_int_equal (txw_correction_decode (&cur, &out, &error), -1);

    msgpack_sbuffer_clear (&buf);
    msgpack_pack_array (&pk, 3);
    msgpack_pack_nil (&pk);
    msgpack_pack_nil (&pk);
    msgpack_pack_nil (&pk);
    cur = (txw_cursor_t) { (const uint8_t *) buf.data, (const uint8_t *) buf.data + buf.size };
    assert_int_equal (txw_correction_decode (&cur, &out, &error), -1);
    assert_string_equal (error, "correction record too short");
    msgpack_sbuffer_destroy (&buf);
}

static void
test_raw_tx_wrong_type_and_extra_fields (void **state)
{
    (void) state;
    msgpack_sbuffer buf;
    msgpack_packer pk;
    msgpack_sbuffer_init (&buf);
    msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
    //  18 fields: a newer writer; field 4 (currency) is an integer.
    msgpack_pack_array (&pk, 18);
    for (int i = 0; i < 18; i++) {
        if (i == 1)
            msgpack_pack_int64 (&pk, 1767607200000);
        else
        if (i == 4)
            msgpack_pack_int (&pk, 978);
        else
        if (i == 14 || i == 15)
            msgpack_pack_int (&pk, 7);
        else
        if (i == 17) {
            msgpack_pack_map (&pk, 1);
            msgpack_pack_nil (&pk);
            msgpack_pack_double (&pk, 1.5);
        }
        else {
            msgpack_pack_str (&pk, 2);
            msgpack_pack_str_body (&pk, "ab", 2);
        }
    }
    txw_cursor_t cur = { (const uint8_t *) buf.data, (const uint8_t *) buf.data + buf.size };
    txw_raw_tx_t raw;
    const char *error;
    assert_int_equal (txw_raw_tx_decode (&cur, &raw, &error), 0);
    assert_int_equal (raw.bad_field, 4);
    assert_true (raw.ts_is_int);
    assert_int_equal (raw.ts_ms, 1767607200000);
    assert_int_equal (raw.line_no, 7);
    assert_int_equal (raw.tx_id.len, 2);
    assert_int_equal (raw.device_type.len, 2);     //  wire position 16
    assert_true (cur.p == cur.end);
    msgpack_sbuffer_destroy (&buf);
}

//  Records of writers older than device_type or order_id decode with them
//  absent, and a raw_tx's fields land at their wire positions both ways.
static void
test_older_layouts (void **state)
{
    (void) state;
    //  Every wire position holds one field, and each field has one position.
    int seen [TXW_RAW_FIELDS] = { 0 };
    for (int wire = 0; wire < TXW_RAW_FIELDS; wire++)
        seen [txw_raw_field_at_wire [wire]]++;
    for (int field = 0; field < TXW_RAW_FIELDS; field++)
        assert_int_equal (seen [field], 1);

    msgpack_sbuffer buf;
    msgpack_packer pk;
    msgpack_sbuffer_init (&buf);
    msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
    //  raw_tx of the first layout: 16 fields, text then origin_us, line_no.
    msgpack_pack_array (&pk, 16);
    for (int i = 0; i < 14; i++) {
        char text [8];
        int n = snprintf (text, sizeof text, "f%d", i);
        msgpack_pack_str (&pk, (size_t) n);
        msgpack_pack_str_body (&pk, text, (size_t) n);
    }
    msgpack_pack_int (&pk, 99);
    msgpack_pack_int (&pk, 3);
    txw_cursor_t cur = { (const uint8_t *) buf.data, (const uint8_t *) buf.data + buf.size };
    txw_raw_tx_t raw;
    assert_int_equal (txw_raw_tx_decode (&cur, &raw, NULL), 0);
    assert_int_equal (raw.bad_field, -1);
    assert_memory_equal (raw.status.ptr, "f13", 3);
    assert_int_equal (raw.origin_us, 99);
    assert_int_equal (raw.line_no, 3);
    assert_null (raw.device_type.ptr);
    assert_null (raw.order_id.ptr);
    //  Encoded again, it has every field, order_id last.
    raw.device_type = (txw_str_t) { "web", 3 };
    raw.order_id = (txw_str_t) { "O7-1", 4 };
    msgpack_sbuffer_clear (&buf);
    txw_raw_tx_encode (&pk, &raw);
    cur = (txw_cursor_t) { (const uint8_t *) buf.data, (const uint8_t *) buf.data + buf.size };
    txw_raw_tx_t again;
    assert_int_equal (txw_raw_tx_decode (&cur, &again, NULL), 0);
    assert_memory_equal (again.device_type.ptr, "web", 3);
    assert_int_equal (again.order_id.len, 4);
    assert_memory_equal (again.order_id.ptr, "O7-1", 4);
    assert_int_equal (again.line_no, 3);
    assert_memory_equal (again.tx_id.ptr, "f0", 2);
    //  The layout before order_id (17 fields, up to device_type) still
    //  decodes, with order_id absent: the array is cut after position 16.
    assert_int_equal ((uint8_t) buf.data [0], 0xdc);
    assert_int_equal ((uint8_t) buf.data [2], TXW_RAW_FIELDS);
    buf.data [2] = 17;
    cur = (txw_cursor_t) { (const uint8_t *) buf.data,
                           (const uint8_t *) buf.data + buf.size - 5 };
    assert_int_equal (txw_raw_tx_decode (&cur, &again, NULL), 0);
    assert_true (cur.p == cur.end);
    assert_memory_equal (again.device_type.ptr, "web", 3);
    assert_null (again.order_id.ptr);

    //  tx and scored_tx of the earlier layouts: the first (18 and 21
    //  fields), then with device_type (19 and 22), then with the origin
    //  (21 and 24), before order_id.
    for (int scored = 0; scored < 2; scored++)
    for (int layout = 0; layout < 3; layout++) {
        static const int appended [3] = { 0, 1, 3 };
        txw_tx_t tx = s_sample_tx (scored);
        tx.origin_id = 0;
        tx.origin_ref = 0;          //  one byte each, so easy to cut off
        msgpack_sbuffer_clear (&buf);
        txw_tx_encode (&pk, &tx);
        //  The new encoding ends device_type, origin_id, origin_ref,
        //  order_id: cut off those the layout has not and patch the array
        //  length (array 16: 0xdc, then the length big-endian).
        size_t cut = 1 + strlen (tx.order_id) + (layout < 2? 2: 0)
                   + (layout < 1? 1 + strlen (tx.device_type): 0);
        size_t last = buf.size - cut;
        assert_int_equal ((uint8_t) buf.data [0], 0xdc);
        assert_int_equal ((uint8_t) buf.data [2], scored? 25: 22);
        buf.data [2] = (char) ((scored? 21: 18) + appended [layout]);
        cur = (txw_cursor_t) { (const uint8_t *) buf.data, (const uint8_t *) buf.data + last };
        txw_tx_t out;
        assert_int_equal (txw_tx_decode (&cur, scored, &out, NULL), 0);
        assert_true (cur.p == cur.end);
        assert_string_equal (out.device_type, layout? "android": "");
        assert_string_equal (out.order_id, "");
        assert_true (out.origin_id == 0 && out.origin_ref == 0);
        assert_int_equal (out.scored, scored);
        assert_int_equal (out.score, tx.score);
        assert_string_equal (out.model_version, tx.model_version);
        //  A scored_tx read as a tx (or the reverse) does not pass as one.
        cur = (txw_cursor_t) { (const uint8_t *) buf.data, (const uint8_t *) buf.data + last };
        assert_int_equal (txw_tx_decode (&cur, !scored, &out, NULL), -1);
    }
    //  An acknowledgement keeps all 64 bits of both numbers.
    msgpack_sbuffer_clear (&buf);
    txw_ack_t ack = { UINT64_MAX, txw_origin_ref (TXW_MSG_REJECT, 1, 2) }, back;
    txw_ack_encode (&pk, &ack);
    cur = (txw_cursor_t) { (const uint8_t *) buf.data, (const uint8_t *) buf.data + buf.size };
    assert_int_equal (txw_ack_decode (&cur, &back, NULL), 0);
    assert_true (back.origin_id == UINT64_MAX && back.origin_ref == ack.origin_ref);
    msgpack_sbuffer_destroy (&buf);
}

//  Every prefix of a valid frame must decode to an error, never past the end.
static void
test_truncated_frames (void **state)
{
    (void) state;
    txw_tx_t tx = s_sample_tx (true);
    size_t size;
    char *frame = s_frame (&tx, 2, &size, TXW_MSG_SCORED_TX);
    for (size_t cut = 0; cut < size; cut++) {
        char *copy = malloc (cut + 1);      //  exact size: ASan/valgrind see overreads
        memcpy (copy, frame, cut);
        txw_envelope_t env;
        int ok = txw_envelope_decode (copy, cut, &env, NULL) == 0;
        if (ok) {
            txw_tx_t out;
            int decoded = 0;
            for (uint32_t i = 0; i < env.count; i++)
                if (txw_tx_decode (&env.records, true, &out, NULL) == 0)
                    decoded++;
                else
                    break;
            assert_true (decoded < 2);
        }
        free (copy);
    }
    free (frame);
}

static void
test_hostile_headers (void **state)
{
    (void) state;
    txw_envelope_t env;
    const char *error = NULL;
    //  array32 claiming four billion elements in a 5-byte frame
    unsigned char huge [] = { 0xDD, 0xFF, 0xFF, 0xFF, 0xFF };
    assert_int_equal (txw_envelope_decode (huge, sizeof huge, &env, &error), -1);
    //  a well-formed envelope whose record array claims 2^32-1 records
    unsigned char forged [] = { 0x97, 0x01, 0x02, 0xA1, 'x', 0x00, 0x01, 0x00,
                                0xDD, 0xFF, 0xFF, 0xFF, 0xFF, 0x90 };
    assert_int_equal (txw_envelope_decode (forged, sizeof forged, &env, &error), -1);
    //  wrong version, wrong type
    unsigned char version [] = { 0x97, 0x09, 0x02, 0xA1, 'x', 0x00, 0x01, 0x00, 0x90 };
    assert_int_equal (txw_envelope_decode (version, sizeof version, &env, &error), -1);
    unsigned char type [] = { 0x97, 0x01, 0x63, 0xA1, 'x', 0x00, 0x01, 0x00, 0x90 };
    assert_int_equal (txw_envelope_decode (type, sizeof type, &env, &error), -1);
    //  minimal valid empty envelope
    unsigned char empty [] = { 0x97, 0x01, 0x02, 0xA1, 'x', 0x00, 0x01, 0x00, 0x90 };
    assert_int_equal (txw_envelope_decode (empty, sizeof empty, &env, &error), 0);
    assert_int_equal (env.count, 0);
    //  deep nesting in a skipped field stops at the depth limit
    unsigned char deep [64];
    deep [0] = 0x91;
    for (int i = 1; i < 64; i++)
        deep [i] = 0x91;
    txw_cursor_t cur = { deep, deep + sizeof deep };
    assert_int_equal (txw_cursor_skip (&cur), -1);
}

//  Random bytes and random mutations of a valid frame never crash.
static void
test_fuzz_mutations (void **state)
{
    (void) state;
    txw_tx_t tx = s_sample_tx (true);
    size_t size;
    char *frame = s_frame (&tx, 4, &size, TXW_MSG_SCORED_TX);
    srand (12345);
    int accepted = 0;
    for (int round = 0; round < 200000; round++) {
        char *copy = malloc (size);
        memcpy (copy, frame, size);
        int flips = 1 + rand () % 4;
        for (int f = 0; f < flips; f++)
            copy [rand () % size] = (char) (rand () & 0xFF);
        txw_envelope_t env;
        if (txw_envelope_decode (copy, size, &env, NULL) == 0) {
            txw_tx_t out;
            for (uint32_t i = 0; i < env.count; i++)
                if (txw_tx_decode (&env.records, true, &out, NULL))
                    break;
                else
                    accepted++;
        }
        free (copy);
    }
    assert_true (accepted > 0);         //  mutations in string bodies still decode
    free (frame);
}

static void
test_money (void **state)
{
    (void) state;
    int64_t v;
    assert_int_equal (txw_currency_exponent ("EUR", 3), 2);
    assert_int_equal (txw_currency_exponent ("JPY", 3), 0);
    assert_int_equal (txw_currency_exponent ("KWD", 3), 3);
    assert_int_equal (txw_currency_exponent ("XXQ", 3), -1);
    assert_int_equal (txw_currency_exponent ("eur", 3), -1);
    assert_true (txw_country_valid ("DE", 2));
    assert_false (txw_country_valid ("ZZ", 2));
    assert_int_equal (txw_parse_amount ("12.50", 5, 2, &v), 0);
    assert_int_equal (v, 1250);
    assert_int_equal (txw_parse_amount ("12.5", 4, 2, &v), 0);
    assert_int_equal (v, 1250);
    assert_int_equal (txw_parse_amount ("7", 1, 2, &v), 0);
    assert_int_equal (v, 700);
    assert_int_equal (txw_parse_amount ("12.345", 6, 2, &v), -1);
    assert_int_equal (txw_parse_amount ("12.340", 6, 2, &v), 0);
    assert_int_equal (txw_parse_amount ("1500", 4, 0, &v), 0);
    assert_int_equal (v, 1500);
    assert_int_equal (txw_parse_amount ("1.5", 3, 0, &v), -1);
    assert_int_equal (txw_parse_amount ("-5.00", 5, 2, &v), -1);
    assert_int_equal (txw_parse_amount ("1e5", 3, 2, &v), -1);
    assert_int_equal (txw_parse_amount ("12.", 3, 2, &v), -1);
    assert_int_equal (txw_parse_amount ("99999999999999999999", 20, 2, &v), -1);
    //  Overflow of whole * 10^exponent + fraction is refused, never wrapped
    //  (found by tests/fuzz: this one gave INT64_MIN); INT64_MAX still fits.
    v = 0;
    assert_int_equal (txw_parse_amount ("92233720368547758.08", 20, 2, &v), -1);
    assert_int_equal (v, 0);
    assert_int_equal (txw_parse_amount ("92233720368547758.07", 20, 2, &v), 0);
    assert_true (v == INT64_MAX);
    assert_int_equal (txw_parse_amount ("92233720368547759", 17, 2, &v), -1);
    assert_int_equal (txw_parse_amount ("922337203685477.5808", 20, 4, &v), -1);
    assert_int_equal (txw_parse_amount ("9223372036854775807", 19, 0, &v), 0);
    assert_true (v == INT64_MAX);
    assert_int_equal (txw_parse_amount ("9223372036854775808", 19, 0, &v), -1);
    assert_int_equal (txw_parse_amount ("18446744073709551616", 20, 0, &v), -1);
    char text [32];
    txw_format_amount (text, sizeof text, 1250, 2);
    assert_string_equal (text, "12.50");
    txw_format_amount (text, sizeof text, 5, 3);
    assert_string_equal (text, "0.005");
    txw_format_amount (text, sizeof text, 1500, 0);
    assert_string_equal (text, "1500");

    char error [160];
    txw_rates_t *rates = txw_rates_load (NULL, "EUR", error, sizeof error);
    assert_non_null (rates);
    assert_int_equal (txw_rates_convert (rates, "EUR", 1250, &v), 0);
    assert_int_equal (v, 1250);
    //  1000 JPY at 0.0061 EUR = 6.10 EUR
    assert_int_equal (txw_rates_convert (rates, "JPY", 1000, &v), 0);
    assert_int_equal (v, 610);
    //  0.01 USD at 0.92 is 0.0092 EUR: rounds to 0.01; 0.005 EUR rounds up
    assert_int_equal (txw_rates_convert (rates, "USD", 1, &v), 0);
    assert_int_equal (v, 1);
    assert_int_equal (txw_rates_convert (rates, "EUR", 1, &v), 0);
    assert_int_equal (v, 1);
    //  5 KWD-fils (0.005 KWD) at 2.99 = 0.01495 EUR: rounds to 0.01
    assert_int_equal (txw_rates_convert (rates, "KWD", 5, &v), 0);
    assert_int_equal (v, 1);
    assert_int_equal (txw_rates_convert (rates, "USD", 50, &v), 0);
    assert_int_equal (v, 46);
    assert_int_equal (txw_rates_convert (rates, "XOF", 50, &v), -1);
    txw_rates_destroy (&rates);
    txw_rates_destroy (&rates);
    assert_null (txw_rates_load ("/nonexistent/rates.csv", "EUR", error, sizeof error));
    assert_null (txw_rates_load (NULL, "XXQ", error, sizeof error));
}

//  Writes text to a new temporary file; returns its path (static).
static const char *
s_rates_file (const char *text)
{
    static char path [64];
    snprintf (path, sizeof path, "/tmp/txw-test-rates-XXXXXX");
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    assert_int_equal (write (fd, text, strlen (text)), (ssize_t) strlen (text));
    close (fd);
    return path;
}

//  Found by tests/fuzz (fuzz_rates): lines longer than the old 255-byte
//  buffer were read as two, a rate of 10^10 units overflowed, and a
//  conversion whose 128-bit product overflowed was undefined.
static void
test_rates_file (void **state)
{
    (void) state;
    char error [256];
    char text [1024];
    //  A long comment with a rate-like tail, a rate with many decimals.
    snprintf (text, sizeof text, "currency,rate\n# %0300d USD,5\nJPY,0.0061%0300d\nUSD,0.92\n", 0, 0);
    const char *path = s_rates_file (text);
    txw_rates_t *rates = txw_rates_load (path, "EUR", error, sizeof error);
    unlink (path);
    assert_non_null (rates);
    assert_int_equal (txw_rates_count (rates), 3);
    int64_t v;
    assert_int_equal (txw_rates_convert (rates, "JPY", 1000, &v), 0);
    assert_int_equal (v, 610);
    assert_int_equal (txw_rates_convert (rates, "USD", 100, &v), 0);
    assert_int_equal (v, 92);
    txw_rates_destroy (&rates);

    path = s_rates_file ("EUR,9996699910.00643\n");
    assert_null (txw_rates_load (path, "USD", error, sizeof error));
    unlink (path);
    path = s_rates_file ("EUR,1000000001\n");
    assert_null (txw_rates_load (path, "USD", error, sizeof error));
    unlink (path);

    //  The largest rate, the largest amount: refused, not wrapped.
    path = s_rates_file ("USD,1000000000\nEUR,333333333\n");
    rates = txw_rates_load (path, "CLF", error, sizeof error);
    unlink (path);
    assert_non_null (rates);
    assert_int_equal (txw_rates_convert (rates, "USD", INT64_MAX, &v), -1);
    assert_int_equal (txw_rates_convert (rates, "EUR", INT64_MIN, &v), -1);
    assert_int_equal (txw_rates_convert (rates, "USD", 1, &v), 0);
    assert_true (v == 100000000000LL);          //  0.01 USD = 10^7 CLF = 10^11 minor
    txw_rates_destroy (&rates);
}

static void
test_mask_and_reasons (void **state)
{
    (void) state;
    //  The mask is a keyed pseudonym (tests/unit/test_pii.c has the rest).
    char out [32];
    txw_mask_id ("A000123", 7, out, sizeof out);
    assert_true (txw_pseudonym_is (out, strlen (out)));
    assert_null (strstr (out, "0123"));
    char text [256];
    //  JSON escaping: control bytes escaped, invalid UTF-8 replaced
    txw_json_escape (text, sizeof text, "a\"b\n\x01\xC3\xA9", 7);
    assert_string_equal (text, "a\\\"b\\n\\u0001\xC3\xA9");
    txw_json_escape (text, sizeof text, "\xED\xA0\x80|\xC0\xAF|\xF4\x90\x80\x80", 11);
    assert_string_equal (text, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD|"
                               "\xEF\xBF\xBD\xEF\xBF\xBD|\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    txw_reasons_format (TXW_REASON_CARD_TESTING | TXW_REASON_NEW_DEVICE, text, sizeof text);
    assert_string_equal (text, "card_testing,new_device");
    assert_int_equal (txw_channel_parse ("POS", 3), TXW_CHANNEL_POS);
    assert_int_equal (txw_status_parse ("Declined", 8), TXW_STATUS_DECLINED);
    assert_int_equal (txw_channel_parse ("fax", 3), 0);
    assert_int_equal (txw_channel_parse ("pos ", 4), 0);
    assert_int_equal (txw_shard_of ("A1", 2, 1), 0);
    assert_true (txw_shard_of ("A1", 2, 7) < 7);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_tx_round_trip),
        cmocka_unit_test (test_reject_alert_window_round_trip),
        cmocka_unit_test (test_correction),
        cmocka_unit_test (test_raw_tx_wrong_type_and_extra_fields),
        cmocka_unit_test (test_older_layouts),
        cmocka_unit_test (test_truncated_frames),
        cmocka_unit_test (test_hostile_headers),
        cmocka_unit_test (test_fuzz_mutations),
        cmocka_unit_test (test_money),
        cmocka_unit_test (test_rates_file),
        cmocka_unit_test (test_mask_and_reasons),
    };
    return cmocka_run_group_tests_name ("codec", tests, NULL, NULL);
}
