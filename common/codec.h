/*  codec - the txwatch wire format: one msgpack envelope, one layout per record

    proto/WIRE.md is the specification; this file is its only implementation.
    Encoding goes through msgpack-c's packer into a reused buffer. Decoding is
    our own bounded cursor over the received frame: it allocates nothing, never
    reads past the frame, checks every length prefix against the bytes that
    remain before trusting it, and limits nesting, so hostile or truncated
    input is an error code and never a crash or a huge allocation (msgpack-c's
    C unpacker has no such limits).

    Records are fixed-position arrays. A reader takes the fields it knows,
    skips any it does not (newer writers append), and uses defaults for
    trailing fields that are missing (older writers).                         */

#ifndef TXW_CODEC_H
#define TXW_CODEC_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TXW_PROTO_VERSION   1
#define TXW_MAX_FRAME       (16 * 1024 * 1024)
#define TXW_MAX_RECORDS     65536
#define TXW_MAX_DEPTH       16

//  Field size limits (bytes, without the terminator). The validator enforces
//  them; decoders reject longer strings in typed records.
#define TXW_ID_MAX          64
#define TXW_NAME_MAX        32
#define TXW_TEXT_MAX        512

typedef enum {
    TXW_MSG_RAW_TX = 1,         //  transaction as ingested, fields as text
    TXW_MSG_TX = 2,             //  validated, normalised and enriched
    TXW_MSG_SCORED_TX = 3,      //  TX plus score, reasons, model version
    TXW_MSG_REJECT = 4,         //  dead letter
    TXW_MSG_ALERT = 5,
    TXW_MSG_WINDOW = 6,         //  window aggregate (live tick or closed)
    TXW_MSG_HEARTBEAT = 7,
    TXW_MSG_ACK = 8,            //  records a stage has finished with (origin.h)
    TXW_MSG_CORRECTION = 9,     //  a stored transaction's new status
    TXW_MSG_TYPE_MAX = 9
} txw_msg_type_t;

typedef enum {
    TXW_CHANNEL_UNKNOWN = 0, TXW_CHANNEL_POS, TXW_CHANNEL_ONLINE,
    TXW_CHANNEL_ATM, TXW_CHANNEL_TRANSFER, TXW_CHANNEL_MOBILE,
    TXW_CHANNEL_COUNT
} txw_channel_t;

typedef enum {
    TXW_STATUS_UNKNOWN = 0, TXW_STATUS_APPROVED, TXW_STATUS_DECLINED,
    TXW_STATUS_FAILED, TXW_STATUS_COUNT
} txw_status_t;

//  What a correction makes of an approved transaction. Kept apart from
//  txw_status_t: a raw transaction may not arrive with one of these.
typedef enum {
    TXW_CORRECTION_UNKNOWN = 0, TXW_CORRECTION_REVERSED, TXW_CORRECTION_REFUNDED,
    TXW_CORRECTION_CHARGED_BACK, TXW_CORRECTION_COUNT
} txw_correction_status_t;

const char *txw_channel_name (int channel);
const char *txw_status_name (int status);
const char *txw_correction_status_name (int status);
const char *txw_msg_type_name (int type);
//  Return the enum value, or 0 (unknown) if the name is not one of them.
//  Case does not matter: "POS" and "pos" are the same channel.
int txw_channel_parse (const char *s, size_t len);
int txw_status_parse (const char *s, size_t len);
int txw_correction_status_parse (const char *s, size_t len);

//  A borrowed view into a received frame; valid while the frame lives.
typedef struct {
    const char *ptr;
    uint32_t len;
} txw_str_t;

//  Bounded msgpack cursor.
typedef struct {
    const uint8_t *p;
    const uint8_t *end;
} txw_cursor_t;

typedef struct {
    uint32_t version;
    uint32_t type;
    txw_str_t source_id;
    uint64_t epoch;             //  sender's start time (us): a new epoch restarts seq
    uint64_t seq;               //  per (source, epoch, destination), from 1
    int64_t sent_us;
    uint32_t count;             //  records that follow
    txw_cursor_t records;       //  positioned at the first record
} txw_envelope_t;

//  --- Records -------------------------------------------------------------

