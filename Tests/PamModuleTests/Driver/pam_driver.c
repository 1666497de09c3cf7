/*
 * pam-driver: an application that uses PAM the way sshd and sudo do, for tests and benchmarks.
 *
 * It calls pam_start_confdir -> (pam_set_item) -> pam_authenticate -> pam_end against a
 * private service directory, answers the conversation from a scripted list, and prints what
 * happened, one fact per line:
 *
 *   prompt echo=off Verification code:
 *   info <text> / error <text>
 *   result PAM_SUCCESS
 *   rss_kb <resident set size after warm-up> <resident set size at the end>   (with --cycles)
 *   host unchanged | host changed: <what>                                   (with --check-host)
 *
 * It also stands in for the system logger: syslog(3) and its fortified variants are defined
 * here, so every line the module logs through pam_syslog lands in the file named by
 * --syslog (or $LOCKSTEP_DRIVER_SYSLOG) instead of the machine's log.
 */
#define _GNU_SOURCE
#include <security/pam_appl.h>

#include <dirent.h>
#include <signal.h>
#include <sys/fsuid.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#define MAX_ANSWERS 16

static const char *answers[MAX_ANSWERS];
static int answer_count;
static int next_answer;
static int conversation_fails;
static const char *syslog_path;

/* ---- syslog stand-in -------------------------------------------------------------------- */

static void log_line(int priority, const char *format, va_list args) {
  const char *path = syslog_path ? syslog_path : getenv("LOCKSTEP_DRIVER_SYSLOG");
  if (path == NULL) return;
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return;
  char message[4096];
  vsnprintf(message, sizeof message, format, args);
  dprintf(fd, "<%d> %s\n", priority, message);
  close(fd);
}

void vsyslog(int priority, const char *format, va_list args) { log_line(priority, format, args); }

void syslog(int priority, const char *format, ...) {
  va_list args;
  va_start(args, format);
  log_line(priority, format, args);
  va_end(args);
}

void __vsyslog_chk(int priority, int flag, const char *format, va_list args) {
  (void)flag;
  log_line(priority, format, args);
}

void __syslog_chk(int priority, int flag, const char *format, ...) {
  (void)flag;
  va_list args;
  va_start(args, format);
  log_line(priority, format, args);
  va_end(args);
}

/* ---- conversation ----------------------------------------------------------------------- */

static void print_text(const char *label, const char *text) {
  printf("%s %s\n", label, text ? text : "(null)");
}

static int converse(int count, const struct pam_message **messages, struct pam_response **replies,
                    void *data) {
  (void)data;
  if (conversation_fails) return PAM_CONV_ERR;
  struct pam_response *out = calloc((size_t)count, sizeof *out);
  if (out == NULL) return PAM_BUF_ERR;
  for (int i = 0; i < count; i++) {
    const struct pam_message *m = messages[i];
    switch (m->msg_style) {
    case PAM_PROMPT_ECHO_OFF:
    case PAM_PROMPT_ECHO_ON:
      printf("prompt echo=%s %s\n", m->msg_style == PAM_PROMPT_ECHO_ON ? "on" : "off", m->msg);
      if (next_answer >= answer_count) {
        printf("conversation no-answer-left\n");
        for (int j = 0; j < i; j++) free(out[j].resp);
        free(out);
        return PAM_CONV_ERR;
      }
      out[i].resp = strdup(answers[next_answer++]);
      break;
    case PAM_ERROR_MSG: print_text("error", m->msg); break;
    case PAM_TEXT_INFO: print_text("info", m->msg); break;
    default: printf("message style=%d\n", m->msg_style); break;
    }
  }
  *replies = out;
  return PAM_SUCCESS;
}

/* ---- helpers ---------------------------------------------------------------------------- */

