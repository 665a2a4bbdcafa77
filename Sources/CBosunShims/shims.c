#define _GNU_SOURCE
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "CBosunShims.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

int bosun_pidfd_open(int pid) {
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

int bosun_pidfd_wait(int pidfd, int timeout_ms) {
    struct pollfd entry = {.fd = pidfd, .events = POLLIN};
    for (;;) {
        int ready = poll(&entry, 1, timeout_ms);
        if (ready >= 0) return ready > 0 ? 1 : 0;
    }
}