//  The text fields of a raw transaction: the one list the codec, the
//  validator and the producer take them from. Their order is the order of
//  the CSV ingest columns; wire is the field's position in the raw_tx
//  record (proto/WIRE.md). Positions 14 and 15 are the integers origin_us
//  and line_no, so fields added since sit after them: a new field is a row
//  here with the next free position, and readers of older records get an
//  absent (nil) field.
//  X (NAME, member, wire, kind, required, pii)
//    kind: ID (bytes [A-Za-z0-9_.:-]), NAME (a short label), LABEL (a short
//    label folded to lower case), OTHER (a rule of its own: time, amount,
//    code); pii: personal data, shown to people only as its pseudonym
//    (common/pii.h). Dead letters do not go by it: a malformed record's
//    field may hold another's value, so they mask every field by its shape.
#define TXW_RAW_TX_FIELDS(X)                                        \
    X (TX_ID,       tx_id,        0, ID,    true,  false)           \
    X (TS,          ts,           1, OTHER, true,  false)           \
    X (ACCOUNT_ID,  account_id,   2, ID,    true,  true)            \
    X (AMOUNT,      amount,       3, OTHER, true,  false)           \
    X (CURRENCY,    currency,     4, OTHER, true,  false)           \
    X (MERCHANT_ID, merchant_id,  5, ID,    true,  false)           \
    X (CATEGORY,    category,     6, LABEL, true,  false)           \
    X (CHANNEL,     channel,      7, OTHER, true,  false)           \
    X (BRANCH_ID,   branch_id,    8, NAME,  true,  false)           \
    X (REGION,      region,       9, NAME,  true,  false)           \
    X (COUNTRY,     country,     10, OTHER, true,  false)           \
    X (DEVICE_ID,   device_id,   11, ID,    true,  true)            \
    X (PRODUCT_ID,  product_id,  12, ID,    false, false)           \
    X (STATUS,      status,      13, OTHER, true,  false)           \
    X (DEVICE_TYPE, device_type, 16, LABEL, false, false)           \
    X (ORDER_ID,    order_id,    17, ID,    false, false)

//  Field indices: the text fields in table order, then origin_us and
//  line_no. TXW_RAW_FIELDS is also the length of a raw_tx record.
enum {
#define TXW_RAW_ENUM(NAME, member, wire, kind, required, pii) TXW_RAW_##NAME,
    TXW_RAW_TX_FIELDS (TXW_RAW_ENUM)
#undef TXW_RAW_ENUM
    TXW_RAW_TEXT_FIELDS,
    TXW_RAW_ORIGIN_US = TXW_RAW_TEXT_FIELDS,
    TXW_RAW_LINE_NO,
    TXW_RAW_FIELDS
};

//  Wire positions of the integer fields.
#define TXW_RAW_WIRE_ORIGIN_US  14
#define TXW_RAW_WIRE_LINE_NO    15

//  The CSV ingest format starts with the text fields the first layout had,
//  in order; later fields are optional columns found by their header name.
#define TXW_RAW_CSV_CORE        TXW_RAW_DEVICE_TYPE

typedef struct {
#define TXW_RAW_MEMBER(NAME, member, wire, kind, required, pii) txw_str_t member;
    TXW_RAW_TX_FIELDS (TXW_RAW_MEMBER)
#undef TXW_RAW_MEMBER
    int64_t ts_ms;              //  set when ts arrived as an integer (ms)
    bool ts_is_int;
    int64_t origin_us;
    uint64_t line_no;           //  CSV line, 0 when not from a file
    int bad_field;              //  first field of the wrong type, or -1
} txw_raw_tx_t;

//  Names of the raw fields by index, for reason messages.
extern const char *txw_raw_field_names [TXW_RAW_FIELDS];

//  The field index at each wire position of a raw_tx record.
extern const int txw_raw_field_at_wire [TXW_RAW_FIELDS];

//  The text field with index field (< TXW_RAW_TEXT_FIELDS) of raw.
extern const size_t txw_raw_text_offsets [TXW_RAW_TEXT_FIELDS];
static inline txw_str_t *
txw_raw_text (txw_raw_tx_t *raw, int field)
{
    return (txw_str_t *) ((char *) raw + txw_raw_text_offsets [field]);
}
static inline const txw_str_t *
txw_raw_text_of (const txw_raw_tx_t *raw, int field)
{
    return (const txw_str_t *) ((const char *) raw + txw_raw_text_offsets [field]);
}

typedef struct {
    char tx_id [TXW_ID_MAX + 1];
    int64_t ts_ms;
    char account_id [TXW_ID_MAX + 1];
    int64_t amount_minor;
    char currency [4];
    char merchant_id [TXW_ID_MAX + 1];
    char category [TXW_NAME_MAX + 1];
    uint8_t channel;
    char branch_id [TXW_NAME_MAX + 1];
    char region [TXW_NAME_MAX + 1];
    char country [3];
    char device_id [TXW_ID_MAX + 1];
    char product_id [TXW_ID_MAX + 1];
    uint8_t status;
    int64_t origin_us;
    char device_type [TXW_NAME_MAX + 1];    //  lower case, "" if not given
    //  Where the record entered: the producer's life and the record's place
    //  in what it sent (txw_origin_*), acknowledged once it is stored. 0
    //  from writers that did not set them: nothing to acknowledge.
    uint64_t origin_id;
    uint64_t origin_ref;
    uint8_t hour;               //  0..23 UTC
    uint8_t weekday;            //  0 = Monday .. 6 = Sunday
    int64_t amount_rep_minor;   //  in the reporting currency
    //  scored transactions only
    bool scored;
    uint8_t score;              //  0..100
    uint32_t reasons;           //  bit set of TXW_REASON_*
    char model_version [TXW_NAME_MAX + 1];
    //  The order (basket) the line item belongs to: the rows of one order
    //  share it. "" if not given.
    char order_id [TXW_ID_MAX + 1];
} txw_tx_t;

