/* Names of the learning pipeline's enums, as the report, the JSON summary
 * and the command line spell them. */
#include "parley/learn.h"

const char *parley_learn_drop_name(parley_learn_drop d)
{
    /* In the order of parley_learn_drop: the enum indexes this table. */
    static const char *const names[PARLEY_LEARN_DROP_COUNT] = {
        "malformed", "language",  "no_consent",     "no_text",       "unmapped",
        "ignored",   "duplicate", "near_duplicate", "contradictory", "labelled",
    };
    if ((unsigned)d >= PARLEY_LEARN_DROP_COUNT)
        return "unknown";
    return names[d];
}
