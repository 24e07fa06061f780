#pragma once
/// The worker side of ProcessPoolExecutor. A pool starts its workers by executing the current
/// program image again (never by fork() alone), with the environment variable
/// PEXEC_PROCESS_WORKER set; such a process must serve tasks instead of running the program.
/// So a program that uses ProcessPoolExecutor calls freeze_support() first thing in main(), as
/// Python programs call multiprocessing.freeze_support():
///
///     int main(int argc, char** argv) {
///       pexec::freeze_support();   // returns at once unless this process is a pool worker
///       ...
///
/// A worker reads requests from fd 3 (the first one, when the pool has an initializer, its
/// initargs) and writes responses to fd 4 (see detail/frames.hpp); its
/// stdin is /dev/null and it shares the parent's stdout and stderr. It exits when the pool
/// closes fd 3, after max_tasks_per_child tasks, or with status 1 if its initializer throws.

#include <unistd.h>

#include <cstdlib>
#include <exception>
#include <string>

#include <nlohmann/json.hpp>

#include "pexec/detail/frames.hpp"
#include "pexec/detail/spawn_self.hpp"
#include "pexec/detail/type_name.hpp"
#include "pexec/logging.hpp"
#include "pexec/registry.hpp"
#include "pexec/worker_identity.hpp"

namespace pexec {

namespace detail {

inline constexpr const char* kWorkerVariable = "PEXEC_PROCESS_WORKER";

/// What the worker can tell of a task's exception, as CPython's _RemoteTraceback text.
inline std::string remote_traceback(const std::exception_ptr& error, const std::string& function) {
  std::string text = "Traceback (worker " + this_worker().name + ", task " + function + "):\n";
  std::vector<ExceptionDescription> chain = describe_chain(error);
  for (std::size_t i = 0; i < chain.size(); ++i) {
    if (i > 0) text += "\nThe above exception was the direct cause of the following exception:\n\n";
    text += chain[i].type + ": " + chain[i].message + "\n";
  }
  return text;
}

/// Runs one request: {"id", "fn", "args": [...]} or {"id", "fn", "chunk": [[...], ...]}.
inline nlohmann::json serve(const nlohmann::json& request) {
  nlohmann::json response = {{"id", request.at("id")}};
  try {
    auto found = registry().by_name.find(request.at("fn").get<std::string>());
    if (found == registry().by_name.end()) {
      throw std::invalid_argument("no function registered as " + request.at("fn").get<std::string>());
    }
    const RegisteredFunction& function = found->second;
    if (request.contains("chunk")) {
      // A chunk fails as a whole: results before the failing item are not sent (as in Python).
      nlohmann::json results = nlohmann::json::array();
      for (const auto& args : request.at("chunk")) results.push_back(function.invoke(function.fn, args));
      response["result"] = std::move(results);
    } else {
      response["result"] = function.invoke(function.fn, request.at("args"));
    }
  } catch (...) {
    ExceptionDescription error = describe(std::current_exception());
    std::string function =
        request.contains("fn") && request.at("fn").is_string() ? request.at("fn").get<std::string>() : "?";
    response["error"] = {{"type", error.type},
                         {"message", error.message},
                         {"traceback", remote_traceback(std::current_exception(), function)}};
  }
  return response;
}

}  // namespace detail

/// Serves tasks and exits if this process was started as a ProcessPoolExecutor worker; returns
/// at once otherwise. Call it at the top of main().
inline void freeze_support() {
  const char* role = std::getenv(detail::kWorkerVariable);
  if (!role) return;
  // "index:max_tasks:initializer"; removed so that programs the tasks start are not workers.
  std::string spec = role;
  unsetenv(detail::kWorkerVariable);
  std::size_t first = spec.find(':'), second = spec.find(':', first + 1);
  int index = std::atoi(spec.substr(0, first).c_str());
  long max_tasks = std::atol(spec.substr(first + 1, second - first - 1).c_str());
  std::string initializer = spec.substr(second + 1);

  detail::this_worker() = {"pid:" + std::to_string(::getpid()), index};
  std::string buffer;
  if (!initializer.empty()) {
    try {
      auto found = detail::registry().by_name.find(initializer);
      if (found == detail::registry().by_name.end()) throw std::invalid_argument("initializer is not registered");
      // The pool's first message to a worker with an initializer: {"initargs": [...]}.
      std::optional<nlohmann::json> initargs = detail::read_frame(detail::kRequestFd, buffer);
      if (!initargs) std::exit(0);  // the pool is gone before the worker started
      found->second.invoke(found->second.fn, initargs->at("initargs"));
    } catch (...) {
      auto error = detail::describe(std::current_exception());
      log_error("Exception in initializer: " + error.type + ": " + error.message);
      std::fflush(stdout);
      std::_Exit(1);
    }
  }
  long served = 0;
  while (max_tasks <= 0 || served < max_tasks) {
    auto request = detail::read_frame(detail::kRequestFd, buffer);
    if (!request) break;
    nlohmann::json response = detail::serve(*request);
    std::fflush(stdout);
    if (!detail::write_all(detail::kResponseFd, detail::encode_frame(response))) break;
    ++served;
  }
  std::exit(0);
}

}  // namespace pexec
