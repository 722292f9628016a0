/* The spawner: a thread with a descriptor table of its own, small, from which children are
   vfork'ed. A child starts with a copy of its parent's descriptor table and closes what it must
   not keep, so spawning from the supervisor's table (two pipes and a pidfd per child) costs time
   in proportion to the children already running: 4,096 workers took 17 s. From this table it
   costs the same for the first child and the last. */
#include "CProcessShims.h"
#include "Rights.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct corral_spawner {
    int control; /* the supervisor's end of the request socket */
    /* The thread's end in the supervisor's table until the thread has a table of its own (it
       is closed then); -1 after. */
    int thread_end;
    int start_error; /* why the thread has no table of its own (0: it has one) */
    pthread_t thread;
};

typedef struct {
    int control; /* the thread's end */
    int keep[80];
    int keep_count;
} corral_spawner_setup;

typedef struct {
    int result;
    int pid;
    int stage;
    int error;
} corral_spawner_reply;

/* Sends a reply and, when `pidfd` is not -1, the child's pidfd with it. */
static int corral_spawner_send_reply(int control, corral_spawner_reply *reply, int pidfd) {
    corral_rights_message message;
    corral_rights_init(&message, reply, sizeof *reply);
    return corral_rights_send(control, &message, &pidfd, pidfd >= 0 ? 1 : 0);
}

/* Receives a reply and the pidfd sent with it (-1 when none came). */
static ssize_t corral_spawner_receive_reply(int control, corral_spawner_reply *reply, int *pidfd) {
    corral_rights_message message;
    corral_rights_init(&message, reply, sizeof *reply);
    return corral_rights_receive(control, &message, pidfd, 1);
}

static int corral_spawner_keeps(const corral_spawner_setup *setup, int fd) {
    if (fd == setup->control) return 1;
    for (int i = 0; i < setup->keep_count; i++)
        if (setup->keep[i] == fd) return 1;
    return 0;
}

/* Closes every descriptor from 3 up that the setup does not keep. */
static int corral_spawner_trim(const corral_spawner_setup *setup) {
    int highest = setup->control;
    for (int i = 0; i < setup->keep_count; i++)
        if (setup->keep[i] > highest) highest = setup->keep[i];
    int start = 3;
    for (int fd = 3; fd <= highest + 1; fd++) {
        if (fd <= highest && !corral_spawner_keeps(setup, fd)) continue;
        if (fd > start && corral_close_range((unsigned int)start, (unsigned int)fd - 1) != 0) return -1;
        start = fd + 1;
    }
    return corral_close_range((unsigned int)highest + 1, ~0U);
}

/* Receives one request: a pointer to it, and its stdout and stderr descriptors. */
static ssize_t corral_spawner_receive(int control, const corral_spawn_request **request, int fds[2]) {
    corral_rights_message message;
    corral_rights_init(&message, (void *)request, sizeof *request);
    return corral_rights_receive(control, &message, fds, 2);
}

static void *corral_spawner_main(void *raw) {
    corral_spawner_setup setup = *(corral_spawner_setup *)raw;
    free(raw);
    corral_spawner_reply ready = {0, 0, 0, 0};
    int own_table = unshare(CLONE_FILES) == 0;
    if (!own_table || corral_spawner_trim(&setup) != 0) {
        ready.result = -1;
        ready.error = errno;
        corral_spawner_send_reply(setup.control, &ready, -1);
        /* Without a table of its own the end is the supervisor's to close (corral_spawner_await). */
        if (own_table) close(setup.control);
        return NULL;
    }
    corral_spawner_send_reply(setup.control, &ready, -1);
    for (;;) {
        const corral_spawn_request *request = NULL;
        int fds[2];
        ssize_t got = corral_spawner_receive(setup.control, &request, fds);
        if (got <= 0 || request == NULL) {
            if (fds[0] >= 0) close(fds[0]);
            if (fds[1] >= 0) close(fds[1]);
            break;
        }
        corral_spawner_reply reply = {0, 0, 0, 0};
        int pidfd = -1;
        if (got != (ssize_t)sizeof request || fds[0] < 0 || fds[1] < 0) {
            reply.result = -1;
            reply.stage = CORRAL_SPAWN_STAGE_FORK;
            reply.error = EPROTO;
        } else {
            corral_spawn_request local = *request;
            local.stdout_fd = fds[0];
            local.stderr_fd = fds[1];
            pid_t pid = 0;
            reply.result = corral_spawn(&local, &pid, &pidfd, &reply.stage);
            reply.error = errno;
            reply.pid = pid;
        }
        if (fds[0] >= 0) close(fds[0]);
        if (fds[1] >= 0) close(fds[1]);
        int sent = corral_spawner_send_reply(setup.control, &reply, pidfd);
        /* This table's copy goes: the supervisor has its own now. */
        if (pidfd >= 0) close(pidfd);
        if (sent != 0) break;
    }
    close(setup.control);
    return NULL;
}

