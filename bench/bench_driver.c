/*
 * bench-driver: the measuring half of `make bench` (scripts/bench is the other half).
 *
 * It behaves like sshd or sudo towards PAM: pam_start_confdir -> pam_authenticate -> pam_end
 * per login, with a conversation that answers the one-time code, and measures what that
 * costs. Subcommands:
 *
 *   setup --dir DIR --from A --to B [--prefix P]
 *       Creates users uA..u(B-1) (PA..P(B-1) with --prefix, six digits each: u000042), each
 *       with its own random 160-bit secret, for all three
 *       modules at once: appends "USER HEX" to DIR/secrets, writes DIR/ga/USER (a
 *       google-authenticator file with DISALLOW_REUSE, RATE_LIMIT and TOTP_AUTH), appends a
 *       HOTP/T30 line to DIR/users.oath and to DIR/new-users.oath (the delta that
 *       `lockstep import pam-oath` turns into Lockstep records), and creates the per-user files
 *       the floor measurement updates (DIR/floor/.USER.state, and DIR/floor/USER for the first
 *       1,000 users).
 *
 *   plan --secrets FILE --users A:B[:STEP] --time T [--passes P] [--pass-seconds S] [--wrong]
 *       Prints one login per line, "TIME USER CODE EXPECT": every selected user once per pass,
 *       pass p at time T + p*S, with the TOTP code (RFC 6238, HMAC-SHA1, 6 digits, 30 s)
 *       computed here with libcrypto, independently of every module. With --wrong each code
 *       is one that no step within +-50 of the login's step produces (so no module can accept
 *       it, nor mistake it for clock skew), and the expectation is "fail".
 *
 *   code --hex SECRET --time T
 *       Prints the code for one secret and time, for cross-checking against oathtool.
 *
 *   run --plan FILE --confdir DIR --service NAME [--procs N] [--replay]
 *       [--floor inplace|rename --floor-dir DIR] [--rss-after N]
 *       Runs the plan: N worker processes (forked after the plan is read; users are dealt out
 *       so no two workers share one), started together, each logging in its share in order.
 *       Before each login the worker sets the clock the modules see to the line's TIME (see
 *       "The clock" below). --replay expects every login to fail (the plan was already used).
 *       --floor adds, after each successful login, one durable update of a small per-user file:
 *       "inplace" = flock + pread + pwrite + fdatasync of DIR/.USER.state; "rename" = flock on
 *       DIR/.USER.lock + write DIR/.USER.tmp + fsync + rename over DIR/USER + fsync of DIR.
 *       Prints one JSON object: logins, wall and CPU seconds, per-login latency percentiles,
 *       peak RSS, RSS after --rss-after logins and at the end, the count of each PAM result,
 *       how many outcomes were not the expected ones, and the fail delays the modules asked
 *       for (which are recorded, not slept). Exits 1 if any outcome was unexpected.
 *
 * The clock: time(), gettimeofday() and clock_gettime(CLOCK_REALTIME*) are defined here, in the
 * executable, which is linked with -rdynamic, so the dynamic linker binds every module's calls
 * to them before libc's. They return the plan line's time, so each login sees the time step
 * its code was made for, however long the run takes, and a pass can be repeated at a later
 * step in the same process. Other clocks pass through to libc (the measurements use
 * CLOCK_MONOTONIC). If a module read the time some other way, its codes would be refused and
 * the run would fail its expectations.
 *
 * Logging: syslog(3) and its relatives are defined here too; they format the message (the
 * cost stays in the measurement) and drop it, so no log daemon's speed is measured.
 *
 * The fail delay: the driver sets PAM_FAIL_DELAY to a function of its own, so libpam calls it
 * instead of sleeping when a module asked for a delay with pam_fail_delay(3); the delays are
 * counted and reported separately, never slept.
 */
#define _GNU_SOURCE
#include <security/pam_appl.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROCS 16
/* The rename floor is measured at 1,000 users only: a file to replace for the first 1,000. */
#define RENAME_FLOOR_USERS 1000

static void die(const char *format, ...) {
  va_list args;
  va_start(args, format);
  fputs("bench-driver: ", stderr);
  vfprintf(stderr, format, args);
  fputc('\n', stderr);
  va_end(args);
  exit(2);
}

