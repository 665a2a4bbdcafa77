#ifndef C_BOSUN_SHIMS_H
#define C_BOSUN_SHIMS_H

/// pidfd_open(2): a descriptor that becomes readable when the process exits; works for processes
/// that are not our children (daemons started by a job's ctl script). Returns -1 on failure.
int bosun_pidfd_open(int pid);

/// Blocks until the pidfd is readable (the process exited) or `timeout_ms` passes (-1: forever).
/// Returns 1 when it exited, 0 on timeout, -1 on error.
int bosun_pidfd_wait(int pidfd, int timeout_ms);

/// When this process is PID 1 of a VM (a local-CPI container), splits it in two before anything
/// else runs: the child returns 0 and goes on as the agent; the parent stays PID 1 for good, reaps
/// every orphan the VM's jobs leave behind (daemons whose ctl script exited, their children),
/// forwards SIGTERM/SIGINT/SIGHUP/SIGQUIT/SIGUSR1/SIGUSR2 to the agent, and exits with the agent's
/// status — which ends the VM, as the agent's exit did before. Not PID 1: returns 0 at once.
/// Called by a constructor when the library loads, i.e. before `main` and any thread.
int bosun_init_if_pid1(void);

#endif
