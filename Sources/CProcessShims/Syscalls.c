/* One-line wrappers for the system calls Swift cannot make directly (raw syscalls, macros). */
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
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

int corral_pidfd_open(pid_t pid) {
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

int corral_pidfd_send_signal(int pidfd, int signal) {
    return (int)syscall(SYS_pidfd_send_signal, pidfd, signal, NULL, 0);
}

int corral_waitid_pidfd(int pidfd, int options, int *code, int *status, pid_t *pid) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &info, WEXITED | options) != 0) return -1;
    *code = info.si_code;
    *status = info.si_status;
    *pid = info.si_pid;
    if (info.si_pid == 0) *code = 0;
    return 0;
}

int corral_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int corral_epoll_add(int epoll, int fd, uint64_t token) {
    struct epoll_event event = {.events = EPOLLIN, .data.u64 = token};
    return epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
}

int corral_epoll_remove(int epoll, int fd) { return epoll_ctl(epoll, EPOLL_CTL_DEL, fd, NULL); }

int corral_epoll_ready(int epoll, uint64_t *tokens, int capacity) {
    struct epoll_event events[256];
    if (capacity > 256) capacity = 256;
    int count;
    do {
        count = epoll_wait(epoll, events, capacity, 0);
    } while (count < 0 && errno == EINTR);
    for (int i = 0; i < count; i++) tokens[i] = events[i].data.u64;
    return count;
}

int corral_close_range(unsigned int first, unsigned int last) {
#ifdef SYS_close_range
    if (syscall(SYS_close_range, first, last, 0) == 0) return 0;
    if (errno != ENOSYS) return -1;
#endif
    long limit = sysconf(_SC_OPEN_MAX);
    if (limit < 0 || limit > 1048576) limit = 1048576;
    for (unsigned int fd = first; fd < (unsigned int)limit && fd <= last; fd++) close((int)fd);
    return 0;
}

int corral_set_child_subreaper(int on) {
    return prctl(PR_SET_CHILD_SUBREAPER, on ? 1 : 0, 0, 0, 0);
}

int corral_usable_processors(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
    return CPU_COUNT(&set);
}

int corral_sigrtmin(void) { return SIGRTMIN; }
int corral_sigrtmax(void) { return SIGRTMAX; }

int corral_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }

int corral_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

int corral_accept4(int fd, int flags) { return accept4(fd, NULL, NULL, flags); }
