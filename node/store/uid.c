/* UID syntax check, PS3.5 section 9.1. */
#include "store/uid.h"

#include <stddef.h>

int cn_uid_is_valid(const char *uid)
{
    if (uid == NULL)
        return 0;
    size_t len = 0;
    size_t component_len = 0;
    char component_first = '\0';
    for (const char *p = uid;; p++, len++) {
        if (len > CN_UID_MAX_LEN)
            return 0;
        char c = *p;
        if (c == '.' || c == '\0') {
            /* PS3.5 9.1: components are non-empty, and a component of more than one
             * digit does not start with 0. */
            if (component_len == 0)
                return 0;
            if (component_len > 1 && component_first == '0')
                return 0;
            if (c == '\0')
                return len >= 1;
            component_len = 0;
            continue;
        }
        if (c < '0' || c > '9')
            return 0;
        if (component_len == 0)
            component_first = c;
        component_len++;
    }
}
