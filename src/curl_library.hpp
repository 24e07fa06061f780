#pragma once
/// CurlLibrary: libcurl, loaded with dlopen() when the first URL job runs. Linking it would make
/// every pexec start map libcurl and its TLS, HTTP/2, LDAP and Kerberos libraries (about 6 ms
/// and 6 MB per run), which shell-only runs never use.

#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

#include <string>

namespace pexec::cli {

struct CurlLibrary {
  decltype(&::curl_global_init) global_init;
  decltype(&::curl_easy_init) easy_init;
  decltype(&::curl_easy_cleanup) easy_cleanup;
  decltype(&::curl_easy_reset) easy_reset;
  decltype(&::curl_easy_setopt) easy_setopt;
  decltype(&::curl_easy_getinfo) easy_getinfo;
  decltype(&::curl_easy_strerror) easy_strerror;
  decltype(&::curl_slist_append) slist_append;
  decltype(&::curl_slist_free_all) slist_free_all;
  decltype(&::curl_multi_init) multi_init;
  decltype(&::curl_multi_cleanup) multi_cleanup;
  decltype(&::curl_multi_add_handle) multi_add_handle;
  decltype(&::curl_multi_remove_handle) multi_remove_handle;
  decltype(&::curl_multi_perform) multi_perform;
  decltype(&::curl_multi_poll) multi_poll;
  decltype(&::curl_multi_wakeup) multi_wakeup;
  decltype(&::curl_multi_info_read) multi_info_read;
};

/// The loaded and initialised library (curl_global_init done once), or nullptr with `error` set
/// if libcurl.so.4 cannot be loaded. Thread-safe.
const CurlLibrary* curl_library(std::string& error);

}  // namespace pexec::cli
