#include "CProcessShims.h"
#include "ChildSetup.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- spawn: the child side runs between vfork and execve; async-signal-safe calls only ---- */

/* What failed in the child, written into the parent's memory (the child shares it until exec:
   the parent is suspended until then, as glibc's posix_spawn reports its errors). */
struct corral_spawn_failure {
    int stage;
    int error;
};

static void corral_child_fail(volatile struct corral_spawn_failure *failure, int stage) __attribute__((noreturn));
static void corral_child_fail(volatile struct corral_spawn_failure *failure, int stage) {
    failure->error = errno;
    failure->stage = stage;
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
static int corral_child_descriptors(const corral_spawn_request *request) {
    int total = 3 + request->inherited_count;
    int base = total; /* F_DUPFD takes the lowest free number at or above it */
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
    /* Everything from `total` up is closed. */
    return corral_close_range((unsigned int)total, ~0U);
}

static void corral_child(const corral_spawn_request *request, volatile struct corral_spawn_failure *failure)
    __attribute__((noreturn));
static void corral_child(const corral_spawn_request *request, volatile struct corral_spawn_failure *failure) {
    struct sigaction default_action;
    memset(&default_action, 0, sizeof default_action);
    default_action.sa_handler = SIG_DFL;
    for (int signal = 1; signal < NSIG; signal++) {
        if (signal == SIGKILL || signal == SIGSTOP) continue;
        sigaction(signal, &default_action, NULL);
    }
    int failed = corral_child_setup(request->watchdog_fd, request->parent_death_signal, request->expected_parent);
    if (failed != 0) corral_child_fail(failure, failed);
    if (corral_child_descriptors(request) != 0) corral_child_fail(failure, CORRAL_SPAWN_STAGE_DESCRIPTORS);
    if (request->listen_pid_slot != NULL) corral_write_decimal(request->listen_pid_slot, getpid());
    if (request->open_files_soft > 0) {
        struct rlimit limit;
        if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && request->open_files_soft < limit.rlim_cur) {
            limit.rlim_cur = request->open_files_soft;
            setrlimit(RLIMIT_NOFILE, &limit);
        }
    }
    if (request->working_directory != NULL && chdir(request->working_directory) != 0)
        corral_child_fail(failure, CORRAL_SPAWN_STAGE_CHDIR);
    if (sigprocmask(SIG_SETMASK, &request->child_mask, NULL) != 0)
        corral_child_fail(failure, CORRAL_SPAWN_STAGE_SIGNAL_MASK);
    /* Not fatal: a program left on fewer processors still runs. */
    if (request->affinity != NULL) sched_setaffinity(0, request->affinity_size, request->affinity);
    execve(request->path, request->argv, request->envp);
    corral_child_fail(failure, CORRAL_SPAWN_STAGE_EXEC);
}

struct corral_child_arguments {
    const corral_spawn_request *request;
    volatile struct corral_spawn_failure *failure;
};

static int corral_child_entry(void *raw) {
    const struct corral_child_arguments *arguments = raw;
    corral_child(arguments->request, arguments->failure);
}

/* The child's stack while it shares the parent's memory (CLONE_VM), as glibc's posix_spawn does. */
#define CORRAL_CHILD_STACK (128 * 1024)

static pthread_key_t corral_stack_key;
static pthread_once_t corral_stack_once = PTHREAD_ONCE_INIT;
static int corral_stack_key_made;

static void corral_stack_release(void *stack) { munmap(stack, CORRAL_CHILD_STACK); }

static void corral_stack_make_key(void) {
    corral_stack_key_made = pthread_key_create(&corral_stack_key, corral_stack_release) == 0;
}

/* This thread's child stack, mapped on its first spawn and unmapped when the thread ends: a
   thread spawns one child at a time (vfork), and an munmap per child interrupts every other
   core running this process to flush its TLB. NULL when none can be mapped. */
static void *corral_child_stack(void) {
    pthread_once(&corral_stack_once, corral_stack_make_key);
    void *stack = corral_stack_key_made ? pthread_getspecific(corral_stack_key) : NULL;
    if (stack != NULL) return stack;
    stack = mmap(NULL, CORRAL_CHILD_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) return NULL;
    if (!corral_stack_key_made || pthread_setspecific(corral_stack_key, stack) != 0) {
        munmap(stack, CORRAL_CHILD_STACK);
        return NULL;
    }
    return stack;
}

/* vfork with the child's pidfd made with it (CLONE_PIDFD, Linux 5.2): no other reaper in this
   process can take the child before its pidfd exists. Where the kernel refuses CLONE_PIDFD,
   plain vfork, and *pidfd stays -1 (the caller opens one from the pid). */
static pid_t corral_vfork_with_pidfd(
    const corral_spawn_request *request, volatile struct corral_spawn_failure *failure, int *pidfd) {
    *pidfd = -1;
    void *stack = corral_child_stack();
    if (stack != NULL) {
        struct corral_child_arguments arguments = {request, failure};
        pid_t child = clone(
            corral_child_entry, (char *)stack + CORRAL_CHILD_STACK, CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD,
            &arguments, pidfd);
        if (child >= 0 || errno != EINVAL) return child;
        *pidfd = -1;
    }
    pid_t child = vfork();
    if (child == 0) corral_child(request, failure);
    return child;
}

int corral_spawn(const corral_spawn_request *request, pid_t *pid, int *pidfd, int *stage) {
    *stage = CORRAL_SPAWN_STAGE_FORK;
    *pidfd = -1;
    volatile struct corral_spawn_failure failure = {0, 0};

    /* No handler of the parent may run in the child before its dispositions are reset. */
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    int child_pidfd = -1;
    pid_t child = corral_vfork_with_pidfd(request, &failure, &child_pidfd);
    int fork_errno = errno;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);

    if (child < 0) {
        errno = fork_errno;
        return -1;
    }
    *pid = child;
    if (failure.stage != 0) {
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
