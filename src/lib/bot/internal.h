/* Private declarations of the bot module: the loaded bot and the problem
 * report shared by load.c and report.c. */
#ifndef PARLEY_BOT_INTERNAL_H
#define PARLEY_BOT_INTERNAL_H

#include "common/internal.h"
#include "parley/bot.h"

struct parley_bot_report {
    parley_bot_problem *problems; /* strings owned */
    size_t n, cap;
    size_t total;
    int nomem;
};

/* Adds a problem (copying file and message); counts it past the cap and
 * sets r->nomem when memory runs out. */
void parley__bot_report_add(parley_bot_report *r, const char *file, unsigned long line,
                            unsigned long column, const char *msg);
/* Sorts by file, line, column, keeping the order of equal positions. */
void parley__bot_report_sort(parley_bot_report *r);

struct bot_flow_info {
    char *name;
    char *intent;
    size_t nsteps;
};

struct bot_lang_info {
    char *code;
    char *nlu_path;
};

struct parley_bot {
    char *name;
    struct bot_lang_info *langs;
    size_t nlangs;
    char **intents;
    size_t nintents;
    struct bot_flow_info *flows;
    size_t nflows;
    double confidence, margin;
};

#endif
