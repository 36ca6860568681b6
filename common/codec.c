/*  codec - the txwatch wire format: one msgpack envelope, one layout per record */

#include "codec.h"
#include "clock.h"

#include <string.h>
#include <strings.h>

//  --- Names -----------------------------------------------------------------

static const char *s_channels [] = { "unknown", "pos", "online", "atm", "transfer", "mobile" };
static const char *s_statuses [] = { "unknown", "approved", "declined", "failed" };
static const char *s_corrections [] = { "unknown", "reversed", "refunded", "charged_back" };
static const char *s_types [] = { "none", "raw_tx", "tx", "scored_tx", "reject",
                                  "alert", "window", "heartbeat", "ack", "correction" };

const char *txw_raw_field_names [TXW_RAW_FIELDS] = {
#define S_NAME(NAME, member, wire, kind, required, pii) [TXW_RAW_##NAME] = #member,
    TXW_RAW_TX_FIELDS (S_NAME)
#undef S_NAME
    [TXW_RAW_ORIGIN_US] = "origin_us",
    [TXW_RAW_LINE_NO] = "line_no"
};

const size_t txw_raw_text_offsets [TXW_RAW_TEXT_FIELDS] = {
#define S_OFFSET(NAME, member, wire, kind, required, pii) offsetof (txw_raw_tx_t, member),
    TXW_RAW_TX_FIELDS (S_OFFSET)
#undef S_OFFSET
};

const int txw_raw_field_at_wire [TXW_RAW_FIELDS] = {
#define S_AT_WIRE(NAME, member, wire, kind, required, pii) [wire] = TXW_RAW_##NAME,
    TXW_RAW_TX_FIELDS (S_AT_WIRE)
#undef S_AT_WIRE
    [TXW_RAW_WIRE_ORIGIN_US] = TXW_RAW_ORIGIN_US,
    [TXW_RAW_WIRE_LINE_NO] = TXW_RAW_LINE_NO
};

//  Every wire position holds exactly one field: the positions of the table
//  and the two integers are distinct and below TXW_RAW_FIELDS. (A gap or a
//  position used twice would leave a zero, which is TX_ID's index, twice.)
#define S_WIRE_SUM(NAME, member, wire, kind, required, pii) + (wire)
_Static_assert (0 TXW_RAW_TX_FIELDS (S_WIRE_SUM) + TXW_RAW_WIRE_ORIGIN_US + TXW_RAW_WIRE_LINE_NO
                == TXW_RAW_FIELDS * (TXW_RAW_FIELDS - 1) / 2,
                "raw_tx wire positions must be 0 .. TXW_RAW_FIELDS - 1, each once");
#undef S_WIRE_SUM

const char *
txw_channel_name (int channel)
{
    return channel > 0 && channel < TXW_CHANNEL_COUNT? s_channels [channel]: "unknown";
}

const char *
txw_status_name (int status)
{
    return status > 0 && status < TXW_STATUS_COUNT? s_statuses [status]: "unknown";
}

const char *
txw_correction_status_name (int status)
{
    return status > 0 && status < TXW_CORRECTION_COUNT? s_corrections [status]: "unknown";
}

const char *
txw_msg_type_name (int type)
{
    return type > 0 && type <= TXW_MSG_TYPE_MAX? s_types [type]: "unknown";
}

static int
s_lookup (const char **names, int count, const char *s, size_t len)
{
    for (int i = 1; i < count; i++)
        if (strlen (names [i]) == len && strncasecmp (names [i], s, len) == 0)
            return i;
    return 0;
}

int
txw_channel_parse (const char *s, size_t len)
{
    return s_lookup (s_channels, TXW_CHANNEL_COUNT, s, len);
}

int
txw_status_parse (const char *s, size_t len)
{
    return s_lookup (s_statuses, TXW_STATUS_COUNT, s, len);
}

int
txw_correction_status_parse (const char *s, size_t len)
{
    return s_lookup (s_corrections, TXW_CORRECTION_COUNT, s, len);
}

//  --- Bounded cursor --------------------------------------------------------

#define S_FAIL(msg) do { if (error) *error = (msg); return -1; } while (0)

static inline size_t
s_left (const txw_cursor_t *cur)
{
    return (size_t) (cur->end - cur->p);
}

static inline uint64_t
s_be (const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p [i];
    return v;
}

//  Reads a length-prefixed header: returns the count after the marker byte
//  and advances past the prefix, or -1 if truncated.
static int
s_prefix (txw_cursor_t *cur, int width, uint64_t *value)
{
    if (s_left (cur) < (size_t) width + 1)
        return -1;
    *value = s_be (cur->p + 1, width);
    cur->p += 1 + width;
    return 0;
}

