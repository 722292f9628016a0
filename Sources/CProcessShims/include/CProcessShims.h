#ifndef CORRAL_PROCESS_SHIMS_H
#define CORRAL_PROCESS_SHIMS_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/// Where in the child's start-up a spawn failed (reported with errno by the vfork child, in the
/// memory it shares with its parent until exec).
typedef enum {
    CORRAL_SPAWN_STAGE_NONE = 0,
    CORRAL_SPAWN_STAGE_SETPGID = 1,
    CORRAL_SPAWN_STAGE_PDEATHSIG = 2,
    CORRAL_SPAWN_STAGE_PARENT_GONE = 3,
    CORRAL_SPAWN_STAGE_DESCRIPTORS = 4,
    CORRAL_SPAWN_STAGE_SIGNAL_MASK = 5,
    CORRAL_SPAWN_STAGE_EXEC = 6,
    CORRAL_SPAWN_STAGE_FORK = 7,
    CORRAL_SPAWN_STAGE_CHDIR = 8,
} corral_spawn_stage;

/// Everything the child side of a spawn needs; prepared entirely by the parent.
typedef struct {
    const char *path;             /* absolute or relative path, no PATH search */
    char *const *argv;            /* NULL-terminated */
    char *const *envp;            /* NULL-terminated */
    int stdin_fd;                 /* becomes fd 0 */
    int stdout_fd;                /* becomes fd 1 */
    int stderr_fd;                /* becomes fd 2 */
    const int *inherited_fds;     /* become fds 3, 4, ... in order */
    int inherited_count;
    char *listen_pid_slot;        /* if not NULL: 21 bytes where the child's pid is written (LISTEN_PID) */
    sigset_t child_mask;          /* signal mask the program starts with */
    int parent_death_signal;      /* 0 for none */
    pid_t expected_parent;        /* the child exits at once if its parent is no longer this pid */
    int watchdog_fd;              /* if >= 0: the child writes its pid (its new process group) here
                                     before exec, so the watchdog knows it before it can fork */
    unsigned long open_files_soft; /* if > 0: the child's soft RLIMIT_NOFILE (the one the supervisor
                                      started with, before it raised its own) */
    const char *working_directory; /* if not NULL: the child changes to it before exec */
    const void *affinity;         /* if not NULL: a cpu_set_t of affinity_size bytes, the child's
                                     processors from exec on (its spawning thread was pinned) */
    unsigned long affinity_size;
} corral_spawn_request;

/// Spawns a child: vfork (as clone with CLONE_PIDFD, so its pidfd exists from the start), then
/// only async-signal-safe calls, then execve. Returns 0, the pid and its pidfd (-1 on kernels
/// without CLONE_PIDFD), or -1 with errno set and the failing stage in *stage.
int corral_spawn(const corral_spawn_request *request, pid_t *pid, int *pidfd, int *stage);

/// A thread with a small descriptor table of its own that spawns children (Spawner.c).
typedef struct corral_spawner corral_spawner;
/// Starts the spawner thread without waiting for it; its table keeps only `keep` (at most 80:
/// /dev/null, the watchdog's pipe, inherited sockets), which must stay open, under the same
/// numbers, while it runs. NULL with errno when no thread started.
corral_spawner *corral_spawner_start(const int *keep, int keep_count);
/// Waits (once) until the thread has a table of its own: 0, or -1 with errno when it could not
/// make one (the thread has ended then; only corral_spawner_stop may follow). Call before
/// anything else of a spawner's.
int corral_spawner_await(corral_spawner *spawner);
/// corral_spawner_await without waiting: 1 while the thread is still making its table, else
/// corral_spawner_await's answer.
int corral_spawner_is_ready(corral_spawner *spawner);
/// corral_spawn from the spawner's table: the request's stdout and stderr descriptors are
/// passed to it; every other descriptor the request names must be one it keeps.
int corral_spawner_spawn(
    corral_spawner *spawner, const corral_spawn_request *request, pid_t *pid, int *pidfd, int *stage);
/// The first half of corral_spawner_spawn: passes `request` to the spawner, which spawns it
/// while the caller goes on. The request and everything it points to must stay unchanged until
/// its answer is collected; answers come in the order of the requests. 0, or -1 with errno.
int corral_spawner_submit(corral_spawner *spawner, const corral_spawn_request *request);
/// The second half: the answer to the oldest request not collected yet, as corral_spawn's.
int corral_spawner_collect(corral_spawner *spawner, pid_t *pid, int *pidfd, int *stage);
/// Ends the spawner thread. Children it spawned get their parent-death signal when it ends.
void corral_spawner_stop(corral_spawner *spawner);

