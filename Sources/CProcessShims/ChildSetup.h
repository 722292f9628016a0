/* The first steps of every child, forked by the zygote or vfork'ed for exec, before anything
   else runs in it: its own process group, registered with the watchdog (so a supervisor killed
   even now leaves nothing behind), then the parent-death signal with a check that the parent
   is still the one that made it. Async-signal-safe calls only. */
#ifndef CORRAL_CHILD_SETUP_H
#define CORRAL_CHILD_SETUP_H

#include "CProcessShims.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

/* 0, or the CORRAL_SPAWN_STAGE that failed (errno set). `death_signal` 0: none. */
static inline int corral_child_setup(int watchdog_fd, int death_signal, pid_t expected_parent) {
    if (setpgid(0, 0) != 0) return CORRAL_SPAWN_STAGE_SETPGID;
    if (watchdog_fd >= 0) {
        /* A watchdog that is gone (killed) must not take the child with it: its pipe's SIGPIPE
           is ignored for this one write (EPIPE: nothing to register with), and one left pending
           (the signal is blocked here, so it was queued, not ignored) is taken back. */
        struct sigaction ignore, previous;
        memset(&ignore, 0, sizeof ignore);
        ignore.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &ignore, &previous);
        int group = (int)getpid();
        ssize_t written = write(watchdog_fd, &group, sizeof group);
        if (written < 0 && errno == EPIPE) {
            sigset_t pipe_only;
            sigemptyset(&pipe_only);
            sigaddset(&pipe_only, SIGPIPE);
            struct timespec now = {0, 0};
            while (sigtimedwait(&pipe_only, NULL, &now) == SIGPIPE) {
            }
        }
        sigaction(SIGPIPE, &previous, NULL);
    }
    if (death_signal != 0) {
        if (prctl(PR_SET_PDEATHSIG, death_signal, 0, 0, 0) != 0) return CORRAL_SPAWN_STAGE_PDEATHSIG;
        if (getppid() != expected_parent) {
            errno = ESRCH;
            return CORRAL_SPAWN_STAGE_PARENT_GONE;
        }
    }
    return 0;
}

#endif
