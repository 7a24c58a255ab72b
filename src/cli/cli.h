/* The parley command line: the command table and helpers shared by the
 * subcommands (one cmd_<name>.c per command, each returning an exit code). */
#ifndef PARLEY_CLI_H
#define PARLEY_CLI_H

#include <stdio.h>

#include "parley/common.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct cli_command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_featurize(int argc, char **argv);
int cmd_bot(int argc, char **argv);
int cmd_chat(int argc, char **argv);
int cmd_test(int argc, char **argv);
int cmd_langid(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_redact(int argc, char **argv);
int cmd_vault(int argc, char **argv);
int cmd_store(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_learn(int argc, char **argv);
/* parley events publish (events_publish.c), argv[1] being "publish". */
int events_publish(int argc, char **argv);

extern const struct cli_command cli_commands[];

/* "parley: <message>" on stderr (git style: lowercase, no full stop). */
void cli_error(const char *fmt, ...) PARLEY_PRINTF(1, 2);
/* Prints usage to stderr and returns EXIT_USAGE. */
int cli_usage_error(const char *usage, const char *fmt, ...) PARLEY_PRINTF(2, 3);
/* Parses a whole unsigned number within [min, max]. */
int cli_parse_uint(const char *opt, const char *s, unsigned long long min, unsigned long long max,
                   unsigned long long *out);
int cli_parse_double(const char *opt, const char *s, double min, double max, double *out);
/* Writes `s` as a JSON string literal (with quotes). */
void cli_json_string(FILE *f, const char *s);
/* Monotonic clock, seconds. */
double cli_now(void);
/* Is this a help flag? */
int cli_is_help(const char *arg);

struct parley_server_config;
/* Fills `*c` as `parley serve` would (config file `config`, the
 * environment), then --data-dir and --store (each may be NULL), with the
 * default store in the data folder and the demo's master key when there is
 * one. Returns EXIT_OK, else the exit code after printing the error. */
/* `parley events replay` (events_replay.c), argv[1] being "replay". */
int events_replay(int argc, char **argv);

int cli_server_config(struct parley_server_config *c, const char *config, const char *data_dir,
                      const char *store_url);

#endif
