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

/// Drops the pages of this process's code and read-only file data (its own executable and the
/// libraries it maps) from its resident set, and marks those mappings MADV_RANDOM so later faults
/// bring in the one page touched rather than the kernel's fault-around neighbours. Mappings the
/// process wrote to (copy-on-write data) are left alone. The pages stay in the page cache; what the
/// process runs again faults back in. Returns the bytes of mappings advised, -1 on error.
long bosun_trim_file_pages(void);

#endif