//  Reads an array header. The count is checked against the bytes that remain
//  (every element takes at least one byte), so a forged count cannot make a
//  caller loop or allocate beyond the frame.
static int
s_array (txw_cursor_t *cur, uint32_t *count)
{
    if (s_left (cur) < 1)
        return -1;
    uint8_t b = *cur->p;
    uint64_t n;
    if ((b & 0xF0) == 0x90) {
        n = b & 0x0F;
        cur->p++;
    }
    else
    if (b == 0xDC) {
        if (s_prefix (cur, 2, &n))
            return -1;
    }
    else
    if (b == 0xDD) {
        if (s_prefix (cur, 4, &n))
            return -1;
    }
    else
        return -1;
    if (n > s_left (cur))
        return -1;
    *count = (uint32_t) n;
    return 0;
}

//  Reads a string (str or bin). Returns 0, -1 for malformed, 1 for "another
//  type" without consuming it.
static int
s_str (txw_cursor_t *cur, txw_str_t *out)
{
    if (s_left (cur) < 1)
        return -1;
    uint8_t b = *cur->p;
    uint64_t n;
    if ((b & 0xE0) == 0xA0) {
        n = b & 0x1F;
        cur->p++;
    }
    else
    if (b == 0xD9 || b == 0xC4) {
        if (s_prefix (cur, 1, &n)) return -1;
    }
    else
    if (b == 0xDA || b == 0xC5) {
        if (s_prefix (cur, 2, &n)) return -1;
    }
    else
    if (b == 0xDB || b == 0xC6) {
        if (s_prefix (cur, 4, &n)) return -1;
    }
    else
        return 1;
    if (n > s_left (cur))
        return -1;
    out->ptr = (const char *) cur->p;
    out->len = (uint32_t) n;
    cur->p += n;
    return 0;
}

//  Reads any integer that fits int64. Returns 0, -1 malformed, 1 other type.
static int
s_int (txw_cursor_t *cur, int64_t *out)
{
    if (s_left (cur) < 1)
        return -1;
    uint8_t b = *cur->p;
    if (b <= 0x7F) {
        *out = b;
        cur->p++;
        return 0;
    }
    if (b >= 0xE0) {
        *out = (int8_t) b;
        cur->p++;
        return 0;
    }
    int width;
    bool is_signed;
    switch (b) {
        case 0xCC: width = 1; is_signed = false; break;
        case 0xCD: width = 2; is_signed = false; break;
        case 0xCE: width = 4; is_signed = false; break;
        case 0xCF: width = 8; is_signed = false; break;
        case 0xD0: width = 1; is_signed = true; break;
        case 0xD1: width = 2; is_signed = true; break;
        case 0xD2: width = 4; is_signed = true; break;
        case 0xD3: width = 8; is_signed = true; break;
        default: return 1;
    }
    uint64_t v;
    const uint8_t *at = cur->p;
    if (s_prefix (cur, width, &v))
        return -1;
    if (is_signed) {
        int shift = 64 - width * 8;
        *out = shift? (int64_t) (v << shift) >> shift: (int64_t) v;
    }
    else {
        if (v > INT64_MAX) {
            cur->p = at;        //  not consumed: the caller may take it as unsigned
            return -1;
        }
        *out = (int64_t) v;
    }
    return 0;
}

static int
s_skip (txw_cursor_t *cur, int depth)
{
    if (depth > TXW_MAX_DEPTH || s_left (cur) < 1)
        return -1;
    uint8_t b = *cur->p;
    txw_str_t s;
    int64_t i;
    int rc = s_str (cur, &s);
    if (rc <= 0)
        return rc;
    rc = s_int (cur, &i);
    if (rc == 0)
        return 0;
    if (rc < 0) {
        //  an unsigned 64-bit value above INT64_MAX is still well formed
        if (b == 0xCF && s_left (cur) >= 9) {
            cur->p += 9;
            return 0;
        }
        return -1;
    }
    uint64_t n = 0;
    size_t fixed = 0;
    bool is_map = false;
    switch (b) {
        case 0xC0: case 0xC2: case 0xC3: cur->p++; return 0;
        case 0xCA: fixed = 5; break;
        case 0xCB: fixed = 9; break;
        case 0xD4: fixed = 3; break;
        case 0xD5: fixed = 4; break;
        case 0xD6: fixed = 6; break;
        case 0xD7: fixed = 10; break;
        case 0xD8: fixed = 18; break;
        case 0xC7: case 0xC8: case 0xC9: {
            int width = b == 0xC7? 1: b == 0xC8? 2: 4;
            if (s_prefix (cur, width, &n) || s_left (cur) < 1 + n)
                return -1;
            cur->p += 1 + n;
            return 0;
        }
        case 0xDE: case 0xDF:
            if (s_prefix (cur, b == 0xDE? 2: 4, &n))
                return -1;
            is_map = true;
            break;
        default:
            if ((b & 0xF0) == 0x80) {
                n = b & 0x0F;
                cur->p++;
                is_map = true;
            }
            else {
                uint32_t count;
                if (s_array (cur, &count))
                    return -1;
                for (uint32_t k = 0; k < count; k++)
                    if (s_skip (cur, depth + 1))
                        return -1;
                return 0;
            }
    }
    if (fixed) {
        if (s_left (cur) < fixed)
            return -1;
        cur->p += fixed;
        return 0;
    }
    if (is_map) {
        if (n * 2 > s_left (cur))
            return -1;
        for (uint64_t k = 0; k < n * 2; k++)
            if (s_skip (cur, depth + 1))
                return -1;
        return 0;
    }
    return -1;
}

