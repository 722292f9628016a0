/* One datagram of a fixed-size payload carrying up to two descriptors (SCM_RIGHTS): the
   zygote's requests, and the spawner's requests and replies. */
#ifndef CORRAL_RIGHTS_H
#define CORRAL_RIGHTS_H

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
    struct msghdr message;
    struct iovec vector;
    union {
        struct cmsghdr align;
        char bytes[CMSG_SPACE(sizeof(int) * 2)];
    } control;
} corral_rights_message;

/* A message whose payload is `length` bytes at `payload`, with room for two descriptors. */
static inline void corral_rights_init(corral_rights_message *m, void *payload, size_t length) {
    memset(m, 0, sizeof *m);
    m->vector.iov_base = payload;
    m->vector.iov_len = length;
    m->message.msg_iov = &m->vector;
    m->message.msg_iovlen = 1;
    m->message.msg_control = m->control.bytes;
    m->message.msg_controllen = sizeof m->control.bytes;
}

/* Sends the payload with `count` (0 to 2) descriptors; 0, or -1 with errno. */
static inline int corral_rights_send(int socket, corral_rights_message *m, const int *fds, int count) {
    if (count == 0) {
        m->message.msg_control = NULL;
        m->message.msg_controllen = 0;
    } else {
        m->message.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)count);
        struct cmsghdr *header = CMSG_FIRSTHDR(&m->message);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)count);
        memcpy(CMSG_DATA(header), fds, sizeof(int) * (size_t)count);
    }
    ssize_t sent;
    do {
        sent = sendmsg(socket, &m->message, MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    return sent == (ssize_t)m->vector.iov_len ? 0 : -1;
}

/* Receives one message; the descriptors that came with it (close-on-exec) are in fds[0..count),
   -1 where none came. Returns what recvmsg returned. */
static inline ssize_t corral_rights_receive(int socket, corral_rights_message *m, int *fds, int count) {
    ssize_t got;
    do {
        got = recvmsg(socket, &m->message, MSG_CMSG_CLOEXEC);
    } while (got < 0 && errno == EINTR);
    for (int i = 0; i < count; i++) fds[i] = -1;
    struct cmsghdr *header = got > 0 ? CMSG_FIRSTHDR(&m->message) : NULL;
    if (header != NULL && header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_RIGHTS) {
        size_t received = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < received; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(header) + i * sizeof(int), sizeof fd);
            if ((int)i < count) {
                fds[i] = fd;
            } else {
                close(fd);
            }
        }
    }
    return got;
}

#endif
