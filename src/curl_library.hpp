#pragma once
/// CurlLibrary: libcurl, loaded with dlopen() when the first URL job runs. Linking it would make
/// every pexec start map libcurl and the 30 libraries under it (TLS, HTTP/2, LDAP, Kerberos...),
/// which shell-only runs never use: measured, `pexec ::: true` then takes 25 ms instead of 11 ms
/// and 10 MB instead of 4 MB (xargs: 14 ms). So `ldd pexec` does not list libcurl: the Debian
/// package declares it (libcurl4), and url_e2e_test checks that only URL jobs load it.

#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

#include <string>

namespace pexec::cli {

/// Every libcurl function pexec calls, named once: the struct's members and the dlsym() calls
/// that fill them are both made from this list, with each function's type taken from curl.h.
#define PEXEC_CURL_FUNCTIONS(X)                                                                                  \
  X(global_init)                                                                                                 \
  X(easy_init)                                                                                                   \
  X(easy_cleanup)                                                                                                \
  X(easy_reset)                                                                                                  \
  X(easy_setopt)                                                                                                 \
  X(easy_getinfo)                                                                                                \
  X(easy_strerror)                                                                                               \
  X(slist_append)                                                                                                \
  X(slist_free_all)                                                                                              \
  X(multi_init)                                                                                                  \
  X(multi_cleanup)                                                                                               \
  X(multi_setopt)                                                                                                \
  X(multi_add_handle)                                                                                            \
  X(multi_remove_handle)                                                                                         \
  X(multi_perform)                                                                                               \
  X(multi_poll)                                                                                                  \
  X(multi_wakeup)                                                                                                \
  X(multi_info_read)                                                                                             \
  X(url)                                                                                                         \
  X(url_set)                                                                                                     \
  X(url_cleanup)                                                                                                 \
  X(url_strerror)

struct CurlLibrary {
#define PEXEC_CURL_MEMBER(name) decltype(&::curl_##name) name;
  PEXEC_CURL_FUNCTIONS(PEXEC_CURL_MEMBER)
#undef PEXEC_CURL_MEMBER
};

/// The loaded and initialised library (curl_global_init done once), or nullptr with `error` set
/// if libcurl.so.4 cannot be loaded. Thread-safe.
const CurlLibrary* curl_library(std::string& error);

}  // namespace pexec::cli