/* ---- the clock the modules see --------------------------------------------------------- */

static time_t fake_now; /* 0: the real clock */

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);

static int real_clock_gettime(clockid_t clock, struct timespec *ts) {
  static clock_gettime_fn real;
  if (real == NULL) real = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
  if (real == NULL) die("cannot find libc's clock_gettime");
  return real(clock, ts);
}

int clock_gettime(clockid_t clock, struct timespec *ts) {
  if (fake_now != 0 && (clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE)) {
    ts->tv_sec = fake_now;
    ts->tv_nsec = 0;
    return 0;
  }
  return real_clock_gettime(clock, ts);
}

time_t time(time_t *out) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  if (out) *out = ts.tv_sec;
  return ts.tv_sec;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
  (void)tz;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tv->tv_sec = ts.tv_sec;
  tv->tv_usec = ts.tv_nsec / 1000;
  return 0;
}

static double monotonic_seconds(void) {
  struct timespec ts;
  real_clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- syslog stand-in: format, then drop -------------------------------------------------- */

static volatile size_t logged_bytes;

void vsyslog(int priority, const char *format, va_list args) {
  (void)priority;
  char message[2048];
  logged_bytes += (size_t)vsnprintf(message, sizeof message, format, args);
}

void syslog(int priority, const char *format, ...) {
  va_list args;
  va_start(args, format);
  vsyslog(priority, format, args);
  va_end(args);
}

void __vsyslog_chk(int priority, int flag, const char *format, va_list args) {
  (void)flag;
  vsyslog(priority, format, args);
}

void __syslog_chk(int priority, int flag, const char *format, ...) {
  (void)flag;
  va_list args;
  va_start(args, format);
  vsyslog(priority, format, args);
  va_end(args);
}

void openlog(const char *ident, int option, int facility) {
  (void)ident;
  (void)option;
  (void)facility;
}

void closelog(void) {}

/* ---- TOTP, independently of every module ------------------------------------------------- */

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Decodes hex into `out`; returns the length, or -1. */
static int from_hex(const char *hex, unsigned char *out, size_t capacity) {
  size_t n = strlen(hex);
  if (n % 2 != 0 || n / 2 > capacity) return -1;
  for (size_t i = 0; i < n / 2; i++) {
    int high = hex_value(hex[2 * i]), low = hex_value(hex[2 * i + 1]);
    if (high < 0 || low < 0) return -1;
    out[i] = (unsigned char)(high * 16 + low);
  }
  return (int)(n / 2);
}

/* RFC 4226 HOTP with HMAC-SHA1 and 6 digits, for counter `step` (RFC 6238: step = time / 30). */
static unsigned totp_code(const unsigned char *key, int key_length, uint64_t step) {
  unsigned char message[8], digest[20];
  unsigned int digest_length = sizeof digest;
  for (int i = 7; i >= 0; i--) {
    message[i] = (unsigned char)(step & 0xff);
    step >>= 8;
  }
  if (HMAC(EVP_sha1(), key, key_length, message, sizeof message, digest, &digest_length) == NULL)
    die("HMAC failed");
  int offset = digest[19] & 0x0f;
  uint32_t binary = ((uint32_t)(digest[offset] & 0x7f) << 24) | ((uint32_t)digest[offset + 1] << 16) |
                    ((uint32_t)digest[offset + 2] << 8) | (uint32_t)digest[offset + 3];
  return binary % 1000000;
}

/* A code that no step within +-50 of `step` produces for this key. */
static unsigned wrong_code(const unsigned char *key, int key_length, uint64_t step) {
  unsigned candidate = (totp_code(key, key_length, step) + 500000) % 1000000;
  for (;;) {
    int taken = 0;
    for (int delta = -50; delta <= 50 && !taken; delta++)
      taken = totp_code(key, key_length, step + (uint64_t)(int64_t)delta) == candidate;
    if (!taken) return candidate;
    candidate = (candidate + 1) % 1000000;
  }
}

static void base32(const unsigned char *data, int length, char *out) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  int bits = 0, used = 0;
  unsigned buffer = 0;
  for (int i = 0; i < length; i++) {
    buffer = (buffer << 8) | data[i];
    bits += 8;
    while (bits >= 5) {
      out[used++] = alphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out[used++] = alphabet[(buffer << (5 - bits)) & 31];
  out[used] = '\0';
}

/* ---- small file helpers ----------------------------------------------------------------- */

static void write_new_file(const char *path, const char *text, mode_t mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) die("cannot create %s: %s", path, strerror(errno));
  size_t length = strlen(text);
  if (write(fd, text, length) != (ssize_t)length || fchmod(fd, mode) != 0 || close(fd) != 0)
    die("cannot write %s: %s", path, strerror(errno));
}

static FILE *open_append(const char *dir, const char *name, const char *mode) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, mode);
  if (f == NULL) die("cannot open %s: %s", path, strerror(errno));
  if (fchmod(fileno(f), 0600) != 0) die("cannot chmod %s: %s", path, strerror(errno));
  return f;
}