int
txw_cursor_skip (txw_cursor_t *cur)
{
    return s_skip (cur, 0);
}

//  Typed field readers for fixed layouts: nil is accepted as "missing".
static int
s_field_int (txw_cursor_t *cur, int64_t *out)
{
    if (s_left (cur) >= 1 && *cur->p == 0xC0) {
        cur->p++;
        *out = 0;
        return 0;
    }
    return s_int (cur, out) == 0? 0: -1;
}

//  An unsigned integer of up to 64 bits (a hash uses them all).
static int
s_field_uint (txw_cursor_t *cur, uint64_t *out)
{
    if (s_left (cur) >= 9 && *cur->p == 0xCF) {
        *out = s_be (cur->p + 1, 8);
        cur->p += 9;
        return 0;
    }
    int64_t v;
    if (s_field_int (cur, &v) || v < 0)
        return -1;
    *out = (uint64_t) v;
    return 0;
}

static int
s_field_str (txw_cursor_t *cur, char *out, size_t size)
{
    txw_str_t s;
    if (s_left (cur) >= 1 && *cur->p == 0xC0) {
        cur->p++;
        out [0] = 0;
        return 0;
    }
    if (s_str (cur, &s) != 0)
        return -1;
    return txw_str_copy (out, size, s);
}

static int
s_field_bool (txw_cursor_t *cur, bool *out)
{
    if (s_left (cur) < 1)
        return -1;
    uint8_t b = *cur->p;
    if (b == 0xC2 || b == 0xC3 || b == 0xC0) {
        *out = b == 0xC3;
        cur->p++;
        return 0;
    }
    int64_t v;
    if (s_int (cur, &v) != 0)
        return -1;
    *out = v != 0;
    return 0;
}

//  Bytes allowed in identifiers: [A-Za-z0-9_.:-].
static const bool s_id_chars [256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1,
    ['7'] = 1, ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1,
    ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1,
    ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1,
    ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1,
    ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1,
    ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1,
    ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
    ['_'] = 1, ['.'] = 1, [':'] = 1, ['-'] = 1,
};

bool
txw_id_chars_valid (const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *) s;
    for (size_t i = 0; i < len; i++)
        if (!s_id_chars [p [i]])
            return false;
    return true;
}

int
txw_str_copy (char *out, size_t size, txw_str_t s)
{
    if (s.len >= size) {
        out [0] = 0;
        return -1;
    }
    memcpy (out, s.ptr, s.len);
    out [s.len] = 0;
    return 0;
}

uint64_t
txw_hash (const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t) s [i];
        h *= 1099511628211ULL;
    }
    return h;
}

//  --- Envelope --------------------------------------------------------------

int
txw_envelope_decode (const void *data, size_t size, txw_envelope_t *env,
                     const char **error)
{
    if (size > TXW_MAX_FRAME)
        S_FAIL ("frame too large");
    txw_cursor_t cur = { data, (const uint8_t *) data + size };
    uint32_t fields;
    if (s_array (&cur, &fields) || fields < 7)
        S_FAIL ("envelope is not an array of 7 or more");
    int64_t v;
    if (s_int (&cur, &v) != 0 || v < 1 || v > 255)
        S_FAIL ("bad protocol version");
    env->version = (uint32_t) v;
    if (v != TXW_PROTO_VERSION)
        S_FAIL ("unsupported protocol version");
    if (s_int (&cur, &v) != 0 || v < 1 || v > TXW_MSG_TYPE_MAX)
        S_FAIL ("bad message type");
    env->type = (uint32_t) v;
    if (s_str (&cur, &env->source_id) != 0 || env->source_id.len > TXW_NAME_MAX * 2)
        S_FAIL ("bad source id");
    if (s_int (&cur, &v) != 0 || v < 0)
        S_FAIL ("bad epoch");
    env->epoch = (uint64_t) v;
    if (s_int (&cur, &v) != 0 || v < 0)
        S_FAIL ("bad sequence number");
    env->seq = (uint64_t) v;
    if (s_int (&cur, &v) != 0)
        S_FAIL ("bad send time");
    env->sent_us = v;
    if (s_array (&cur, &env->count) || env->count > TXW_MAX_RECORDS)
        S_FAIL ("bad record array");
    env->records = cur;
    //  Fields after the records are from a newer version; we leave them.
    return 0;
}

//  Opens a record: reads its array header, returns the field count.
static int
s_record_open (txw_cursor_t *cur, uint32_t *fields, const char **error)
{
    if (s_array (cur, fields))
        S_FAIL ("record is not an array");
    return 0;
}

//  Skips fields a newer writer appended.
static int
s_record_rest (txw_cursor_t *cur, uint32_t fields, uint32_t known, const char **error)
{
    for (uint32_t i = known; i < fields; i++)
        if (s_skip (cur, 1))
            S_FAIL ("malformed trailing field");
    return 0;
}

