/* parley redact: replaces the personal values in text files or JSON lines
 * (chosen fields) as the operators say, streaming line by line so that a
 * file of any size runs in constant memory and each line in gives exactly
 * one line out; or lists what it finds (--findings). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "parley/pii.h"
#include "parley/text.h"

static const char usage[] =
    "usage: parley redact [options] [FILE...]\n"
    "\n"
    "Replaces personal values (cards, IBANs, SSNs, phones, e-mails, IPs, IMEIs,\n"
    "dates of birth, addresses, names) in each line of FILE (default standard\n"
    "input) and writes the line to standard output: one line out per line in.\n"
    "  --operator OP        redact|mask|hash|tokenize|keep for every type\n"
    "                       (default redact: [CARD], [PHONE]...)\n"
    "  --operator TYPE=OP   the operator of one type (card, iban, ssn, phone,\n"
    "                       email, ip, imei, dob, address, name, id); repeatable\n"
    "  --types LIST         look only for these comma-separated types\n"
    "  --min-confidence X   drop findings below X, 0-1 (default 0.5)\n"
    "  --jsonl              each line is a JSON object: only --field values change\n"
    "  --field PATH         a dot path of a string field, * for every element of an\n"
    "                       array (turns.*.text); repeatable, needed with --jsonl\n"
    "  --hash-key SPEC      key of the hash operator: a key file or env:VARIABLE\n"
    "  --vault FILE         token vault of the tokenize operator (created if missing)\n"
    "  --vault-key SPEC     its key: a key file or env:VARIABLE\n"
    "  --findings           write the findings of each line as one JSON object\n"
    "                       (type, start, end, confidence, detector) instead\n"
    "  -q, --quiet          no progress or summary on a terminal\n"
    "  -h, --help           this help\n"
    "Keys are 64 hex digits (parley vault keygen --out FILE). A line that is not\n"
    "valid UTF-8 is repaired (U+FFFD) with a warning and the exit code is 1.\n"
    "Values back from tokens: parley vault detokenize (audited). See docs/pii.md.\n";

#define CHUNK (256 * 1024)

/* A line reader that hands out lines in place when they fit in its chunk
 * and copies only those that straddle two reads; a line over
 * PARLEY_PII_MAX_TEXT is an error, so memory stays bounded. */
struct reader {
    FILE *f;
    char *chunk;
    size_t pos, end;
    int eof, err;
    char *line; /* a straddling line, up to PARLEY_PII_MAX_TEXT */
    size_t cap;
};

/* Next line (without its newline) into `*s`, `*n`; `*nl` tells whether a
 * newline ended it. Returns 1, 0 at the end, -1 on error (read, too long). */
static int read_line(struct reader *r, const char **s, size_t *n, int *nl)
{
    size_t have = 0;
    for (;;) {
        if (r->pos < r->end) {
            char *p = r->chunk + r->pos;
            char *q = memchr(p, '\n', r->end - r->pos);
            size_t k = q ? (size_t)(q - p) : r->end - r->pos;
            if (q && have == 0) { /* the whole line is in the chunk */
                *s = p;
                *n = k;
                *nl = 1;
                r->pos += k + 1;
                return 1;
            }
            if (have + k > PARLEY_PII_MAX_TEXT) {
                r->err = 2;
                return -1;
            }
            if (have + k + 1 > r->cap) {
                size_t cap = r->cap ? r->cap : CHUNK;
                while (cap < have + k + 1)
                    cap *= 2;
                char *line = realloc(r->line, cap);
                if (!line) {
                    r->err = 3;
                    return -1;
                }
                r->line = line;
                r->cap = cap;
            }
            memcpy(r->line + have, p, k);
            have += k;
            r->pos += k + (q != NULL);
            if (q) {
                *s = r->line;
                *n = have;
                *nl = 1;
                return 1;
            }
        }
        if (r->eof) {
            if (have == 0)
                return 0;
            *s = r->line;
            *n = have;
            *nl = 0;
            return 1;
        }
        r->pos = 0;
        r->end = fread(r->chunk, 1, CHUNK, r->f);
        if (r->end < CHUNK) {
            r->eof = 1;
            if (ferror(r->f)) {
                r->err = 1;
                return -1;
            }
        }
    }
}

