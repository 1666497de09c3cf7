/*
 * powercut-fs: a FUSE file system for tests that loses what was not synced when told that the
 * power went. See README.md beside this file for what it promises and what a cut does.
 *
 *   powercut-fs [--block BYTES] [--ignore-syncs] --control FIFO --reply FIFO BACKING MOUNTPOINT
 *
 * At start it loads the regular files of the flat directory BACKING into memory and mounts a
 * flat directory holding them on MOUNTPOINT. Everything written afterwards lives in memory, in
 * two copies: what the processes see (the "live" state, like the page cache) and what would be
 * on the disk if the power went now (the "durable" state). fsync(2)/fdatasync(2) of a file
 * makes its data durable; fsync(2) of the directory makes its entries (creates, renames,
 * unlinks) durable.
 *
 * The control FIFO takes one command a line:
 *
 *   arm N             counts the operations that change something from now on, and pauses
 *                     before the Nth (0: only counts), saying "paused OPERATION PID" on the reply
 *                     FIFO; no other request is served until a cut, which fails it, or until
 *                     30 seconds have passed ("unpaused"). So a cut can be aimed at any step.
 *   resume            fails the paused operation with EIO and goes on: the process that asked
 *                     for it crashed there (the test has killed it), and the power stays on.
 *   cut MODE SEED     MODE is drop, prefix or blocks (see README.md); SEED picks the random
 *                     choices. The durable state, with whatever MODE lets through, is written
 *                     to BACKING, and from then on every operation fails with EIO, as on a
 *                     disk without power. The reply says what was pending and what was kept.
 *
 * The reply FIFO gets "ready" once the kernel has mounted the file system, and one line for
 * every command. When the last writer of the control FIFO closes it (the test that started
 * this process ended, however it ended), the file system unmounts itself and exits. Unmounted
 * without a cut, it writes the live state to BACKING, like a clean shutdown.
 */
#define FUSE_USE_VERSION 31
#define _GNU_SOURCE
#include <fuse.h>

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define MAX_ENTRIES 1024

/* One write or size change made since the file was last synced. */
struct pending {
  int is_resize;
  off_t offset; /* for a resize: the new size */
  size_t length;
  unsigned char *bytes;
};

struct inode {
  unsigned char *data; /* live */
  size_t size;
  unsigned char *durable_data;
  size_t durable_size;
  struct pending *pending;
  size_t pending_count, pending_capacity;
  mode_t mode;
  uid_t uid;
  gid_t gid;
  struct timespec mtime, ctime;
  uint64_t number;
};

struct entry {
  char name[NAME_MAX + 1];
  struct inode *inode;
};

/* A directory operation not yet made durable by a directory sync. */
struct dirop {
  enum { CREATE, RENAME, UNLINK } kind;
  char name[NAME_MAX + 1];
  char to[NAME_MAX + 1];
  struct inode *inode;
};

static struct entry live[MAX_ENTRIES], durable[MAX_ENTRIES];
static size_t live_count, durable_count;
static struct dirop *dirops;
static size_t dirop_count, dirop_capacity;
static uint64_t next_number = 2;
static int dead; /* after a cut: every operation fails with EIO */
static pthread_mutex_t big_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cut_done; /* on the monotonic clock: see main */
static size_t changes;     /* operations that change something, since the last arm */
static size_t pause_at;    /* pause before this change, if not 0 */
static int resumed;        /* the paused change is to fail, as if its process had crashed */
#define PAUSE_SECONDS 30 /* a pause that no cut ends goes on after this long */
static const char *backing;
static size_t block_size = 512;
static int ignore_syncs; /* --ignore-syncs: a disk that acknowledges flushes and does nothing */
static int reply_fd = -1;
static pthread_t loop_thread;
static struct stat root_status;

static void *checked(void *p) {
  if (p == NULL) {
    fprintf(stderr, "powercut-fs: out of memory\n");
    abort();
  }
  return p;
}