/// epoll_create1(EPOLL_CLOEXEC).
int corral_epoll_create(void);
/// epoll_ctl(ADD) for readability (level-triggered), with `token` as the event's data.
int corral_epoll_add(int epoll, int fd, uint64_t token);
/// epoll_ctl(DEL).
int corral_epoll_remove(int epoll, int fd);
/// epoll_wait without waiting: the tokens of up to `capacity` ready descriptors.
int corral_epoll_ready(int epoll, uint64_t *tokens, int capacity);

/// pidfd_open(2).
int corral_pidfd_open(pid_t pid);
/// pidfd_send_signal(2) with no siginfo.
int corral_pidfd_send_signal(int pidfd, int signal);
/// waitid(P_PIDFD, pidfd, WEXITED | options). On success *code is CLD_EXITED/CLD_KILLED/CLD_DUMPED
/// (0 when WNOHANG found nothing) and *status the exit code or signal number.
int corral_waitid_pidfd(int pidfd, int options, int *code, int *status, pid_t *pid);

/// Installs the process-wide handler for `signal`: it writes the signal number (one byte) to
/// `fd`, a non-blocking pipe, with CORRAL_SIGNAL_FROM_MARKED_SENDER added when the process
/// named by corral_signal_mark_sender sent it (kill, pidfd_send_signal). Each signal has its
/// own pipe, so separate parts of a program can each watch their own signals. The previous
/// action is stored in *previous.
int corral_signal_install(int signal, int fd, struct sigaction *previous);
/// Signals sent by `pid` (0: nobody) are marked in the byte the handler writes.
void corral_signal_mark_sender(pid_t pid);
/// The bit of a written signal byte that says the marked sender sent it.
#define CORRAL_SIGNAL_FROM_MARKED_SENDER 0x80
/// Restores an action saved by corral_signal_install and stops writing for `signal`.
int corral_signal_restore(int signal, const struct sigaction *previous);

/// signalfd(2) for `set` (which the calling threads must block), non-blocking, close-on-exec.
int corral_signalfd(const sigset_t *set);
/// Reads one pending signal from a signalfd: 1 with its number, si_code and sender pid; 0 when
/// none is pending; -1 with errno.
int corral_signalfd_read(int fd, int *signo, int *code, pid_t *pid);

/// Binds an AF_UNIX datagram socket to `name`; a leading '@' means the abstract namespace.
int corral_unix_bind(int fd, const char *name);

/* SO_PASSRIGHTS (Linux 6.16), defined here for older headers. */
int corral_so_passrights(void);
/// Sends one datagram to the AF_UNIX address `name` ('@' = abstract) from a new socket.
int corral_unix_send(const char *name, const void *bytes, size_t length);
/// Connects a new AF_UNIX stream socket (close-on-exec) to the path `name`. Returns the socket, or
/// -1 with errno (EINTR is not retried here: a connect interrupted goes on in the background).
int corral_unix_connect(const char *name);
/// A new AF_UNIX datagram socket (close-on-exec, non-blocking) connected to the path `name`.
/// Returns the socket, or -1 with errno.
int corral_unix_datagram_connect(const char *name);
/// SO_PEERCRED of a connected AF_UNIX socket: the peer's pid, uid and gid when it connected.
int corral_peer_credentials(int fd, pid_t *pid, uid_t *uid, gid_t *gid);
/// Receives one datagram with its sender's credentials (SO_PASSCRED must be on).
/// Returns the datagram's full length (may exceed capacity: then *truncated is 1), or -1 with errno.
/// Descriptors passed along (SCM_RIGHTS) are closed at once. *pid is 0 if no credentials came.
ssize_t corral_recv_with_credentials(int fd, void *buffer, size_t capacity, pid_t *pid, int *truncated);

/// close_range(2), with a loop fallback for kernels without it.
int corral_close_range(unsigned int first, unsigned int last);

/// prctl(PR_SET_CHILD_SUBREAPER, on).
int corral_set_child_subreaper(int on);

