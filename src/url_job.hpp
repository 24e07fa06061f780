#pragma once
/// UrlJob: one URL job's fetch (one attempt: the engine runs a job again for --retries), on a
/// curl easy handle that a UrlFetcher lends it. It sets the handle up for the job (only http and
/// https, redirects included; its body, headers and output file), keeps the body sink, and builds
/// the job's result, saying whether the failure is worth another attempt and what Retry-After
/// asked for.
///
/// A saved body is written to NAME.SEQ.part and renamed to NAME when the job succeeds; a job that
/// fails leaves no file, so --skip-existing never takes a piece of a body for a whole one.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "curl_library.hpp"
#include "job.hpp"

namespace pexec::cli {

/// Whether an item is a URL job's: it starts with http:// or https:// (scheme in any case).
bool is_url(std::string_view item);

/// The file a body is saved to inside --output-dir without -O: "{#}-" plus the URL's last path
/// segment, reduced to [A-Za-z0-9._-] ("index" when empty). It never holds a "/", so it cannot
/// leave DIR.
std::string output_file_name(std::uint64_t seq, std::string_view url);

/// Why -O's `name` (expanded for a job) cannot name a file under --output-dir: empty, absolute,
/// a ".." component, or ending in "/"; empty if it can.
std::string unsafe_output_name(std::string_view name);

class UrlJob {
 public:
  /// Sets `curl` up for the options every job of a run shares (method, headers, limits,
  /// protocols); libcurl copies and parses them, so a fetcher does it once per handle, not once
  /// per job. `headers` receives the header list, which must outlive the handle's use.
  static void configure_handle(const CurlLibrary& lib, CURL* curl, const RunSettings& settings, curl_slist*& headers);

  /// The job starts now, in `worker`; `settings` must outlive it.
  UrlJob(JobSpec spec, const RunSettings& settings, const std::string& worker);
  ~UrlJob();
  UrlJob(const UrlJob&) = delete;
  UrlJob& operator=(const UrlJob&) = delete;

  const JobSpec& spec() const { return spec_; }

  /// Points `curl` (already configured for this job's options) at this job, with `parsed`, a URL
  /// handle of the same owner, holding its URL. False if the transfer cannot start (not a URL,
  /// output file not writable, --skip-existing found the file): the job is done.
  bool begin(const CurlLibrary& lib, CURL* curl, CURLU* parsed);

  /// Ends the job whose transfer finished with `code`: result() is final.
  void end(const CurlLibrary& lib, CURL* curl, CURLcode code);

  /// Marks the job stopped by pexec (status killed), mid-transfer.
  void stop();
  /// Ends the job with status error before any attempt (no handle to be had).
  void fail(std::string error) { finish(JobStatus::error, std::move(error)); }

  /// The result so far; final once begin() returned false, end() was called, or stop().
  JobResult& result() { return result_; }

 private:
  /// The body sink: counts bytes, enforces --max-bytes, writes to the output file or keeps the
  /// bytes as the job's output (--stdout-body).
  struct Body {
    std::int64_t bytes = 0;
    std::optional<std::int64_t> max_bytes;
    int fd = -1;
    CapturedOutput* kept = nullptr;
    bool too_large = false;
    int write_errno = 0;  // why writing to the output file failed
  };
  static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user);
  /// Opens the output file (NAME.SEQ.part); false with the job finished if it cannot, or if
  /// --skip-existing finds NAME.
  bool open_output();
  /// Where the body is written until the job succeeds.
  std::string part_name() const;
  /// Closes the output file: renamed to its name if `keep`, removed otherwise.
  void close_output(bool keep);
  void finish(JobStatus status, std::string error = {});

  JobSpec spec_;
  const RunSettings& settings_;
  JobResult result_;
  std::int64_t started_ns_;  // steady clock, for duration_s
  Body body_;
  std::string body_text_;             // --data-file's bytes (--data's text is in spec_)
  const CurlLibrary* lib_ = nullptr;  // from begin() on
  curl_slist* headers_ = nullptr;     // this job's -H list, when they hold replacement strings
  int output_dir_fd_ = -1;            // the folder the output file is in
  std::string output_name_;           // its name there (without .SEQ.part)
  char error_text_[CURL_ERROR_SIZE] = "";
};

}  // namespace pexec::cli
