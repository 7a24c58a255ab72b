/* Starts and stops telco-sim as a child process (free port, its own process
 * group, dies with its parent) and sends it JSON requests with libcurl. */
#define _GNU_SOURCE /* pipe2, memfd_create */
#include "backend.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "parley/common.h"

#define STOP_GRACE_MS   5000
#define START_TIMEOUT   10000
#define MAX_RESPONSE    (16u << 20)
#define REQUEST_TIMEOUT 30L

PARLEY_PRINTF(3, 4)
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    (void)vsnprintf(err, errlen, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
    va_end(ap);
}

static long now_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int is_executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* Finds the telco-sim binary (see backend_options.binary) into `out`. */
static int find_binary(const char *given, char *out, size_t outlen, char *err, size_t errlen)
{
    const char *env = getenv("PARLEY_TELCO_SIM");
    char self[PATH_MAX];
    ssize_t n;

    if (given || (env && *env)) {
        const char *p = given ? given : env;
        if (!is_executable(p)) {
            set_err(err, errlen, "cannot run telco-sim '%s'%s: not an executable file", p,
                    given ? "" : " (from PARLEY_TELCO_SIM)");
            return -1;
        }
        (void)snprintf(out, outlen, "%s", p);
        return 0;
    }
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            if (snprintf(out, outlen, "%s/tools/telco-sim/telco-sim", self) < (int)outlen &&
                is_executable(out))
                return 0;
        }
    }
    const char *path = getenv("PATH");
    while (path && *path) {
        size_t len = strcspn(path, ":");
        if (len && snprintf(out, outlen, "%.*s/telco-sim", (int)len, path) < (int)outlen &&
            is_executable(out))
            return 0;
        path += len + (path[len] == ':');
    }
    set_err(err, errlen,
            "cannot find telco-sim: not beside the parley binary (tools/telco-sim/telco-sim) "
            "nor on PATH; build it or set PARLEY_TELCO_SIM");
    return -1;
}

/* The last `max` bytes the child wrote to its stderr file, one line. */
static void read_stderr(int fd, char *buf, size_t max)
{
    off_t size = lseek(fd, 0, SEEK_END);
    off_t from = size > (off_t)(max - 1) ? size - (off_t)(max - 1) : 0;
    ssize_t n = size > 0 ? pread(fd, buf, (size_t)(size - from), from) : 0;
    buf[n > 0 ? n : 0] = '\0';
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    for (size_t len = strlen(buf); len && buf[len - 1] == ' ';)
        buf[--len] = '\0';
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        (void)close(*fd);
    *fd = -1;
}

/* Waits for `pid` up to `ms` milliseconds; 1 when it was reaped. */
static int reap(pid_t pid, int *status, long ms)
{
    long deadline = now_ms() + ms;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR))
            return 1;
        if (now_ms() >= deadline)
            return 0;
        (void)usleep(10000);
    }
}

int backend_stop(struct backend *b)
{
    int status = 0, rc = -1;
    if (b->pid > 0) {
        (void)kill(-b->pid, SIGTERM);
        if (!reap(b->pid, &status, STOP_GRACE_MS)) {
            (void)kill(-b->pid, SIGKILL);
            while (waitpid(b->pid, &status, 0) < 0 && errno == EINTR)
                ;
        } else {
            rc = WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
        }
    }
    b->pid = -1;
    close_fd(&b->out_fd);
    close_fd(&b->err_fd);
    return rc;
}

/* Reads the child's first stdout line within the deadline into `line`.
 * Returns 0, 1 on end of file, -1 on timeout. */
