#include "CProcessShims.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
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

/* ---- watchdog: kills the process groups of a supervisor that died ---- */

#define CORRAL_WATCHDOG_CAPACITY 16384

/* Reads exactly `length` bytes (a message is written at once, so its parts follow each other). */
static int corral_watchdog_read(int fd, void *buffer, size_t length) {
    size_t done = 0;
    while (done < length) {
        ssize_t got = read(fd, (char *)buffer + done, length - done);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return -1;
        done += (size_t)got;
    }
    return 0;
}

static void corral_watchdog_loop(int read_fd) __attribute__((noreturn));
static void corral_watchdog_loop(int read_fd) {
    static pid_t groups[CORRAL_WATCHDOG_CAPACITY];
    /* A private directory holding one socket (the notify socket's): removed if the supervisor dies. */
    static char directory[512];
    int count = 0;
    for (;;) {
        int group = 0;
        if (corral_watchdog_read(read_fd, &group, sizeof group) == 0) {
            if (group == 0) _exit(0); /* disarmed: the supervisor ended normally */
            if (group == -1) {
                /* A directory to remove: its length, then its bytes. */
                int length = 0;
                if (corral_watchdog_read(read_fd, &length, sizeof length) != 0) continue;
                if (length <= 0 || length >= (int)sizeof directory - 16) continue;
                if (corral_watchdog_read(read_fd, directory, (size_t)length) != 0) continue;
                directory[length] = '\0';
                continue;
            }
            if (group > 1 && count < CORRAL_WATCHDOG_CAPACITY) groups[count++] = group;
            continue;
        }
        /* End of file (or an error): the supervisor is gone without disarming. */
        for (int i = 0; i < count; i++) kill(-groups[i], SIGKILL);
        if (directory[0] != '\0') {
            char socket_path[sizeof directory + 16];
            size_t length = strlen(directory);
            memcpy(socket_path, directory, length);
            memcpy(socket_path + length, "/notify", sizeof "/notify");
            unlink(socket_path);
            rmdir(directory);
        }
        _exit(0);
    }
}

/* The watchdog's reads must not interrupt the spawns they come from: each child writes its
   registration right before its exec, and a watchdog woken at the normal policy preempted that
   child on its processor (two context switches on every spawn's path). SCHED_BATCH keeps its
   share of the processor but does not preempt on wakeup: it reads when the processor is free or
   at the next tick. Not fatal if refused. */
static void corral_watchdog_batch(void) {
    struct sched_param parameters;
    memset(&parameters, 0, sizeof parameters);
    sched_setscheduler(0, SCHED_BATCH, &parameters);
}

/* The name the supervisor starts its own binary under to make it a watchdog (its argv[0]). */
#define CORRAL_WATCHDOG_NAME "corral-watchdog"

/* A process started as the watchdog goes to its loop before anything else of the program runs
   (no Swift runtime, no main): the read end of its pipe is descriptor 3. */
__attribute__((constructor)) static void corral_watchdog_entry(int argc, char **argv, char **envp) {
    (void)envp;
    if (argc != 1 || argv == NULL || argv[0] == NULL || strcmp(argv[0], CORRAL_WATCHDOG_NAME) != 0) return;
    prctl(PR_SET_NAME, CORRAL_WATCHDOG_NAME, 0, 0, 0);
    corral_watchdog_batch();
    corral_watchdog_loop(3);
}

/* The watchdog as this same binary run afresh, spawned as a worker is (vfork and exec of
   /proc/self/exe, in its own process group, every signal blocked — the mask stays across exec —,
   the pipe's read end as 3, /dev/null as 0-2, nothing else open): the supervisor pays a vfork,
   where a fork copied its page tables and made each of its later writes to memory a
   copy-on-write fault. Its pidfd in *pidfd (-1 without CLONE_PIDFD); -1 with errno if it cannot
   start that way. */
static pid_t corral_watchdog_exec(int read_fd, int *pidfd, const cpu_set_t *affinity) {
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) return -1;
    char *const argv[] = {CORRAL_WATCHDOG_NAME, NULL};
    corral_spawn_request request;
    memset(&request, 0, sizeof request);
    request.path = "/proc/self/exe";
    request.argv = argv;
    /* The environment as it is: a build that finds its libraries through it still starts. */
    request.envp = environ;
    request.stdin_fd = devnull;
    request.stdout_fd = devnull;
    request.stderr_fd = devnull;
    request.inherited_fds = &read_fd;
    request.inherited_count = 1;
    sigfillset(&request.child_mask);
    request.watchdog_fd = -1;
    request.affinity = affinity;
    request.affinity_size = sizeof(cpu_set_t);
    pid_t child = -1;
    int stage = 0;
    int result = corral_spawn(&request, &child, pidfd, &stage);
    int saved = errno;
    close(devnull);
    errno = saved;
    return result == 0 ? child : -1;
}