corral_spawner *corral_spawner_start(const int *keep, int keep_count) {
    if (keep_count < 0 || keep_count > 80) {
        errno = EINVAL;
        return NULL;
    }
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) return NULL;
    corral_spawner_setup *setup = malloc(sizeof *setup);
    corral_spawner *spawner = malloc(sizeof *spawner);
    int failure = ENOMEM;
    if (setup == NULL || spawner == NULL) goto failed;
    setup->control = pair[1];
    setup->keep_count = keep_count;
    memcpy(setup->keep, keep, sizeof(int) * (size_t)keep_count);
    /* The thread blocks every signal for its whole life: a signal handled on it would write to
       descriptor numbers that mean something else in its table. */
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    failure = pthread_create(&spawner->thread, NULL, corral_spawner_main, setup);
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    if (failure != 0) goto failed;
    /* The thread makes its table while the caller goes on; corral_spawner_await takes its word. */
    spawner->control = pair[0];
    spawner->thread_end = pair[1];
    spawner->start_error = 0;
    return spawner;

failed:
    /* Nothing started: the setup and the socket pair go. */
    free(setup);
    free(spawner);
    close(pair[0]);
    close(pair[1]);
    errno = failure;
    return NULL;
}

/* Takes the thread's word on its table when it has come (waiting for it when `wait`): 1 when it
   has not come yet, 0 when the thread has its table, -1 with errno when it could not make one. */
static int corral_spawner_take_word(corral_spawner *spawner, int wait) {
    if (spawner->thread_end >= 0) {
        corral_spawner_reply ready = {-1, 0, 0, EPROTO};
        ssize_t got;
        do {
            got = recv(spawner->control, &ready, sizeof ready, wait ? 0 : MSG_DONTWAIT);
        } while (got < 0 && errno == EINTR);
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !wait) return 1;
        /* The thread has its own table now (or failed): this table's copy of its end goes. */
        close(spawner->thread_end);
        spawner->thread_end = -1;
        if (got != (ssize_t)sizeof ready || ready.result != 0) {
            spawner->start_error = got == (ssize_t)sizeof ready && ready.error != 0 ? ready.error : EPROTO;
        }
    }
    if (spawner->start_error != 0) {
        errno = spawner->start_error;
        return -1;
    }
    return 0;
}

int corral_spawner_await(corral_spawner *spawner) { return corral_spawner_take_word(spawner, 1); }

int corral_spawner_is_ready(corral_spawner *spawner) { return corral_spawner_take_word(spawner, 0); }

int corral_spawner_submit(corral_spawner *spawner, const corral_spawn_request *request) {
    corral_rights_message message;
    corral_rights_init(&message, (void *)&request, sizeof request);
    int fds[2] = {request->stdout_fd, request->stderr_fd};
    return corral_rights_send(spawner->control, &message, fds, 2);
}

int corral_spawner_collect(corral_spawner *spawner, pid_t *pid, int *pidfd, int *stage) {
    *stage = CORRAL_SPAWN_STAGE_FORK;
    *pidfd = -1;
    corral_spawner_reply reply;
    if (corral_spawner_receive_reply(spawner->control, &reply, pidfd) != (ssize_t)sizeof reply) {
        if (*pidfd >= 0) close(*pidfd);
        *pidfd = -1;
        errno = EPROTO;
        return -1;
    }
    *pid = reply.pid;
    *stage = reply.stage;
    errno = reply.error;
    return reply.result;
}

int corral_spawner_spawn(
    corral_spawner *spawner, const corral_spawn_request *request, pid_t *pid, int *pidfd, int *stage) {
    *stage = CORRAL_SPAWN_STAGE_FORK;
    *pidfd = -1;
    if (corral_spawner_submit(spawner, request) != 0) return -1;
    return corral_spawner_collect(spawner, pid, pidfd, stage);
}

void corral_spawner_stop(corral_spawner *spawner) {
    if (spawner == NULL) return;
    /* Its end in this table is closed only once the thread has its own table. */
    corral_spawner_await(spawner);
    close(spawner->control);
    pthread_join(spawner->thread, NULL);
    free(spawner);
}
