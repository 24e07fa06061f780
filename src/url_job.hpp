#pragma once
/// run_url_job(): fetches one http or https URL with libcurl in the calling thread. Each thread
/// (or process-mode worker) keeps one curl handle between jobs, so connections are reused
/// (keep-alive; HTTP/2 over TLS where offered). libcurl is initialised on the first URL job
/// only. Only http and https are allowed, redirects included. A raised running_jobs_stop()
/// aborts the transfer (status killed) within about a second.

#include <cstdint>
#include <string>
#include <string_view>

#include "job.hpp"

namespace pexec::cli {

/// Whether an item is a URL job's: it starts with http:// or https:// (scheme in any case).
bool is_url(std::string_view item);

/// The file a body is saved to inside --output-dir: "{#}-" plus the URL's last path segment,
/// reduced to [A-Za-z0-9._-] ("index" when empty). It never holds a "/", so it cannot leave DIR.
std::string output_file_name(std::uint64_t seq, std::string_view url);

/// Fetches spec.input as described by spec.url and spec.timeout; never throws for a failed fetch.
JobResult run_url_job(const JobSpec& spec, const std::string& worker);

}  // namespace pexec::cli