typedef struct {
    char origin_source [TXW_NAME_MAX * 2 + 1];
    uint64_t origin_seq;
    uint32_t origin_index;
    uint64_t line_no;
    char tx_id [TXW_ID_MAX + 1];
    char reason [TXW_NAME_MAX + 1];
    char field [TXW_NAME_MAX + 1];
    char message [TXW_TEXT_MAX + 1];
    char payload [TXW_TEXT_MAX * 2 + 1];    //  masked by shape (common/pii.h)
    int64_t received_ms;
} txw_reject_t;

typedef struct {
    char kind [TXW_NAME_MAX + 1];           //  "fraud", "region_health"
    char tx_id [TXW_ID_MAX + 1];
    int64_t ts_ms;
    char account_id [TXW_ID_MAX + 1];       //  a pseudonym in published copies
    uint8_t score;
    uint32_t reasons;
    int64_t amount_minor;
    char currency [4];
    int64_t amount_rep_minor;
    char merchant_id [TXW_ID_MAX + 1];
    char country [3];
    uint8_t channel;
    char model_version [TXW_NAME_MAX + 1];
    int64_t raised_ms;
    char region [TXW_NAME_MAX + 1];
    char message [TXW_TEXT_MAX + 1];
} txw_alert_t;

typedef struct {
    char dimension [TXW_NAME_MAX + 1];
    char key [TXW_ID_MAX + 1];
    int64_t window_start_ms;
    int64_t window_ms;
    uint32_t shard;
    int64_t tx_count;
    int64_t amount_sum;
    int64_t amount_min;
    int64_t amount_max;
    int64_t approved;
    int64_t declined;
    int64_t failed;
    int64_t flagged;
    int64_t score_sum;
    int64_t late;
    bool closed;
    int64_t approved_amount_sum;
} txw_window_t;

typedef struct {
    int64_t watermark_ms;
    int64_t sent_ms;
} txw_heartbeat_t;

//  A correction: a stored, approved transaction becomes reversed, refunded
//  or charged back. It names the original by tx_id and carries the
//  original's account (the key every stage routes by) and event time (the
//  partition the original is stored in, and its windows); the amount and
//  dimensions are read from the stored original, their one source of
//  truth. A producer leaves the origin at 0: the validator sets it from the
//  envelope, as for a raw transaction.
typedef struct {
    char tx_id [TXW_ID_MAX + 1];
    char account_id [TXW_ID_MAX + 1];
    int64_t ts_ms;              //  the original's event time (ms)
    uint8_t status;             //  txw_correction_status_t; 0 if not one
    int64_t corrected_ms;       //  when it was made; 0: when the validator took it
    char actor [TXW_ID_MAX + 1];            //  who: an API key's name, an operator
    char reason [TXW_TEXT_MAX + 1];         //  free text, UTF-8
    uint64_t line_no;           //  CSV line, 0 when not from a file; at most INT64_MAX
    uint64_t origin_id;
    uint64_t origin_ref;
} txw_correction_t;

//  One record a stage has finished with: stored, stored as a dead letter,
//  or found to be a copy of one stored before. Sent back to its producer.
typedef struct {
    uint64_t origin_id;
    uint64_t origin_ref;
} txw_ack_t;

//  A producer's life: its source id and epoch, in one number. Whoever
//  receives its envelope computes the same from the header.
uint64_t txw_origin_id (const char *source_id, size_t len, uint64_t epoch);
//  A record's place in what its producer sent: the message type and
//  sequence number of its batch and its index there (type in the top 8
//  bits, sequence in the next 40, index in the low 16: TXW_MAX_RECORDS).
static inline uint64_t
txw_origin_ref (uint32_t type, uint64_t seq, uint32_t index)
{
    return ((uint64_t) (type & 0xFF) << 56) | ((seq & 0xFFFFFFFFFFull) << 16) | (index & 0xFFFF);
}
static inline uint32_t txw_origin_ref_type (uint64_t ref) { return (uint32_t) (ref >> 56); }
static inline uint64_t txw_origin_ref_seq (uint64_t ref) { return (ref >> 16) & 0xFFFFFFFFFFull; }
static inline uint32_t txw_origin_ref_index (uint64_t ref) { return (uint32_t) (ref & 0xFFFF); }

