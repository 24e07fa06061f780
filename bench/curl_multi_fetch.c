/* A floor for URL jobs: libcurl's multi interface alone, fetching the URLs on standard input
 * with N transfers at once on one thread (easy handles reused, bodies dropped), as one pexec loop
 * does but without pexec around it. Exit 1 unless every answer was a 200. Built and run by
 * bench/url-jobs.sh (FLOORS=yes): pexec's rate over this one is what pexec itself costs.
 *   curl_multi_fetch N [CAFILE] < urls */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t drop(char *data, size_t size, size_t count, void *user) {
  (void)data;
  (void)user;
  return size * count;
}

int main(int argc, char **argv) {
  int transfers = argc > 1 ? atoi(argv[1]) : 8;
  const char *cafile = argc > 2 ? argv[2] : NULL;
  size_t capacity = 1024, count = 0;
  char **urls = malloc(capacity * sizeof *urls);
  char line[4096];
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\r\n")] = 0;
    if (count == capacity) urls = realloc(urls, (capacity *= 2) * sizeof *urls);
    urls[count++] = strdup(line);
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLM *multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  size_t next = 0, ok = 0, done = 0;
  for (int i = 0; i < transfers && next < count; ++i) {
    CURL *easy = curl_easy_init();
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, drop);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_PIPEWAIT, 1L);
    if (cafile) curl_easy_setopt(easy, CURLOPT_CAINFO, cafile);
    curl_easy_setopt(easy, CURLOPT_URL, urls[next++]);
    curl_multi_add_handle(multi, easy);
  }
  while (done < count) {
    int running = 0;
    curl_multi_perform(multi, &running);
    CURLMsg *message;
    int left;
    while ((message = curl_multi_info_read(multi, &left))) {
      if (message->msg != CURLMSG_DONE) continue;
      CURL *easy = message->easy_handle;
      long status = 0;
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
      if (message->data.result == CURLE_OK && status == 200) ++ok;
      ++done;
      curl_multi_remove_handle(multi, easy);
      if (next < count) {
        curl_easy_setopt(easy, CURLOPT_URL, urls[next++]);
        curl_multi_add_handle(multi, easy);
      }
    }
    if (done < count) curl_multi_poll(multi, NULL, 0, 1000, NULL);
  }
  fprintf(stderr, "curl_multi_fetch: %zu ok of %zu\n", ok, count);
  return ok == count ? 0 : 1;
}
