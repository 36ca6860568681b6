/*  message - one server-to-client message, built once and shared by clients */

#include "message.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_type_names [GW_TYPE_COUNT] = {
    "hello", "snapshot", "stats", "alert", "window", "dead_letter", "gap", "pong", "ack"
};

static const struct {
    const char *name;
    int bit;
} s_topics [] = {
    { "alerts", GW_TOPIC_ALERTS }, { "stats", GW_TOPIC_STATS },
    { "windows", GW_TOPIC_WINDOWS }, { "dead_letters", GW_TOPIC_DEAD_LETTERS }
};
#define S_TOPICS (int) (sizeof s_topics / sizeof s_topics [0])

const char *
gw_type_name (int type)
{
    return type >= 0 && type < GW_TYPE_COUNT? s_type_names [type]: "unknown";
}

int
gw_type_topic (int type)
{
    switch (type) {
        case GW_STATS: return GW_TOPIC_STATS;
        case GW_ALERT: return GW_TOPIC_ALERTS;
        case GW_ACK: return GW_TOPIC_ALERTS;
        case GW_WINDOW: return GW_TOPIC_WINDOWS;
        case GW_DEAD_LETTER: return GW_TOPIC_DEAD_LETTERS;
        default: return 0;
    }
}

int
gw_topic_parse (const char *name, size_t len)
{
    for (int i = 0; i < S_TOPICS; i++)
        if (strlen (s_topics [i].name) == len && !memcmp (s_topics [i].name, name, len))
            return s_topics [i].bit;
    return 0;
}

int
gw_topics_parse_list (const char *list)
{
    int topics = 0;
    const char *p = list;
    while (*p) {
        const char *end = strchr (p, ',');
        size_t len = end? (size_t) (end - p): strlen (p);
        if (len) {
            int bit = gw_topic_parse (p, len);
            if (!bit)
                return -1;
            topics |= bit;
        }
        p += len + (end? 1: 0);
    }
    return topics;
}

json_t *
gw_topics_json (int topics)
{
    json_t *array = json_array ();
    for (int i = 0; i < S_TOPICS && array; i++)
        if (topics & s_topics [i].bit)
            json_array_append_new (array, json_string (s_topics [i].name));
    return array;
}

gw_msg_t *
gw_msg_new (gw_type_t type, json_t *body)
{
    char *text = NULL;
    size_t text_len = 0;
    if (body && json_object_size (body) > 0) {
        text = json_dumps (body, JSON_COMPACT | JSON_REAL_PRECISION (10));
        if (!text)
            return NULL;
        text_len = strlen (text);
    }
    //  {"a":1} becomes the tail ,"a":1} ; no body is the tail }
    size_t len = text? text_len: 1;
    gw_msg_t *self = malloc (sizeof *self + len + 1);
    if (!self) {
        free (text);
        return NULL;
    }
    atomic_init (&self->refs, 1);
    self->type = (uint8_t) type;
    self->raised_ms = 0;
    self->len = len;
    if (text) {
        self->tail [0] = ',';
        memcpy (self->tail + 1, text + 1, text_len - 1);
    }
    else
        self->tail [0] = '}';
    self->tail [len] = 0;
    free (text);
    return self;
}

gw_msg_t *
gw_msg_ref (gw_msg_t *self)
{
    atomic_fetch_add_explicit (&self->refs, 1, memory_order_relaxed);
    return self;
}

void
gw_msg_unref (gw_msg_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    if (atomic_fetch_sub_explicit (&(*self_p)->refs, 1, memory_order_acq_rel) == 1)
        free (*self_p);
    *self_p = NULL;
}

gw_msg_t *
gw_msg_gap (uint64_t dropped, const char *reason)
{
    json_t *body = json_pack ("{s:I,s:s}", "dropped", (json_int_t) dropped, "reason", reason);
    if (!body)
        return NULL;
    gw_msg_t *msg = gw_msg_new (GW_GAP, body);
    json_decref (body);
    return msg;
}

size_t
gw_msg_frame (const gw_msg_t *self, uint64_t seq, char **buf, size_t *cap)
{
    char prefix [64];
    int plen = snprintf (prefix, sizeof prefix, "{\"type\":\"%s\",\"seq\":%" PRIu64,
                         gw_type_name (self->type), seq);
    size_t need = (size_t) plen + self->len + 1;
    if (need > *cap) {
        size_t cap_new = *cap? *cap: 1024;
        while (cap_new < need)
            cap_new *= 2;
        char *grown = realloc (*buf, cap_new);
        if (!grown)
            return 0;
        *buf = grown;
        *cap = cap_new;
    }
    memcpy (*buf, prefix, (size_t) plen);
    memcpy (*buf + plen, self->tail, self->len + 1);
    return (size_t) plen + self->len;
}

//  --- Converters ----------------------------------------------------------------

json_t *
gw_dead_letter_json (const txw_reject_t *r)
{
    json_t *o = json_object ();
    if (!o)
        return NULL;
    json_object_set_new (o, "id", json_null ());
    json_object_set_new (o, "received_at", txw_json_time (r->received_ms));
    json_object_set_new (o, "reason", txw_json_string (r->reason));
    json_object_set_new (o, "field", txw_json_text_or_null (r->field));
    json_object_set_new (o, "message", txw_json_string (r->message));
    json_object_set_new (o, "tx_id", txw_json_text_or_null (r->tx_id));
    json_object_set_new (o, "line_no", r->line_no? json_integer ((json_int_t) r->line_no):
                                                   json_null ());
    json_object_set_new (o, "origin_source", txw_json_string (r->origin_source));
    json_object_set_new (o, "payload", txw_json_string (r->payload));
    return o;
}