/* Length of the valid UTF-8 prefix of s[0..n). */
static size_t utf8_valid(const char *s, size_t n)
{
    size_t bad = n;
    return parley_text_validate(s, n, &bad, NULL) == PARLEY_OK ? n : bad;
}

struct stats {
    unsigned long long bytes, lines, per_type[PARLEY_PII_N_TYPES];
    double start, shown;
    int tty;
};

static void show_stats(const struct stats *st, int final)
{
    double t = cli_now() - st->start, mb = (double)st->bytes / 1e6;
    (void)fprintf(stderr, "\r%.1f MB, %.1f MB/s, %llu lines; found", mb, t > 0 ? mb / t : 0.0,
                  st->lines);
    int any = 0;
    for (int i = 0; i < PARLEY_PII_N_TYPES; i++) {
        if (st->per_type[i]) {
            (void)fprintf(stderr, " %s %llu", parley_pii_type_name(i), st->per_type[i]);
            any = 1;
        }
    }
    (void)fprintf(stderr, "%s   %s", any ? "" : " nothing", final ? "\n" : "");
}

struct run {
    const parley_pii *p;
    parley_pii_scratch *s;
    const parley_pii_policy *pol;
    const char *const *fields;
    size_t n_fields;
    int jsonl, findings, bad_utf8;
    unsigned long long lineno; /* of the current file */
    struct stats st;
    FILE *json_out; /* findings of JSON lines gather here before the line's object */
    int json_first;
};

static void print_finding(FILE *f, const parley_pii_finding *x, const char *field)
{
    (void)fputc('{', f);
    if (field) {
        (void)fputs("\"field\":", f);
        cli_json_string(f, field);
        (void)fputc(',', f);
    }
    (void)fprintf(f, "\"type\":\"%s\",\"start\":%zu,\"end\":%zu,\"confidence\":%.3f,\"detector\":",
                  parley_pii_type_name(x->type), x->start, x->end, (double)x->confidence);
    cli_json_string(f, x->detector ? x->detector : "");
    (void)fputc('}', f);
}

static void count(struct run *r, const parley_pii_finding *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned)f[i].type < PARLEY_PII_N_TYPES)
            r->st.per_type[f[i].type]++;
}

static void on_json_findings(const char *path, const parley_pii_finding *f, size_t n, void *ud)
{
    struct run *r = ud;
    count(r, f, n);
    if (!r->findings)
        return;
    for (size_t i = 0; i < n; i++) {
        if (!r->json_first)
            (void)fputc(',', stdout);
        r->json_first = 0;
        print_finding(stdout, &f[i], path);
    }
}

/* One line: redacted (or its findings) on standard output. Returns 0, or
 * -1 when the run must stop (the message is out). */
