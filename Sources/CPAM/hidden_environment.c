/*
 * The environment as the module's own image sees it: empty.
 *
 * The Swift runtime linked into the module reads SWIFT_* variables (backtracing, runtime
 * debugging) from the process environment when it is loaded, and complains on stderr about
 * values it does not understand. Inside sshd or sudo that environment belongs to whoever
 * started the process, and the module must neither print nor change behaviour because of it.
 * The module is linked with --wrap=getenv, --wrap=secure_getenv, --wrap=environ and
 * --wrap=__environ, so the references in its own image (and only there: the host and the
 * other libraries it loads are untouched) resolve to these definitions. The module itself
 * reads no environment variable.
 */
#include <stddef.h>

static char *lockstep_no_variables[] = {NULL};

char **__wrap_environ = lockstep_no_variables;
char **__wrap___environ = lockstep_no_variables;

char *__wrap_getenv(const char *name) {
    (void)name;
    return NULL;
}

char *__wrap_secure_getenv(const char *name) {
    (void)name;
    return NULL;
}
