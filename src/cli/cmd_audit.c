/* parley audit: verify the tamper-evident audit log, list the records of a
 * conversation or customer, explain a conversation's decisions in plain
 * language, prune records past their retention, and make the checkpoint
 * signing key pair. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "parley/audit.h"

static const char usage[] =
    "usage: parley audit verify [--db FILE] [--public-key FILE] [--json]\n"
    "       parley audit list (--conversation ID | --customer ID) [--db FILE] [--json]\n"
    "       parley audit explain CONVERSATION [TURN] [--db FILE] [--utc]\n"
    "       parley audit prune --older-than-days N [--db FILE] [--now ISO] [--json]\n"
    "       parley audit keygen --out FILE\n"
    "\n"
    "The log is --db FILE (or --audit URL, as in parley.conf), or DIR/audit.db\n"
    "with --data-dir DIR (default ./data).\n"
    "verify recomputes the hash chain and checks every checkpoint: it exits 0\n"
    "when intact, 1 when broken, naming the first seq and what is wrong.\n"
    "--public-key checks signatures against that key (from keygen: FILE.pub);\n"
    "without it they are checked against the key stored with each checkpoint.\n"
    "prune deletes the records older than N days (before --now, an ISO date\n"
    "YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ in UTC; default now), up to a\n"
    "checkpoint, which anchors what is kept; verify then starts there.\n"
    "keygen writes the secret key to FILE (mode 0600; the server signs with it)\n"
    "and the public key to FILE.pub. Format and record kinds: docs/audit.md.\n";

static void print_record_json(const parley_audit_record *r)
{
    (void)printf("{\"seq\":%lld,\"time\":%lld,\"kind\":", (long long)r->seq, (long long)r->time);
    cli_json_string(stdout, r->kind);
    (void)fputs(",\"conversation\":", stdout);
    cli_json_string(stdout, r->conversation);
    (void)fputs(",\"customer\":", stdout);
    cli_json_string(stdout, r->customer);
    /* The body is a JSON object the log checked on the way in. */
    (void)printf(",\"turn\":%lld,\"body\":%s}\n", (long long)r->turn, r->body);
}

static int on_record(const parley_audit_record *r, void *userdata)
{
    const int *json = userdata;
    if (*json) {
        print_record_json(r);
    } else {
        (void)printf("%lld  %lld  %-10s  %s  %s  %lld  %s\n", (long long)r->seq, (long long)r->time,
                     r->kind, r->conversation[0] ? r->conversation : "-",
                     r->customer[0] ? r->customer : "-", (long long)r->turn, r->body);
    }
    return 0;
}

static void on_line(const char *line, void *userdata)
{
    (void)userdata;
    (void)printf("%s\n", line);
}

static void on_progress(int64_t done, int64_t total, void *userdata)
{
    (void)userdata;
    if (isatty(2))
        (void)fprintf(stderr, "\rverified %lld of %lld records", (long long)done, (long long)total);
}

/* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ", UTC, into Unix ms; -1 if not. */
static int64_t parse_iso(const char *s)
{
    struct tm tm;
    int n = 0;
    memset(&tm, 0, sizeof(tm));
    if (sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n) != 3 || n != 10)
        return -1;
    if (s[n] == 'T' || s[n] == ' ') {
        int m = 0;
        if (sscanf(s + n + 1, "%2d:%2d:%2d%n", &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &m) != 3 ||
            m != 8 || (s[n + 1 + m] != '\0' && strcmp(s + n + 1 + m, "Z") != 0))
            return -1;
    } else if (s[n] != '\0') {
        return -1;
    }
    if (tm.tm_year < 1970 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
        tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    return t < 0 ? -1 : (int64_t)t * 1000;
}

static void iso_of(int64_t ms, char *buf, size_t size)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        (void)snprintf(buf, size, "%lld ms", (long long)ms);
}

static int prune_summary(const parley_audit_prune_result *res, int64_t cutoff, int json)
{
    char when[64], hex[2 * PARLEY_AUDIT_HASH_SIZE + 1];
    iso_of(cutoff, when, sizeof(when));
    for (int i = 0; i < PARLEY_AUDIT_HASH_SIZE; i++)
        (void)snprintf(hex + 2 * i, 3, "%02x", res->anchor[i]);
    if (json) {
        (void)printf("{\"pruned\":%lld,\"cutoff\":\"%s\",\"first_seq\":%lld,\"anchor_seq\":%lld,"
                     "\"anchor\":\"%s\",\"retention_seq\":%lld,\"reason\":",
                     (long long)res->pruned, when, (long long)res->first_seq,
                     (long long)res->anchor_seq, res->anchor_seq ? hex : "",
                     (long long)res->retention_seq);
        if (res->pruned)
            (void)fputs("null}\n", stdout);
        else {
            cli_json_string(stdout, res->reason);
            (void)fputs("}\n", stdout);
        }
        return EXIT_OK;
    }
    if (res->pruned == 0) {
        (void)printf("nothing pruned (cutoff %s): %s\n", when, res->reason);
        return EXIT_OK;
    }
    (void)printf("pruned %lld records older than %s: records 1 to %lld are gone\n",
                 (long long)res->pruned, when, (long long)res->anchor_seq);
    (void)printf("retained chain starts at seq %lld, anchored at hash %s\n",
                 (long long)res->first_seq, hex);
    (void)printf("the prune is recorded in the chain as record %lld (kind retention)\n",
                 (long long)res->retention_seq);
    return EXIT_OK;
}

