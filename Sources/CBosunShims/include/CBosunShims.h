#ifndef C_BOSUN_SHIMS_H
#define C_BOSUN_SHIMS_H

/// pidfd_open(2): a descriptor that becomes readable when the process exits; works for processes
/// that are not our children (daemons started by a job's ctl script). Returns -1 on failure.
int bosun_pidfd_open(int pid);

/// Blocks until the pidfd is readable (the process exited) or `timeout_ms` passes (-1: forever).
/// Returns 1 when it exited, 0 on timeout, -1 on error.
int bosun_pidfd_wait(int pidfd, int timeout_ms);

#endif
