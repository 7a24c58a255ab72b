/* telco-sim: the outgoing webhooks (--events-url, --sms-url) share this:
 * a URL, an optional bearer key, and one JSON POST at a time on a reused
 * curl handle from a background thread. */
#include "telco.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int telco_hook_init(struct telco_hook *h, const char *url, const char *key)
{
    memset(h, 0, sizeof(*h));
    if (!url)
        return 0;
    h->url = strdup(url);
    if (key) {
        size_t n = strlen("Authorization: Bearer ") + strlen(key) + 1;
        if ((h->auth = malloc(n)) != NULL)
            (void)snprintf(h->auth, n, "Authorization: Bearer %s", key);
    }
    if (!h->url || (key && !h->auth)) {
        telco_hook_free(h);
        (void)fprintf(stderr, "telco-sim: out of memory\n");
        return -1;
    }
    return 0;
}

void telco_hook_free(struct telco_hook *h)
{
    free(h->url);
    free(h->auth);
    h->url = h->auth = NULL;
}

static size_t discard(char *ptr, size_t size, size_t nmemb, void *ud)
{
    (void)ptr;
    (void)ud;
    return size * nmemb;
}

long telco_hook_post(const struct telco_hook *h, CURL *c, const char *body, long timeout_ms,
                     const char *what)
{
    struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
    long status = 0;
    if (hd && h->auth)
        hd = curl_slist_append(hd, h->auth);
    if (hd) {
        curl_easy_reset(c);
        (void)curl_easy_setopt(c, CURLOPT_URL, h->url);
        (void)curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        (void)curl_easy_setopt(c, CURLOPT_HTTPHEADER, hd);
        (void)curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
        (void)curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        (void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
        CURLcode rc = curl_easy_perform(c);
        if (rc == CURLE_OK)
            (void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        else /* the body may be a customer's: never logged, nor the key */
            (void)fprintf(stderr, "telco-sim: %s delivery to %s failed: %s\n", what, h->url,
                          curl_easy_strerror(rc));
    }
    curl_slist_free_all(hd);
    return status;
}