static int report(const parley_audit_report *rep, const char *pubkey, int json)
{
    char head[2 * PARLEY_AUDIT_HASH_SIZE + 1];
    for (int i = 0; i < PARLEY_AUDIT_HASH_SIZE; i++)
        (void)snprintf(head + 2 * i, 3, "%02x", rep->head[i]);
    if (json) {
        (void)printf("{\"ok\":%s,\"records\":%lld,\"checkpoints\":%lld,\"signed_checkpoints\":%lld,"
                     "\"last_signed_seq\":%lld,\"key_trusted\":%s,\"first_seq\":%lld,"
                     "\"pruned_through\":%lld,\"break\":",
                     rep->ok ? "true" : "false", (long long)rep->records,
                     (long long)rep->checkpoints, (long long)rep->signed_checkpoints,
                     (long long)rep->last_signed_seq, rep->key_trusted ? "true" : "false",
                     (long long)rep->first_seq, (long long)rep->pruned_through);
        if (rep->ok) {
            (void)printf("null,\"head\":\"%s\"}\n", head);
        } else {
            (void)printf("{\"seq\":%lld,\"kind\":", (long long)rep->seq);
            cli_json_string(stdout, parley_audit_break_name(rep->kind));
            (void)fputs(",\"detail\":", stdout);
            cli_json_string(stdout, rep->detail);
            (void)fputs("}}\n", stdout);
        }
        return rep->ok ? EXIT_OK : EXIT_FAIL;
    }
    if (!rep->ok) {
        (void)printf("BROKEN at seq %lld (%s): %s\n", (long long)rep->seq,
                     parley_audit_break_name(rep->kind), rep->detail);
        (void)printf("records before seq %lld verify (%lld)\n", (long long)rep->seq,
                     (long long)rep->records);
        return EXIT_FAIL;
    }
    (void)printf("ok: %lld records, head %s\n", (long long)rep->records, head);
    if (rep->pruned_through > 0)
        (void)printf("retained chain starts at seq %lld: records 1 to %lld were pruned by "
                     "retention; the start matches the recorded anchor\n",
                     (long long)rep->first_seq, (long long)rep->pruned_through);
    if (rep->signed_checkpoints)
        (void)printf("checkpoints: %lld, %lld signed, last signed at seq %lld, signatures checked "
                     "%s\n",
                     (long long)rep->checkpoints, (long long)rep->signed_checkpoints,
                     (long long)rep->last_signed_seq,
                     pubkey ? "with the given public key"
                            : "with the key stored in the log (pass --public-key to check "
                              "against your own copy)");
    else
        (void)printf("checkpoints: %lld, none signed: the chain is consistent, but whoever can "
                     "write the file could rewrite it whole (configure a signing key)\n",
                     (long long)rep->checkpoints);
    if (rep->records > rep->last_signed_seq && rep->signed_checkpoints)
        (void)printf("records after seq %lld are not yet covered by a signature\n",
                     (long long)rep->last_signed_seq);
    return EXIT_OK;
}