static void reply(const char *format, ...) {
  char line[512];
  va_list args;
  va_start(args, format);
  int n = vsnprintf(line, sizeof line, format, args);
  va_end(args);
  if (n > 0 && reply_fd >= 0) {
    ssize_t ignored = write(reply_fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    (void)ignored;
  }
}

/* ---- the in-memory state ---------------------------------------------------------------- */

static struct inode *new_inode(mode_t mode, uid_t uid, gid_t gid) {
  struct inode *inode = checked(calloc(1, sizeof *inode));
  inode->mode = S_IFREG | (mode & 07777);
  inode->uid = uid;
  inode->gid = gid;
  clock_gettime(CLOCK_REALTIME, &inode->mtime);
  inode->ctime = inode->mtime;
  inode->number = next_number++;
  return inode;
}

/* The entry of `name` in `table`, or NULL. */
static struct entry *find(struct entry *table, size_t count, const char *name) {
  for (size_t i = 0; i < count; i++) {
    if (strcmp(table[i].name, name) == 0) return &table[i];
  }
  return NULL;
}

static int set_entry(struct entry *table, size_t *count, const char *name, struct inode *inode) {
  struct entry *e = find(table, *count, name);
  if (e == NULL) {
    if (*count == MAX_ENTRIES) return -ENOSPC;
    e = &table[(*count)++];
    snprintf(e->name, sizeof e->name, "%s", name);
  }
  e->inode = inode;
  return 0;
}

static void remove_entry(struct entry *table, size_t *count, const char *name) {
  struct entry *e = find(table, *count, name);
  if (e != NULL) *e = table[--*count];
}

static size_t links(const struct inode *inode) {
  size_t n = 0;
  for (size_t i = 0; i < live_count; i++) n += live[i].inode == inode;
  return n;
}

/* The name inside the root directory that `path` ("/name") denotes, or NULL for the root
   itself or a path with more components. */
static const char *leaf(const char *path) {
  if (path == NULL || path[0] != '/' || path[1] == '\0' || strchr(path + 1, '/') != NULL) return NULL;
  return path + 1;
}

static struct inode *lookup(const char *path) {
  const char *name = leaf(path);
  if (name == NULL) return NULL;
  struct entry *e = find(live, live_count, name);
  return e ? e->inode : NULL;
}

static struct inode *inode_of(const char *path, struct fuse_file_info *fi) {
  if (fi != NULL && fi->fh != 0) return (struct inode *)(uintptr_t)fi->fh;
  return lookup(path);
}

static void add_dirop(int kind, const char *name, const char *to, struct inode *inode) {
  if (dirop_count == dirop_capacity) {
    dirop_capacity = dirop_capacity ? 2 * dirop_capacity : 16;
    dirops = checked(realloc(dirops, dirop_capacity * sizeof *dirops));
  }
  struct dirop *d = &dirops[dirop_count++];
  d->kind = kind;
  snprintf(d->name, sizeof d->name, "%s", name);
  snprintf(d->to, sizeof d->to, "%s", to ? to : "");
  d->inode = inode;
}

static void add_pending(struct inode *inode, int is_resize, off_t offset, const void *bytes, size_t length) {
  if (inode->pending_count == inode->pending_capacity) {
    inode->pending_capacity = inode->pending_capacity ? 2 * inode->pending_capacity : 8;
    inode->pending = checked(realloc(inode->pending, inode->pending_capacity * sizeof *inode->pending));
  }
  struct pending *p = &inode->pending[inode->pending_count++];
  p->is_resize = is_resize;
  p->offset = offset;
  p->length = length;
  p->bytes = NULL;
  if (length > 0) {
    p->bytes = checked(malloc(length));
    memcpy(p->bytes, bytes, length);
  }
}

static void clear_pending(struct inode *inode) {
  for (size_t i = 0; i < inode->pending_count; i++) free(inode->pending[i].bytes);
  inode->pending_count = 0;
}

/* Sets a buffer's size, zero-filling what it gains. */
static void resize(unsigned char **data, size_t *size, size_t wanted) {
  if (wanted > *size) {
    *data = checked(realloc(*data, wanted ? wanted : 1));
    memset(*data + *size, 0, wanted - *size);
  }
  *size = wanted;
}

static void put(unsigned char **data, size_t *size, off_t offset, const unsigned char *bytes, size_t length) {
  if ((size_t)offset + length > *size) resize(data, size, (size_t)offset + length);
  memcpy(*data + offset, bytes, length);
}

static void sync_file(struct inode *inode) {
  free(inode->durable_data);
  inode->durable_data = checked(malloc(inode->size ? inode->size : 1));
  memcpy(inode->durable_data, inode->data, inode->size);
  inode->durable_size = inode->size;
  clear_pending(inode);
}

static void sync_directory(void) {
  memcpy(durable, live, live_count * sizeof *live);
  durable_count = live_count;
  dirop_count = 0;
}

/* ---- a power cut ------------------------------------------------------------------------ */

static uint64_t random_state;

static uint64_t random_next(void) {
  /* splitmix64 */
  uint64_t z = (random_state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* A number from 0 to n inclusive. */
static size_t random_upto(size_t n) { return (size_t)(random_next() % ((uint64_t)n + 1)); }

static void apply_dirop(const struct dirop *d) {
  struct entry *e;
  switch (d->kind) {
  case CREATE: set_entry(durable, &durable_count, d->name, d->inode); break;
  case UNLINK: remove_entry(durable, &durable_count, d->name); break;
  case RENAME:
    e = find(durable, durable_count, d->name);
    if (e != NULL) {
      struct inode *moved = e->inode;
      remove_entry(durable, &durable_count, d->name);
      set_entry(durable, &durable_count, d->to, moved);
    }
    break;
  }
}

static void apply_write(struct inode *inode, const struct pending *p, size_t from, size_t to) {
  if (to > from) put(&inode->durable_data, &inode->durable_size, p->offset + (off_t)from, p->bytes + from, to - from);
}

/* What of `inode`'s pending writes reaches the disk; returns the number of bytes kept. */
static size_t settle(struct inode *inode, const char *mode) {
  size_t kept = 0;
  if (strcmp(mode, "prefix") == 0) {
    size_t whole = random_upto(inode->pending_count);
    for (size_t i = 0; i < whole && i < inode->pending_count; i++) {
      struct pending *p = &inode->pending[i];
      if (p->is_resize) {
        resize(&inode->durable_data, &inode->durable_size, (size_t)p->offset);
      } else {
        apply_write(inode, p, 0, p->length);
        kept += p->length;
      }
    }
    if (whole < inode->pending_count && !inode->pending[whole].is_resize) {
      struct pending *p = &inode->pending[whole];
      size_t part = random_upto(p->length);
      apply_write(inode, p, 0, part);
      kept += part;
    }
  } else if (strcmp(mode, "blocks") == 0) {
    for (size_t i = 0; i < inode->pending_count; i++) {
      struct pending *p = &inode->pending[i];
      if (p->is_resize) {
        if (random_next() & 1) resize(&inode->durable_data, &inode->durable_size, (size_t)p->offset);
        continue;
      }
      /* Blocks are aligned to the file's offsets, as a disk's sectors are. */
      size_t at = 0;
      while (at < p->length) {
        size_t end = at + block_size - (size_t)(p->offset + (off_t)at) % block_size;
        if (end > p->length) end = p->length;
        if (random_next() & 1) {
          apply_write(inode, p, at, end);
          kept += end - at;
        }
        at = end;
      }
    }
  }
  clear_pending(inode);
  return kept;
}

static int write_backing_file(const char *name, const struct inode *inode, const unsigned char *data, size_t size) {
  int dir = open(backing, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return -1;
  int fd = openat(dir, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  close(dir);
  if (fd < 0) return -1;
  size_t done = 0;
  while (done < size) {
    ssize_t n = write(fd, data + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += (size_t)n;
  }
  int failed = done != size || fchown(fd, inode->uid, inode->gid) != 0 || fchmod(fd, inode->mode & 07777) != 0;
  close(fd);
  return failed ? -1 : 0;
}

/* Makes BACKING hold exactly `table`, with each file's durable or live contents. */
static int write_backing(const struct entry *table, size_t count, int use_durable) {
  int failures = 0;
  DIR *d = opendir(backing);
  if (d == NULL) return -1;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (find((struct entry *)table, count, e->d_name) == NULL) failures |= unlinkat(dirfd(d), e->d_name, 0) != 0;
  }
  closedir(d);
  for (size_t i = 0; i < count; i++) {
    const struct inode *inode = table[i].inode;
    failures |= use_durable ? write_backing_file(table[i].name, inode, inode->durable_data, inode->durable_size)
                            : write_backing_file(table[i].name, inode, inode->data, inode->size);
  }
  return failures ? -1 : 0;
}

/* Every inode reachable from either table or the log, each once. */
static size_t all_inodes(struct inode **out, size_t capacity) {
  size_t n = 0;
  struct inode *candidates[2 * MAX_ENTRIES];
  size_t c = 0;
  for (size_t i = 0; i < live_count; i++) candidates[c++] = live[i].inode;
  for (size_t i = 0; i < durable_count; i++) candidates[c++] = durable[i].inode;
  for (size_t i = 0; i < c; i++) {
    int seen = 0;
    for (size_t j = 0; j < n; j++) seen |= out[j] == candidates[i];
    if (!seen && n < capacity) out[n++] = candidates[i];
  }
  for (size_t i = 0; i < dirop_count; i++) {
    int seen = 0;
    for (size_t j = 0; j < n; j++) seen |= out[j] == dirops[i].inode;
    if (!seen && dirops[i].inode != NULL && n < capacity) out[n++] = dirops[i].inode;
  }
  return n;
}

static void cut(const char *mode, uint64_t seed) {
  random_state = seed;
  int lossy = strcmp(mode, "prefix") == 0 || strcmp(mode, "blocks") == 0;
  if (!lossy && strcmp(mode, "drop") != 0) {
    reply("error unknown mode %s\n", mode);
    return;
  }
  size_t pending_dirops = dirop_count, kept_dirops = lossy ? random_upto(dirop_count) : 0;
  for (size_t i = 0; i < kept_dirops; i++) apply_dirop(&dirops[i]);
  dirop_count = 0;
  static struct inode *inodes[4 * MAX_ENTRIES];
  size_t n = all_inodes(inodes, sizeof inodes / sizeof *inodes);
  size_t pending_bytes = 0, kept_bytes = 0, pending_files = 0;
  for (size_t i = 0; i < n; i++) {
    if (inodes[i]->pending_count > 0) pending_files++;
    for (size_t j = 0; j < inodes[i]->pending_count; j++) pending_bytes += inodes[i]->pending[j].length;
    kept_bytes += settle(inodes[i], mode);
  }
  dead = 1;
  int failed = write_backing(durable, durable_count, 1);
  reply("cut %s changes=%zu files=%zu bytes=%zu kept-bytes=%zu dirops=%zu kept-dirops=%zu%s\n", mode, changes,
        pending_files, pending_bytes, kept_bytes, pending_dirops, kept_dirops, failed ? " backing-failed" : "");
}

/* The process that thread `tid` belongs to (its thread group), from /proc. */
static pid_t process_of(pid_t tid) {
  char path[64], line[128];
  snprintf(path, sizeof path, "/proc/%d/status", (int)tid);
  FILE *status = fopen(path, "re");
  pid_t process = tid;
  while (status != NULL && fgets(line, sizeof line, status) != NULL) {
    if (sscanf(line, "Tgid: %d", &process) == 1) break;
  }
  if (status != NULL) fclose(status);
  return process;
}

/* Counts an operation that changes something; before the armed one, says "paused" and waits
   (with the lock released) for the cut, which fails it. Returns 0 to go on, or -EIO. */
static int change(const char *operation) {
  if (++changes != pause_at) return 0;
  reply("paused %s %d\n", operation, (int)process_of(fuse_get_context()->pid));
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += PAUSE_SECONDS;
  while (!dead && !resumed) {
    if (pthread_cond_timedwait(&cut_done, &big_lock, &deadline) == ETIMEDOUT) break;
  }
  if (dead) return -EIO;
  if (resumed) {
    resumed = 0;
    return -EIO;
  }
  reply("unpaused\n");
  return 0;
}

/* ---- the control FIFO ------------------------------------------------------------------- */

static void *control_loop(void *path) {
  FILE *control = fopen(path, "re");
  char line[256];
  while (control != NULL && fgets(line, sizeof line, control) != NULL) {
    char mode[32];
    unsigned long long seed;
    unsigned long count;
    if (sscanf(line, "cut %31s %llu", mode, &seed) == 2) {
      pthread_mutex_lock(&big_lock);
      cut(mode, seed);
      pthread_cond_broadcast(&cut_done);
      pthread_mutex_unlock(&big_lock);
    } else if (strcmp(line, "resume\n") == 0) {
      pthread_mutex_lock(&big_lock);
      resumed = 1;
      pthread_cond_broadcast(&cut_done);
      pthread_mutex_unlock(&big_lock);
      reply("resumed\n");
    } else if (sscanf(line, "arm %lu", &count) == 1) {
      pthread_mutex_lock(&big_lock);
      changes = 0;
      pause_at = count;
      pthread_mutex_unlock(&big_lock);
      reply("armed %lu\n", count);
    } else {
      reply("error unknown command\n");
    }
  }
  /* End of file: whoever started this process has gone. Unmount and exit. */
  pthread_kill(loop_thread, SIGTERM);
  return NULL;
}

/* ---- file system operations ------------------------------------------------------------- */

#define ENTER()                                                                                     \
  pthread_mutex_lock(&big_lock);                                                                    \
  if (dead) {                                                                                       \
    pthread_mutex_unlock(&big_lock);                                                                \
    return -EIO;                                                                                    \
  }
/* ENTER for an operation that changes something: it counts, and may be where the cut comes. */
#define ENTER_CHANGE(operation)                                                                     \
  ENTER();                                                                                          \
  do {                                                                                              \
    int paused_ = change(operation);                                                                \
    if (paused_) LEAVE(paused_);                                                                    \
  } while (0)
#define LEAVE(value)                                                                                \
  do {                                                                                              \
    int result_ = (value);                                                                          \
    pthread_mutex_unlock(&big_lock);                                                                \
    return result_;                                                                                 \
  } while (0)

static void *fs_init(struct fuse_conn_info *conn, struct fuse_config *cfg) {
  (void)conn;
  cfg->entry_timeout = 0;
  cfg->attr_timeout = 0;
  cfg->negative_timeout = 0;
  cfg->direct_io = 1;
  cfg->hard_remove = 1;
  cfg->nullpath_ok = 1;
  cfg->use_ino = 1;
  reply("ready\n");
  return NULL;
}

static void fs_destroy(void *data) {
  (void)data;
  pthread_mutex_lock(&big_lock);
  if (!dead && write_backing(live, live_count, 0) != 0) fprintf(stderr, "powercut-fs: cannot write %s\n", backing);
  dead = 1;
  pthread_mutex_unlock(&big_lock);
}

static void fill(struct stat *st, const struct inode *inode) {
  memset(st, 0, sizeof *st);
  st->st_ino = inode->number;
  st->st_mode = inode->mode;
  st->st_nlink = links(inode);
  st->st_uid = inode->uid;
  st->st_gid = inode->gid;
  st->st_size = (off_t)inode->size;
  st->st_blksize = 4096;
  st->st_blocks = (blkcnt_t)((inode->size + 511) / 512);
  st->st_mtim = inode->mtime;
  st->st_ctim = inode->ctime;
  st->st_atim = inode->mtime;
}

static int fs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
  ENTER();
  if (fi == NULL && path != NULL && strcmp(path, "/") == 0) {
    *st = root_status;
    st->st_ino = 1;
    LEAVE(0);
  }
  struct inode *inode = inode_of(path, fi);
  if (inode == NULL) LEAVE(-ENOENT);
  fill(st, inode);
  LEAVE(0);
}

static int fs_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t offset, struct fuse_file_info *fi,
                      enum fuse_readdir_flags flags) {
  (void)offset, (void)fi, (void)flags;
  ENTER();
  if (path != NULL && strcmp(path, "/") != 0) LEAVE(-ENOTDIR);
  filler(buf, ".", NULL, 0, 0);
  filler(buf, "..", NULL, 0, 0);
  for (size_t i = 0; i < live_count; i++) filler(buf, live[i].name, NULL, 0, 0);
  LEAVE(0);
}

static int fs_opendir(const char *path, struct fuse_file_info *fi) {
  (void)fi;
  ENTER();
  LEAVE(strcmp(path, "/") == 0 ? 0 : lookup(path) ? -ENOTDIR : -ENOENT);
}

static int fs_open(const char *path, struct fuse_file_info *fi) {
  ENTER();
  struct inode *inode = lookup(path);
  if (inode == NULL) LEAVE(-ENOENT);
  fi->fh = (uintptr_t)inode;
  fi->direct_io = 1;
  LEAVE(0);
}

static int fs_create(const char *path, mode_t mode, struct fuse_file_info *fi) {
  ENTER_CHANGE("create");
  const char *name = leaf(path);
  if (name == NULL) LEAVE(-EPERM);
  if (strlen(name) > NAME_MAX) LEAVE(-ENAMETOOLONG);
  struct inode *inode = lookup(path);
  if (inode != NULL && (fi->flags & O_EXCL)) LEAVE(-EEXIST);
  if (inode == NULL) {
    struct fuse_context *context = fuse_get_context();
    inode = new_inode(mode & ~context->umask, context->uid, context->gid);
    int failed = set_entry(live, &live_count, name, inode);
    if (failed) LEAVE(failed);
    add_dirop(CREATE, name, NULL, inode);
  }
  fi->fh = (uintptr_t)inode;
  fi->direct_io = 1;
  LEAVE(0);
}

static int fs_read(const char *path, char *buf, size_t size, off_t offset, struct fuse_file_info *fi) {
  ENTER();
  struct inode *inode = inode_of(path, fi);
  if (inode == NULL) LEAVE(-ENOENT);
  if (offset < 0) LEAVE(-EINVAL);
  if ((size_t)offset >= inode->size) LEAVE(0);
  size_t n = inode->size - (size_t)offset < size ? inode->size - (size_t)offset : size;
  memcpy(buf, inode->data + offset, n);
  LEAVE((int)n);
}

static int fs_write(const char *path, const char *buf, size_t size, off_t offset, struct fuse_file_info *fi) {
  ENTER_CHANGE("write");
  struct inode *inode = inode_of(path, fi);
  if (inode == NULL) LEAVE(-ENOENT);
  if (offset < 0) LEAVE(-EINVAL);
  put(&inode->data, &inode->size, offset, (const unsigned char *)buf, size);
  add_pending(inode, 0, offset, buf, size);
  clock_gettime(CLOCK_REALTIME, &inode->mtime);
  LEAVE((int)size);
}

static int change_size(struct inode *inode, size_t size) {
  resize(&inode->data, &inode->size, size);
  add_pending(inode, 1, (off_t)size, NULL, 0);
  clock_gettime(CLOCK_REALTIME, &inode->mtime);
  return 0;
}

static int fs_truncate(const char *path, off_t size, struct fuse_file_info *fi) {
  ENTER_CHANGE("truncate");
  struct inode *inode = inode_of(path, fi);
  if (inode == NULL) LEAVE(-ENOENT);
  if (size < 0) LEAVE(-EINVAL);
  LEAVE(change_size(inode, (size_t)size));
}

static int fs_fallocate(const char *path, int mode, off_t offset, off_t length, struct fuse_file_info *fi) {
  ENTER_CHANGE("fallocate");
  struct inode *inode = inode_of(path, fi);
  if (inode == NULL) LEAVE(-ENOENT);
  if (mode != 0) LEAVE(-EOPNOTSUPP);
  if (offset < 0 || length <= 0) LEAVE(-EINVAL);
  size_t end = (size_t)(offset + length);
  LEAVE(end > inode->size ? change_size(inode, end) : 0);
}

static int fs_fsync(const char *path, int datasync, struct fuse_file_info *fi) {
  (void)datasync;
  ENTER_CHANGE("fsync");
  struct inode *inode = inode_of(path, fi);
  if (inode == NULL) LEAVE(-ENOENT);
  if (!ignore_syncs) sync_file(inode);
  LEAVE(0);
}

static int fs_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi) {
  (void)path, (void)datasync, (void)fi;
  ENTER_CHANGE("fsyncdir");
  if (!ignore_syncs) sync_directory();
  LEAVE(0);
}

static int fs_rename(const char *from, const char *to, unsigned int flags) {
  ENTER_CHANGE("rename");
  const char *old_name = leaf(from), *new_name = leaf(to);
  if (old_name == NULL || new_name == NULL) LEAVE(-EPERM);
  if (flags & ~RENAME_NOREPLACE) LEAVE(-EINVAL);
  struct inode *inode = lookup(from);
  if (inode == NULL) LEAVE(-ENOENT);
  if ((flags & RENAME_NOREPLACE) && lookup(to) != NULL) LEAVE(-EEXIST);
  if (strcmp(old_name, new_name) == 0) LEAVE(0);
  int failed = set_entry(live, &live_count, new_name, inode);
  if (failed) LEAVE(failed);
  remove_entry(live, &live_count, old_name);
  add_dirop(RENAME, old_name, new_name, inode);
  clock_gettime(CLOCK_REALTIME, &inode->ctime);
  LEAVE(0);
}

static int fs_unlink(const char *path) {
  ENTER_CHANGE("unlink");
  const char *name = leaf(path);
  struct inode *inode = lookup(path);
  if (name == NULL || inode == NULL) LEAVE(-ENOENT);
  remove_entry(live, &live_count, name);
  add_dirop(UNLINK, name, NULL, inode);
  LEAVE(0);
}

static int fs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi) {
  ENTER_CHANGE("chmod");
  struct inode *inode = inode_of(path, fi);
  if (inode == NULL) LEAVE(-ENOENT);
  inode->mode = S_IFREG | (mode & 07777);
  LEAVE(0);
}

static int fs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi) {
  ENTER_CHANGE("chown");
  struct inode *inode = inode_of(path, fi);
  if (inode == NULL) LEAVE(-ENOENT);
  if (uid != (uid_t)-1) inode->uid = uid;
  if (gid != (gid_t)-1) inode->gid = gid;
  LEAVE(0);
}

