#include "lockstep_pam.h"

#include <stdlib.h>
#include <string.h>

void lockstep_pam_log(pam_handle_t *pamh, int priority, const char *message) {
  pam_syslog(pamh, priority, "%s", message);
}

int lockstep_pam_ask(pam_handle_t *pamh, int style, const char *prompt, char **answer) {
  *answer = NULL;
  int result = pam_prompt(pamh, style, answer, "%s", prompt);
  if (result == PAM_SUCCESS && *answer == NULL) {
    /* A conversation that "succeeds" without a reply is treated as a failed conversation. */
    return PAM_CONV_ERR;
  }
  return result;
}

int lockstep_pam_show(pam_handle_t *pamh, int style, const char *message) {
  return pam_prompt(pamh, style, NULL, "%s", message);
}

void lockstep_pam_release_answer(char *answer) {
  if (answer != NULL) {
    explicit_bzero(answer, strlen(answer));
    free(answer);
  }
}

const char *lockstep_pam_get_string_item(const pam_handle_t *pamh, int item) {
  const void *value = NULL;
  if (pam_get_item(pamh, item, &value) != PAM_SUCCESS) {
    return NULL;
  }
  return (const char *)value;
}
