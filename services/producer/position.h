/*  position - how far a file's ingest is acknowledged, kept across restarts

    A small text file beside the input (or where --position-file says)
    holds the input's identity (size and modification time) and the first
    line not yet acknowledged as stored, and whether the whole file was.
    It is replaced atomically (written aside, synced, renamed), so a crash
    leaves the old position or the new one, never half of one. A position
    written for another version of the file is ignored.                      */

#ifndef TXW_PRODUCER_POSITION_H
#define TXW_PRODUCER_POSITION_H

#include <stdbool.h>
#include <stdint.h>

//  Reads the position of input from path. Returns 0 with *line (the first
//  line to send) and *done (the whole file was acknowledged), or 1 when
//  there is none for this input (no file, another file, unreadable: the
//  reason is logged) and the input is sent from the start.
int position_load (const char *path, const char *input, uint64_t *line, bool *done);
//  Writes the position. Returns 0, or -1 (logged).
int position_save (const char *path, const char *input, uint64_t line, bool done);

#endif