static int read_first_line(int fd, char *line, size_t cap, long deadline)
{
    size_t len = 0;
    while (len + 1 < cap) {
        long left = deadline - now_ms();
        struct pollfd p = {fd, POLLIN, 0};
        if (left <= 0)
            return -1;
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        ssize_t n = read(fd, line + len, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 1;
        if (line[len] == '\n')
            break;
        len++;
    }
    line[len] = '\0';
    return 0;
}

int backend_start(const struct backend_options *opts, struct backend *b, char *err, size_t errlen)
{
    static const char prefix[] = "listening on ";
    char bin[PATH_MAX], line[256], why[400];
    int out[2] = {-1, -1}, rc = -1, status = 0;
    const char *argv[10];
    size_t argc = 0;
    pid_t parent = getpid();

    b->pid = -1;
    b->out_fd = b->err_fd = -1;
    b->url[0] = '\0';
    if (find_binary(opts->binary, bin, sizeof(bin), err, errlen) != 0)
        return -1;
    argv[argc++] = bin;
    argv[argc++] = "--port";
    argv[argc++] = "0";
    argv[argc++] = "--db";
    argv[argc++] = opts->db ? opts->db : ":memory:";
    if (opts->seed) {
        argv[argc++] = "--seed";
        argv[argc++] = opts->seed;
    }
    argv[argc] = NULL;

    b->err_fd = memfd_create("telco-sim-stderr", MFD_CLOEXEC);
    if (b->err_fd < 0 || pipe2(out, O_CLOEXEC) != 0) {
        set_err(err, errlen, "cannot start telco-sim '%s': %s", bin, strerror(errno));
        goto out;
    }
    b->pid = fork();
    if (b->pid < 0) {
        set_err(err, errlen, "cannot start telco-sim '%s': %s", bin, strerror(errno));
        goto out;
    }
    if (b->pid == 0) {
        /* The child: only async-signal-safe calls until exec. */
        sigset_t none;
        int devnull = open("/dev/null", O_RDONLY);
        (void)setpgid(0, 0);
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
            _exit(127);
        (void)sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);
        if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0 || dup2(out[1], STDOUT_FILENO) < 0 ||
            dup2(b->err_fd, STDERR_FILENO) < 0)
            _exit(127);
        execv(bin, (char *const *)argv);
        (void)!write(STDERR_FILENO, "exec failed", 11);
        _exit(127);
    }
    (void)setpgid(b->pid, b->pid); /* also here: no race with a kill(-pid) */
    close_fd(&out[1]);
    b->out_fd = out[0];
    out[0] = -1;

    unsigned timeout = opts->timeout_ms ? opts->timeout_ms : START_TIMEOUT;
    int got = read_first_line(b->out_fd, line, sizeof(line), now_ms() + (long)timeout);
    if (got == 0 && strncmp(line, prefix, sizeof(prefix) - 1) == 0 &&
        strlen(line + sizeof(prefix) - 1) < sizeof(b->url)) {
        (void)snprintf(b->url, sizeof(b->url), "%s", line + sizeof(prefix) - 1);
        b->url[strcspn(b->url, "\r\n ")] = '\0';
        rc = 0;
        goto out;
    }
    /* Failed: stop it, then say what it printed. */
    (void)kill(-b->pid, SIGKILL);
    while (waitpid(b->pid, &status, 0) < 0 && errno == EINTR)
        ;
    b->pid = -1;
    read_stderr(b->err_fd, why, sizeof(why));
    if (got < 0)
        set_err(err, errlen, "telco-sim '%s' did not start within %.1f s%s%s", bin,
                timeout / 1000.0, *why ? ": " : "", why);
    else if (got > 0)
        set_err(err, errlen, "telco-sim '%s' exited (status %d)%s%s", bin,
                WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), *why ? ": " : "",
                why);
    else
        set_err(err, errlen, "telco-sim '%s' printed '%.100s' instead of 'listening on URL'", bin,
                line);
out:
    close_fd(&out[0]);
    close_fd(&out[1]);
    if (rc != 0)
        (void)backend_stop(b);
    return rc;
}

struct buffer {
    char *data;
    size_t len, cap;
    int too_big;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct buffer *buf = userdata;
    size_t n = size * nmemb;
    if (buf->len + n + 1 > MAX_RESPONSE) {
        buf->too_big = 1;
        return 0;
    }
    if (buf->len + n + 1 > buf->cap) {
        size_t cap = buf->cap ? buf->cap : 4096;
        while (cap < buf->len + n + 1)
            cap *= 2;
        char *p = realloc(buf->data, cap);
        if (!p)
            return 0;
        buf->data = p;
        buf->cap = cap;
    }
    memcpy(buf->data + buf->len, ptr, n);
    buf->len += n;
    buf->data[buf->len] = '\0';
    return n;
}

int backend_request(const char *base_url, const char *method, const char *path,
                    const char *json_body, long *status, char **response_text, char *err,
                    size_t errlen)
{
    struct buffer buf = {NULL, 0, 0, 0};
    struct curl_slist *headers = NULL;
    char *url = NULL;
    size_t url_len = strlen(base_url) + strlen(path) + 1;
    CURL *h = curl_easy_init();
    CURLcode cc;
    int rc = -1;

    *status = 0;
    if (response_text)
        *response_text = NULL;
    url = malloc(url_len);
    if (!h || !url) {
        set_err(err, errlen, "%s %s: out of memory", method, path);
        goto out;
    }
    (void)snprintf(url, url_len, "%s%s", base_url, path);
    if (json_body) {
        headers = curl_slist_append(NULL, "Content-Type: application/json");
        if (!headers) {
            set_err(err, errlen, "%s %s: out of memory", method, path);
            goto out;
        }
        (void)curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
        (void)curl_easy_setopt(h, CURLOPT_POSTFIELDS, json_body);
    }
    (void)curl_easy_setopt(h, CURLOPT_URL, url);
    (void)curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    (void)curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    (void)curl_easy_setopt(h, CURLOPT_TIMEOUT, REQUEST_TIMEOUT);
    (void)curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    (void)curl_easy_setopt(h, CURLOPT_WRITEDATA, &buf);
    cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        set_err(err, errlen, "%s %s: %s", method, path,
                buf.too_big ? "response too large" : curl_easy_strerror(cc));
        goto out;
    }
    (void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    if (response_text) {
        *response_text = buf.data ? buf.data : strdup("");
        buf.data = NULL;
        if (!*response_text) {
            set_err(err, errlen, "%s %s: out of memory", method, path);
            goto out;
        }
    }
    rc = 0;
out:
    free(buf.data);
    free(url);
    curl_slist_free_all(headers);
    if (h)
        curl_easy_cleanup(h);
    return rc;
}
