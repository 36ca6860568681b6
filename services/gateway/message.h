/*  message - one server-to-client message, built once and shared by clients

    Every message the gateway pushes is one JSON text frame that starts with
    its type and the connection's seq: {"type":"alert","seq":42,...}. The
    body after the seq is the same for every client, so it is rendered once
    (the "tail": `,"alert":{...}}`, or `}` for no body) into a reference
    counted message that each client's queue holds; a writer puts the prefix
    with its own seq in front just before it writes the frame.

    Message bodies follow proto/SERVING.md, "WebSocket: txw-gateway": the
    converters below, common/alertjson.h (alerts) and common/json.h
    (strings, times) turn wire records (common/codec.h) into its objects.    */

#ifndef TXW_GATEWAY_MESSAGE_H
#define TXW_GATEWAY_MESSAGE_H

#include "alertjson.h"
#include "codec.h"
#include "json.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    GW_HELLO = 0, GW_SNAPSHOT, GW_STATS, GW_ALERT, GW_WINDOW, GW_DEAD_LETTER,
    GW_GAP, GW_PONG, GW_ACK, GW_TYPE_COUNT
} gw_type_t;

//  Topics a client can choose (?topics= or the subscribe op), as bits.
enum {
    GW_TOPIC_ALERTS = 1, GW_TOPIC_STATS = 2, GW_TOPIC_WINDOWS = 4,
    GW_TOPIC_DEAD_LETTERS = 8, GW_TOPIC_ALL = 15
};
#define GW_TOPICS_DEFAULT (GW_TOPIC_ALERTS | GW_TOPIC_STATS)

typedef struct {
    atomic_int refs;
    uint8_t type;               //  gw_type_t
    int64_t raised_ms;          //  alerts: when raised upstream (latency); else 0
    size_t len;                 //  of tail, without the terminator
    char tail [];
} gw_msg_t;

const char *gw_type_name (int type);
//  The topic bit a type belongs to, or 0 for the ones every client gets.
int gw_type_topic (int type);
//  Parses one topic name; returns its bit or 0 if unknown.
int gw_topic_parse (const char *name, size_t len);
//  Parses a comma-separated list ("alerts,stats"); returns the bits, or -1
//  if a name is unknown. An empty list gives 0.
int gw_topics_parse_list (const char *list);
//  A JSON array of the topic names in bits. New reference.
json_t *gw_topics_json (int topics);

//  Renders body (an object, or NULL for none; not stolen) into a new
//  message with one reference. Returns NULL on allocation failure.
gw_msg_t *gw_msg_new (gw_type_t type, json_t *body);
gw_msg_t *gw_msg_ref (gw_msg_t *self);
//  Drops a reference and nulls the pointer; frees on the last one.
void gw_msg_unref (gw_msg_t **self_p);
//  The gap message: {"dropped":n,"reason":reason}.
gw_msg_t *gw_msg_gap (uint64_t dropped, const char *reason);

//  Writes the whole frame for seq into *buf (grown as needed, caller
//  frees). Returns its length, or 0 on allocation failure.
size_t gw_msg_frame (const gw_msg_t *self, uint64_t seq, char **buf, size_t *cap);

//  --- Converters ----------------------------------------------------------

//  The dead letter object of the REST API, id null. New reference.
json_t *gw_dead_letter_json (const txw_reject_t *rej);

#endif
