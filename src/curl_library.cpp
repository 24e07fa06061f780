#include "curl_library.hpp"

#include <dlfcn.h>

#include <mutex>

namespace pexec::cli {

const CurlLibrary* curl_library(std::string& error) {
  static CurlLibrary curl;
  static std::string load_error;
  static std::once_flag loaded;
  std::call_once(loaded, [] {
    void* library = ::dlopen("libcurl.so.4", RTLD_LAZY | RTLD_LOCAL);
    if (!library) {
      load_error = std::string("cannot load libcurl: ") + ::dlerror();
      return;
    }
    // The first function libcurl.so.4 lacks, if any (a libcurl older than 7.80: no url_strerror).
    const char* missing = nullptr;
#define PEXEC_CURL_BIND(name)                                                         \
  curl.name = reinterpret_cast<decltype(curl.name)>(::dlsym(library, "curl_" #name)); \
  if (!curl.name && !missing) missing = "curl_" #name;
    PEXEC_CURL_FUNCTIONS(PEXEC_CURL_BIND)
#undef PEXEC_CURL_BIND
    if (missing) {
      load_error = std::string("libcurl.so.4 lacks ") + missing + " (pexec needs libcurl 7.80 or later)";
      return;
    }
    if (curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) load_error = "curl_global_init failed";
  });
  error = load_error;
  return load_error.empty() ? &curl : nullptr;
}

}  // namespace pexec::cli
