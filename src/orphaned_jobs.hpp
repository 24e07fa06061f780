#pragma once
/// Orphaned jobs: in process mode, a job's parent is its worker process. If the worker dies
/// (SIGKILL from someone else, or from pexec because it stopped answering), the job would be
/// re-parented to init and outlive pexec. So in process mode pexec is the child subreaper of
/// its workers' descendants: such a job becomes pexec's child, and stop_orphaned_jobs() stops
/// its process group and reaps it. Passive: the process-mode executor calls it now and then and
/// at the end of the run.
///
/// pexec's own workers share pexec's process group, and a job leads a group of its own in
/// pexec's session, so among pexec's children an orphaned job leader is one that leads its own
/// group in pexec's session; any other adopted child (a job's daemon) is only reaped if it exited.

namespace pexec::cli {

/// Makes this process the subreaper of its descendants (PR_SET_CHILD_SUBREAPER).
void adopt_orphaned_jobs();

/// SIGKILLs every worker process (a child in this process's group) that is stopped (SIGSTOP):
/// its pool then reports its job, and its job becomes an orphaned job. Returns how many.
int kill_stopped_workers();

/// SIGKILLs the process group of every orphaned job leader among this process's children and
/// reaps every adopted child that has exited; returns how many groups it stopped.
int stop_orphaned_jobs();

}  // namespace pexec::cli
