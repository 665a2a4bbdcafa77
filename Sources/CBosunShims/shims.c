#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
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

static volatile pid_t bosun_agent_child = 0;

static void bosun_forward_signal(int signal_number) {
    if (bosun_agent_child > 0) kill(bosun_agent_child, signal_number);
}

/* Runs before main, before the Swift runtime starts any thread, so the fork copies one thread. */
__attribute__((constructor)) static void bosun_init_at_load(void) {
    bosun_init_if_pid1();
}

int bosun_init_if_pid1(void) {
    if (getpid() != 1) return 0;
    pid_t child = fork();
    if (child < 0) return 0;  /* cannot split: run as the agent, without reaping */
    if (child == 0) return 0;
    bosun_agent_child = child;
    static const int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
    for (unsigned i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) {
        struct sigaction action = {0};
        action.sa_handler = bosun_forward_signal;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_RESTART;
        sigaction(forwarded[i], &action, NULL);
    }
    for (;;) {
        int status = 0;
        pid_t reaped = waitpid(-1, &status, 0);
        if (reaped < 0) {
            if (errno == EINTR) continue;
            _exit(1);  /* no children at all: the agent is gone */
        }
        if (reaped == child) {
            if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
            _exit(128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0));
        }
    }
}
