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
 *   descriptors inspected <n> times; seen <path>... | descriptor <fd> (<path>) without O_CLOEXEC
 *   scan clean <bytes> | scan found <hex> in <mapping>                      (with --scan-for)
 *
 * Standard output is line-buffered, so each line leaves the process as it is printed: a test
 * (or strace) sees "prompt ..." the moment the module asks.
 *
 * It also stands in for the system logger: syslog(3) and its fortified variants are defined
 * here, so every line the module logs through pam_syslog lands in the file named by
 * --syslog (or $LOCKSTEP_DRIVER_SYSLOG) instead of the machine's log. With --syslog-socket
 * PATH, each line goes instead to a syslog daemon listening on the Unix datagram socket PATH
 * (rsyslog's imuxsock), in the format glibc's syslog(3) writes to /dev/log, so that the daemon
 * writes it to its file as it writes a real sshd's lines.
 *
 * An answer given with --answer-command is the first line a shell command prints, run when
 * the prompt comes (a code sent by email or SMS, read from the test's mailbox); the line is
 * printed as "commanded <answer>" so the test knows what was typed.
 *
 * With --timing it prints "after_answer_us <N>": the microseconds from the conversation's
 * last answer to pam_authenticate's return, on the monotonic clock (what a client measures
 * from sending its answer to hearing the verdict).
 *
 * It also defines nettle_pbkdf2_hmac_sha256 (the backup-code hash, forwarded to libnettle's); with
 * --report-hashing each call prints "pbkdf2 holding-lock" or "pbkdf2 without-lock", after
 * whether this process holds an flock at that instant (from /proc/locks).
 *
 * With --check-host it also defines flock(2), fsync(2), fdatasync(2) and renameat(2): the
 * module's calls bind to these (the driver is linked with -rdynamic), which inspect every open
 * descriptor at that instant (is it close-on-exec?) and then make the real system call. So the
 * descriptors the module holds while it locks, writes and syncs are checked, not only those
 * left at the end.
 */
#define _GNU_SOURCE
#include <security/pam_appl.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <dlfcn.h>
#include <time.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#define MAX_ANSWERS 16
#define MAX_PATTERNS 8

static char *answers[MAX_ANSWERS];
static int answer_allocated[MAX_ANSWERS];
static int answer_is_command[MAX_ANSWERS];
static int answer_count;
static int next_answer;
static int conversation_fails;
static const char *syslog_path, *syslog_socket;
static const char *ready_fifo, *start_fifo;
static int sync_at_prompt, synced;
static int check_host;
static int report_hashing;
static long long answered_ns = -1;

static void inspect_descriptors(void);
static char *command_answer(const char *command);

/* ---- syslog stand-in -------------------------------------------------------------------- */

/* One datagram to the syslog daemon at syslog_socket, as glibc's syslog(3) sends it to /dev/log
   for a program that did not call openlog: "<PRI>Mmm dd hh:mm:ss TAG[PID]: MESSAGE". */
static void send_to_daemon(int priority, const char *message) {
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  struct sockaddr_un address = {.sun_family = AF_UNIX};
  snprintf(address.sun_path, sizeof address.sun_path, "%s", syslog_socket);
  if ((priority & LOG_FACMASK) == 0) priority |= LOG_USER;
  char stamp[32];
  time_t now = time(NULL);
  struct tm parts;
  strftime(stamp, sizeof stamp, "%h %e %T", localtime_r(&now, &parts));
  char datagram[4400];
  int length = snprintf(datagram, sizeof datagram, "<%d>%s %s[%d]: %s", priority, stamp,
                        program_invocation_short_name, (int)getpid(), message);
  if (length > 0) sendto(fd, datagram, (size_t)length, 0, (struct sockaddr *)&address, sizeof address);
  close(fd);
}

static void log_line(int priority, const char *format, va_list args) {
  inspect_descriptors();
  if (syslog_socket) {
    char message[4096];
    vsnprintf(message, sizeof message, format, args);
    send_to_daemon(priority, message);
    return;
  }
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

/* ---- start line ------------------------------------------------------------------------- */

/* A start line for races. Open the start FIFO first (the test holds it open, so this does not
   block), then say "ready" with one byte on the other FIFO, then wait for end-of-file on the
   start FIFO, which the test gives every waiting process at once by closing its end after it
   has heard from all of them. Returns 0 when released. */
static int wait_at_start_line(void) {
  char byte = 'r';
  int start = open(start_fifo, O_RDONLY | O_CLOEXEC);
  int ready = open(ready_fifo, O_WRONLY | O_CLOEXEC);
  if (start < 0 || ready < 0 || write(ready, &byte, 1) != 1) return -1;
  close(ready);
  int released = read(start, &byte, 1) == 0 ? 0 : -1;
  close(start);
  return released;
}

/* ---- conversation ----------------------------------------------------------------------- */

static void print_text(const char *label, const char *text) {
  printf("%s %s\n", label, text ? text : "(null)");
}

static long long monotonic_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
}

static int converse(int count, const struct pam_message **messages, struct pam_response **replies,
                    void *data) {
  (void)data;
  inspect_descriptors();
  if (conversation_fails) return PAM_CONV_ERR;
  struct pam_response *out = calloc((size_t)count, sizeof *out);
  if (out == NULL) return PAM_BUF_ERR;
  for (int i = 0; i < count; i++) {
    const struct pam_message *m = messages[i];
    switch (m->msg_style) {
    case PAM_PROMPT_ECHO_OFF:
    case PAM_PROMPT_ECHO_ON:
      printf("prompt echo=%s %s\n", m->msg_style == PAM_PROMPT_ECHO_ON ? "on" : "off", m->msg);
      /* With --sync-at prompt, the module waits here, mid-login, until the test releases it. */
      if (sync_at_prompt && !synced) {
        synced = 1;
        if (wait_at_start_line() != 0) {
          for (int j = 0; j < i; j++) free(out[j].resp);
          free(out);
          return PAM_CONV_ERR;
        }
      }
      if (next_answer >= answer_count) {
        printf("conversation no-answer-left\n");
        for (int j = 0; j < i; j++) free(out[j].resp);
        free(out);
        return PAM_CONV_ERR;
      }
      if (answer_is_command[next_answer]) {
        out[i].resp = command_answer(answers[next_answer++]);
      } else {
        out[i].resp = strdup(answers[next_answer++]);
      }
      answered_ns = monotonic_ns();
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

/* The first line `command` prints through /bin/sh, without its newline ("" when it prints none). */
static char *command_answer(const char *command) {
  char line[1024] = "";
  FILE *output = popen(command, "r");
  if (output != NULL) {
    if (fgets(line, sizeof line, output) == NULL) line[0] = 0;
    pclose(output);
  }
  line[strcspn(line, "\n")] = 0;
  printf("commanded %s\n", line);
  return strdup(line);
}

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
  sigset_t blocked;
  mode_t umask;
  uid_t ruid, euid, suid;
  gid_t rgid, egid, sgid;
  int fsuid, fsgid;
  int dumpable;
  struct rlimit core, files;
  char cwd[PATH_MAX];
  struct { dev_t dev; ino_t ino; int status_flags, fd_flags; } standard[3];
  char fds[1024];
};

static void capture_host(struct host_state *h) {
  memset(h, 0, sizeof *h);
  for (int s = 1; s < NSIG; s++) sigaction(s, NULL, &h->actions[s]);
  sigprocmask(SIG_BLOCK, NULL, &h->blocked);
  h->umask = umask(022);
  umask(h->umask);
  getresuid(&h->ruid, &h->euid, &h->suid);
  getresgid(&h->rgid, &h->egid, &h->sgid);
  h->fsuid = setfsuid(-1);
  h->fsgid = setfsgid(-1);
  h->dumpable = prctl(PR_GET_DUMPABLE);
  getrlimit(RLIMIT_CORE, &h->core);
  getrlimit(RLIMIT_NOFILE, &h->files);
  if (getcwd(h->cwd, sizeof h->cwd) == NULL) h->cwd[0] = '\0';
  for (int fd = 0; fd < 3; fd++) {
    struct stat st;
    if (fstat(fd, &st) == 0) {
      h->standard[fd].dev = st.st_dev;
      h->standard[fd].ino = st.st_ino;
    }
    h->standard[fd].status_flags = fcntl(fd, F_GETFL);
    h->standard[fd].fd_flags = fcntl(fd, F_GETFD);
  }
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

static int changed(const char *what) {
  printf("host changed: %s\n", what);
  return 0;
}

static void compare_host(const struct host_state *a, const struct host_state *b) {
  int same = 1;
  for (int s = 1; s < NSIG; s++) {
    if (a->actions[s].sa_handler != b->actions[s].sa_handler || a->actions[s].sa_flags != b->actions[s].sa_flags) {
      printf("host changed: handler of signal %d\n", s);
      same = 0;
    }
  }
  for (int s = 1; s < NSIG; s++) {
    if (sigismember(&a->blocked, s) != sigismember(&b->blocked, s)) same = changed("blocked signals");
  }
  if (a->umask != b->umask) same = changed("umask");
  if (a->ruid != b->ruid || a->euid != b->euid || a->suid != b->suid || a->fsuid != b->fsuid) same = changed("user ids");
  if (a->rgid != b->rgid || a->egid != b->egid || a->sgid != b->sgid || a->fsgid != b->fsgid) {
    same = changed("group ids");
  }
  if (a->dumpable != b->dumpable) same = changed("dumpable flag");
  if (a->core.rlim_cur != b->core.rlim_cur || a->files.rlim_cur != b->files.rlim_cur) same = changed("limits");
  if (strcmp(a->cwd, b->cwd) != 0) same = changed("working directory");
  for (int fd = 0; fd < 3; fd++) {
    if (a->standard[fd].dev != b->standard[fd].dev || a->standard[fd].ino != b->standard[fd].ino ||
        a->standard[fd].status_flags != b->standard[fd].status_flags ||
        a->standard[fd].fd_flags != b->standard[fd].fd_flags) {
      same = changed(fd == 0 ? "standard input" : fd == 1 ? "standard output" : "standard error");
    }
  }
  if (strcmp(a->fds, b->fds) != 0) {
    printf("host changed: open descriptors [%s] -> [%s]\n", a->fds, b->fds);
    same = 0;
  }
  if (same) printf("host unchanged\n");
}

/* ---- descriptors the module holds while it works ----------------------------------------- */

#define MAX_SEEN 16

static char preexisting[1024];           /* descriptors open before the module ran: 1 each */
static int inspections;
static char seen[MAX_SEEN][PATH_MAX];    /* what the module's descriptors pointed at */
static int seen_count;
static char problems[4096];

/* Whether descriptor fd has O_CLOEXEC, from /proc/self/fdinfo (the kernel's own view). */
static int close_on_exec(int fd) {
  char path[64], text[512];
  snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
  int info = open(path, O_RDONLY | O_CLOEXEC);
  if (info < 0) return 1; /* closed meanwhile */
  ssize_t n = read(info, text, sizeof text - 1);
  close(info);
  if (n <= 0) return 1;
  text[n] = '\0';
  const char *flags = strstr(text, "flags:");
  return flags != NULL && (strtol(flags + 6, NULL, 8) & O_CLOEXEC) != 0;
}

/* Records every descriptor that the module opened and holds right now, and any that would
   leak into a program the host starts because it lacks O_CLOEXEC. */
static void inspect_descriptors(void) {
  if (!check_host) return;
  int fds[256], count = 0;
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL) return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && count < 256) {
    int fd = atoi(e->d_name);
    if (e->d_name[0] != '.' && fd != dirfd(d)) fds[count++] = fd;
  }
  closedir(d);
  inspections++;
  for (int i = 0; i < count; i++) {
    int fd = fds[i];
    if (fd < (int)sizeof preexisting && preexisting[fd]) continue;
    char link[64], target[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n < 0) continue;
    target[n] = '\0';
    int known = 0;
    for (int j = 0; j < seen_count; j++) known |= strcmp(seen[j], target) == 0;
    if (!known && seen_count < MAX_SEEN) strcpy(seen[seen_count++], target);
    if (!close_on_exec(fd)) {
      size_t used = strlen(problems);
      snprintf(problems + used, sizeof problems - used, "descriptor %d (%.200s) without O_CLOEXEC\n", fd, target);
    }
  }
}

static void remember_preexisting_descriptors(void) {
  for (int fd = 0; fd < (int)sizeof preexisting; fd++) preexisting[fd] = fcntl(fd, F_GETFD) != -1;
}

static void report_descriptors(void) {
  printf("descriptors inspected %d times; seen", inspections);
  for (int i = 0; i < seen_count; i++) printf(" %s", seen[i]);
  printf("\n%s", problems);
}

/* The module's calls to these bind to the driver's definitions; each inspects the descriptors
   at the instant the module locks, syncs or renames, then makes the real system call. */
int flock(int fd, int operation) {
  inspect_descriptors();
  return (int)syscall(SYS_flock, fd, operation);
}

int fsync(int fd) {
  inspect_descriptors();
  return (int)syscall(SYS_fsync, fd);
}

int fdatasync(int fd) {
  inspect_descriptors();
  return (int)syscall(SYS_fdatasync, fd);
}

int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath) {
  inspect_descriptors();
  return (int)syscall(SYS_renameat2, olddirfd, oldpath, newdirfd, newpath, 0);
}

/* ---- the backup-code hash, and whether a lock is held while it runs --------------------- */

/* Whether this process holds an flock(2) lock now: a line of /proc/locks with our pid that is
   not a waiter ("->"). */
static int holds_a_lock(void) {
  FILE *locks = fopen("/proc/locks", "re");
  if (locks == NULL) return 0;
  char line[512], pid[32];
  snprintf(pid, sizeof pid, " %d ", (int)getpid());
  int held = 0;
  while (fgets(line, sizeof line, locks)) {
    if (strstr(line, "FLOCK") && !strstr(line, "->") && strstr(line, pid)) held = 1;
  }
  fclose(locks);
  return held;
}

typedef void (*pbkdf2_function)(size_t, const uint8_t *, unsigned, size_t, const uint8_t *, size_t, uint8_t *);

/* The module's call binds here (the driver is linked with -rdynamic); the real function is
   libnettle's, which the module loaded. */
void nettle_pbkdf2_hmac_sha256(size_t key_length, const uint8_t *key, unsigned iterations, size_t salt_length,
                               const uint8_t *salt, size_t length, uint8_t *dst) {
  if (report_hashing) printf("pbkdf2 %s\n", holds_a_lock() ? "holding-lock" : "without-lock");
  void *nettle = dlopen("libnettle.so.8", RTLD_LAZY | RTLD_NOLOAD);
  pbkdf2_function real = nettle ? (pbkdf2_function)dlsym(nettle, "nettle_pbkdf2_hmac_sha256") : NULL;
  if (nettle) dlclose(nettle);
  if (real) real(key_length, key, iterations, salt_length, salt, length, dst);
}

/* ---- secrets left in memory ------------------------------------------------------------- */

static const char *patterns[MAX_PATTERNS];
static int pattern_count;
static char **argument_start, *argument_end;

static int hex_digit(char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int hex_byte(const char *hex, size_t i) {
  return hex_digit(hex[2 * i]) * 16 + hex_digit(hex[2 * i + 1]);
}

static int valid_hex(const char *hex) {
  size_t n = strlen(hex);
  for (size_t i = 0; i < n; i++) {
    if (hex_digit(hex[i]) < 0) return 0;
  }
  return n >= 2 && n % 2 == 0;
}

/* Whether the bytes at p are the ones `hex` spells. The pattern is compared digit pair by
   digit pair and never decoded into memory, where the scan would find it. */
static int matches(const unsigned char *p, size_t available, const char *hex) {
  size_t n = strlen(hex) / 2;
  if (n == 0 || n > available) return 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] != hex_byte(hex, i)) return 0;
  }
  return 1;
}

