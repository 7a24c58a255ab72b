/* parley vault: makes the keys of the hash operator and of the token vault,
 * and gets a tokenized value back out of the vault, an administrator's act
 * that is written to the audit log (the token, never the value) before the
 * value is shown. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "parley/audit.h"
#include "parley/pii.h"

static const char usage[] =
    "usage: parley vault keygen --out FILE\n"
    "       parley vault detokenize TOKEN --key SPEC [--data-dir DIR] [--vault FILE]\n"
    "                                     [--audit URL]\n"
    "\n"
    "keygen writes a new random key (64 hex digits, mode 0600) for\n"
    "parley redact --hash-key or --vault-key; keep it apart from the data.\n"
    "detokenize prints the value behind TOKEN (tok_... or [PHONE#tok_...]) from\n"
    "the vault (DIR/vault.db, default ./data, or --vault FILE) after writing a\n"
    "'privacy' record to the audit log (DIR/audit.db or --audit URL); without\n"
    "the audit record the value is not shown.\n"
    "  --key SPEC           the vault key: a key file or env:VARIABLE\n"
    "  --vault-key SPEC     the same\n";

/* The canonical "tok_<24 hex>" of `arg`, or 0 when it is not a token. */
static int canonical_token(const char *arg, char tok[PARLEY_PII_TOKEN_SIZE])
{
    const char *s = arg, *hash = strchr(arg, '#');
    size_t n;
    if (arg[0] == '[' && hash)
        s = hash + 1;
    n = strlen(s);
    if (arg[0] == '[' && n > 0 && s[n - 1] == ']')
        n--;
    if (n != 28 || strncmp(s, "tok_", 4) != 0 || strspn(s + 4, "0123456789abcdef") < 24)
        return 0;
    memcpy(tok, s, n);
    tok[n] = '\0';
    return 1;
}

static int detokenize(const char *arg, const char *data_dir, const char *vault_path,
                      const char *audit_url, const char *key_spec)
{
    char tok[PARLEY_PII_TOKEN_SIZE], vpath[4200], apath[4200], body[160];
    uint8_t key[PARLEY_PII_KEY_SIZE];
    parley_error e = PARLEY_ERROR_INIT, ae = PARLEY_ERROR_INIT;
    parley_pii_vault *v = NULL;
    parley_audit *a = NULL;
    parley_pii_type type = PARLEY_PII_N_TYPES;
    char *value = NULL;
    int rc = EXIT_FAIL;

    if (!canonical_token(arg, tok)) {
        cli_error("'%s' is not a vault token (tok_ and 24 hex digits)", arg);
        return EXIT_FAIL;
    }
    if (!vault_path) {
        (void)snprintf(vpath, sizeof(vpath), "%.4000s/vault.db", data_dir);
        vault_path = vpath;
    }
    if (!audit_url) {
        (void)snprintf(apath, sizeof(apath), "sqlite:%.4000s/audit.db", data_dir);
        audit_url = apath;
    }
    FILE *probe = fopen(vault_path, "rb");
    if (!probe) {
        cli_error("cannot open vault '%s': no such file (is the data folder right?)", vault_path);
        return EXIT_FAIL;
    }
    (void)fclose(probe);
    parley_err lrc = parley_pii_key_load(key_spec, key, &e);
    if (lrc == PARLEY_OK)
        lrc = parley_pii_vault_open(vault_path, key, &v, &e);
    explicit_bzero(key, sizeof(key));
    if (lrc != PARLEY_OK) {
        cli_error("%s", e.msg);
        return EXIT_FAIL;
    }
    parley_err drc = parley_pii_vault_detokenize(v, tok, &value, &type, &e);
    const char *result = drc == PARLEY_OK             ? "ok"
                         : drc == PARLEY_ERR_NOTFOUND ? "not_found"
                         : drc == PARLEY_ERR_CORRUPT  ? "corrupt"
                                                      : "error";
    /* Every attempt with the right key is on the record, found or not. */
    (void)snprintf(body, sizeof(body),
                   "{\"request\":\"detokenize\",\"token\":\"%s\",\"type\":\"%s\",\"result\":\"%s\","
                   "\"channel\":\"cli\"}",
                   tok, drc == PARLEY_OK ? parley_pii_type_name(type) : "", result);
    parley_audit_record rec = {0};
    rec.kind = "privacy";
    rec.body = body;
    if (parley_audit_open(audit_url, NULL, &a, &ae) != PARLEY_OK ||
        parley_audit_append(a, &rec, NULL, &ae) != PARLEY_OK) {
        cli_error("cannot write the audit record, so the value is not shown: %s", ae.msg);
        goto out;
    }
    if (drc != PARLEY_OK) {
        cli_error("%s", e.msg);
        goto out;
    }
    (void)printf("%s\n", value);
    rc = EXIT_OK;
out:
    if (value) {
        explicit_bzero(value, strlen(value));
        parley_pii_free(value);
    }
    parley_audit_close(a);
    parley_pii_vault_close(v);
    return rc;
}

int cmd_vault(int argc, char **argv)
{
    static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
                                         {"key", required_argument, NULL, 'k'},
                                         {"vault-key", required_argument, NULL, 'k'},
                                         {"data-dir", required_argument, NULL, 'd'},
                                         {"vault", required_argument, NULL, 'v'},
                                         {"audit", required_argument, NULL, 'a'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *out_path = NULL, *key_spec = NULL, *data_dir = "data", *vault_path = NULL,
               *audit_url = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    int opt;

    if (argc < 2 || cli_is_help(argv[1])) {
        (void)fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *sub = argv[1];
    optind = 2;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'o':
            out_path = optarg;
            break;
        case 'k':
            key_spec = optarg;
            break;
        case 'd':
            data_dir = optarg;
            break;
        case 'v':
            vault_path = optarg;
            break;
        case 'a':
            audit_url = optarg;
            break;
        case 'h':
            (void)fputs(usage, stdout);
            return EXIT_OK;
        default:
            return cli_usage_error(usage, "unknown option");
        }
    }
    if (strcmp(sub, "keygen") == 0) {
        if (!out_path || optind != argc)
            return cli_usage_error(usage, "vault keygen needs --out FILE and nothing else");
        if (parley_pii_key_generate(out_path, &e) != PARLEY_OK) {
            cli_error("%s", e.msg);
            return EXIT_FAIL;
        }
        (void)printf("key: %s (keep it private, away from the data it protects)\n", out_path);
        return EXIT_OK;
    }
    if (strcmp(sub, "detokenize") != 0)
        return cli_usage_error(usage, "unknown vault command '%s'", sub);
    if (optind + 1 != argc)
        return cli_usage_error(usage, "vault detokenize needs one TOKEN");
    if (!key_spec)
        return cli_usage_error(usage, "vault detokenize needs the vault key (--key SPEC)");
    return detokenize(argv[optind], data_dir, vault_path, audit_url, key_spec);
}