static void make_directory(const char *path) {
  if (mkdir(path, 0700) != 0 && errno != EEXIST) die("cannot create %s: %s", path, strerror(errno));
}

/* ---- setup ----------------------------------------------------------------------------- */

static int setup(const char *dir, long from, long to, const char *prefix) {
  char path[4096];
  make_directory(dir);
  snprintf(path, sizeof path, "%s/ga", dir);
  make_directory(path);
  snprintf(path, sizeof path, "%s/floor", dir);
  make_directory(path);
  FILE *secrets = open_append(dir, "secrets", "a");
  FILE *oath = open_append(dir, "users.oath", "a");
  FILE *delta = open_append(dir, "new-users.oath", "w");
  for (long i = from; i < to; i++) {
    unsigned char key[20];
    char hex[41], b32[40], user[32], text[256];
    if (RAND_bytes(key, sizeof key) != 1) die("RAND_bytes failed");
    for (int j = 0; j < 20; j++) snprintf(hex + 2 * j, 3, "%02x", key[j]);
    base32(key, sizeof key, b32);
    snprintf(user, sizeof user, "%s%06ld", prefix, i);
    fprintf(secrets, "%s %s\n", user, hex);
    fprintf(oath, "HOTP/T30 %s - %s\n", user, hex);
    fprintf(delta, "HOTP/T30 %s - %s\n", user, hex);
    /* What `google-authenticator --time-based --disallow-reuse --rate-limit=3 --rate-time=30
       --window-size=3` writes, without scratch codes (no module here has backup codes). */
    snprintf(text, sizeof text, "%s\n\" RATE_LIMIT 3 30\n\" WINDOW_SIZE 3\n\" DISALLOW_REUSE\n\" TOTP_AUTH\n", b32);
    snprintf(path, sizeof path, "%s/ga/%s", dir, user);
    write_new_file(path, text, 0600);
    if (i < RENAME_FLOOR_USERS) {
      snprintf(path, sizeof path, "%s/floor/%s", dir, user);
      write_new_file(path, text, 0600);
    }
    snprintf(path, sizeof path, "%s/floor/.%s.state", dir, user);
    write_new_file(path, "", 0600);
    if (truncate(path, 128) != 0) die("cannot size %s: %s", path, strerror(errno));
  }
  if (fclose(secrets) != 0 || fclose(oath) != 0 || fclose(delta) != 0) die("cannot write the user lists");
  return 0;
}

/* ---- plan ------------------------------------------------------------------------------ */

struct secret {
  char user[32];
  unsigned char key[64];
  int key_length;
};

