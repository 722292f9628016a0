#include "CProcessShims.h"
#include "ChildSetup.h"
#include "Rights.h"

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

/* A zygote request: one int (the slot) and, as SCM_RIGHTS, its stdout and stderr. */
int corral_zygote_request(int control, int slot, int stdout_fd, int stderr_fd) {
    int fds[2] = {stdout_fd, stderr_fd};
    corral_rights_message request;
    corral_rights_init(&request, &slot, sizeof slot);
    return corral_rights_send(control, &request, fds, 2);
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
        corral_rights_message request;
        corral_rights_init(&request, &slot, sizeof slot);
        ssize_t got = corral_rights_receive(control, &request, received, 2);
        if (got < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return -1;
        }
        if (got == 0) return 1; /* the supervisor closed the socket: its run is over (or it died) */
        if (got == (ssize_t)sizeof slot && slot == CORRAL_ZYGOTE_NO_MORE_REQUESTS) {
            closing = 1;
            continue;
        }
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
            if (corral_child_setup(watchdog_fd, SIGKILL, zygote) != 0) _exit(127);
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
