/*  log - JSON log lines on stderr

    One line per event, one JSON object per line, so that a container runtime
    or `jq` can read the stream without a parser of its own:
        {"ts":"2026-11-22T03:49:39.123Z","level":"info","service":"validator","msg":"..."}
    The message is printf-formatted and then JSON-escaped.                    */

#ifndef TXW_LOG_H
#define TXW_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    TXW_LOG_DEBUG = 0,
    TXW_LOG_INFO,
    TXW_LOG_WARN,
    TXW_LOG_ERROR
} txw_log_level_t;

//  Sets the service name stamped on every line and the lowest level printed.
void txw_log_init (const char *service, txw_log_level_t level);

//  Parses "debug", "info", "warn" or "error"; returns -1 for anything else.
int txw_log_level_parse (const char *name);

void txw_log (txw_log_level_t level, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

#define log_debug(...) txw_log (TXW_LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  txw_log (TXW_LOG_INFO,  __VA_ARGS__)
#define log_warn(...)  txw_log (TXW_LOG_WARN,  __VA_ARGS__)
#define log_error(...) txw_log (TXW_LOG_ERROR, __VA_ARGS__)

//  At most one log line a second for one kind of trouble, so a hostile or
//  broken sender cannot flood the log; counters carry the full numbers.
typedef struct {
    int64_t next_ms;
    uint64_t suppressed;
} txw_log_limiter_t;

//  True when a line may be written now; *suppressed then gets how many were
//  held back since the last one. Not thread-safe: one limiter per thread.
bool txw_log_limit (txw_log_limiter_t *self, uint64_t *suppressed);

//  Writes s as the body of a JSON string (no quotes) into out, at most size-1
//  bytes, always terminated. Control bytes are escaped, invalid UTF-8 is
//  replaced by U+FFFD. Returns the length written.
size_t txw_json_escape (char *out, size_t size, const char *s, size_t len);

#endif
