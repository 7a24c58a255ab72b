/* bench_learn_consent: gives every customer listed in a file (one id per
 * line) a training_use grant in a store, for bench/learn.sh; the same
 * ledger call the server's consent API makes. */
#include <stdio.h>
#include <string.h>

#include "parley/store.h"

int main(int argc, char **argv)
{
    parley_store *s = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    char line[256], id[24];
    size_t n = 0;
    int rc = 1;
    FILE *f;

    if (argc != 3) {
        (void)fputs("usage: bench_learn_consent STORE_URL CUSTOMERS_FILE\n", stderr);
        return 2;
    }
    if (!(f = fopen(argv[2], "r"))) {
        (void)fprintf(stderr, "bench_learn_consent: cannot read '%s'\n", argv[2]);
        return 1;
    }
    if (parley_store_open(argv[1], &s, &e) != PARLEY_OK)
        goto fail;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0])
            continue;
        parley_store_consent g;
        memset(&g, 0, sizeof(g));
        g.customer_id = line;
        g.scope = "training_use";
        g.limits = "{}";
        g.channel = "api";
        g.conversation_id = "";
        if (parley_store_consent_add(s, &g, id, &e) != PARLEY_OK)
            goto fail;
        n++;
    }
    (void)printf("%zu training_use grants\n", n);
    rc = 0;
    goto out;
fail:
    (void)fprintf(stderr, "bench_learn_consent: %s\n", e.msg);
out:
    parley_store_close(s);
    (void)fclose(f);
    return rc;
}