static const char *code_name(int code) {
  switch (code) {
  case PAM_SUCCESS: return "PAM_SUCCESS";
  case PAM_AUTH_ERR: return "PAM_AUTH_ERR";
  case PAM_AUTHINFO_UNAVAIL: return "PAM_AUTHINFO_UNAVAIL";
  case PAM_MAXTRIES: return "PAM_MAXTRIES";
  case PAM_IGNORE: return "PAM_IGNORE";
  case PAM_CONV_ERR: return "PAM_CONV_ERR";
  case PAM_BUF_ERR: return "PAM_BUF_ERR";
  case PAM_SERVICE_ERR: return "PAM_SERVICE_ERR";
  case PAM_SYSTEM_ERR: return "PAM_SYSTEM_ERR";
  case PAM_USER_UNKNOWN: return "PAM_USER_UNKNOWN";
  case PAM_CRED_INSUFFICIENT: return "PAM_CRED_INSUFFICIENT";
  case PAM_PERM_DENIED: return "PAM_PERM_DENIED";
  case PAM_ABORT: return "PAM_ABORT";
  default: return "PAM_OTHER";
  }
}

/* Decodes hex into a new NUL-terminated string (an embedded 00 ends the C string early, as it
   would for any PAM application). */
static char *from_hex(const char *hex) {
  size_t n = strlen(hex) / 2;
  char *out = calloc(n + 1, 1);
  if (out == NULL) exit(3);
  for (size_t i = 0; i < n; i++) {
    unsigned value;
    if (sscanf(hex + 2 * i, "%2x", &value) != 1) exit(2);
    out[i] = (char)value;
  }
  return out;
}

/* An answer of `count` copies of `c` (for the very long answers). */
static char *repeated(const char *spec) {
  char c = '1';
  long count = strtol(spec, NULL, 10);
  const char *colon = strchr(spec, ':');
  if (colon && colon[1]) c = colon[1];
  if (count < 0 || count > 100L * 1024 * 1024) exit(2);
  char *out = malloc((size_t)count + 1);
  if (out == NULL) exit(3);
  memset(out, c, (size_t)count);
  out[count] = '\0';
  return out;
}

static long resident_kb(void) {
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f == NULL) return -1;
  if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = -1;
  fclose(f);
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* ---- the host's state, which a module must leave as it found it -------------------------- */

struct host_state {
  struct sigaction actions[NSIG];
  mode_t umask;
  uid_t ruid, euid, suid;
  gid_t rgid, egid, sgid;
  int fsuid, fsgid;
  char fds[1024];
};

static void capture_host(struct host_state *h) {
  memset(h, 0, sizeof *h);
  for (int s = 1; s < NSIG; s++) sigaction(s, NULL, &h->actions[s]);
  h->umask = umask(022);
  umask(h->umask);
  getresuid(&h->ruid, &h->euid, &h->suid);
  getresgid(&h->rgid, &h->egid, &h->sgid);
  h->fsuid = setfsuid(-1);
  h->fsgid = setfsgid(-1);
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL) return;
  struct dirent *e;
  size_t used = 0;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d)) continue;
    used += (size_t)snprintf(h->fds + used, sizeof h->fds - used, "%s ", e->d_name);
    if (used >= sizeof h->fds) break;
  }
  closedir(d);
}

static void compare_host(const struct host_state *a, const struct host_state *b) {
  int same = 1;
  for (int s = 1; s < NSIG; s++) {
    if (a->actions[s].sa_handler != b->actions[s].sa_handler || a->actions[s].sa_flags != b->actions[s].sa_flags) {
      printf("host changed: handler of signal %d\n", s);
      same = 0;
    }
  }
  if (a->umask != b->umask) { printf("host changed: umask\n"); same = 0; }
  if (a->ruid != b->ruid || a->euid != b->euid || a->suid != b->suid || a->fsuid != b->fsuid) {
    printf("host changed: user ids\n");
    same = 0;
  }
  if (a->rgid != b->rgid || a->egid != b->egid || a->sgid != b->sgid || a->fsgid != b->fsgid) {
    printf("host changed: group ids\n");
    same = 0;
  }
  if (strcmp(a->fds, b->fds) != 0) { printf("host changed: open descriptors [%s] -> [%s]\n", a->fds, b->fds); same = 0; }
  if (same) printf("host unchanged\n");
}

