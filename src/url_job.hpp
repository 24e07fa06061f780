#pragma once
/// UrlJob: one URL job's fetch (one attempt: the engine runs a job again for --retries), on a
/// curl easy handle that a UrlFetcher lends it. It sets the handle up for the job (only http and
/// https, redirects included), keeps the body sink, and builds the job's result, saying whether
/// the failure is worth another attempt and what Retry-After asked for.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "curl_library.hpp"
#include "job.hpp"

namespace pexec::cli {

/// Whether an item is a URL job's: it starts with http:// or https:// (scheme in any case).
bool is_url(std::string_view item);

/// The file a body is saved to inside --output-dir: "{#}-" plus the URL's last path segment,
/// reduced to [A-Za-z0-9._-] ("index" when empty). It never holds a "/", so it cannot leave DIR.
std::string output_file_name(std::uint64_t seq, std::string_view url);

class UrlJob {
 public:
  /// Sets `curl` up for the options every job of a run shares (method, headers, limits,
  /// protocols); libcurl copies and parses them, so a fetcher does it once per handle, not once
  /// per job. `headers` receives the header list, which must outlive the handle's use.
  static void configure_handle(const CurlLibrary& lib, CURL* curl, const RunSettings& settings, curl_slist*& headers);

  /// The job starts now, in `worker`; `settings` must outlive it.
  UrlJob(JobSpec spec, const RunSettings& settings, const std::string& worker);
  UrlJob(const UrlJob&) = delete;
  UrlJob& operator=(const UrlJob&) = delete;

  const JobSpec& spec() const { return spec_; }

  /// Points `curl` (already configured for this job's options) at this job.
  /// False if the transfer cannot start (not a URL, output file not writable): the job is done.
  bool begin(const CurlLibrary& lib, CURL* curl);

  /// Ends the job whose transfer finished with `code`: result() is final.
  void end(const CurlLibrary& lib, CURL* curl, CURLcode code);

  /// Marks the job stopped by pexec (status killed), mid-transfer.
  void stop();
  /// Ends the job with status error before any attempt (no handle to be had).
  void fail(std::string error) { finish(JobStatus::error, std::move(error)); }

  /// The result so far; final once begin() returned false, end() was called, or stop().
  JobResult& result() { return result_; }

 private:
  /// The body sink: counts bytes, enforces --max-bytes, writes to the output file.
  struct Body {
    std::int64_t bytes = 0;
    std::optional<std::int64_t> max_bytes;
    int fd = -1;
    bool too_large = false;
    int write_errno = 0;  // why writing to the output file failed
  };
  static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user);
  void finish(JobStatus status, std::string error = {});

  JobSpec spec_;
  const RunSettings& settings_;
  JobResult result_;
  std::int64_t started_ns_;  // steady clock, for duration_s
  Body body_;
  char error_text_[CURL_ERROR_SIZE] = "";
};

}  // namespace pexec::cli