static int fs_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi) {
  ENTER();
  struct inode *inode = inode_of(path, fi);
  if (inode == NULL) LEAVE(-ENOENT);
  if (tv != NULL && tv[1].tv_nsec != UTIME_OMIT) {
    if (tv[1].tv_nsec == UTIME_NOW) {
      clock_gettime(CLOCK_REALTIME, &inode->mtime);
    } else {
      inode->mtime = tv[1];
    }
  }
  LEAVE(0);
}

static int fs_statfs(const char *path, struct statvfs *st) {
  (void)path;
  ENTER();
  memset(st, 0, sizeof *st);
  st->f_bsize = st->f_frsize = 4096;
  st->f_blocks = st->f_bfree = st->f_bavail = 1 << 20;
  st->f_files = st->f_ffree = st->f_favail = MAX_ENTRIES;
  st->f_namemax = NAME_MAX;
  LEAVE(0);
}

/* Only regular files in one flat directory: nothing else can be made. */
static int fs_mknod(const char *path, mode_t mode, dev_t dev) {
  (void)path, (void)mode, (void)dev;
  return -EPERM;
}
static int fs_mkdir(const char *path, mode_t mode) {
  (void)path, (void)mode;
  return -EPERM;
}
static int fs_symlink(const char *target, const char *path) {
  (void)target, (void)path;
  return -EPERM;
}
static int fs_link(const char *from, const char *to) {
  (void)from, (void)to;
  return -EPERM;
}

