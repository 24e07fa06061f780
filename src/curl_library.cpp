#include "curl_library.hpp"

#include <dlfcn.h>

#include <mutex>

namespace pexec::cli {

namespace {

template <class F>
bool bind(void* library, const char* name, F& function) {
  function = reinterpret_cast<F>(::dlsym(library, name));
  return function != nullptr;
}

}  // namespace

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
    bool complete =
        bind(library, "curl_global_init", curl.global_init) && bind(library, "curl_easy_init", curl.easy_init) &&
        bind(library, "curl_easy_cleanup", curl.easy_cleanup) && bind(library, "curl_easy_reset", curl.easy_reset) &&
        bind(library, "curl_easy_setopt", curl.easy_setopt) && bind(library, "curl_easy_getinfo", curl.easy_getinfo) &&
        bind(library, "curl_easy_strerror", curl.easy_strerror) &&
        bind(library, "curl_slist_append", curl.slist_append) &&
        bind(library, "curl_slist_free_all", curl.slist_free_all) &&
        bind(library, "curl_multi_init", curl.multi_init) && bind(library, "curl_multi_cleanup", curl.multi_cleanup) &&
        bind(library, "curl_multi_add_handle", curl.multi_add_handle) &&
        bind(library, "curl_multi_remove_handle", curl.multi_remove_handle) &&
        bind(library, "curl_multi_perform", curl.multi_perform) && bind(library, "curl_multi_poll", curl.multi_poll) &&
        bind(library, "curl_multi_wakeup", curl.multi_wakeup) &&
        bind(library, "curl_multi_info_read", curl.multi_info_read);
    if (!complete) {
      load_error = "libcurl.so.4 lacks a function pexec needs";
      return;
    }
    if (curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) load_error = "curl_global_init failed";
  });
  error = load_error;
  return load_error.empty() ? &curl : nullptr;
}

}  // namespace pexec::cli