/* The scan's own working memory: one anonymous mapping, left out of the scan, that holds the
   text of /proc/self/maps and file bytes read for comparison. Nothing the scan reads lands on
   the stack or the heap, where it would be found. */
#define SCRATCH_SIZE (4u << 20)
static unsigned char *scratch;

/* Whether the `length` bytes at p, found at `offset` into a mapping of `file` that starts at
   `file_offset`, are the same in the file itself: then they are the library's own constant
   data (a table of digits, say), not something the module left behind. */
static int same_in_file(const char *file, unsigned long file_offset, size_t offset, const unsigned char *p,
                        size_t length) {
  unsigned char *copy = scratch + SCRATCH_SIZE - 256;
  if (file[0] != '/' || length > 256) return 0;
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = pread(fd, copy, length, (off_t)(file_offset + offset));
  close(fd);
  return n == (ssize_t)length && memcmp(copy, p, length) == 0;
}

/* Scans every readable, writable mapping (heap, stack, anonymous memory, the data of every
   library including the module) for each pattern and prints where it is found. The answers
   the driver itself was given are wiped first: they are the application's copies. */
static void scan_memory(void) {
  for (int i = 0; i < answer_count; i++) explicit_bzero(answers[i], strlen(answers[i]));
  scratch = mmap(NULL, SCRATCH_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  int maps = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (scratch == MAP_FAILED || maps < 0) {
    printf("scan failed\n");
    return;
  }
  size_t length = 0;
  ssize_t n;
  while ((n = read(maps, scratch + length, SCRATCH_SIZE - 512 - length)) > 0) length += (size_t)n;
  close(maps);
  scratch[length] = '\0';
  unsigned long scanned = 0;
  int found = 0;
  for (char *line = (char *)scratch; *line; line = strchr(line, '\n') + 1) {
    unsigned long start, end, file_offset;
    char perms[5];
    int name_at = 0;
    if (sscanf(line, "%lx-%lx %4s %lx %*s %*s %n", &start, &end, perms, &file_offset, &name_at) < 4) break;
    char *name = line + name_at;
    *strchr(line, '\n') = '\0';
    const unsigned char *base = (const unsigned char *)start;
    size_t size = end - start;
    int own = base == scratch;
    if (!own && perms[0] == 'r' && perms[1] == 'w' && strcmp(name, "[vvar]") != 0) {
      scanned += size;
      for (int k = 0; k < pattern_count; k++) {
        int first = hex_byte(patterns[k], 0);
        for (const unsigned char *p = base; (p = memchr(p, first, size - (size_t)(p - base))) != NULL; p++) {
          /* The scan's own arguments (the patterns' hex text) live in the argument strings. */
          if ((const char *)p >= *argument_start && (const char *)p < argument_end) continue;
          if (matches(p, size - (size_t)(p - base), patterns[k]) &&
              !same_in_file(name, file_offset, (size_t)(p - base), p, strlen(patterns[k]) / 2)) {
            printf("scan found %s in %s at offset %lu\n", patterns[k], name[0] ? name : "[anonymous]",
                   (unsigned long)(p - base));
            found++;
          }
        }
      }
    }
    line[strlen(line)] = '\n';
  }
  munmap(scratch, SCRATCH_SIZE);
  if (!found) printf("scan clean %lu\n", scanned);
}

static void usage(void) {
  fprintf(stderr,
          "usage: pam-driver --confdir DIR [--service NAME] [--user NAME | --no-user]\n"
          "       [--answer TEXT | --answer-hex HEX | --answer-repeat COUNT:CHAR | --answer-command SH]...\n"
          "       [--rhost HOST] [--no-conv] [--fail-conv] [--cycles N] [--syslog FILE | --syslog-socket PATH]\n"
          "       [--check-host] [--timing] [--report-hashing] [--scan-for HEX]... [--ready-fifo PATH --start-fifo PATH\n"
          "       [--sync-at start|prompt]]\n");
  exit(2);
}

/* ---- main ------------------------------------------------------------------------------- */

int main(int argc, char **argv) {
  const char *confdir = NULL, *service = "lockstep-test", *user = NULL;
  const char *rhost = NULL;
  int no_user = 0, no_conv = 0, timing = 0;
  long cycles = 1;
  setvbuf(stdout, NULL, _IOLBF, 0);
  argument_start = argv;
  argument_end = argv[argc - 1] + strlen(argv[argc - 1]);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--no-user")) no_user = 1;
    else if (!strcmp(a, "--no-conv")) no_conv = 1;
    else if (!strcmp(a, "--fail-conv")) conversation_fails = 1;
    else if (!strcmp(a, "--check-host")) check_host = 1;
    else if (!strcmp(a, "--timing")) timing = 1;
    else if (!strcmp(a, "--report-hashing")) report_hashing = 1;
    else if (v == NULL) usage();
    else {
      i++;
      if (!strcmp(a, "--confdir")) confdir = v;
      else if (!strcmp(a, "--service")) service = v;
      else if (!strcmp(a, "--user")) user = v;
      else if (!strcmp(a, "--rhost")) rhost = v;
      else if (!strcmp(a, "--syslog")) syslog_path = v;
      else if (!strcmp(a, "--syslog-socket")) syslog_socket = v;
      else if (!strcmp(a, "--ready-fifo")) ready_fifo = v;
      else if (!strcmp(a, "--start-fifo")) start_fifo = v;
      else if (!strcmp(a, "--sync-at") && !strcmp(v, "prompt")) sync_at_prompt = 1;
      else if (!strcmp(a, "--sync-at") && !strcmp(v, "start")) sync_at_prompt = 0;
      else if (!strcmp(a, "--cycles")) cycles = strtol(v, NULL, 10);
      else if (!strcmp(a, "--scan-for") && pattern_count < MAX_PATTERNS && valid_hex(v)) patterns[pattern_count++] = v;
      else if (answer_count >= MAX_ANSWERS) usage();
      else if (!strcmp(a, "--answer")) answers[answer_count++] = argv[i];
      else if (!strcmp(a, "--answer-command")) answer_is_command[answer_count] = 1, answers[answer_count++] = argv[i];
      else if (!strcmp(a, "--answer-hex")) answer_allocated[answer_count] = 1, answers[answer_count++] = from_hex(v);
      else if (!strcmp(a, "--answer-repeat")) answer_allocated[answer_count] = 1, answers[answer_count++] = repeated(v);
      else usage();
    }
  }
  if (confdir == NULL || (user == NULL && !no_user) || cycles < 1) usage();

  if ((ready_fifo == NULL) != (start_fifo == NULL) || (sync_at_prompt && ready_fifo == NULL)) usage();
  if (ready_fifo != NULL && !sync_at_prompt && wait_at_start_line() != 0) return 3;
  struct pam_conv conversation = {converse, NULL};
  static struct host_state host_before, host_after;
  if (check_host) {
    capture_host(&host_before);
    remember_preexisting_descriptors();
  }
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
    answered_ns = -1;
    rc = pam_authenticate(pamh, 0);
    long long returned_ns = monotonic_ns();
    if (cycles == 1 || cycle == cycles - 1) printf("result %s\n", code_name(rc));
    if (timing && answered_ns >= 0) printf("after_answer_us %lld\n", (returned_ns - answered_ns) / 1000);
    pam_end(pamh, rc);
    if (cycle == 999 || (cycles < 1000 && cycle == 0)) warm_rss = resident_kb();
  }
  if (cycles > 1) printf("rss_kb %ld %ld\n", warm_rss, resident_kb());
  if (check_host) {
    capture_host(&host_after);
    compare_host(&host_before, &host_after);
    report_descriptors();
  }
  if (pattern_count > 0) scan_memory();
  for (int i = 0; i < answer_count; i++) {
    if (answer_allocated[i]) free(answers[i]);
  }
  return 0;
}
