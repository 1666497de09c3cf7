#ifndef LOCKSTEP_PAM_H
#define LOCKSTEP_PAM_H
/* The PAM interface as Swift sees it: the Linux-PAM headers, plus small wrappers for what Swift
   cannot call directly (pam_syslog and pam_prompt are variadic). */
#include <security/pam_appl.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <syslog.h>

/* Logs one preformatted message through pam_syslog(3) at the given priority (the facility is
   LOG_AUTHPRIV unless the service's openlog said otherwise). */
void lockstep_pam_log(pam_handle_t *pamh, int priority, const char *message);

/* Asks one question through the application's conversation function (pam_prompt(3)).
   style is PAM_PROMPT_ECHO_OFF or PAM_PROMPT_ECHO_ON. On success *answer is a malloc'd string
   that the caller must release with lockstep_pam_release_answer. Returns a PAM code. */
int lockstep_pam_ask(pam_handle_t *pamh, int style, const char *prompt, char **answer);

/* Shows one message through the conversation: style PAM_ERROR_MSG (what the pam_error(3)
   macro does) or PAM_TEXT_INFO (pam_info(3)). Returns a PAM code. */
int lockstep_pam_show(pam_handle_t *pamh, int style, const char *message);

/* Wipes and frees an answer from lockstep_pam_ask (NULL is allowed). */
void lockstep_pam_release_answer(char *answer);

/* The string value of a PAM item (PAM_RHOST, PAM_AUTHTOK, ...), or NULL. */
const char *lockstep_pam_get_string_item(const pam_handle_t *pamh, int item);

#endif
