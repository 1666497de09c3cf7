/*
 * libnss_lockstepcase.so.2: a user database for tests that answers like a case-insensitive
 * directory (SSSD or AD with case_sensitive = false, winbind): a name with upper-case letters
 * resolves to the account whose own name (pw_name) is that name in lower case. Names that
 * are already lower case are left to the other sources ("not found" here).
 *
 * The tests load it through a private /etc/nsswitch.conf ("passwd: files lockstepcase"),
 * bind-mounted in a mount namespace of their own, so the machine's user database is never
 * changed. The accounts it invents have uid and gid 65534 and no login shell.
 */
#include <ctype.h>
#include <errno.h>
#include <nss.h>
#include <pwd.h>
#include <string.h>

enum nss_status _nss_lockstepcase_getpwnam_r(const char *name, struct passwd *entry, char *buffer,
                                             size_t length, int *error) {
  size_t size = strlen(name) + 1;
  int folded = 0;
  for (const char *c = name; *c; c++) folded |= isupper((unsigned char)*c);
  if (!folded) {
    *error = ENOENT;
    return NSS_STATUS_NOTFOUND;
  }
  static const char home[] = "/nonexistent", shell[] = "/usr/sbin/nologin";
  if (length < size + sizeof home + sizeof shell + 1) {
    *error = ERANGE;
    return NSS_STATUS_TRYAGAIN;
  }
  char *own = buffer;
  for (size_t i = 0; i < size; i++) own[i] = (char)tolower((unsigned char)name[i]);
  char *dir = own + size;
  memcpy(dir, home, sizeof home);
  char *sh = dir + sizeof home;
  memcpy(sh, shell, sizeof shell);
  char *empty = sh + sizeof shell;
  *empty = '\0';
  entry->pw_name = own;
  entry->pw_passwd = empty;
  entry->pw_uid = 65534;
  entry->pw_gid = 65534;
  entry->pw_gecos = empty;
  entry->pw_dir = dir;
  entry->pw_shell = sh;
  return NSS_STATUS_SUCCESS;
}