static int do_line(struct run *r, const char *name, const char *line, size_t len, int nl)
{
    parley_error e = PARLEY_ERROR_INIT;
    const parley_pii_finding *f = NULL;
    char *out = NULL;
    size_t n = 0, out_len = 0;
    parley_err rc;

    if (r->findings) {
        (void)fputs("{\"file\":", stdout);
        cli_json_string(stdout, name);
        (void)printf(",\"line\":%llu,\"findings\":[", r->lineno);
    }
    if (r->jsonl) {
        r->json_first = 1;
        rc = parley_pii_redact_json(r->p, r->s, r->pol, line, len, r->fields, r->n_fields,
                                    on_json_findings, r, &out, &out_len, &e);
    } else {
        rc = parley_pii_detect(r->p, r->s, line, len, NULL, 0, &f, &n, &e);
        if (rc == PARLEY_OK) {
            count(r, f, n);
            if (r->findings) {
                for (size_t i = 0; i < n; i++) {
                    if (i)
                        (void)fputc(',', stdout);
                    print_finding(stdout, &f[i], NULL);
                }
            } else {
                rc = parley_pii_apply(r->pol, line, len, f, n, &out, &out_len, &e);
            }
        }
    }
    if (rc != PARLEY_OK) {
        if (r->findings)
            (void)fputs("]}\n", stdout); /* keep the output line-shaped */
        cli_error("%s:%llu: %s", name, r->lineno, e.msg);
        return -1;
    }
    if (r->findings) {
        (void)fputs("]}\n", stdout);
    } else {
        (void)fwrite(out, 1, out_len, stdout);
        if (nl)
            (void)fputc('\n', stdout);
    }
    if (out) {
        explicit_bzero(out, out_len);
        parley_pii_free(out);
    }
    return 0;
}

/* Replaces each invalid byte of s[0..n) by U+FFFD into `*fixed`. */
static char *repair_utf8(const char *s, size_t n, size_t *out_len)
{
    char *fixed = malloc(3 * n + 1);
    size_t j = 0, i = 0;
    if (!fixed)
        return NULL;
    while (i < n) {
        size_t ok = utf8_valid(s + i, n - i);
        memcpy(fixed + j, s + i, ok);
        j += ok;
        i += ok;
        if (i < n) {
            static const unsigned char fffd[3] = {0xEF, 0xBF, 0xBD};
            memcpy(fixed + j, fffd, sizeof(fffd));
            j += 3;
            i++;
        }
    }
    *out_len = j;
    return fixed;
}

/* Runs one input to the end. Returns 0, 1 (a line had to be repaired or
 * the file could not be read) or -1 (stop). */
static int do_file(struct run *r, const char *name, FILE *f)
{
    struct reader rd = {f, NULL, 0, 0, 0, 0, NULL, 0};
    const char *line;
    size_t len;
    int nl, got, rc = 0;

    if (!(rd.chunk = malloc(CHUNK))) {
        cli_error("out of memory");
        return -1;
    }
    r->lineno = 0;
    while ((got = read_line(&rd, &line, &len, &nl)) == 1) {
        r->lineno++;
        r->st.lines++;
        r->st.bytes += len + (size_t)nl;
        if (utf8_valid(line, len) != len) {
            size_t fixed_len = 0;
            char *fixed = repair_utf8(line, len, &fixed_len);
            (void)fprintf(stderr,
                          "parley: warning: %s:%llu: not valid UTF-8; invalid bytes replaced by "
                          "U+FFFD\n",
                          name, r->lineno);
            r->bad_utf8 = 1;
            if (!fixed) {
                cli_error("out of memory");
                rc = -1;
                break;
            }
            int x = do_line(r, name, fixed, fixed_len, nl);
            explicit_bzero(fixed, fixed_len);
            free(fixed);
            if (x < 0) {
                rc = -1;
                break;
            }
        } else if (do_line(r, name, line, len, nl) < 0) {
            rc = -1;
            break;
        }
        if ((r->st.lines & 255) == 0) {
            double now = r->st.tty ? cli_now() : 0;
            if (r->st.tty && now - r->st.shown >= 0.25) {
                show_stats(&r->st, 0);
                r->st.shown = now;
            }
            if (ferror(stdout)) { /* a full disk: no use reading on */
                cli_error("cannot write to standard output");
                rc = -1;
                break;
            }
        }
    }
    if (got < 0) {
        if (rd.err == 2)
            cli_error("%s:%llu: line longer than %u bytes", name, r->lineno + 1,
                      PARLEY_PII_MAX_TEXT);
        else if (rd.err == 3)
            cli_error("out of memory");
        else
            cli_error("cannot read '%s'", name);
        rc = -1;
    }
    if (rd.line)
        explicit_bzero(rd.line, rd.cap);
    free(rd.line);
    explicit_bzero(rd.chunk, CHUNK);
    free(rd.chunk);
    return rc;
}

