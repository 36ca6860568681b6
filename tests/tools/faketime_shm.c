/*  faketime_shm - one libfaketime shared state for every process of a run

    libfaketime gives each process that loads it a POSIX semaphore and an
    8-byte shared memory object named after its pid (/faketime_sem_<pid>,
    /faketime_shm_<pid>), readable by that process's user only, and exports
    FAKETIME_SHARED so its children use them. Processes that end by _exit
    or a signal leave theirs behind, and pids wrap at 32768, so a later
    process of another user (root beside the postgres user) finds a stale
    pair it may not open, and libfaketime gives up. tests/clock.sh makes one
    pair here, open to every user, and exports it: nothing is made per pid.

    Usage: txw-faketime_shm create NAME | remove NAME
    create prints the FAKETIME_SHARED value ("/NAME_sem /NAME_shm").          */

#include <fcntl.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
    if (argc != 3 || (strcmp (argv [1], "create") && strcmp (argv [1], "remove"))) {
        fprintf (stderr, "usage: txw-faketime_shm create|remove NAME\n");
        return 2;
    }
    char sem_name [128], shm_name [128];
    snprintf (sem_name, sizeof sem_name, "/%s_sem", argv [2]);
    snprintf (shm_name, sizeof shm_name, "/%s_shm", argv [2]);
    sem_unlink (sem_name);
    shm_unlink (shm_name);
    if (strcmp (argv [1], "remove") == 0)
        return 0;

    mode_t old = umask (0);
    sem_t *sem = sem_open (sem_name, O_CREAT | O_EXCL, 0666, 1);
    int fd = shm_open (shm_name, O_CREAT | O_EXCL | O_RDWR, 0666);
    umask (old);
    uint64_t ticks = 0;         //  libfaketime's shared counter
    if (sem == SEM_FAILED || fd < 0 || write (fd, &ticks, sizeof ticks) != sizeof ticks) {
        perror ("txw-faketime_shm");
        return 1;
    }
    close (fd);
    sem_close (sem);
    printf ("%s %s\n", sem_name, shm_name);
    return 0;
}
