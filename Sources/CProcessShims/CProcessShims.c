#include "CProcessShims.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sched.h>
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

static socklen_t corral_unix_address(const char *name, struct sockaddr_un *address) {
    size_t length = strlen(name);
    memset(address, 0, sizeof *address);
    address->sun_family = AF_UNIX;
    if (length == 0 || length >= sizeof address->sun_path) {
        errno = ENAMETOOLONG;
        return 0;
    }
    memcpy(address->sun_path, name, length);
    if (name[0] == '@') {
        address->sun_path[0] = '\0';
        return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + length);
    }
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + length + 1);
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

int corral_so_passrights(void) {
#ifdef SO_PASSRIGHTS
    return SO_PASSRIGHTS;
#else
    return 83;
#endif
}

int corral_unix_bind(int fd, const char *name) {
    struct sockaddr_un address;
    socklen_t length = corral_unix_address(name, &address);
    if (length == 0) return -1;
    return bind(fd, (struct sockaddr *)&address, length);
}

int corral_unix_send(const char *name, const void *bytes, size_t length) {
    struct sockaddr_un address;
    socklen_t address_length = corral_unix_address(name, &address);
    if (address_length == 0) return -1;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    ssize_t sent;
    do {
        sent = sendto(fd, bytes, length, MSG_NOSIGNAL, (struct sockaddr *)&address, address_length);
    } while (sent < 0 && errno == EINTR);
    int saved = errno;
    close(fd);
    errno = saved;
    return sent < 0 ? -1 : 0;
}

ssize_t corral_recv_with_credentials(int fd, void *buffer, size_t capacity, pid_t *pid, int *truncated) {
    union {
        struct cmsghdr align;
        /* Room for the credentials only: descriptors passed with SCM_RIGHTS are not installed
           (MSG_CTRUNC), so none is ever received, and none has to be closed here. */
        char bytes[CMSG_SPACE(sizeof(struct ucred))];
    } control;
    struct iovec vector = {.iov_base = buffer, .iov_len = capacity};
    struct msghdr message;
    memset(&message, 0, sizeof message);
    message.msg_iov = &vector;
    message.msg_iovlen = 1;
    message.msg_control = control.bytes;
    message.msg_controllen = sizeof control.bytes;
    ssize_t received = recvmsg(fd, &message, MSG_DONTWAIT | MSG_TRUNC | MSG_CMSG_CLOEXEC);
    if (received < 0) return -1;
    *pid = 0;
    *truncated = (message.msg_flags & MSG_TRUNC) || (size_t)received > capacity;
    for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header != NULL; header = CMSG_NXTHDR(&message, header)) {
        if (header->cmsg_level != SOL_SOCKET) continue;
        if (header->cmsg_type == SCM_CREDENTIALS && header->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
            struct ucred credentials;
            memcpy(&credentials, CMSG_DATA(header), sizeof credentials);
            *pid = credentials.pid;
        }
    }
    return received;
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

/* ---- spawn: the child side runs between vfork and execve; async-signal-safe calls only ---- */

struct corral_spawn_failure {
    int stage;
    int error;
};

static void corral_child_fail(int report_fd, int stage) __attribute__((noreturn));
static void corral_child_fail(int report_fd, int stage) {
    struct corral_spawn_failure failure = {.stage = stage, .error = errno};
    ssize_t ignored = write(report_fd, &failure, sizeof failure);
    (void)ignored;
    _exit(127);
}

static void corral_write_decimal(char *slot, pid_t value) {
    char digits[20];
    int count = 0;
    unsigned long number = (unsigned long)value;
    do {
        digits[count++] = (char)('0' + number % 10);
        number /= 10;
    } while (number != 0 && count < 20);
    for (int i = 0; i < count; i++) slot[i] = digits[count - 1 - i];
    slot[count] = '\0';
}

/* Moves every descriptor the child keeps above the range it will occupy, then places them. */
static int corral_child_descriptors(const corral_spawn_request *request, int report_fd) {
    int total = 3 + request->inherited_count;
    int base = total; /* F_DUPFD takes the lowest free number, never report_fd itself */
    int moved[3 + 64];
    if (request->inherited_count > 64) {
        errno = EMFILE;
        return -1;
    }
    int sources[3] = {request->stdin_fd, request->stdout_fd, request->stderr_fd};
    for (int i = 0; i < total; i++) {
        int source = i < 3 ? sources[i] : request->inherited_fds[i - 3];
        moved[i] = fcntl(source, F_DUPFD, base);
        if (moved[i] < 0) return -1;
    }
    for (int i = 0; i < total; i++) {
        if (dup2(moved[i], i) < 0) return -1;
    }
    /* Everything from `total` up is closed except the failure report pipe (CLOEXEC). */
    if (report_fd > total && corral_close_range((unsigned int)total, (unsigned int)report_fd - 1) != 0) return -1;
    if (corral_close_range((unsigned int)report_fd + 1, ~0U) != 0) return -1;
    return 0;
}