/* "--operator OP" or "--operator TYPE=OP" into the policy. */
static int set_operator(parley_pii_policy *pol, unsigned *set, const char *arg)
{
    parley_pii_operator op;
    parley_pii_type t;
    const char *eq = strchr(arg, '=');
    char type[32];
    if (!eq) {
        if (!parley_pii_operator_parse(arg, &op))
            return cli_usage_error(usage,
                                   "unknown operator '%s' (redact, mask, hash, tokenize, "
                                   "keep)",
                                   arg);
        for (int i = 0; i < PARLEY_PII_N_TYPES; i++)
            if (!(*set & PARLEY_PII_BIT(i)))
                pol->op[i] = op;
        return 0;
    }
    if ((size_t)(eq - arg) >= sizeof(type))
        return cli_usage_error(usage, "unknown type in '%s'", arg);
    memcpy(type, arg, (size_t)(eq - arg));
    type[eq - arg] = '\0';
    if (!parley_pii_type_parse(type, &t))
        return cli_usage_error(usage, "unknown type '%s' in '--operator %s'", type, arg);
    if (!parley_pii_operator_parse(eq + 1, &op))
        return cli_usage_error(usage, "unknown operator '%s' in '--operator %s'", eq + 1, arg);
    pol->op[t] = op;
    *set |= PARLEY_PII_BIT(t);
    return 0;
}

static int parse_types(const char *list, unsigned *mask)
{
    char buf[256];
    char *save = NULL;
    if (snprintf(buf, sizeof(buf), "%s", list) >= (int)sizeof(buf))
        return cli_usage_error(usage, "--types list too long");
    *mask = 0;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        parley_pii_type type;
        if (!parley_pii_type_parse(t, &type))
            return cli_usage_error(usage, "unknown type '%s' in --types", t);
        *mask |= PARLEY_PII_BIT(type);
    }
    if (!*mask)
        return cli_usage_error(usage, "--types names no type");
    return 0;
}