//  --- Raw transaction -------------------------------------------------------

int
txw_raw_tx_decode (txw_cursor_t *cur, txw_raw_tx_t *out, const char **error)
{
    uint32_t fields;
    if (s_record_open (cur, &fields, error))
        return -1;
    memset (out, 0, sizeof *out);
    out->bad_field = -1;
    uint32_t known = fields < TXW_RAW_FIELDS? fields: TXW_RAW_FIELDS;
    for (uint32_t wire = 0; wire < known; wire++) {
        if (s_left (cur) >= 1 && *cur->p == 0xC0) {
            cur->p++;           //  nil: missing
            continue;
        }
        int field = txw_raw_field_at_wire [wire];
        int rc;
        if (field < TXW_RAW_TEXT_FIELDS) {
            rc = s_str (cur, txw_raw_text (out, field));
            if (rc == 1 && field == TXW_RAW_TS) {
                rc = s_int (cur, &out->ts_ms);
                out->ts_is_int = rc == 0;
            }
        }
        else {
            int64_t v = 0;
            rc = s_int (cur, &v);
            if (rc == 0) {
                if (field == TXW_RAW_ORIGIN_US)
                    out->origin_us = v;
                else
                    out->line_no = v < 0? 0: (uint64_t) v;
            }
        }
        if (rc < 0)
            S_FAIL ("malformed raw transaction field");
        if (rc == 1) {
            //  Wrong type: the validator turns this into a dead letter that
            //  names the field, so keep going rather than lose the record.
            if (out->bad_field < 0)
                out->bad_field = field;
            if (s_skip (cur, 1))
                S_FAIL ("malformed raw transaction field");
        }
    }
    return s_record_rest (cur, fields, known, error);
}

static void
s_pack_str (msgpack_packer *pk, const char *s, size_t len)
{
    msgpack_pack_str (pk, len);
    msgpack_pack_str_body (pk, s, len);
}

static void
s_pack_cstr (msgpack_packer *pk, const char *s)
{
    s_pack_str (pk, s, strlen (s));
}

static void
s_pack_view (msgpack_packer *pk, txw_str_t s)
{
    if (s.ptr)
        s_pack_str (pk, s.ptr, s.len);
    else
        msgpack_pack_nil (pk);
}

void
txw_raw_tx_encode (msgpack_packer *pk, const txw_raw_tx_t *raw)
{
    msgpack_pack_array (pk, TXW_RAW_FIELDS);
    for (int wire = 0; wire < TXW_RAW_FIELDS; wire++) {
        int field = txw_raw_field_at_wire [wire];
        if (field == TXW_RAW_ORIGIN_US)
            msgpack_pack_int64 (pk, raw->origin_us);
        else
        if (field == TXW_RAW_LINE_NO)
            msgpack_pack_uint64 (pk, raw->line_no);
        else
        if (field == TXW_RAW_TS && raw->ts_is_int)
            msgpack_pack_int64 (pk, raw->ts_ms);
        else
            s_pack_view (pk, *txw_raw_text_of (raw, field));
    }
}

//  --- Transaction (validated, and scored) ------------------------------------

//  tx:        the 18 base fields, then the fields appended since;
//  scored_tx: the 18 base fields, score, reasons, model_version, then the
//             same appended fields.
#define S_TX_BASE           18
#define S_TX_SCORE_FIELDS   3
#define S_TX_APPENDED       4           //  device_type, origin_id, origin_ref, order_id

