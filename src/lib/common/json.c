/* Small JSON helpers several readers share: a depth check before jansson
 * parses (its parser recurses) and the names of JSON value kinds for error
 * messages. */
#include <jansson.h>

#include "common/internal.h"

size_t parley__json_depth(const char *p, size_t n)
{
    size_t depth = 0, max = 0;
    int in_str = 0, esc = 0;

    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        if (in_str) {
            if (esc)
                esc = 0;
            else if (ch == '\\')
                esc = 1;
            else if (ch == '"')
                in_str = 0;
        } else if (ch == '"') {
            in_str = 1;
        } else if (ch == '[' || ch == '{') {
            if (++depth > max)
                max = depth;
        } else if ((ch == ']' || ch == '}') && depth) {
            depth--;
        }
    }
    return max;
}

const char *parley__json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        break;
    }
    return "null";
}