//  --- Decoding ------------------------------------------------------------
//  Every decoder returns 0 on success and -1 on malformed input, leaving a
//  short static description in *error when error is not NULL.

int txw_envelope_decode (const void *data, size_t size, txw_envelope_t *env,
                         const char **error);
//  Decode the next record from env->records (call env->count times).
int txw_raw_tx_decode (txw_cursor_t *cur, txw_raw_tx_t *out, const char **error);
//  A tx and a scored_tx differ in layout (the score fields come before the
//  fields appended since), so the envelope's type says which to read.
int txw_tx_decode (txw_cursor_t *cur, bool scored, txw_tx_t *out, const char **error);
int txw_reject_decode (txw_cursor_t *cur, txw_reject_t *out, const char **error);
int txw_alert_decode (txw_cursor_t *cur, txw_alert_t *out, const char **error);
int txw_window_decode (txw_cursor_t *cur, txw_window_t *out, const char **error);
int txw_heartbeat_decode (txw_cursor_t *cur, txw_heartbeat_t *out, const char **error);
int txw_ack_decode (txw_cursor_t *cur, txw_ack_t *out, const char **error);
//  A text field longer than its buffer or holding NUL, or a line_no past
//  INT64_MAX, makes the whole record malformed; an unknown status decodes
//  as 0 for the validator to refuse.
int txw_correction_decode (txw_cursor_t *cur, txw_correction_t *out, const char **error);
//  Skip one value of any kind (bounded depth).
int txw_cursor_skip (txw_cursor_t *cur);

//  --- Encoding ------------------------------------------------------------

void txw_raw_tx_encode (msgpack_packer *pk, const txw_raw_tx_t *raw);
//  Encodes a TX record; with tx->scored set, the scored fields are appended.
void txw_tx_encode (msgpack_packer *pk, const txw_tx_t *tx);
void txw_reject_encode (msgpack_packer *pk, const txw_reject_t *rej);
void txw_alert_encode (msgpack_packer *pk, const txw_alert_t *alert);
void txw_window_encode (msgpack_packer *pk, const txw_window_t *win);
void txw_heartbeat_encode (msgpack_packer *pk, const txw_heartbeat_t *hb);
void txw_ack_encode (msgpack_packer *pk, const txw_ack_t *ack);
void txw_correction_encode (msgpack_packer *pk, const txw_correction_t *c);

//  --- Batches -------------------------------------------------------------
//  A batch is one envelope being filled. The header is written with fixed
//  widths when the batch starts and patched (seq, send time, count) when it
//  is sealed, so records are packed once, straight into the send buffer.

typedef struct {
    msgpack_sbuffer buf;
    msgpack_packer pk;
    uint32_t type;
    uint32_t count;
    int64_t started_ms;         //  monotonic time of the first record
    size_t header_len;
} txw_batch_t;

//  The first bytes of every envelope of a type: a SUB that subscribes to
//  them receives that type only (the header has fixed widths).
#define TXW_ENVELOPE_PREFIX_LEN 5
void txw_envelope_prefix (uint32_t type, uint8_t prefix [TXW_ENVELOPE_PREFIX_LEN]);

//  Prepares an empty batch; source_id is copied into every header.
void txw_batch_init (txw_batch_t *self, uint32_t type, const char *source_id,
                     uint64_t epoch);
void txw_batch_fini (txw_batch_t *self);
//  Call after each record packed into self->pk.
void txw_batch_added (txw_batch_t *self);
//  Patches the header; the frame is self->buf.data, self->buf.size bytes.
void txw_batch_seal (txw_batch_t *self, uint64_t seq, int64_t sent_us);
//  Drops the records, keeps the header and the allocation.
void txw_batch_clear (txw_batch_t *self);

//  --- Small helpers shared by services ---------------------------------------

//  Copies a view into a fixed buffer of size bytes; returns -1 if too long.
int txw_str_copy (char *out, size_t size, txw_str_t s);
//  True if s (len bytes) holds only the bytes identifiers may have:
//  [A-Za-z0-9_.:-]. Empty is valid here; callers decide if it is allowed.
bool txw_id_chars_valid (const char *s, size_t len);
//  FNV-1a, 64 bits; the shard of a key is txw_hash (key) % shards.
uint64_t txw_hash (const char *s, size_t len);
static inline uint32_t
txw_shard_of (const char *key, size_t len, uint32_t shards)
{
    return shards <= 1? 0: (uint32_t) (txw_hash (key, len) % shards);
}

#endif
