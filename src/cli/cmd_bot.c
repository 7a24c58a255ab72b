/* parley bot check DIR: loads a bot definition folder and prints every
 * problem as FILE:LINE:COLUMN: message (exit 1), or a one-line summary
 * (exit 0). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "parley/bot.h"

static const char usage_text[] =
    "usage: parley bot check DIR\n"
    "\n"
    "Checks the bot definition in DIR (DIR/bot.yml, the NLU example files and\n"
    "connector definitions it names) and prints every problem found as\n"
    "FILE:LINE:COLUMN: message on standard error. Exit 0 when the definition\n"
    "is clean, 1 when it has problems, 2 for usage errors.\n"
    "See docs/bot-definition.md for the format.\n";

static int bot_check(const char *dir)
{
    parley_bot *bot = NULL;
    parley_bot_report *rep = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    parley_err rc = parley_bot_load(dir, &bot, &rep, &e);
    size_t n = parley_bot_report_count(rep), total = parley_bot_report_total(rep);
    size_t steps = 0;

    for (size_t i = 0; i < n; i++) {
        const parley_bot_problem *p = parley_bot_report_problem(rep, i);
        if (p->line)
            fprintf(stderr, "%s:%lu:%lu: %s\n", p->file, p->line, p->column, p->message);
        else
            fprintf(stderr, "%s: %s\n", p->file, p->message);
    }
    if (total > n)
        fprintf(stderr, "... and %zu more problems\n", total - n);
    if (rc != PARLEY_OK) {
        if (total)
            cli_error("bot '%s' has %zu problem%s", dir, total, total == 1 ? "" : "s");
        else
            cli_error("%s", e.msg);
        parley_bot_report_free(rep);
        return EXIT_FAIL;
    }
    for (size_t i = 0; i < parley_bot_flow_count(bot); i++)
        steps += parley_bot_flow_step_count(bot, i);
    printf("bot '%s' is valid: %zu languages, %zu intents, %zu flows, %zu steps\n",
           parley_bot_name(bot), parley_bot_language_count(bot), parley_bot_intent_count(bot),
           parley_bot_flow_count(bot), steps);
    parley_bot_free(bot);
    parley_bot_report_free(rep);
    return EXIT_OK;
}

int cmd_bot(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(usage_text, "missing bot subcommand");
    if (cli_is_help(argv[1])) {
        fputs(usage_text, stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "check") != 0)
        return cli_usage_error(usage_text, "'%s' is not a bot subcommand", argv[1]);
    if (argc == 3 && cli_is_help(argv[2])) {
        fputs(usage_text, stdout);
        return EXIT_OK;
    }
    if (argc != 3)
        return cli_usage_error(usage_text, "bot check needs exactly one folder");
    if (argv[2][0] == '-')
        return cli_usage_error(usage_text, "unknown option '%s'", argv[2]);
    return bot_check(argv[2]);
}
