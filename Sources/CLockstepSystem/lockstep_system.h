#ifndef LOCKSTEP_SYSTEM_H
#define LOCKSTEP_SYSTEM_H
/* The C library as Lockstep's Swift code sees it, in both of its builds: the module (Embedded
   Swift, which cannot import Glibc) and the CLI and tests (ordinary Swift). Only the headers of
   the calls the store, the clocks and the account lookup make, plus wrappers for what Swift
   cannot call or name directly: errno (a macro), and openat and fcntl (variadic). The Swift side
   of every call is in Sources/LockstepPlatform/SystemCalls.swift and FileDescriptor.swift. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* The calling thread's errno. */
static inline int lockstep_errno(void) { return errno; }

/* Sets the calling thread's errno (to 0 before readdir(3), which reports errors only there). */
static inline void lockstep_set_errno(int value) { errno = value; }

/* openat(2) with its optional mode argument always given. */
static inline int lockstep_openat(int directory, const char *path, int flags, mode_t mode) {
  return openat(directory, path, flags, mode);
}

/* fcntl(2) with F_DUPFD_CLOEXEC: a duplicate of fd, closed on exec. */
static inline int lockstep_duplicate(int fd) { return fcntl(fd, F_DUPFD_CLOEXEC, 0); }

/* The major and minor numbers of a device (the gnu_dev_major and gnu_dev_minor macros). */
static inline unsigned int lockstep_major(dev_t device) { return major(device); }
static inline unsigned int lockstep_minor(dev_t device) { return minor(device); }

#endif