/* The watchdog as a fork of this process, where the binary cannot be run again (no /proc). */
static pid_t corral_watchdog_fork(int read_fd, const cpu_set_t *affinity) {
    pid_t child = fork();
    if (child != 0) return child;
    if (affinity != NULL) sched_setaffinity(0, sizeof *affinity, affinity);
    corral_watchdog_batch();
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    setpgid(0, 0);
    if (dup2(read_fd, 3) < 0) _exit(127);
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
        dup2(devnull, 0);
        dup2(devnull, 1);
        dup2(devnull, 2);
    }
    corral_close_range(4, ~0U);
    corral_watchdog_loop(3);
}

/* The watchdog by exec, else by fork: its pid, or -1 with errno. `affinity`, if not NULL: its
   processors (those of the process, where the starting thread was pinned). */
static pid_t corral_watchdog_spawn(int read_fd, int *pidfd, const cpu_set_t *affinity) {
    pid_t child = corral_watchdog_exec(read_fd, pidfd, affinity);
    return child >= 0 ? child : corral_watchdog_fork(read_fd, affinity);
}

struct corral_watchdog_launch {
    pthread_t thread;
    int read_fd;
    pid_t pid;
    int pidfd;
    int error; /* why it could not start (0: it started) */
    int pinned; /* the thread runs on the processors other than the starting one's */
    cpu_set_t allowed; /* the process's processors, the watchdog's when pinned */
};

/* The launcher thread: the watchdog's exec (or fork), while the supervisor goes on. */
static void *corral_watchdog_launch_main(void *raw) {
    corral_watchdog_launch *launch = raw;
    pid_t child = corral_watchdog_spawn(launch->read_fd, &launch->pidfd, launch->pinned ? &launch->allowed : NULL);
    launch->error = child < 0 ? errno : 0;
    launch->pid = child;
    close(launch->read_fd);
    return NULL;
}

corral_watchdog_launch *corral_watchdog_launch_start(int *write_fd) {
    corral_watchdog_launch *launch = malloc(sizeof *launch);
    if (launch == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        int saved = errno;
        free(launch);
        errno = saved;
        return NULL;
    }
    launch->read_fd = fds[0];
    launch->pid = -1;
    launch->pidfd = -1;
    launch->error = 0;
    /* The thread starts on another processor than this one: the kernel puts a new thread on
       its parent's processor when it deems the others busier (their recent load), and there the
       launch waited for the parse it was meant to overlap (16 of 20 starts, 1.5-1.9 ms). The
       watchdog gets the process's processors back before its exec. */
    pthread_attr_t attributes;
    int has_attributes = pthread_attr_init(&attributes) == 0;
    cpu_set_t others;
    launch->pinned = 0;
    int current = sched_getcpu();
    if (has_attributes && current >= 0 && sched_getaffinity(0, sizeof launch->allowed, &launch->allowed) == 0 &&
        CPU_ISSET(current, &launch->allowed) && CPU_COUNT(&launch->allowed) > 1) {
        others = launch->allowed;
        CPU_CLR(current, &others);
        launch->pinned = pthread_attr_setaffinity_np(&attributes, sizeof others, &others) == 0;
    }
    /* Every signal blocked on the thread: no handler of the supervisor's runs there. */
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    int failure = pthread_create(&launch->thread, has_attributes ? &attributes : NULL, corral_watchdog_launch_main, launch);
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    if (has_attributes) pthread_attr_destroy(&attributes);
    if (failure != 0) {
        close(fds[0]);
        close(fds[1]);
        free(launch);
        errno = failure;
        return NULL;
    }
    *write_fd = fds[1];
    return launch;
}

int corral_watchdog_launch_finish(corral_watchdog_launch *launch, pid_t *pid, int *pidfd) {
    pthread_join(launch->thread, NULL);
    int error = launch->error;
    *pid = launch->pid;
    *pidfd = launch->pidfd;
    free(launch);
    if (error != 0) {
        errno = error;
        return -1;
    }
    return 0;
}

int corral_watchdog_start(pid_t *pid, int *write_fd, int *pidfd) {
    int fds[2];
    *pidfd = -1;
    if (pipe2(fds, O_CLOEXEC) != 0) return -1;
    pid_t child = corral_watchdog_spawn(fds[0], pidfd, NULL);
    if (child < 0) {
        int saved = errno;
        close(fds[0]);
        close(fds[1]);
        errno = saved;
        return -1;
    }
    close(fds[0]);
    *pid = child;
    *write_fd = fds[1];
    return 0;
}
