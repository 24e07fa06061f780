#pragma once
/// The URL worker process: a UrlFetcher in a process of its own, this program started again
/// (as ProcessPoolExecutor starts its workers), fed jobs and answering results over two pipes in
/// CBOR frames. pexec itself then never loads libcurl. If the worker dies, the jobs it had are
/// reported with status error, or killed once stop() was called.

#include <memory>

#include "url_fetcher.hpp"

namespace pexec::cli {

/// Starts a worker process running at most `max_transfers` transfers with the run's `settings`
/// (sent once, as its first message). Its results are read when the caller's loop finds
/// results_fd() readable and calls take_results(); `done` is called there, on the caller's
/// thread (and from add() or stop() when the worker's pipe is full or the worker is gone).
std::unique_ptr<UrlFetcherHost> start_url_worker_process(int max_transfers, const RunSettings& settings,
                                                         UrlFetcher::Done done);

/// Serves URL jobs and exits if this process was started as a URL worker; returns at once
/// otherwise. Called at the top of main(), beside pexec::freeze_support().
void serve_url_jobs_if_worker();

}  // namespace pexec::cli