static void usage(void) {
  fprintf(stderr,
          "usage: pam-driver --confdir DIR [--service NAME] [--user NAME | --no-user]\n"
          "       [--answer TEXT | --answer-hex HEX | --answer-repeat COUNT:CHAR]...\n"
          "       [--rhost HOST] [--no-conv] [--fail-conv] [--cycles N] [--syslog FILE]\n"
          "       [--check-host] [--ready-fifo PATH --start-fifo PATH]\n");
  exit(2);
}

/* ---- main ------------------------------------------------------------------------------- */

int main(int argc, char **argv) {
  const char *confdir = NULL, *service = "lockstep-test", *user = NULL;
  const char *rhost = NULL, *ready_fifo = NULL, *start_fifo = NULL;
  int no_user = 0, no_conv = 0, check_host = 0;
  long cycles = 1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--no-user")) no_user = 1;
    else if (!strcmp(a, "--no-conv")) no_conv = 1;
    else if (!strcmp(a, "--fail-conv")) conversation_fails = 1;
    else if (!strcmp(a, "--check-host")) check_host = 1;
    else if (v == NULL) usage();
    else {
      i++;
      if (!strcmp(a, "--confdir")) confdir = v;
      else if (!strcmp(a, "--service")) service = v;
      else if (!strcmp(a, "--user")) user = v;
      else if (!strcmp(a, "--rhost")) rhost = v;
      else if (!strcmp(a, "--syslog")) syslog_path = v;
      else if (!strcmp(a, "--ready-fifo")) ready_fifo = v;
      else if (!strcmp(a, "--start-fifo")) start_fifo = v;
      else if (!strcmp(a, "--cycles")) cycles = strtol(v, NULL, 10);
      else if (answer_count >= MAX_ANSWERS) usage();
      else if (!strcmp(a, "--answer")) answers[answer_count++] = v;
      else if (!strcmp(a, "--answer-hex")) answers[answer_count++] = from_hex(v);
      else if (!strcmp(a, "--answer-repeat")) answers[answer_count++] = repeated(v);
      else usage();
    }
  }
  if (confdir == NULL || (user == NULL && !no_user) || cycles < 1) usage();

  if (ready_fifo != NULL && start_fifo != NULL) {
    /* A start line for races. Open the start FIFO first (the test holds it open, so this does
       not block), then say "ready" with one byte on the other FIFO, then wait for end-of-file
       on the start FIFO, which the test gives every waiting driver at once by closing its end
       after it has heard from all of them. */
    char byte = 'r';
    int start = open(start_fifo, O_RDONLY | O_CLOEXEC);
    int ready = open(ready_fifo, O_WRONLY | O_CLOEXEC);
    if (start < 0 || ready < 0 || write(ready, &byte, 1) != 1) return 3;
    close(ready);
    if (read(start, &byte, 1) != 0) return 3;
    close(start);
  }
  struct pam_conv conversation = {converse, NULL};
  static struct host_state host_before, host_after;
  if (check_host) capture_host(&host_before);
  long warm_rss = -1;
  for (long cycle = 0; cycle < cycles; cycle++) {
    pam_handle_t *pamh = NULL;
    next_answer = 0;
    struct pam_conv absent = {NULL, NULL};
    int rc = pam_start_confdir(service, no_user ? NULL : user, no_conv ? &absent : &conversation,
                               confdir, &pamh);
    if (rc != PAM_SUCCESS) {
      printf("start %s\n", code_name(rc));
      return 1;
    }
    if (rhost) pam_set_item(pamh, PAM_RHOST, rhost);
    rc = pam_authenticate(pamh, 0);
    if (cycles == 1 || cycle == cycles - 1) printf("result %s\n", code_name(rc));
    pam_end(pamh, rc);
    if (cycle == 999 || (cycles < 1000 && cycle == 0)) warm_rss = resident_kb();
  }
  if (cycles > 1) printf("rss_kb %ld %ld\n", warm_rss, resident_kb());
  if (check_host) {
    capture_host(&host_after);
    compare_host(&host_before, &host_after);
  }
  return 0;
}
