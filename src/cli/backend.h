/* The CLI's carrier backend: starts and stops a telco-sim child process for
 * `parley chat` and `parley test`, and sends it plain JSON requests. */
#ifndef PARLEY_CLI_BACKEND_H
#define PARLEY_CLI_BACKEND_H

#include <stddef.h>
#include <sys/types.h>

/* A running telco-sim. */
struct backend {
    pid_t pid;
    int out_fd;   /* its stdout (read end of a pipe) */
    int err_fd;   /* its stderr: an unlinked temporary file, read on failure */
    char url[96]; /* "http://127.0.0.1:PORT" */
};

/* How to start one. Zero-initialise; NULL fields take the defaults. */
struct backend_options {
    const char *binary;  /* NULL: $PARLEY_TELCO_SIM, then tools/telco-sim/telco-sim
                          * beside the parley binary, then telco-sim on PATH */
    const char *db;      /* NULL: ":memory:" */
    const char *seed;    /* NULL: telco-sim's default (the tau2 data set) */
    unsigned timeout_ms; /* to wait for "listening on"; 0: 10 s */
};

/* Starts telco-sim on a free loopback port and waits until it listens.
 * Returns 0, or -1 with a message naming the binary and what it printed in
 * `err` (nothing is left running). The child dies with its parent thread
 * (PR_SET_PDEATHSIG) and sits in its own process group, so a Ctrl-C in the
 * terminal reaches only parley, which stops it. */
int backend_start(const struct backend_options *opts, struct backend *b, char *err, size_t errlen);

/* Stops it: SIGTERM, then SIGKILL after 5 s, and waits. Returns 0 when it
 * exited cleanly. Safe on a never-started (pid <= 0) backend. */
int backend_stop(struct backend *b);

/* Sends `method` `base_url``path` with an optional JSON body and returns
 * the HTTP status and the response body (NUL-terminated, caller frees;
 * may be NULL on failure). Returns 0 when an answer came back (any
 * status), -1 with a message in `err` otherwise. */
int backend_request(const char *base_url, const char *method, const char *path,
                    const char *json_body, long *status, char **response_text, char *err,
                    size_t errlen);

#endif
