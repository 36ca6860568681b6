/*  position - how far a file's ingest is acknowledged, kept across restarts  */

#include "position.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_MAGIC "txwatch-position 1"

//  The identity of a version of the input: its size and modification time.
static int
s_identity (const char *input, int64_t *size, int64_t *mtime_ns)
{
    struct stat st;
    if (stat (input, &st))
        return -1;
    *size = (int64_t) st.st_size;
    *mtime_ns = (int64_t) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    return 0;
}

int
position_load (const char *path, const char *input, uint64_t *line, bool *done)
{
    FILE *f = fopen (path, "r");
    if (!f) {
        if (errno != ENOENT)
            log_warn ("cannot read the position in %s (%s): sending %s from the start",
                      path, strerror (errno), input);
        return 1;
    }
    char magic [32] = "";
    int64_t size = -1, mtime_ns = -1, now_size, now_mtime_ns;
    uint64_t next = 0;
    int complete = 0;
    int fields = fscanf (f, "%31[^\n]\nsize %" SCNd64 "\nmtime_ns %" SCNd64
                         "\nline %" SCNu64 "\ndone %d", magic, &size, &mtime_ns, &next, &complete);
    fclose (f);
    if (fields != 5 || strcmp (magic, S_MAGIC) || next == 0) {
        log_warn ("%s is not a position file: sending %s from the start", path, input);
        return 1;
    }
    if (s_identity (input, &now_size, &now_mtime_ns)) {
        log_warn ("cannot stat %s: %s", input, strerror (errno));
        return 1;
    }
    if (size != now_size || mtime_ns != now_mtime_ns) {
        log_info ("%s was changed since its position in %s was written: sending it "
                  "from the start", input, path);
        return 1;
    }
    *line = next;
    *done = complete != 0;
    return 0;
}

int
position_save (const char *path, const char *input, uint64_t line, bool done)
{
    int64_t size, mtime_ns;
    if (s_identity (input, &size, &mtime_ns)) {
        log_error ("cannot stat %s: %s", input, strerror (errno));
        return -1;
    }
    char aside [4096];
    if ((size_t) snprintf (aside, sizeof aside, "%s.tmp", path) >= sizeof aside) {
        log_error ("position file name too long: %s", path);
        return -1;
    }
    char text [256];
    int len = snprintf (text, sizeof text, S_MAGIC "\nsize %" PRId64 "\nmtime_ns %" PRId64
                        "\nline %" PRIu64 "\ndone %d\n", size, mtime_ns, line, done? 1: 0);
    int fd = open (aside, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        log_error ("cannot write the position to %s: %s", aside, strerror (errno));
        return -1;
    }
    bool ok = write (fd, text, (size_t) len) == len && fsync (fd) == 0;
    if (close (fd))
        ok = false;
    if (!ok || rename (aside, path)) {
        log_error ("cannot write the position to %s: %s", path, strerror (errno));
        unlink (aside);
        return -1;
    }
    return 0;
}