int
txw_tx_decode (txw_cursor_t *cur, bool scored, txw_tx_t *out, const char **error)
{
    uint32_t fields;
    if (s_record_open (cur, &fields, error))
        return -1;
    if (fields < S_TX_BASE + (scored? S_TX_SCORE_FIELDS: 0))
        S_FAIL (scored? "scored transaction record too short": "transaction record too short");
    int64_t channel, status, hour, weekday;
    if (s_field_str (cur, out->tx_id, sizeof out->tx_id)
    ||  s_field_int (cur, &out->ts_ms)
    ||  s_field_str (cur, out->account_id, sizeof out->account_id)
    ||  s_field_int (cur, &out->amount_minor)
    ||  s_field_str (cur, out->currency, sizeof out->currency)
    ||  s_field_str (cur, out->merchant_id, sizeof out->merchant_id)
    ||  s_field_str (cur, out->category, sizeof out->category)
    ||  s_field_int (cur, &channel)
    ||  s_field_str (cur, out->branch_id, sizeof out->branch_id)
    ||  s_field_str (cur, out->region, sizeof out->region)
    ||  s_field_str (cur, out->country, sizeof out->country)
    ||  s_field_str (cur, out->device_id, sizeof out->device_id)
    ||  s_field_str (cur, out->product_id, sizeof out->product_id)
    ||  s_field_int (cur, &status)
    ||  s_field_int (cur, &out->origin_us)
    ||  s_field_int (cur, &hour)
    ||  s_field_int (cur, &weekday)
    ||  s_field_int (cur, &out->amount_rep_minor))
        S_FAIL ("malformed transaction field");
    if (channel < 0 || channel >= TXW_CHANNEL_COUNT || status < 0
    ||  status >= TXW_STATUS_COUNT || hour < 0 || hour > 23
    ||  weekday < 0 || weekday > 6)
        S_FAIL ("transaction enum out of range");
    out->channel = (uint8_t) channel;
    out->status = (uint8_t) status;
    out->hour = (uint8_t) hour;
    out->weekday = (uint8_t) weekday;
    out->scored = scored;
    out->score = 0;
    out->reasons = 0;
    out->model_version [0] = 0;
    uint32_t known = S_TX_BASE;
    if (scored) {
        int64_t score, reasons;
        if (s_field_int (cur, &score)
        ||  s_field_int (cur, &reasons)
        ||  s_field_str (cur, out->model_version, sizeof out->model_version))
            S_FAIL ("malformed score field");
        if (score < 0 || score > 100 || reasons < 0 || reasons > UINT32_MAX)
            S_FAIL ("score out of range");
        out->score = (uint8_t) score;
        out->reasons = (uint32_t) reasons;
        known += S_TX_SCORE_FIELDS;
    }
    //  Appended fields: absent in records of older writers.
    out->device_type [0] = 0;
    out->origin_id = 0;
    out->origin_ref = 0;
    out->order_id [0] = 0;
    if (fields > known) {
        if (s_field_str (cur, out->device_type, sizeof out->device_type))
            S_FAIL ("malformed transaction field");
        known++;
    }
    if (fields >= known + 2) {
        if (s_field_uint (cur, &out->origin_id) || s_field_uint (cur, &out->origin_ref))
            S_FAIL ("malformed transaction origin");
        known += 2;
    }
    if (fields > known) {
        if (s_field_str (cur, out->order_id, sizeof out->order_id))
            S_FAIL ("malformed transaction field");
        known++;
    }
    return s_record_rest (cur, fields, known, error);
}

void
txw_tx_encode (msgpack_packer *pk, const txw_tx_t *tx)
{
    msgpack_pack_array (pk, S_TX_BASE + (tx->scored? S_TX_SCORE_FIELDS: 0) + S_TX_APPENDED);
    s_pack_cstr (pk, tx->tx_id);
    msgpack_pack_int64 (pk, tx->ts_ms);
    s_pack_cstr (pk, tx->account_id);
    msgpack_pack_int64 (pk, tx->amount_minor);
    s_pack_cstr (pk, tx->currency);
    s_pack_cstr (pk, tx->merchant_id);
    s_pack_cstr (pk, tx->category);
    msgpack_pack_uint8 (pk, tx->channel);
    s_pack_cstr (pk, tx->branch_id);
    s_pack_cstr (pk, tx->region);
    s_pack_cstr (pk, tx->country);
    s_pack_cstr (pk, tx->device_id);
    s_pack_cstr (pk, tx->product_id);
    msgpack_pack_uint8 (pk, tx->status);
    msgpack_pack_int64 (pk, tx->origin_us);
    msgpack_pack_uint8 (pk, tx->hour);
    msgpack_pack_uint8 (pk, tx->weekday);
    msgpack_pack_int64 (pk, tx->amount_rep_minor);
    if (tx->scored) {
        msgpack_pack_uint8 (pk, tx->score);
        msgpack_pack_uint32 (pk, tx->reasons);
        s_pack_cstr (pk, tx->model_version);
    }
    s_pack_cstr (pk, tx->device_type);
    msgpack_pack_uint64 (pk, tx->origin_id);
    msgpack_pack_uint64 (pk, tx->origin_ref);
    s_pack_cstr (pk, tx->order_id);
}

//  --- Rejection ---------------------------------------------------------------

#define S_REJECT_FIELDS 10

int
txw_reject_decode (txw_cursor_t *cur, txw_reject_t *out, const char **error)
{
    uint32_t fields;
    if (s_record_open (cur, &fields, error))
        return -1;
    if (fields < 8)
        S_FAIL ("rejection record too short");
    memset (out, 0, sizeof *out);
    int64_t seq, index, line;
    if (s_field_str (cur, out->origin_source, sizeof out->origin_source)
    ||  s_field_int (cur, &seq)
    ||  s_field_int (cur, &index)
    ||  s_field_int (cur, &line)
    ||  s_field_str (cur, out->tx_id, sizeof out->tx_id)
    ||  s_field_str (cur, out->reason, sizeof out->reason)
    ||  s_field_str (cur, out->field, sizeof out->field)
    ||  s_field_str (cur, out->message, sizeof out->message))
        S_FAIL ("malformed rejection field");
    if (seq < 0 || index < 0 || index > UINT32_MAX || line < 0)
        S_FAIL ("rejection position out of range");
    out->origin_seq = (uint64_t) seq;
    out->origin_index = (uint32_t) index;
    out->line_no = (uint64_t) line;
    uint32_t known = 8;
    if (fields >= S_REJECT_FIELDS) {
        if (s_field_str (cur, out->payload, sizeof out->payload)
        ||  s_field_int (cur, &out->received_ms))
            S_FAIL ("malformed rejection field");
        known = S_REJECT_FIELDS;
    }
    return s_record_rest (cur, fields, known, error);
}