static int plan(const char *secrets_path, long from, long to, long step_users, long long start, long passes,
                long pass_seconds, int wrong) {
  FILE *f = fopen(secrets_path, "r");
  if (f == NULL) die("cannot open %s: %s", secrets_path, strerror(errno));
  long capacity = to - from, count = 0, index = 0;
  struct secret *chosen = calloc((size_t)capacity, sizeof *chosen);
  if (chosen == NULL) die("out of memory");
  char user[32], hex[160];
  while (fscanf(f, "%31s %159s", user, hex) == 2) {
    long i = index++;
    if (i < from || i >= to || (i - from) % step_users != 0) continue;
    struct secret *s = &chosen[count++];
    memcpy(s->user, user, sizeof s->user);
    s->key_length = from_hex(hex, s->key, sizeof s->key);
    if (s->key_length <= 0) die("bad secret for %s", user);
  }
  fclose(f);
  if (count == 0) die("no users selected");
  for (long p = 0; p < passes; p++) {
    long long t = start + p * pass_seconds;
    for (long i = 0; i < count; i++) {
      const struct secret *s = &chosen[i];
      uint64_t step = (uint64_t)(t / 30);
      unsigned code = wrong ? wrong_code(s->key, s->key_length, step) : totp_code(s->key, s->key_length, step);
      printf("%lld %s %06u %s\n", t, s->user, code, wrong ? "fail" : "ok");
    }
  }
  free(chosen);
  return 0;
}

/* ---- run ------------------------------------------------------------------------------- */

struct login {
  time_t time;
  char user[32];
  char code[12];
  int expect_success;
  int worker;
};

/* What the workers hand back, in memory shared with the parent. */
struct shared {
  long results[64];     /* count per PAM return code (0..63) */
  long unexpected;
  long delays[MAX_PROCS];          /* fail delays requested, per worker */
  double delay_seconds[MAX_PROCS]; /* their sum */
  long rss_after_kb[MAX_PROCS];
  long rss_end_kb[MAX_PROCS];
  long floor_errors;
  double latencies[];   /* per login, in plan order */
};

static struct shared *shared;
static int current_worker;
static const char *answer;

static int converse(int count, const struct pam_message **messages, struct pam_response **replies, void *data) {
  (void)data;
  struct pam_response *out = calloc((size_t)count, sizeof *out);
  if (out == NULL) return PAM_BUF_ERR;
  for (int i = 0; i < count; i++) {
    int style = messages[i]->msg_style;
    if (style == PAM_PROMPT_ECHO_OFF || style == PAM_PROMPT_ECHO_ON) {
      out[i].resp = strdup(answer);
      if (out[i].resp == NULL) {
        for (int j = 0; j < i; j++) free(out[j].resp);
        free(out);
        return PAM_BUF_ERR;
      }
    }
  }
  *replies = out;
  return PAM_SUCCESS;
}

/* libpam calls this after every pam_authenticate, with the delay (0 when no module asked for
   one) it would otherwise sleep on failure. */
static void record_delay(int status, unsigned int microseconds, void *data) {
  (void)data;
  if (status == PAM_SUCCESS || microseconds == 0) return;
  shared->delays[current_worker]++;
  shared->delay_seconds[current_worker] += microseconds / 1e6;
}