int cmd_audit(int argc, char **argv)
{
    static const struct option opts[] = {{"db", required_argument, NULL, 'b'},
                                         {"data-dir", required_argument, NULL, 'd'},
                                         {"public-key", required_argument, NULL, 'p'},
                                         {"conversation", required_argument, NULL, 'c'},
                                         {"customer", required_argument, NULL, 'u'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"audit", required_argument, NULL, 'a'},
                                         {"older-than-days", required_argument, NULL, 'D'},
                                         {"now", required_argument, NULL, 'n'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"utc", no_argument, NULL, 'z'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *db = NULL, *data_dir = "data", *pubkey = NULL, *conv = NULL, *cust = NULL,
               *out_path = NULL, *days_arg = NULL, *now_arg = NULL;
    int json = 0, utc = 0, opt, rc = EXIT_FAIL;
    parley_error e = PARLEY_ERROR_INIT;
    parley_audit *a = NULL;
    char path[4200];

    if (argc < 2 || cli_is_help(argv[1])) {
        (void)fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *sub = argv[1];
    optind = 2;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'b':
        case 'a':
            db = optarg;
            break;
        case 'D':
            days_arg = optarg;
            break;
        case 'n':
            now_arg = optarg;
            break;
        case 'd':
            data_dir = optarg;
            break;
        case 'p':
            pubkey = optarg;
            break;
        case 'c':
            conv = optarg;
            break;
        case 'u':
            cust = optarg;
            break;
        case 'o':
            out_path = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'z':
            utc = 1;
            break;
        case 'h':
            (void)fputs(usage, stdout);
            return EXIT_OK;
        default:
            return cli_usage_error(usage, "unknown option");
        }
    }
    int is_verify = strcmp(sub, "verify") == 0, is_list = strcmp(sub, "list") == 0,
        is_explain = strcmp(sub, "explain") == 0, is_keygen = strcmp(sub, "keygen") == 0,
        is_prune = strcmp(sub, "prune") == 0;
    if (!is_verify && !is_list && !is_explain && !is_keygen && !is_prune)
        return cli_usage_error(usage, "unknown audit command '%s'", sub);
    if (is_keygen) {
        if (!out_path || optind != argc)
            return cli_usage_error(usage, "audit keygen needs --out FILE and nothing else");
        if (parley_audit_keygen(out_path, &e) != PARLEY_OK) {
            cli_error("%s", e.msg);
            return EXIT_FAIL;
        }
        (void)printf("secret key: %s (keep it private)\npublic key: %s.pub\n", out_path, out_path);
        return EXIT_OK;
    }
    unsigned long long days = 0;
    int64_t now = 0;
    if (!is_prune && (days_arg || now_arg))
        return cli_usage_error(usage, "--older-than-days and --now are for audit prune");
    if (is_prune) {
        if (!days_arg)
            return cli_usage_error(usage, "audit prune needs --older-than-days N");
        if (cli_parse_uint("--older-than-days", days_arg, 1, 1000000ULL, &days) != 0)
            return EXIT_USAGE;
        if (now_arg && (now = parse_iso(now_arg)) < 0)
            return cli_usage_error(usage,
                                   "--now '%s' is not a UTC date YYYY-MM-DD or "
                                   "YYYY-MM-DDTHH:MM:SSZ",
                                   now_arg);
        if (!now_arg) {
            struct timespec ts;
            (void)clock_gettime(CLOCK_REALTIME, &ts);
            now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        }
    }
    if (is_list && (!conv == !cust))
        return cli_usage_error(usage, "audit list needs --conversation ID or --customer ID");
    if (is_explain && (optind >= argc || argc - optind > 2))
        return cli_usage_error(usage,
                               "audit explain needs a conversation id and optionally a turn");
    if (!is_explain && optind != argc)
        return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    unsigned long long turn = 0;
    if (is_explain && argc - optind == 2 &&
        cli_parse_uint("TURN", argv[optind + 1], 1, 1000000000ULL, &turn) != 0)
        return EXIT_USAGE;
    if (!db) {
        (void)snprintf(path, sizeof(path), "%.4000s/audit.db", data_dir);
        db = path;
    }
    const char *file = strncmp(db, "sqlite:", 7) == 0 ? db + 7 : db;
    size_t flen = strcspn(file, "?");
    if (flen < sizeof(path) - 1 && file != path) {
        memmove(path, file, flen);
        path[flen] = '\0';
        file = path;
    }
    if (access(file, R_OK) != 0) {
        cli_error("cannot open audit log '%s': no such file (is the data folder right?)", db);
        return EXIT_FAIL;
    }
    /* Only prune writes (its retention record); no automatic checkpoint. */
    parley_audit_options o = {NULL, -1, is_prune ? 0 : PARLEY_AUDIT_READ_ONLY};
    if (parley_audit_open(db, &o, &a, &e) != PARLEY_OK)
        goto fail;
    if (is_prune) {
        parley_audit_prune_result res;
        int64_t cutoff = now - (int64_t)days * 86400000;
        if (parley_audit_prune(a, cutoff, now, &res, &e) != PARLEY_OK)
            goto fail;
        rc = prune_summary(&res, cutoff, json);
        goto out;
    }
    if (is_verify) {
        parley_audit_verify_options vo = {pubkey, on_progress, NULL};
        parley_audit_report rep;
        if (parley_audit_verify(a, &vo, &rep, &e) != PARLEY_OK)
            goto fail;
        if (isatty(2) && rep.records >= 65536)
            (void)fputc('\n', stderr);
        rc = report(&rep, pubkey, json);
        goto out;
    }
    if (is_list) {
        parley_audit_filter f = {conv, cust};
        if (parley_audit_list(a, &f, on_record, &json, &e) != PARLEY_OK)
            goto fail;
    } else if (parley_audit_explain(a, argv[optind], (int64_t)turn, utc, on_line, NULL, &e) !=
               PARLEY_OK) {
        goto fail;
    }
    rc = EXIT_OK;
    goto out;
fail:
    cli_error("%s", e.msg);
out:
    parley_audit_close(a);
    return rc;
}