void
txw_reject_encode (msgpack_packer *pk, const txw_reject_t *rej)
{
    msgpack_pack_array (pk, S_REJECT_FIELDS);
    s_pack_cstr (pk, rej->origin_source);
    msgpack_pack_uint64 (pk, rej->origin_seq);
    msgpack_pack_uint32 (pk, rej->origin_index);
    msgpack_pack_uint64 (pk, rej->line_no);
    s_pack_cstr (pk, rej->tx_id);
    s_pack_cstr (pk, rej->reason);
    s_pack_cstr (pk, rej->field);
    s_pack_cstr (pk, rej->message);
    s_pack_cstr (pk, rej->payload);
    msgpack_pack_int64 (pk, rej->received_ms);
}

//  --- Alert -------------------------------------------------------------------

#define S_ALERT_FIELDS 16

int
txw_alert_decode (txw_cursor_t *cur, txw_alert_t *out, const char **error)
{
    uint32_t fields;
    if (s_record_open (cur, &fields, error))
        return -1;
    if (fields < S_ALERT_FIELDS)
        S_FAIL ("alert record too short");
    int64_t score, reasons, channel;
    if (s_field_str (cur, out->kind, sizeof out->kind)
    ||  s_field_str (cur, out->tx_id, sizeof out->tx_id)
    ||  s_field_int (cur, &out->ts_ms)
    ||  s_field_str (cur, out->account_id, sizeof out->account_id)
    ||  s_field_int (cur, &score)
    ||  s_field_int (cur, &reasons)
    ||  s_field_int (cur, &out->amount_minor)
    ||  s_field_str (cur, out->currency, sizeof out->currency)
    ||  s_field_int (cur, &out->amount_rep_minor)
    ||  s_field_str (cur, out->merchant_id, sizeof out->merchant_id)
    ||  s_field_str (cur, out->country, sizeof out->country)
    ||  s_field_int (cur, &channel)
    ||  s_field_str (cur, out->model_version, sizeof out->model_version)
    ||  s_field_int (cur, &out->raised_ms)
    ||  s_field_str (cur, out->region, sizeof out->region)
    ||  s_field_str (cur, out->message, sizeof out->message))
        S_FAIL ("malformed alert field");
    if (score < 0 || score > 100 || reasons < 0 || reasons > UINT32_MAX
    ||  channel < 0 || channel >= TXW_CHANNEL_COUNT)
        S_FAIL ("alert field out of range");
    out->score = (uint8_t) score;
    out->reasons = (uint32_t) reasons;
    out->channel = (uint8_t) channel;
    return s_record_rest (cur, fields, S_ALERT_FIELDS, error);
}

void
txw_alert_encode (msgpack_packer *pk, const txw_alert_t *a)
{
    msgpack_pack_array (pk, S_ALERT_FIELDS);
    s_pack_cstr (pk, a->kind);
    s_pack_cstr (pk, a->tx_id);
    msgpack_pack_int64 (pk, a->ts_ms);
    s_pack_cstr (pk, a->account_id);
    msgpack_pack_uint8 (pk, a->score);
    msgpack_pack_uint32 (pk, a->reasons);
    msgpack_pack_int64 (pk, a->amount_minor);
    s_pack_cstr (pk, a->currency);
    msgpack_pack_int64 (pk, a->amount_rep_minor);
    s_pack_cstr (pk, a->merchant_id);
    s_pack_cstr (pk, a->country);
    msgpack_pack_uint8 (pk, a->channel);
    s_pack_cstr (pk, a->model_version);
    msgpack_pack_int64 (pk, a->raised_ms);
    s_pack_cstr (pk, a->region);
    s_pack_cstr (pk, a->message);
}

//  --- Window ------------------------------------------------------------------

#define S_WINDOW_FIELDS 17

int
txw_window_decode (txw_cursor_t *cur, txw_window_t *out, const char **error)
{
    uint32_t fields;
    if (s_record_open (cur, &fields, error))
        return -1;
    if (fields < S_WINDOW_FIELDS)
        S_FAIL ("window record too short");
    int64_t shard;
    if (s_field_str (cur, out->dimension, sizeof out->dimension)
    ||  s_field_str (cur, out->key, sizeof out->key)
    ||  s_field_int (cur, &out->window_start_ms)
    ||  s_field_int (cur, &out->window_ms)
    ||  s_field_int (cur, &shard)
    ||  s_field_int (cur, &out->tx_count)
    ||  s_field_int (cur, &out->amount_sum)
    ||  s_field_int (cur, &out->amount_min)
    ||  s_field_int (cur, &out->amount_max)
    ||  s_field_int (cur, &out->approved)
    ||  s_field_int (cur, &out->declined)
    ||  s_field_int (cur, &out->failed)
    ||  s_field_int (cur, &out->flagged)
    ||  s_field_int (cur, &out->score_sum)
    ||  s_field_int (cur, &out->late)
    ||  s_field_bool (cur, &out->closed)
    ||  s_field_int (cur, &out->approved_amount_sum))
        S_FAIL ("malformed window field");
    if (shard < 0 || shard > UINT32_MAX)
        S_FAIL ("window shard out of range");
    out->shard = (uint32_t) shard;
    return s_record_rest (cur, fields, S_WINDOW_FIELDS, error);
}

