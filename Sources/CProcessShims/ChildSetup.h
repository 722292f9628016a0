/* The first steps of every child, forked by the zygote or vfork'ed for exec, before anything
   else runs in it: its own process group, registered with the watchdog (so a supervisor killed
   even now leaves nothing behind), then the parent-death signal with a check that the parent
   is still the one that made it. Async-signal-safe calls only. */
#ifndef CORRAL_CHILD_SETUP_H
#define CORRAL_CHILD_SETUP_H

#include "CProcessShims.h"

#include <errno.h>
#include <sys/prctl.h>
#include <unistd.h>

/* 0, or the CORRAL_SPAWN_STAGE that failed (errno set). `death_signal` 0: none. */
static inline int corral_child_setup(int watchdog_fd, int death_signal, pid_t expected_parent) {
    if (setpgid(0, 0) != 0) return CORRAL_SPAWN_STAGE_SETPGID;
    if (watchdog_fd >= 0) {
        int group = (int)getpid();
        ssize_t ignored = write(watchdog_fd, &group, sizeof group);
        (void)ignored;
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