static long resident_kb(void) {
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f == NULL) return -1;
  if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = -1;
  fclose(f);
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* One durable update of `user`'s small file in `dir`, the way a minimal module would do it. */
static int floor_update(int dir, const char *user, int in_place) {
  char name[64], temporary[64], lock_name[64], buffer[512];
  if (in_place) {
    snprintf(name, sizeof name, ".%s.state", user);
    int fd = openat(dir, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || flock(fd, LOCK_EX) != 0) return -1;
    int ok = pread(fd, buffer, 128, 0) == 128;
    buffer[0]++;
    ok = ok && pwrite(fd, buffer, 64, (buffer[0] & 1) * 64) == 64 && fdatasync(fd) == 0;
    close(fd);
    return ok ? 0 : -1;
  }
  snprintf(lock_name, sizeof lock_name, ".%s.lock", user);
  snprintf(temporary, sizeof temporary, ".%s.tmp", user);
  int lock = openat(dir, lock_name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (lock < 0 || flock(lock, LOCK_EX) != 0) return -1;
  int ok = 0;
  int in = openat(dir, user, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  ssize_t length = in < 0 ? -1 : read(in, buffer, sizeof buffer);
  if (in >= 0) close(in);
  int out = openat(dir, temporary, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (length > 0 && out >= 0) {
    ok = write(out, buffer, (size_t)length) == length && fsync(out) == 0;
    ok = close(out) == 0 && ok;
    ok = ok && renameat(dir, temporary, dir, user) == 0 && fsync(dir) == 0;
  } else if (out >= 0) {
    close(out);
  }
  close(lock);
  return ok ? 0 : -1;
}

static void work(const struct login *logins, long count, int worker, const char *confdir, const char *service,
                 int floor_dir, int floor_in_place, long rss_after, int start_pipe) {
  char byte;
  current_worker = worker;
  if (read(start_pipe, &byte, 1) != 0) _exit(3);
  close(start_pipe);
  struct pam_conv conversation = {converse, NULL};
  long done = 0;
  for (long i = 0; i < count; i++) {
    const struct login *l = &logins[i];
    if (l->worker != worker) continue;
    fake_now = l->time;
    answer = l->code;
    double begin = monotonic_seconds();
    pam_handle_t *pamh = NULL;
    int rc = pam_start_confdir(service, l->user, &conversation, confdir, &pamh);
    if (rc == PAM_SUCCESS) {
      pam_set_item(pamh, PAM_FAIL_DELAY, (const void *)record_delay);
      rc = pam_authenticate(pamh, 0);
      if (rc == PAM_SUCCESS && floor_dir >= 0 && floor_update(floor_dir, l->user, floor_in_place) != 0)
        __atomic_add_fetch(&shared->floor_errors, 1, __ATOMIC_RELAXED);
      pam_end(pamh, rc);
    }
    shared->latencies[i] = monotonic_seconds() - begin;
    __atomic_add_fetch(&shared->results[rc & 63], 1, __ATOMIC_RELAXED);
    if ((rc == PAM_SUCCESS) != l->expect_success &&
        __atomic_add_fetch(&shared->unexpected, 1, __ATOMIC_RELAXED) <= 5)
      fprintf(stderr, "unexpected: %lld %s %s -> %s\n", (long long)l->time, l->user, l->code, pam_strerror(NULL, rc));
    if (++done == rss_after) shared->rss_after_kb[worker] = resident_kb();
  }
  shared->rss_end_kb[worker] = resident_kb();
  _exit(0);
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
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
  case PAM_PERM_DENIED: return "PAM_PERM_DENIED";
  case PAM_ABORT: return "PAM_ABORT";
  default: return NULL;
  }
}

/* Deals users out to workers in order of first appearance, so no two workers share a user. */
static void assign_workers(struct login *logins, long count, int procs) {
  long slots = 1;
  while (slots < 2 * count) slots *= 2;
  long *table = malloc((size_t)slots * sizeof *table);
  if (table == NULL) die("out of memory");
  for (long s = 0; s < slots; s++) table[s] = -1;
  long distinct = 0;
  for (long i = 0; i < count; i++) {
    uint64_t hash = 1469598103934665603ULL;
    for (const char *p = logins[i].user; *p; p++) hash = (hash ^ (unsigned char)*p) * 1099511628211ULL;
    long s = (long)(hash & (uint64_t)(slots - 1));
    while (table[s] >= 0 && strcmp(logins[table[s]].user, logins[i].user) != 0) s = (s + 1) & (slots - 1);
    if (table[s] < 0) {
      table[s] = i;
      logins[i].worker = (int)(distinct++ % procs);
    } else {
      logins[i].worker = logins[table[s]].worker;
    }
  }
  free(table);
}

static struct login *read_plan(const char *path, long *count) {
  FILE *f = fopen(path, "r");
  if (f == NULL) die("cannot open %s: %s", path, strerror(errno));
  long capacity = 1024, n = 0;
  struct login *logins = malloc((size_t)capacity * sizeof *logins);
  long long t;
  char user[32], code[12], expect[8];
  while (logins != NULL && fscanf(f, "%lld %31s %11s %7s", &t, user, code, expect) == 4) {
    if (n == capacity) logins = realloc(logins, (size_t)(capacity *= 2) * sizeof *logins);
    if (logins == NULL) break;
    logins[n].time = (time_t)t;
    memcpy(logins[n].user, user, sizeof user);
    memcpy(logins[n].code, code, sizeof code);
    logins[n].expect_success = strcmp(expect, "ok") == 0;
    logins[n].worker = 0;
    n++;
  }
  if (logins == NULL) die("out of memory");
  fclose(f);
  if (n == 0) die("%s holds no logins", path);
  *count = n;
  return logins;
}

static int run(const char *plan_path, const char *confdir, const char *service, int procs, int replay,
               const char *floor_mode, const char *floor_path, long rss_after) {
  long count;
  struct login *logins = read_plan(plan_path, &count);
  if (replay)
    for (long i = 0; i < count; i++) logins[i].expect_success = 0;
  assign_workers(logins, count, procs);
  int floor_dir = -1, floor_in_place = 0;
  if (floor_mode != NULL) {
    if (floor_path == NULL) die("--floor needs --floor-dir");
    floor_in_place = strcmp(floor_mode, "inplace") == 0;
    if (!floor_in_place && strcmp(floor_mode, "rename") != 0) die("--floor is inplace or rename");
    floor_dir = open(floor_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (floor_dir < 0) die("cannot open %s: %s", floor_path, strerror(errno));
  }
  size_t size = sizeof *shared + (size_t)count * sizeof(double);
  shared = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) die("mmap failed");
  int start[2];
  if (pipe(start) != 0) die("pipe failed");
  fflush(stdout);
  pid_t workers[MAX_PROCS];
  for (int w = 0; w < procs; w++) {
    workers[w] = fork();
    if (workers[w] < 0) die("fork failed");
    if (workers[w] == 0) {
      close(start[1]);
      work(logins, count, w, confdir, service, floor_dir, floor_in_place, rss_after, start[0]);
    }
  }
  close(start[0]);
  double begin = monotonic_seconds();
  close(start[1]); /* end-of-file on the pipe: every worker starts now */
  double user_seconds = 0, system_seconds = 0;
  long peak_kb = 0;
  int failed_workers = 0;
  for (int w = 0; w < procs; w++) {
    int status;
    struct rusage usage;
    if (wait4(workers[w], &status, 0, &usage) < 0) die("wait4 failed");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed_workers++;
    user_seconds += usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6;
    system_seconds += usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
    if (usage.ru_maxrss > peak_kb) peak_kb = usage.ru_maxrss;
  }
  double wall = monotonic_seconds() - begin;
  qsort(shared->latencies, (size_t)count, sizeof(double), compare_doubles);
  double sum = 0;
  for (long i = 0; i < count; i++) sum += shared->latencies[i];
  long rss_after_kb = 0, rss_end_kb = 0, delays = 0;
  double delay_seconds = 0;
  for (int w = 0; w < procs; w++) {
    rss_after_kb += shared->rss_after_kb[w];
    rss_end_kb += shared->rss_end_kb[w];
    delays += shared->delays[w];
    delay_seconds += shared->delay_seconds[w];
  }
  printf("{\"logins\": %ld, \"procs\": %d, \"wall_s\": %.6f, \"cpu_user_s\": %.6f, \"cpu_sys_s\": %.6f, "
         "\"logins_per_s\": %.2f, \"mean_ms\": %.4f, \"p50_ms\": %.4f, \"p99_ms\": %.4f, \"max_ms\": %.4f, "
         "\"peak_rss_kb\": %ld, \"rss_after_kb\": %ld, \"rss_end_kb\": %ld, \"fail_delays\": %ld, "
         "\"fail_delay_s\": %.6f, \"floor_errors\": %ld, \"unexpected\": %ld, \"worker_failures\": %d, \"results\": {",
         count, procs, wall, user_seconds, system_seconds, count / wall, 1e3 * sum / count,
         1e3 * shared->latencies[count / 2], 1e3 * shared->latencies[(long)(count * 0.99)],
         1e3 * shared->latencies[count - 1], peak_kb, rss_after_kb, rss_end_kb, delays,
         delay_seconds, shared->floor_errors, shared->unexpected, failed_workers);
  const char *separator = "";
  for (int code = 0; code < 64; code++) {
    if (shared->results[code] == 0) continue;
    const char *name = code_name(code);
    if (name) printf("%s\"%s\": %ld", separator, name, shared->results[code]);
    else printf("%s\"PAM_%d\": %ld", separator, code, shared->results[code]);
    separator = ", ";
  }
  printf("}}\n");
  return shared->unexpected == 0 && failed_workers == 0 && shared->floor_errors == 0 ? 0 : 1;
}

/* ---- main ------------------------------------------------------------------------------ */

static void usage(void) {
  fprintf(stderr,
          "usage: bench-driver setup --dir DIR --from A --to B [--prefix P]\n"
          "       bench-driver plan --secrets FILE --users A:B[:STEP] --time T [--passes P]\n"
          "                         [--pass-seconds S] [--wrong]\n"
          "       bench-driver code --hex SECRET --time T\n"
          "       bench-driver run --plan FILE --confdir DIR --service NAME [--procs N] [--replay]\n"
          "                        [--floor inplace|rename --floor-dir DIR] [--rss-after N]\n");
  exit(2);
}

static long number(const char *text) {
  char *end;
  errno = 0;
  long long value = strtoll(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < 0) die("not a number: %s", text);
  return (long)value;
}

int main(int argc, char **argv) {
  if (argc < 2) usage();
  const char *command = argv[1];
  const char *dir = NULL, *secrets = NULL, *users = NULL, *hex = NULL, *plan_path = NULL, *confdir = NULL;
  const char *service = NULL, *floor_mode = NULL, *floor_dir = NULL, *prefix = "u";
  long from = -1, to = -1, passes = 1, pass_seconds = 90, procs = 1, rss_after = 0;
  long long start_time = -1;
  int wrong = 0, replay = 0;
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--wrong")) { wrong = 1; continue; }
    if (!strcmp(a, "--replay")) { replay = 1; continue; }
    if (i + 1 >= argc) usage();
    const char *v = argv[++i];
    if (!strcmp(a, "--dir")) dir = v;
    else if (!strcmp(a, "--from")) from = number(v);
    else if (!strcmp(a, "--to")) to = number(v);
    else if (!strcmp(a, "--secrets")) secrets = v;
    else if (!strcmp(a, "--users")) users = v;
    else if (!strcmp(a, "--time")) start_time = number(v);
    else if (!strcmp(a, "--passes")) passes = number(v);
    else if (!strcmp(a, "--pass-seconds")) pass_seconds = number(v);
    else if (!strcmp(a, "--hex")) hex = v;
    else if (!strcmp(a, "--plan")) plan_path = v;
    else if (!strcmp(a, "--confdir")) confdir = v;
    else if (!strcmp(a, "--service")) service = v;
    else if (!strcmp(a, "--procs")) procs = number(v);
    else if (!strcmp(a, "--floor")) floor_mode = v;
    else if (!strcmp(a, "--floor-dir")) floor_dir = v;
    else if (!strcmp(a, "--rss-after")) rss_after = number(v);
    else if (!strcmp(a, "--prefix")) prefix = v;
    else usage();
  }
  if (!strcmp(command, "setup")) {
    if (dir == NULL || from < 0 || to <= from) usage();
    /* User names become file names (DIR/ga/USER) and, for sudo and sshd, account names. */
    if (strlen(prefix) < 1 || strlen(prefix) > 16 || strspn(prefix, "abcdefghijklmnopqrstuvwxyz") != strlen(prefix))
      die("--prefix is 1 to 16 lower-case letters");
    return setup(dir, from, to, prefix);
  }
  if (!strcmp(command, "plan")) {
    long step_users = 1;
    if (secrets == NULL || users == NULL || start_time < 0 || passes < 1) usage();
    if (sscanf(users, "%ld:%ld:%ld", &from, &to, &step_users) < 2 || from < 0 || to <= from || step_users < 1)
      die("--users is A:B or A:B:STEP");
    return plan(secrets, from, to, step_users, start_time, passes, pass_seconds, wrong);
  }
  if (!strcmp(command, "code")) {
    unsigned char key[64];
    int length = hex ? from_hex(hex, key, sizeof key) : -1;
    if (length <= 0 || start_time < 0) usage();
    printf("%06u\n", totp_code(key, length, (uint64_t)(start_time / 30)));
    return 0;
  }
  if (!strcmp(command, "run")) {
    if (plan_path == NULL || confdir == NULL || service == NULL || procs < 1 || procs > MAX_PROCS) usage();
    return run(plan_path, confdir, service, (int)procs, replay, floor_mode, floor_dir, rss_after);
  }
  usage();
  return 2;
}