void
txw_window_encode (msgpack_packer *pk, const txw_window_t *w)
{
    msgpack_pack_array (pk, S_WINDOW_FIELDS);
    s_pack_cstr (pk, w->dimension);
    s_pack_cstr (pk, w->key);
    msgpack_pack_int64 (pk, w->window_start_ms);
    msgpack_pack_int64 (pk, w->window_ms);
    msgpack_pack_uint32 (pk, w->shard);
    msgpack_pack_int64 (pk, w->tx_count);
    msgpack_pack_int64 (pk, w->amount_sum);
    msgpack_pack_int64 (pk, w->amount_min);
    msgpack_pack_int64 (pk, w->amount_max);
    msgpack_pack_int64 (pk, w->approved);
    msgpack_pack_int64 (pk, w->declined);
    msgpack_pack_int64 (pk, w->failed);
    msgpack_pack_int64 (pk, w->flagged);
    msgpack_pack_int64 (pk, w->score_sum);
    msgpack_pack_int64 (pk, w->late);
    if (w->closed)
        msgpack_pack_true (pk);
    else
        msgpack_pack_false (pk);
    msgpack_pack_int64 (pk, w->approved_amount_sum);
}

//  --- Heartbeat ---------------------------------------------------------------

int
txw_heartbeat_decode (txw_cursor_t *cur, txw_heartbeat_t *out, const char **error)
{
    uint32_t fields;
    if (s_record_open (cur, &fields, error))
        return -1;
    if (fields < 2)
        S_FAIL ("heartbeat record too short");
    if (s_field_int (cur, &out->watermark_ms) || s_field_int (cur, &out->sent_ms))
        S_FAIL ("malformed heartbeat field");
    return s_record_rest (cur, fields, 2, error);
}

void
txw_heartbeat_encode (msgpack_packer *pk, const txw_heartbeat_t *hb)
{
    msgpack_pack_array (pk, 2);
    msgpack_pack_int64 (pk, hb->watermark_ms);
    msgpack_pack_int64 (pk, hb->sent_ms);
}

//  --- Acknowledgement ---------------------------------------------------------

int
txw_ack_decode (txw_cursor_t *cur, txw_ack_t *out, const char **error)
{
    uint32_t fields;
    if (s_record_open (cur, &fields, error))
        return -1;
    if (fields < 2)
        S_FAIL ("acknowledgement record too short");
    if (s_field_uint (cur, &out->origin_id) || s_field_uint (cur, &out->origin_ref))
        S_FAIL ("malformed acknowledgement field");
    return s_record_rest (cur, fields, 2, error);
}

void
txw_ack_encode (msgpack_packer *pk, const txw_ack_t *ack)
{
    msgpack_pack_array (pk, 2);
    msgpack_pack_uint64 (pk, ack->origin_id);
    msgpack_pack_uint64 (pk, ack->origin_ref);
}

//  --- Correction --------------------------------------------------------------
//  tx_id, account_id, ts_ms, status (its name), then corrected_ms, actor,
//  reason, line_no, origin_id, origin_ref, each absent (its default) in a
//  shorter record.

#define S_CORRECTION_REQUIRED   4
#define S_CORRECTION_FIELDS     10

//  A text field for a C string: one holding NUL is malformed, so "T1\0x"
//  can never name the transaction "T1".
static int
s_field_text (txw_cursor_t *cur, char *out, size_t size)
{
    txw_str_t s;
    if (s_left (cur) >= 1 && *cur->p == 0xC0) {
        cur->p++;
        out [0] = 0;
        return 0;
    }
    if (s_str (cur, &s) != 0 || memchr (s.ptr, 0, s.len))
        return -1;
    return txw_str_copy (out, size, s);
}

