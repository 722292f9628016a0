/* The process-wide signal handler that writes each signal to its own self-pipe. */
#include "CProcessShims.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* The pipe each signal's handler writes to; -1 for none. Indexed by signal number. */
static volatile sig_atomic_t corral_signal_pipes[_NSIG];
static volatile sig_atomic_t corral_signal_marked_sender;

static void corral_signal_handler(int signal, siginfo_t *info, void *context) {
    (void)context;
    int saved = errno;
    int fd = (signal > 0 && signal < _NSIG) ? corral_signal_pipes[signal] - 1 : -1;
    if (fd >= 0) {
        unsigned char byte = (unsigned char)signal;
        pid_t marked = (pid_t)corral_signal_marked_sender;
        if (marked > 0 && info != NULL && info->si_code == SI_USER && info->si_pid == marked)
            byte |= CORRAL_SIGNAL_FROM_MARKED_SENDER;
        ssize_t ignored = write(fd, &byte, 1);
        (void)ignored;
    }
    errno = saved;
}

void corral_signal_mark_sender(pid_t pid) { corral_signal_marked_sender = pid; }

int corral_signal_install(int signal, int fd, struct sigaction *previous) {
    if (signal <= 0 || signal >= _NSIG) {
        errno = EINVAL;
        return -1;
    }
    /* Stored as fd + 1 so the zero-initialised table means "no pipe". */
    corral_signal_pipes[signal] = fd + 1;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = corral_signal_handler;
    sigfillset(&action.sa_mask);
    action.sa_flags = SA_RESTART | SA_SIGINFO;
    int result = sigaction(signal, &action, previous);
    if (result != 0) corral_signal_pipes[signal] = 0;
    return result;
}

int corral_signal_restore(int signal, const struct sigaction *previous) {
    int result = sigaction(signal, previous, NULL);
    if (signal > 0 && signal < _NSIG) corral_signal_pipes[signal] = 0;
    return result;
}

int corral_signalfd(const sigset_t *set) { return signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC); }

int corral_signalfd_read(int fd, int *signo, int *code, pid_t *pid) {
    struct signalfd_siginfo info;
    ssize_t got;
    do {
        got = read(fd, &info, sizeof info);
    } while (got < 0 && errno == EINTR);
    if (got < 0) return errno == EAGAIN ? 0 : -1;
    if (got != (ssize_t)sizeof info) {
        errno = EIO;
        return -1;
    }
    *signo = (int)info.ssi_signo;
    *code = info.ssi_code;
    *pid = (pid_t)info.ssi_pid;
    return 1;
}
