/*  fuzz_gateway - what a WebSocket client sends the push gateway

    A client's frame goes to the real s_client_op of services/gateway/
    server.c (compiled in here, since it is static) with a client that has
    no connection: its queue, flags and the server's wake pipe are all it
    touches. The oracle reads the frame with jansson on its own: a resync
    or a subscribe to known topics asks for a snapshot (subscribe sets
    exactly those topics), a ping queues one pong, and anything else
    counts one bad client message and changes nothing. The same input is
    also the ?topics= list of the WebSocket handshake (straight, and as a
    query string through civetweb's mg_get_var, as s_ws_connect reads it):
    a list that parses gives topic bits only, and the names of those bits,
    joined again, parse to the same bits.                                   */

#include "server.c"
#include "fuzz.h"

#include <fcntl.h>

typedef enum { S_BAD, S_SNAPSHOT, S_PONG } s_outcome_t;

//  What the frame should do, read independently; *topics for a subscribe.
static s_outcome_t
s_expected (const uint8_t *data, size_t size, int *topics)
{
    json_t *o = json_loadb ((const char *) data, size, JSON_REJECT_DUPLICATES, NULL);
    const char *op = json_is_object (o)? json_string_value (json_object_get (o, "op")): NULL;
    s_outcome_t outcome = S_BAD;
    if (op && !strcmp (op, "resync")) {
        outcome = S_SNAPSHOT;
        *topics = GW_TOPICS_DEFAULT;
    }
    else
    if (op && !strcmp (op, "ping"))
        outcome = S_PONG;
    else
    if (op && !strcmp (op, "subscribe")) {
        json_t *list = json_object_get (o, "topics");
        *topics = 0;
        outcome = json_is_array (list)? S_SNAPSHOT: S_BAD;
        for (size_t i = 0; outcome == S_SNAPSHOT && i < json_array_size (list); i++) {
            const char *name = json_string_value (json_array_get (list, i));
            int bit = name && !strcmp (name, "alerts")? GW_TOPIC_ALERTS:
                      name && !strcmp (name, "stats")? GW_TOPIC_STATS:
                      name && !strcmp (name, "windows")? GW_TOPIC_WINDOWS:
                      name && !strcmp (name, "dead_letters")? GW_TOPIC_DEAD_LETTERS: 0;
            if (!bit)
                outcome = S_BAD;
            *topics |= bit;
        }
    }
    json_decref (o);
    return outcome;
}

static void
s_client_frame (const uint8_t *data, size_t size)
{
    static gw_metrics_t metrics;
    static gw_server_config_t cfg;
    static gw_server_t server;
    static s_client_t client;
    static int wake [2] = { -1, -1 };
    if (wake [0] < 0) {
        if (pipe2 (wake, O_NONBLOCK | O_CLOEXEC))
            abort ();
        gw_metrics_init (&metrics);
        cfg.client_queue = 4;
        cfg.wake_fd = wake [1];
        server.cfg = &cfg;
        server.m = &metrics;
        client.server = &server;
        pthread_mutex_init (&client.lock, NULL);
        pthread_mutex_init (&client.write_lock, NULL);
        pthread_cond_init (&client.wake, NULL);
        if (gw_queue_init (&client.queue, 4))
            abort ();
    }
    client.topics = GW_TOPICS_DEFAULT;
    client.want_snapshot = false;
    atomic_store (&server.snapshot_wanted, 0);
    uint64_t bad = txw_counter_value (metrics.bad_client_messages);
    uint32_t queued = client.queue.count;

    char *frame = malloc (size? size: 1);
    memcpy (frame, data, size);
    s_client_op (&server, &client, frame, size);
    free (frame);

    int topics = -1;
    s_outcome_t expected = s_expected (data, size, &topics);
    bool counted = txw_counter_value (metrics.bad_client_messages) == bad + 1;
    FUZZ_CHECK (client.topics >= 0 && client.topics <= GW_TOPIC_ALL, "topics %d", client.topics);
    switch (expected) {
        case S_BAD:
            FUZZ_CHECK (counted && !client.want_snapshot && client.queue.count == queued
                        && client.topics == GW_TOPICS_DEFAULT,
                        "a bad frame was acted on (snapshot %d, queue %u, topics %d)",
                        client.want_snapshot, client.queue.count, client.topics);
            break;
        case S_SNAPSHOT:
            FUZZ_CHECK (!counted && client.want_snapshot
                        && atomic_load (&server.snapshot_wanted) == 1,
                        "a resync or subscribe asked for no snapshot");
            FUZZ_CHECK (client.topics == topics, "topics are %d, not %d",
                        client.topics, topics);
            break;
        case S_PONG:
            FUZZ_CHECK (!counted && client.queue.count == queued + 1
                        && client.queue.items [(client.queue.head + queued) % client.queue.capacity]
                           .msg->type == GW_PONG, "a ping got no pong");
            break;
    }
    gw_item_t item;
    while (gw_queue_pop (&client.queue, &item))
        gw_msg_unref (&item.msg);
    char drain [64];
    while (read (wake [0], drain, sizeof drain) > 0)
        ;
}

static void
s_topics (const char *list)
{
    int topics = gw_topics_parse_list (list);
    FUZZ_CHECK (topics >= -1 && topics <= GW_TOPIC_ALL, "'%s' gives %d", list, topics);
    if (topics < 0)
        return;
    json_t *names = gw_topics_json (topics);
    char joined [128] = "";
    size_t i;
    json_t *name;
    json_array_foreach (names, i, name) {
        strcat (joined, i? ",": "");
        strcat (joined, json_string_value (name));
    }
    json_decref (names);
    FUZZ_CHECK (gw_topics_parse_list (joined) == topics, "'%s' gives %d, its names '%s' %d",
                list, topics, joined, gw_topics_parse_list (joined));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    s_client_frame (data, size);
    char *text = fuzz_cstring (data, size);
    s_topics (text);
    char list [256];
    int len = mg_get_var (text, strlen (text), "topics", list, sizeof list);
    if (len >= 0)
        s_topics (list);
    free (text);
    return 0;
}