static const struct fuse_operations operations = {
    .init = fs_init,
    .destroy = fs_destroy,
    .getattr = fs_getattr,
    .readdir = fs_readdir,
    .opendir = fs_opendir,
    .open = fs_open,
    .create = fs_create,
    .read = fs_read,
    .write = fs_write,
    .truncate = fs_truncate,
    .fallocate = fs_fallocate,
    .fsync = fs_fsync,
    .fsyncdir = fs_fsyncdir,
    .rename = fs_rename,
    .unlink = fs_unlink,
    .chmod = fs_chmod,
    .chown = fs_chown,
    .utimens = fs_utimens,
    .statfs = fs_statfs,
    .mknod = fs_mknod,
    .mkdir = fs_mkdir,
    .symlink = fs_symlink,
    .link = fs_link,
};

/* ---- start ------------------------------------------------------------------------------ */

/* Loads BACKING's regular files as the state that is both live and durable. */
static int load(void) {
  if (stat(backing, &root_status) != 0 || !S_ISDIR(root_status.st_mode)) return -1;
  DIR *d = opendir(backing);
  if (d == NULL) return -1;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    struct stat st;
    if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
    int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    struct inode *inode = new_inode(st.st_mode, st.st_uid, st.st_gid);
    inode->mtime = st.st_mtim;
    inode->ctime = st.st_ctim;
    resize(&inode->data, &inode->size, (size_t)st.st_size);
    size_t done = 0;
    while (done < inode->size) {
      ssize_t n = read(fd, inode->data + done, inode->size - done);
      if (n <= 0) break;
      done += (size_t)n;
    }
    close(fd);
    inode->size = done;
    sync_file(inode);
    if (set_entry(live, &live_count, e->d_name, inode) != 0) break;
  }
  closedir(d);
  sync_directory();
  return 0;
}