int cmd_redact(int argc, char **argv)
{
    static const struct option opts[] = {{"operator", required_argument, NULL, 'o'},
                                         {"types", required_argument, NULL, 't'},
                                         {"min-confidence", required_argument, NULL, 'c'},
                                         {"jsonl", no_argument, NULL, 'j'},
                                         {"field", required_argument, NULL, 'f'},
                                         {"hash-key", required_argument, NULL, 'k'},
                                         {"vault", required_argument, NULL, 'v'},
                                         {"vault-key", required_argument, NULL, 'K'},
                                         {"findings", no_argument, NULL, 'F'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    parley_pii_policy pol;
    parley_pii_options po = {0};
    parley_error e = PARLEY_ERROR_INIT;
    parley_pii *p = NULL;
    parley_pii_scratch *s = NULL;
    uint8_t hash_key[PARLEY_PII_KEY_SIZE], vault_key[PARLEY_PII_KEY_SIZE];
    const char *hash_spec = NULL, *vault_path = NULL, *vault_spec = NULL;
    const char **fields = NULL;
    size_t n_fields = 0;
    unsigned op_set = 0;
    int jsonl = 0, findings = 0, quiet = 0, opt, rc = EXIT_FAIL;
    double conf;
    struct run r;

    parley_pii_policy_redact_all(&pol);
    memset(&r, 0, sizeof(r));
    if (!(fields = calloc((size_t)argc, sizeof(*fields)))) {
        cli_error("out of memory");
        return EXIT_FAIL;
    }
    optind = 1;
    while ((opt = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (opt) {
        case 'o':
            if (set_operator(&pol, &op_set, optarg) != 0)
                goto usage_fail;
            break;
        case 't':
            if (parse_types(optarg, &po.types) != 0)
                goto usage_fail;
            break;
        case 'c':
            if (cli_parse_double("--min-confidence", optarg, 0, 1, &conf) != 0)
                goto usage_fail;
            po.min_confidence = conf > 0 ? (float)conf : 1e-6f;
            break;
        case 'j':
            jsonl = 1;
            break;
        case 'f':
            fields[n_fields++] = optarg;
            break;
        case 'k':
            hash_spec = optarg;
            break;
        case 'v':
            vault_path = optarg;
            break;
        case 'K':
            vault_spec = optarg;
            break;
        case 'F':
            findings = 1;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            (void)fputs(usage, stdout);
            free(fields);
            return EXIT_OK;
        default:
            (void)cli_usage_error(usage, "unknown option");
            goto usage_fail;
        }
    }
    if (jsonl != (n_fields > 0)) {
        (void)cli_usage_error(usage, jsonl ? "--jsonl needs at least one --field PATH"
                                           : "--field works only with --jsonl");
        goto usage_fail;
    }
    int want_hash = 0, want_vault = 0;
    for (int i = 0; i < PARLEY_PII_N_TYPES; i++) {
        want_hash |= pol.op[i] == PARLEY_PII_OP_HASH;
        want_vault |= pol.op[i] == PARLEY_PII_OP_TOKENIZE;
    }
    if (!findings && want_hash && !hash_spec) {
        (void)cli_usage_error(usage, "operator 'hash' needs --hash-key SPEC");
        goto usage_fail;
    }
    if (!findings && want_vault && (!vault_path || !vault_spec)) {
        (void)cli_usage_error(usage, "operator 'tokenize' needs --vault FILE and --vault-key SPEC");
        goto usage_fail;
    }
    if (hash_spec && !findings) {
        if (parley_pii_key_load(hash_spec, hash_key, &e) != PARLEY_OK)
            goto fail;
        pol.hash_key = hash_key;
    }
    if (vault_path && want_vault && !findings) {
        if (!vault_spec) {
            (void)cli_usage_error(usage, "--vault needs --vault-key SPEC");
            goto usage_fail;
        }
        if (parley_pii_key_load(vault_spec, vault_key, &e) != PARLEY_OK)
            goto fail;
        parley_err vrc = parley_pii_vault_open(vault_path, vault_key, &pol.vault, &e);
        explicit_bzero(vault_key, sizeof(vault_key));
        if (vrc != PARLEY_OK)
            goto fail;
    }
    if (parley_pii_create(&po, &p, &e) != PARLEY_OK ||
        parley_pii_scratch_create(p, &s, &e) != PARLEY_OK)
        goto fail;

    r.p = p;
    r.s = s;
    r.pol = &pol;
    r.fields = fields;
    r.n_fields = n_fields;
    r.jsonl = jsonl;
    r.findings = findings;
    r.st.tty = !quiet && isatty(2);
    r.st.start = r.st.shown = cli_now();
    int failed = 0;
    if (optind == argc) {
        failed = do_file(&r, "-", stdin);
    } else {
        for (int i = optind; i < argc && failed >= 0; i++) {
            FILE *f = strcmp(argv[i], "-") == 0 ? stdin : fopen(argv[i], "rb");
            if (!f) {
                cli_error("cannot read '%s': %s", argv[i], strerror(errno));
                failed = 1;
                continue;
            }
            int x = do_file(&r, argv[i], f);
            if (f != stdin)
                (void)fclose(f);
            failed = x < 0 ? x : failed | x;
        }
    }
    if (r.st.tty)
        show_stats(&r.st, 1);
    rc = failed || r.bad_utf8 ? EXIT_FAIL : EXIT_OK;
    goto out;
fail:
    cli_error("%s", e.msg);
    rc = EXIT_FAIL;
    goto out;
usage_fail:
    rc = EXIT_USAGE;
out:
    explicit_bzero(hash_key, sizeof(hash_key));
    parley_pii_vault_close(pol.vault);
    parley_pii_scratch_destroy(s);
    parley_pii_destroy(p);
    free(fields);
    return rc;
}