static void corral_child(const corral_spawn_request *request, int report_fd) __attribute__((noreturn));
static void corral_child(const corral_spawn_request *request, int report_fd) {
    int total = 3 + request->inherited_count;
    if (report_fd < total) {
        int moved = fcntl(report_fd, F_DUPFD_CLOEXEC, total);
        if (moved < 0) corral_child_fail(report_fd, CORRAL_SPAWN_STAGE_DESCRIPTORS);
        report_fd = moved;
    }
    struct sigaction default_action;
    memset(&default_action, 0, sizeof default_action);
    default_action.sa_handler = SIG_DFL;
    for (int signal = 1; signal < NSIG; signal++) {
        if (signal == SIGKILL || signal == SIGSTOP) continue;
        sigaction(signal, &default_action, NULL);
    }
    if (setpgid(0, 0) != 0) corral_child_fail(report_fd, CORRAL_SPAWN_STAGE_SETPGID);
    if (request->watchdog_fd >= 0) {
        int group = (int)getpid();
        ssize_t ignored = write(request->watchdog_fd, &group, sizeof group);
        (void)ignored;
    }
    if (request->parent_death_signal != 0) {
        if (prctl(PR_SET_PDEATHSIG, request->parent_death_signal, 0, 0, 0) != 0)
            corral_child_fail(report_fd, CORRAL_SPAWN_STAGE_PDEATHSIG);
        if (getppid() != request->expected_parent) {
            errno = ESRCH;
            corral_child_fail(report_fd, CORRAL_SPAWN_STAGE_PARENT_GONE);
        }
    }
    if (corral_child_descriptors(request, report_fd) != 0) corral_child_fail(report_fd, CORRAL_SPAWN_STAGE_DESCRIPTORS);
    if (request->listen_pid_slot != NULL) corral_write_decimal(request->listen_pid_slot, getpid());
    if (sigprocmask(SIG_SETMASK, &request->child_mask, NULL) != 0)
        corral_child_fail(report_fd, CORRAL_SPAWN_STAGE_SIGNAL_MASK);
    execve(request->path, request->argv, request->envp);
    corral_child_fail(report_fd, CORRAL_SPAWN_STAGE_EXEC);
}

struct corral_child_arguments {
    const corral_spawn_request *request;
    int report_fd;
};

static int corral_child_entry(void *raw) {
    const struct corral_child_arguments *arguments = raw;
    corral_child(arguments->request, arguments->report_fd);
}

/* The child's stack while it shares the parent's memory (CLONE_VM), as glibc's posix_spawn does. */
#define CORRAL_CHILD_STACK (128 * 1024)

/* vfork with the child's pidfd made with it (CLONE_PIDFD, Linux 5.2): no other reaper in this
   process can take the child before its pidfd exists. Where the kernel refuses CLONE_PIDFD,
   plain vfork, and *pidfd stays -1 (the caller opens one from the pid). */
static pid_t corral_vfork_with_pidfd(const corral_spawn_request *request, int report_fd, int *pidfd) {
    *pidfd = -1;
    void *stack = mmap(NULL, CORRAL_CHILD_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack != MAP_FAILED) {
        struct corral_child_arguments arguments = {request, report_fd};
        pid_t child = clone(
            corral_child_entry, (char *)stack + CORRAL_CHILD_STACK, CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD,
            &arguments, pidfd);
        int saved = errno;
        munmap(stack, CORRAL_CHILD_STACK);
        if (child >= 0 || saved != EINVAL) {
            errno = saved;
            return child;
        }
        *pidfd = -1;
    }
    pid_t child = vfork();
    if (child == 0) corral_child(request, report_fd);
    return child;
}

int corral_spawn(const corral_spawn_request *request, pid_t *pid, int *pidfd, int *stage) {
    int report[2];
    *stage = CORRAL_SPAWN_STAGE_FORK;
    *pidfd = -1;
    if (pipe2(report, O_CLOEXEC) != 0) return -1;

    /* No handler of the parent may run in the child before its dispositions are reset. */
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    int child_pidfd = -1;
    pid_t child = corral_vfork_with_pidfd(request, report[1], &child_pidfd);
    int fork_errno = errno;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    close(report[1]);

    if (child < 0) {
        close(report[0]);
        errno = fork_errno;
        return -1;
    }
    struct corral_spawn_failure failure = {0, 0};
    ssize_t got;
    do {
        got = read(report[0], &failure, sizeof failure);
    } while (got < 0 && errno == EINTR);
    close(report[0]);
    *pid = child;
    if (got == (ssize_t)sizeof failure) {
        /* The child has exited (127); reap it so no zombie is left. */
        int status;
        while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
        if (child_pidfd >= 0) close(child_pidfd);
        *stage = failure.stage;
        errno = failure.error;
        return -1;
    }
    *pidfd = child_pidfd;
    *stage = CORRAL_SPAWN_STAGE_NONE;
    return 0;
}