int
txw_correction_decode (txw_cursor_t *cur, txw_correction_t *out, const char **error)
{
    uint32_t fields;
    if (s_record_open (cur, &fields, error))
        return -1;
    if (fields < S_CORRECTION_REQUIRED)
        S_FAIL ("correction record too short");
    memset (out, 0, sizeof *out);
    char status [TXW_NAME_MAX + 1];
    if (s_field_text (cur, out->tx_id, sizeof out->tx_id)
    ||  s_field_text (cur, out->account_id, sizeof out->account_id)
    ||  s_field_int (cur, &out->ts_ms)
    ||  s_field_text (cur, status, sizeof status))
        S_FAIL ("malformed correction field");
    out->status = (uint8_t) txw_correction_status_parse (status, strlen (status));
    uint32_t known = fields < S_CORRECTION_FIELDS? fields: S_CORRECTION_FIELDS;
    for (uint32_t i = S_CORRECTION_REQUIRED; i < known; i++) {
        int rc;
        switch (i) {
            case 4: rc = s_field_int (cur, &out->corrected_ms); break;
            case 5: rc = s_field_text (cur, out->actor, sizeof out->actor); break;
            case 6: rc = s_field_text (cur, out->reason, sizeof out->reason); break;
            case 7: {
                //  A line number is a bigint where it is stored.
                int64_t line;
                rc = s_field_int (cur, &line) || line < 0? -1: 0;
                out->line_no = rc? 0: (uint64_t) line;
                break;
            }
            case 8: rc = s_field_uint (cur, &out->origin_id); break;
            default: rc = s_field_uint (cur, &out->origin_ref); break;
        }
        if (rc)
            S_FAIL ("malformed correction field");
    }
    return s_record_rest (cur, fields, known, error);
}

void
txw_correction_encode (msgpack_packer *pk, const txw_correction_t *c)
{
    msgpack_pack_array (pk, S_CORRECTION_FIELDS);
    s_pack_cstr (pk, c->tx_id);
    s_pack_cstr (pk, c->account_id);
    msgpack_pack_int64 (pk, c->ts_ms);
    s_pack_cstr (pk, txw_correction_status_name (c->status));
    msgpack_pack_int64 (pk, c->corrected_ms);
    s_pack_cstr (pk, c->actor);
    s_pack_cstr (pk, c->reason);
    msgpack_pack_uint64 (pk, c->line_no);
    msgpack_pack_uint64 (pk, c->origin_id);
    msgpack_pack_uint64 (pk, c->origin_ref);
}

uint64_t
txw_origin_id (const char *source_id, size_t len, uint64_t epoch)
{
    //  FNV-1a over the source id, then over the epoch's eight bytes.
    uint64_t h = txw_hash (source_id, len);
    for (int i = 0; i < 8; i++) {
        h ^= (epoch >> (i * 8)) & 0xFF;
        h *= 0x100000001b3ull;
    }
    return h? h: 1;             //  0 means "no origin"
}

//  --- Batches -----------------------------------------------------------------
//  Header layout, fixed widths so it can be patched in place:
//    0x97  version  type  source_id  0xCF epoch(8)  0xCF seq(8)  0xD3 sent(8)  0xDD count(4)

static void
s_put_be (char *p, uint64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p [i] = (char) (v & 0xFF);
        v >>= 8;
    }
}

void
txw_envelope_prefix (uint32_t type, uint8_t prefix [TXW_ENVELOPE_PREFIX_LEN])
{
    //  What txw_batch_init writes first: fixarray 7, uint8 version, uint8 type.
    prefix [0] = 0x97;
    prefix [1] = 0xCC;
    prefix [2] = TXW_PROTO_VERSION;
    prefix [3] = 0xCC;
    prefix [4] = (uint8_t) type;
}

void
txw_batch_init (txw_batch_t *self, uint32_t type, const char *source_id,
                uint64_t epoch)
{
    memset (self, 0, sizeof *self);
    msgpack_sbuffer_init (&self->buf);
    msgpack_packer_init (&self->pk, &self->buf, msgpack_sbuffer_write);
    self->type = type;
    msgpack_pack_array (&self->pk, 7);
    msgpack_pack_fix_uint8 (&self->pk, TXW_PROTO_VERSION);
    msgpack_pack_fix_uint8 (&self->pk, (uint8_t) type);
    size_t len = strlen (source_id);
    if (len > TXW_NAME_MAX * 2)
        len = TXW_NAME_MAX * 2;
    s_pack_str (&self->pk, source_id, len);
    msgpack_pack_fix_uint64 (&self->pk, epoch);
    msgpack_pack_fix_uint64 (&self->pk, 0);       //  seq, patched
    msgpack_pack_fix_int64 (&self->pk, 0);        //  sent_us, patched
    char array32 [5] = { (char) 0xDD, 0, 0, 0, 0 };
    msgpack_sbuffer_write (&self->buf, array32, 5);
    self->header_len = self->buf.size;
}

void
txw_batch_fini (txw_batch_t *self)
{
    msgpack_sbuffer_destroy (&self->buf);
    memset (self, 0, sizeof *self);
}

void
txw_batch_added (txw_batch_t *self)
{
    if (self->count++ == 0)
        self->started_ms = txw_mono_ms ();
}

void
txw_batch_seal (txw_batch_t *self, uint64_t seq, int64_t sent_us)
{
    char *h = self->buf.data + self->header_len;
    s_put_be (h - 4, self->count, 4);
    s_put_be (h - 5 - 8, (uint64_t) sent_us, 8);
    s_put_be (h - 5 - 9 - 8, seq, 8);
}

void
txw_batch_clear (txw_batch_t *self)
{
    self->buf.size = self->header_len;
    self->count = 0;
}