/// One message from the zygote to the supervisor.
typedef struct {
    int kind;   /* CORRAL_ZYGOTE_READY, _SPAWNED, _SPAWN_FAILED, _EXITED */
    int slot;   /* spawned, spawn failed */
    int pid;    /* spawned, exited */
    int code;   /* exited: CLD_EXITED, CLD_KILLED or CLD_DUMPED */
    int status; /* exited: exit code or signal number */
    int error;  /* spawn failed, not ready: errno */
} corral_zygote_message;

enum {
    CORRAL_ZYGOTE_READY = 1,
    CORRAL_ZYGOTE_SPAWNED = 2,
    CORRAL_ZYGOTE_SPAWN_FAILED = 3,
    CORRAL_ZYGOTE_EXITED = 4,
    CORRAL_ZYGOTE_NOT_READY = 5,
};

/// Supervisor side: asks the zygote on `control` to start `slot` with these output descriptors.
int corral_zygote_request(int control, int slot, int stdout_fd, int stderr_fd);
/// Supervisor side: receives one message (blocking unless `dont_wait`); 0 on success, -1 with
/// errno (EAGAIN: nothing waiting), -2 at end of file (the zygote is gone).
int corral_zygote_receive(int control, int dont_wait, corral_zygote_message *message);

/// The slot of the message that tells the zygote no request will follow.
#define CORRAL_ZYGOTE_NO_MORE_REQUESTS (-1)
/// Supervisor side: no request will follow; the zygote exits once its last worker was reaped
/// and reported (it still exits at once if the socket closes: the supervisor is gone).
int corral_zygote_close_requests(int control);
/// Zygote side: tells the supervisor this process cannot serve as a zygote (not single-threaded).
int corral_zygote_refuse(int control);

/// Zygote side: serves requests on `control` until it closes, forking one worker per request
/// (the zygote must be single-threaded). Returns 0 in each new child, with *slot set, its
/// descriptors 0-2 and 3..3+inherited_count-1 in place, everything else closed, its own process
/// group (reported to the watchdog on `watchdog_fd` first, if >= 0), a parent-death SIGKILL and
/// `child_mask` as its signal mask; returns 1 in the zygote when the supervisor has gone, or
/// said no request will follow and every worker has been reported; -1 with errno on failure.
int corral_zygote_serve(int control, int inherited_count, const sigset_t *child_mask, int watchdog_fd, int *slot);

/// Starts the watchdog: this binary run again as `corral-watchdog` (vfork and exec of
/// /proc/self/exe; a constructor takes it to the watchdog's loop before any Swift runs), or a
/// fork where that cannot be; C only, never Swift, in its own process group, with
/// every signal but SIGKILL blocked, holding the read end of a pipe whose write end (returned,
/// close-on-exec) stays with the supervisor. Each `int` written is a process group to watch; 0
/// disarms it (it exits quietly). If the pipe closes without that — the supervisor died, even
/// by SIGKILL — it sends SIGKILL to every watched group, then exits. *pidfd is its pidfd when the
/// spawn made one (-1 after a fork, or without CLONE_PIDFD).
int corral_watchdog_start(pid_t *pid, int *write_fd, int *pidfd);

/// The same watchdog, started from a thread of its own while the caller goes on: returns at
/// once with the pipe's write end in *write_fd (anything written waits in the pipe until the
/// watchdog reads it); NULL with errno when no thread could start.
/// ``corral_watchdog_launch_finish`` waits for the start and frees the launch.
typedef struct corral_watchdog_launch corral_watchdog_launch;
corral_watchdog_launch *corral_watchdog_launch_start(int *write_fd);

/// Waits for a launch: 0 with the watchdog's pid and pidfd (-1 when none was made), or -1 with
/// errno when it could not start (its read end is closed then: a write to the pipe fails with
/// EPIPE). Called once per launch.
int corral_watchdog_launch_finish(corral_watchdog_launch *launch, pid_t *pid, int *pidfd);

/// pipe2(2) (a GNU extension Swift's Glibc module does not expose).
int corral_pipe2(int fds[2], int flags);

/// A non-blocking, close-on-exec eventfd(2) counter starting at zero (Swift's Glibc module
/// does not expose <sys/eventfd.h>).
int corral_eventfd(void);

/// accept4(2) (a GNU extension Swift's Glibc module does not expose); no peer address.
int corral_accept4(int fd, int flags);

/// How many processors this thread may run on (its affinity mask), or -1 (errno set).
int corral_usable_processors(void);

/// SIGRTMIN and SIGRTMAX (macros calling into libc).
int corral_sigrtmin(void);
int corral_sigrtmax(void);

#endif