static void usage(void) {
  fprintf(stderr, "usage: powercut-fs [--block BYTES] [--ignore-syncs] --control FIFO --reply FIFO BACKING MOUNTPOINT\n");
  exit(2);
}

int main(int argc, char **argv) {
  const char *control = NULL, *reply_path = NULL;
  int i = 1;
  for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
    if (strcmp(argv[i], "--ignore-syncs") == 0) {
      ignore_syncs = 1;
      i--;
    } else if (strcmp(argv[i], "--control") == 0) {
      control = argv[i + 1];
    } else if (strcmp(argv[i], "--reply") == 0) {
      reply_path = argv[i + 1];
    } else if (strcmp(argv[i], "--block") == 0) {
      block_size = strtoul(argv[i + 1], NULL, 10);
      if (block_size == 0) usage();
    } else {
      usage();
    }
  }
  if (control == NULL || reply_path == NULL || argc - i != 2) usage();
  /* Absolute: libfuse may change the working directory. */
  static char backing_path[PATH_MAX];
  if (realpath(argv[i], backing_path) == NULL) {
    fprintf(stderr, "powercut-fs: cannot find %s: %s\n", argv[i], strerror(errno));
    return 1;
  }
  backing = backing_path;
  const char *mountpoint = argv[i + 1];
  if (load() != 0) {
    fprintf(stderr, "powercut-fs: cannot load %s: %s\n", backing, strerror(errno));
    return 1;
  }
  reply_fd = open(reply_path, O_RDWR | O_CLOEXEC);
  if (reply_fd < 0) {
    fprintf(stderr, "powercut-fs: cannot open %s: %s\n", reply_path, strerror(errno));
    return 1;
  }
  /* The signals libfuse ends its loop on must reach it, whatever mask and dispositions the
     process that started this one had (a test runner's threads often block them). */
  sigset_t none;
  sigemptyset(&none);
  pthread_sigmask(SIG_SETMASK, &none, NULL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  signal(SIGHUP, SIG_DFL);
  pthread_condattr_t attributes;
  pthread_condattr_init(&attributes);
  pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
  pthread_cond_init(&cut_done, &attributes);
  loop_thread = pthread_self();
  pthread_t controller;
  if (pthread_create(&controller, NULL, control_loop, (void *)control) != 0) return 1;
  pthread_detach(controller);
  char *fuse_argv[] = {argv[0], "-f", "-s", "-o", "default_permissions,fsname=powercut,subtype=powercut",
                       (char *)mountpoint, NULL};
  return fuse_main(6, fuse_argv, &operations, NULL);
}