int corral_sigrtmin(void) { return SIGRTMIN; }
int corral_sigrtmax(void) { return SIGRTMAX; }

int corral_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }

int corral_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

int corral_accept4(int fd, int flags) { return accept4(fd, NULL, NULL, flags); }

/* ---- zygote: a single-threaded, pre-initialised worker process that forks workers ---- */

/* Sends one whole message on the zygote's control socket; 0, or -1 with errno. */
static int corral_zygote_send_bytes(int control, const void *bytes, size_t length) {
    ssize_t sent;
    do {
        sent = send(control, bytes, length, MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    return sent == (ssize_t)length ? 0 : -1;
}

static int corral_zygote_send(int control, const corral_zygote_message *message) {
    return corral_zygote_send_bytes(control, message, sizeof *message);
}

/* A zygote request: one int (the slot) and, as SCM_RIGHTS, two descriptors. */
typedef struct {
    struct msghdr message;
    struct iovec vector;
    union {
        struct cmsghdr align;
        char bytes[CMSG_SPACE(sizeof(int) * 2)];
    } control;
} corral_slot_message;

static void corral_slot_message_init(corral_slot_message *request, int *slot) {
    memset(request, 0, sizeof *request);
    request->vector.iov_base = slot;
    request->vector.iov_len = sizeof *slot;
    request->message.msg_iov = &request->vector;
    request->message.msg_iovlen = 1;
    request->message.msg_control = request->control.bytes;
    request->message.msg_controllen = sizeof request->control.bytes;
}

int corral_zygote_request(int control, int slot, int stdout_fd, int stderr_fd) {
    int fds[2] = {stdout_fd, stderr_fd};
    corral_slot_message request;
    corral_slot_message_init(&request, &slot);
    struct cmsghdr *header = CMSG_FIRSTHDR(&request.message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof fds);
    memcpy(CMSG_DATA(header), fds, sizeof fds);
    ssize_t sent;
    do {
        sent = sendmsg(control, &request.message, MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    return sent == (ssize_t)sizeof slot ? 0 : -1;
}

int corral_zygote_receive(int control, int dont_wait, corral_zygote_message *message) {
    ssize_t got;
    do {
        got = recv(control, message, sizeof *message, dont_wait ? MSG_DONTWAIT : 0);
    } while (got < 0 && errno == EINTR);
    if (got == 0) return -2;
    if (got < 0) return -1;
    if (got != (ssize_t)sizeof *message) {
        errno = EPROTO;
        return -1;
    }
    return 0;
}

int corral_zygote_refuse(int control) {
    corral_zygote_message message = {.kind = CORRAL_ZYGOTE_NOT_READY, .error = EBUSY};
    return corral_zygote_send(control, &message);
}

static volatile sig_atomic_t corral_zygote_child_pipe = -1;

static void corral_zygote_on_child(int signal) {
    (void)signal;
    int saved = errno;
    unsigned char byte = 1;
    ssize_t ignored = write(corral_zygote_child_pipe, &byte, 1);
    (void)ignored;
    errno = saved;
}

static void corral_zygote_reap(int control) {
    for (;;) {
        siginfo_t info;
        memset(&info, 0, sizeof info);
        if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG) != 0 || info.si_pid == 0) return;
        corral_zygote_message message = {
            .kind = CORRAL_ZYGOTE_EXITED, .pid = info.si_pid, .code = info.si_code, .status = info.si_status};
        corral_zygote_send(control, &message);
    }
}

int corral_zygote_close_requests(int control) {
    int slot = CORRAL_ZYGOTE_NO_MORE_REQUESTS;
    return corral_zygote_send_bytes(control, &slot, sizeof slot);
}

/* Whether the calling process has no child left, running or waiting to be reaped. */
static int corral_has_no_children(void) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    return waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 && errno == ECHILD;
}

int corral_zygote_serve(int control, int inherited_count, const sigset_t *child_mask, int watchdog_fd, int *slot_out) {
    int wake[2];
    if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) return -1;
    corral_zygote_child_pipe = wake[1];
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = corral_zygote_on_child;
    sigfillset(&action.sa_mask);
    action.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    if (sigaction(SIGCHLD, &action, NULL) != 0) return -1;
    sigset_t child_only;
    sigemptyset(&child_only);
    sigaddset(&child_only, SIGCHLD);
    sigprocmask(SIG_UNBLOCK, &child_only, NULL);
    pid_t zygote = getpid();
    corral_zygote_message ready = {.kind = CORRAL_ZYGOTE_READY};
    if (corral_zygote_send(control, &ready) != 0) return -1;

    int closing = 0;
    for (;;) {
        if (closing && corral_has_no_children()) return 1; /* every worker reported: done */
        struct pollfd fds[2] = {{.fd = control, .events = POLLIN}, {.fd = wake[0], .events = POLLIN}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (fds[1].revents) {
            unsigned char drain[64];
            while (read(wake[0], drain, sizeof drain) > 0) {}
            corral_zygote_reap(control);
        }
        if (!fds[0].revents) continue;

        int slot = -1;
        int received[2] = {-1, -1};
        corral_slot_message request;
        corral_slot_message_init(&request, &slot);
        ssize_t got = recvmsg(control, &request.message, MSG_CMSG_CLOEXEC);
        if (got < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return -1;
        }
        if (got == 0) return 1; /* the supervisor closed the socket: its run is over (or it died) */
        if (got == (ssize_t)sizeof slot && slot == CORRAL_ZYGOTE_NO_MORE_REQUESTS) {
            closing = 1;
            continue;
        }
        struct cmsghdr *header = CMSG_FIRSTHDR(&request.message);
        if (header != NULL && header->cmsg_type == SCM_RIGHTS && header->cmsg_len == CMSG_LEN(sizeof received))
            memcpy(received, CMSG_DATA(header), sizeof received);
        if (got != (ssize_t)sizeof slot || received[0] < 0 || received[1] < 0) {
            if (received[0] >= 0) close(received[0]);
            if (received[1] >= 0) close(received[1]);
            corral_zygote_message failed = {.kind = CORRAL_ZYGOTE_SPAWN_FAILED, .slot = slot, .error = EPROTO};
            corral_zygote_send(control, &failed);
            continue;
        }
        pid_t child = fork();
        if (child == 0) {
            /* The new worker: take its place, then return into Swift. */
            struct sigaction default_action;
            memset(&default_action, 0, sizeof default_action);
            default_action.sa_handler = SIG_DFL;
            sigaction(SIGCHLD, &default_action, NULL);
            corral_zygote_child_pipe = -1;
            if (setpgid(0, 0) != 0) _exit(127);
            if (watchdog_fd >= 0) {
                int group = (int)getpid();
                ssize_t ignored = write(watchdog_fd, &group, sizeof group);
                (void)ignored;
            }
            if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() != zygote) _exit(127);
            if (dup2(received[0], 1) < 0 || dup2(received[1], 2) < 0) _exit(127);
            if (corral_close_range(3u + (unsigned)inherited_count, ~0U) != 0) _exit(127);
            sigprocmask(SIG_SETMASK, child_mask, NULL);
            *slot_out = slot;
            return 0;
        }
        int fork_error = errno;
        close(received[0]);
        close(received[1]);
        corral_zygote_message reply = {.slot = slot};
        if (child < 0) {
            reply.kind = CORRAL_ZYGOTE_SPAWN_FAILED;
            reply.error = fork_error;
        } else {
            reply.kind = CORRAL_ZYGOTE_SPAWNED;
            reply.pid = child;
        }
        corral_zygote_send(control, &reply);
    }
}

