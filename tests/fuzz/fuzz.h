/*  fuzz - what the libFuzzer harnesses share: oracle checks, input as files

    Each tests/fuzz/fuzz_<name>.c is one harness (LLVMFuzzerTestOneInput)
    linked against the real modules. An oracle that does not hold prints
    what it expected and aborts, which libFuzzer reports as a crash and
    saves the input under build/fuzz/artifacts. Parsers that read files
    (rates, CSV, models) get the input through a memfd, named by its
    /proc/self/fd path, so a run touches no disk.                          */

#ifndef TXW_FUZZ_H
#define TXW_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

//  Aborts with the failed condition and a printf-style explanation.
#define FUZZ_CHECK(cond, ...)                                                   \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf (stderr, "\n%s:%d: oracle failed: %s\n  ", __FILE__,       \
                     __LINE__, #cond);                                          \
            fprintf (stderr, __VA_ARGS__);                                      \
            fputc ('\n', stderr);                                               \
            abort ();                                                           \
        }                                                                       \
    } while (0)

//  A memfd that holds data (size bytes); returns a path that opens it
//  from the start. slot picks one of a few files (a harness may need an
//  input and an output at once). The path is valid until the next call
//  with the same slot.
static inline const char *
fuzz_memfile (int slot, const void *data, size_t size)
{
    static int fds [4] = { -1, -1, -1, -1 };
    static char paths [4][32];
    if (fds [slot] < 0) {
        fds [slot] = memfd_create ("txw-fuzz", 0);
        if (fds [slot] < 0) {
            perror ("memfd_create");
            abort ();
        }
        snprintf (paths [slot], sizeof paths [slot], "/proc/self/fd/%d", fds [slot]);
    }
    if (ftruncate (fds [slot], 0)) {
        perror ("ftruncate");
        abort ();
    }
    size_t done = 0;
    while (done < size) {
        ssize_t n = pwrite (fds [slot], (const char *) data + done, size - done, (off_t) done);
        if (n <= 0) {
            perror ("pwrite");
            abort ();
        }
        done += (size_t) n;
    }
    return paths [slot];
}

//  Reads a whole file into a new buffer (*size bytes, NUL-terminated);
//  aborts if it cannot.
static inline char *
fuzz_slurp (const char *path, size_t *size)
{
    FILE *file = fopen (path, "rb");
    if (!file) {
        perror (path);
        abort ();
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc (cap);
    size_t n;
    while (buf && (n = fread (buf + len, 1, cap - len - 1, file)) > 0) {
        len += n;
        if (cap - len - 1 == 0)
            buf = realloc (buf, cap *= 2);
    }
    fclose (file);
    if (!buf)
        abort ();
    buf [len] = 0;
    *size = len;
    return buf;
}

//  A private directory for files that must be renamed into place (model
//  saves): on tmpfs when there is one, so fsync costs nothing.
static inline const char *
fuzz_tempdir (void)
{
    static char dir [256];
    if (!dir [0]) {
        const char *base = access ("/dev/shm", W_OK) == 0? "/dev/shm":
                           getenv ("TMPDIR")? getenv ("TMPDIR"): "/tmp";
        snprintf (dir, sizeof dir, "%s/txw-fuzz-XXXXXX", base);
        if (!mkdtemp (dir)) {
            perror (dir);
            abort ();
        }
    }
    return dir;
}

//  The path of a file named name in fuzz_tempdir (), the same at every
//  call; the file and the directory are removed when the harness exits.
//  One name per harness: the cleanup is registered once.
static char s_fuzz_temppath [300];
static inline void
s_fuzz_temppath_cleanup (void)
{
    unlink (s_fuzz_temppath);
    rmdir (fuzz_tempdir ());
}

static inline const char *
fuzz_temppath (const char *name)
{
    if (!s_fuzz_temppath [0]) {
        snprintf (s_fuzz_temppath, sizeof s_fuzz_temppath, "%s/%s", fuzz_tempdir (), name);
        atexit (s_fuzz_temppath_cleanup);
    }
    return s_fuzz_temppath;
}

//  A NUL-terminated copy of data (the caller frees).
static inline char *
fuzz_cstring (const uint8_t *data, size_t size)
{
    char *s = malloc (size + 1);
    if (!s)
        abort ();
    memcpy (s, data, size);
    s [size] = 0;
    return s;
}

#endif
