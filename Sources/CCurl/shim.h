#ifndef LOCKSTEP_CCURL_SHIM_H
#define LOCKSTEP_CCURL_SHIM_H
/* libcurl (Debian's libcurl4-openssl-dev), which lockstepd's delivery uses to send codes by
   SMTP and to SMS providers' HTTPS APIs. curl_easy_setopt and curl_easy_getinfo are variadic,
   which Swift cannot call, so each kind of argument gets a wrapper of its own. */
#include <curl/curl.h>

/* A callback of CURLOPT_READFUNCTION or CURLOPT_WRITEFUNCTION. */
typedef size_t (*lockstep_curl_data_callback)(char *buffer, size_t size, size_t count, void *context);

static inline CURLcode lockstep_curl_setopt_long(CURL *handle, CURLoption option, long value) {
  return curl_easy_setopt(handle, option, value);
}

static inline CURLcode lockstep_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
  return curl_easy_setopt(handle, option, value);
}

static inline CURLcode lockstep_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
  return curl_easy_setopt(handle, option, value);
}

static inline CURLcode lockstep_curl_setopt_callback(
    CURL *handle, CURLoption option, lockstep_curl_data_callback callback) {
  return curl_easy_setopt(handle, option, callback);
}

static inline CURLcode lockstep_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
  return curl_easy_getinfo(handle, info, value);
}
#endif