/* ---- watchdog: kills the process groups of a supervisor that died ---- */

#define CORRAL_WATCHDOG_CAPACITY 16384

static void corral_watchdog_loop(int read_fd) __attribute__((noreturn));
static void corral_watchdog_loop(int read_fd) {
    static pid_t groups[CORRAL_WATCHDOG_CAPACITY];
    int count = 0;
    for (;;) {
        int group = 0;
        ssize_t got = read(read_fd, &group, sizeof group);
        if (got < 0 && errno == EINTR) continue;
        if (got == (ssize_t)sizeof group) {
            if (group == 0) _exit(0); /* disarmed: the supervisor ended normally */
            if (group > 1 && count < CORRAL_WATCHDOG_CAPACITY) groups[count++] = group;
            continue;
        }
        /* End of file (or an error): the supervisor is gone without disarming. */
        for (int i = 0; i < count; i++) kill(-groups[i], SIGKILL);
        _exit(0);
    }
}

int corral_watchdog_start(pid_t *pid, int *write_fd) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return -1;
    pid_t child = fork();
    if (child < 0) {
        int saved = errno;
        close(fds[0]);
        close(fds[1]);
        errno = saved;
        return -1;
    }
    if (child == 0) {
        sigset_t all;
        sigfillset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        setpgid(0, 0);
        if (dup2(fds[0], 3) < 0) _exit(127);
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        corral_close_range(4, ~0U);
        corral_watchdog_loop(3);
    }
    close(fds[0]);
    *pid = child;
    *write_fd = fds[1];
    return 0;
}
