#pragma once
/// JobSpec and JobResult: what one item of the job list becomes, and what running it gave.
/// Both convert to and from JSON so that process-mode workers can receive and return them.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "captured_output.hpp"

// std::optional as null-or-value in JSON, for the structures below.
NLOHMANN_JSON_NAMESPACE_BEGIN
template <class T>
struct adl_serializer<std::optional<T>> {
  static void to_json(json& j, const std::optional<T>& value) {
    if (value)
      j = *value;
    else
      j = nullptr;
  }
  static void from_json(const json& j, std::optional<T>& value) {
    if (j.is_null())
      value.reset();
    else
      value = j.get<T>();
  }
};
NLOHMANN_JSON_NAMESPACE_END

namespace pexec::cli {

/// How a job ended, as reported in the "status" field.
enum class JobStatus {
  ok,         // ran and succeeded (exit 0; for URLs a status below 400)
  failed,     // non-zero exit or killed by a signal pexec did not send
  timeout,    // stopped by pexec at --timeout
  cancelled,  // never started
  killed,     // stopped by pexec: wait strategy, --deadline, or a signal to pexec
  error,      // could not start
};

NLOHMANN_JSON_SERIALIZE_ENUM(JobStatus, {{JobStatus::ok, "ok"},
                                         {JobStatus::failed, "failed"},
                                         {JobStatus::timeout, "timeout"},
                                         {JobStatus::cancelled, "cancelled"},
                                         {JobStatus::killed, "killed"},
                                         {JobStatus::error, "error"}})

/// Whether an item runs as a shell command or is fetched as a URL.
enum class JobKind { shell, url };
NLOHMANN_JSON_SERIALIZE_ENUM(JobKind, {{JobKind::shell, "shell"}, {JobKind::url, "url"}})

/// How URL jobs fetch (the URL options of the command line).
struct UrlOptions {
  std::string method = "GET";             // --method: any; POST when a body is given without it
  std::vector<std::string> headers;       // -H/--header "Name: value" (replacement strings: per job)
  long max_redirects = 10;                // --max-redirects
  std::optional<double> connect_timeout;  // --connect-timeout
  std::string output_dir;                 // --output-dir; empty: bodies are counted, not kept (unless -O)
  std::optional<std::int64_t> max_bytes;  // --max-bytes
  std::string output;                     // -O/--output TEMPLATE: the file under --output-dir (or .)
  bool create_dirs = false;               // --create-dirs: make --output-dir and -O's folders
  bool skip_existing = false;             // --skip-existing: no fetch when the output file exists
  bool stdout_body = false;               // --stdout-body: the body is the job's output
  std::optional<std::string> data;        // --data/--json TEMPLATE: the request body
  std::string data_file;                  // --data-file TEMPLATE: the file whose bytes are the body
  bool json = false;                      // --json: JSON content type and accept
  std::string user;                       // --user NAME:PASSWORD (basic authentication)
  std::string user_agent;                 // --user-agent; empty: pexec/VERSION
  bool insecure = false;                  // --insecure: no certificate or host name check
  std::string cacert;                     // --cacert FILE: the CAs to trust instead of the system's
  std::string cert, key;                  // --cert, --key: a client certificate (PEM)
  bool http1_1 = false;                   // --http1.1: no HTTP/2, so no multiplexing
  std::optional<int> max_per_host;        // --max-per-host N: transfers at once to one host
  std::optional<double> rate;             // --rate: job starts per second (jobs leave UrlJobs no faster)
  bool per_job_headers = false;           // some -H holds a replacement string: JobSpec.url.headers
  /// Whether requests carry a body (--data, --json or --data-file).
  bool has_body() const { return data || !data_file.empty(); }
  friend bool operator==(const UrlOptions&, const UrlOptions&) = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(UrlOptions, method, headers, max_redirects, connect_timeout, output_dir, max_bytes,
                                   output, create_dirs, skip_existing, stdout_body, data, data_file, json, user,
                                   user_agent, insecure, cacert, cert, key, http1_1, max_per_host, rate,
                                   per_job_headers)

/// What a URL job's request takes from the job itself: --data, --data-file, -H and -O with
/// their replacement strings expanded by the engine.
struct UrlJobParts {
  std::string data;                  // --data/--json's text for this job
  std::string data_file;             // --data-file's name for this job (read when the job starts)
  std::vector<std::string> headers;  // -H, when UrlOptions.per_job_headers
  std::string output;                // -O's name for this job
  friend bool operator==(const UrlJobParts&, const UrlJobParts&) = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(UrlJobParts, data, data_file, headers, output)

/// How jobs' output reaches pexec's stdout and stderr.
enum class OutputMode {
  group,    // each job's output whole, when it is reported (the default)
  line,     // --line-buffer: whole lines as they come, from any job
  ungroup,  // -u/--ungroup: bytes as they come
};
NLOHMANN_JSON_SERIALIZE_ENUM(OutputMode, {{OutputMode::group, "group"},
                                          {OutputMode::line, "line"},
                                          {OutputMode::ungroup, "ungroup"}})

/// What a job needs to write its output as it comes (--line-buffer, -u).
struct LiveOutputSettings {
  OutputMode mode = OutputMode::group;
  bool keep_order = false;                          // -k: only the oldest job not yet reported writes live
  bool tag = false;                                 // --tag: each line starts with the job's tag
  bool color_stdout = false, color_stderr = false;  // tags in colour there (--color)
  int shared_fd = -1;                               // SharedOutput's memfd, for process workers
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(LiveOutputSettings, mode, keep_order, tag, color_stdout, color_stderr, shared_fd)

/// A host of -S/--sshlogin as its jobs need it (ssh_connections.hpp opens it).
struct RemoteHost {
  std::string login;             // PARALLEL_SSHLOGIN: the login as given, without N/
  std::string host;              // PARALLEL_SSHHOST; empty: this machine (":")
  std::vector<std::string> ssh;  // a job session's ssh command and options, up to the destination
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(RemoteHost, login, host, ssh)

/// Where a job slot runs: its host, and the control socket of the ssh master its sessions share.
struct RemoteSlot {
  int host = 0;              // index into RemoteSettings::hosts
  std::string control_path;  // empty: a fresh login per job (--no-controlmaster)
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(RemoteSlot, host, control_path)

/// Where jobs run when -S gives hosts. Slots are spread over the hosts in turn, so that a run
/// of few jobs uses every host; each host has no more slots than its N/ (or -j, or CPU count).
struct RemoteSettings {
  std::vector<RemoteHost> hosts;
  std::vector<RemoteSlot> slots;     // slots[k - 1] is job slot k; empty: every job runs here
  std::string log_dir;               // each slot's ssh -E log is there: transport errors, not the job's
  std::vector<std::string> exports;  // --env: NAME=value, exported in each remote job
  bool cleanup = false;              // --cleanup: what was sent and returned is removed from the host
  std::string run_id;                // this run's name (host-pid): names the --workdir ... folders
  /// The host job slot `slot` runs on; nullptr when it runs on this machine.
  const RemoteHost* host_of(int slot) const {
    if (slot < 1 || static_cast<std::size_t>(slot) > slots.size()) return nullptr;
    const RemoteHost& host = hosts[static_cast<std::size_t>(slots[static_cast<std::size_t>(slot) - 1].host)];
    return host.host.empty() ? nullptr : &host;
  }
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(RemoteSettings, hosts, slots, log_dir, exports, cleanup, run_id)

/// --slurm: jobs run as steps of the Slurm allocation pexec runs in.
struct SlurmSettings {
  bool enabled = false;
  int cpus_per_task = 1;  // the allocation's SLURM_CPUS_PER_TASK
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SlurmSettings, enabled, cpus_per_task)

/// What every job of a run shares. It travels once: by reference to threads, and once to each
/// worker process (ProcessPoolExecutor's initargs; the URL worker's first message), never with
/// each job.
struct RunSettings {
  std::optional<double> timeout;  // --timeout
  double grace = 1.0;             // --grace
  UrlOptions url;                 // for URL jobs
  LiveOutputSettings output;      // for shell jobs
  RemoteSettings remote;          // -S: the hosts shell jobs run on
  std::string workdir;            // --workdir: "" the current folder here, the login's home on a host;
                                  // "..." a new folder per job, removed after it
  SlurmSettings slurm;            // --slurm
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(RunSettings, timeout, grace, url, output, remote, workdir, slurm)

/// One job to run, as the engine made it: its command line is complete before it leaves the
/// engine (the engine chooses the slot too), so workers only run it.
struct JobSpec {
  std::uint64_t seq = 0;  // 1-based position in the run ({#}, PARALLEL_SEQ)
  int slot = 1;           // the job slot ({%}, PARALLEL_JOBSLOT): the lowest one free
  std::string input;      // the job's arguments joined by a space (for a URL job, the URL)
  std::string command;    // a shell job's command line
  JobKind kind = JobKind::shell;
  int attempt = 1;                    // 2 and up: run again after a failure (--retries)
  std::string tag;                    // --tagstring made for this job; empty: the input is the tag
  std::vector<std::string> transfer;  // -S: --transferfile files sent to the job's host before it runs
  std::vector<std::string> returns;   // -S: --return files brought back after it ran
  UrlJobParts url;                    // a URL job's request parts made from its arguments
};
// The wire format to process-mode workers (not pexec's JSON lines output).
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(JobSpec, seq, slot, input, command, kind, attempt, tag, transfer, returns, url)

/// The outcome of one job, as every reporter needs it.
struct JobResult {
  std::uint64_t seq = 0;
  std::string input;
  std::string command;
  std::string kind = "shell";
  JobStatus status = JobStatus::cancelled;
  std::optional<int> exit_code;
  std::optional<int> signal;
  std::int64_t start_ms = 0;  // Unix time in milliseconds; 0 if it never started
  double duration_s = 0;
  CapturedOutput out;  // the job's stdout, byte for byte
  CapturedOutput err;  // the job's stderr
  std::string worker;
  std::string error;  // why it could not start or failed, for status error (and URL failures)
  // URL jobs only.
  std::optional<int> http_status;  // of the final response
  std::int64_t bytes = 0;          // body bytes received
  std::string content_type;
  std::string effective_url;  // after redirects
  std::string http_version;   // of the final response: "1.0", "1.1", "2", "3"
  bool skipped = false;       // --skip-existing: the output file was there, nothing fetched
  int attempts = 1;           // runs of this job so far, this one included (--retries)
  std::string tag;            // --tagstring's text for this job, or empty
  // Whether another attempt could succeed (--retries): any failure of a shell job; for a URL
  // job only a transient one (connection refused, timeout, 408, 429, 500, 502, 503, 504).
  bool retryable = true;
  std::optional<double> retry_after;  // seconds the server asked for (Retry-After)
  // --line-buffer, -u: the errno of a write of the job's output as it came that failed (EPIPE:
  // nobody reads pexec's output any more); the job was stopped then.
  int live_write_errno = 0;
  // -S: the login the job ran on (empty: this machine), and whether it failed because ssh
  // could not carry it (exit 255 with a line in ssh's log), not because of the job itself.
  std::string host;
  std::string step;  // --slurm: JOBID.STEPID
  bool transport_failure = false;
};
// The wire format back from process-mode workers; JsonLinesReporter writes pexec's own output.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(JobResult, seq, input, command, kind, status, exit_code, signal, start_ms,
                                   duration_s, out, err, worker, error, http_status, bytes, content_type, effective_url,
                                   http_version, skipped, attempts, tag, retryable, retry_after, live_write_errno, host,
                                   step, transport_failure)

/// The result of a job starting now, in `worker`: seq, input, kind, worker and start filled in.
JobResult started_result(const JobSpec& spec, const std::string& worker);

/// A result for a job that never ran (status cancelled) or whose worker was lost.
JobResult unstarted_result(const JobSpec& spec, JobStatus status, std::string error = {});

/// What a job ran, as reports name it: its shell command line, or its item (a URL job's URL;
/// a job that never got a command line).
inline const std::string& command_or_input(const JobResult& result) {
  return result.command.empty() ? result.input : result.command;
}

/// `url` as reports show it: a password in it (http://user:password@host/) becomes "***", as
/// curl hides it in its own output.
std::string url_for_display(const std::string& url);

/// Milliseconds since the Unix epoch as RFC 3339 UTC with milliseconds: 2026-11-22T03:14:47.123Z.
std::string rfc3339_utc(std::int64_t unix_ms);

}  // namespace pexec::cli
