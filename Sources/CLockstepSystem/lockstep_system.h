#ifndef LOCKSTEP_SYSTEM_H
#define LOCKSTEP_SYSTEM_H
/* The C library as Lockstep's Swift code sees it, in both of its builds: the module (Embedded
   Swift, which cannot import Glibc) and the CLI and tests (ordinary Swift). Only the headers of
   the calls the store, the clocks, the account lookup and the agent's socket make, plus wrappers
   for what Swift cannot call or name directly: errno (a macro), openat and fcntl (variadic), and
   the socket address and peer credentials of a Unix socket. The Swift side of every call is in
   Sources/LockstepPlatform/SystemCalls.swift, FileDescriptor.swift and AgentSocket.swift. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/un.h>
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

/* Fills a Unix socket address for path; 0, or -1 with ENAMETOOLONG when the path does not fit. */
static inline int lockstep_unix_address(const char *path, struct sockaddr_un *address) {
  size_t length = strlen(path);
  memset(address, 0, sizeof *address);
  address->sun_family = AF_UNIX;
  if (length == 0 || length >= sizeof address->sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(address->sun_path, path, length);
  return 0;
}

/* connect(2) of a stream socket to the Unix socket at path. */
static inline int lockstep_connect_unix(int fd, const char *path) {
  struct sockaddr_un address;
  if (lockstep_unix_address(path, &address) != 0) return -1;
  return connect(fd, (const struct sockaddr *)&address, sizeof address);
}

/* bind(2) of a stream socket to a new Unix socket at path. */
static inline int lockstep_bind_unix(int fd, const char *path) {
  struct sockaddr_un address;
  if (lockstep_unix_address(path, &address) != 0) return -1;
  return bind(fd, (const struct sockaddr *)&address, sizeof address);
}

/* accept(2) of the next connection, made non-blocking and closed on exec (accept4 is a GNU
   extension, which this header does not ask for). */
static inline int lockstep_accept(int fd) {
  int connection = accept(fd, NULL, NULL);
  if (connection < 0) return -1;
  if (fcntl(connection, F_SETFD, FD_CLOEXEC) != 0 ||
      fcntl(connection, F_SETFL, fcntl(connection, F_GETFL) | O_NONBLOCK) != 0) {
    int saved = errno;
    close(connection);
    errno = saved;
    return -1;
  }
  return connection;
}

/* The user ID of the process at the other end of a connected Unix socket (SO_PEERCRED; the
   kernel's struct ucred, spelled out here since glibc shows it only with _GNU_SOURCE). */
static inline int lockstep_peer_uid(int fd, uid_t *uid) {
  struct { pid_t pid; uid_t uid; gid_t gid; } credentials;
  socklen_t length = sizeof credentials;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return -1;
  if (length != sizeof credentials) {
    errno = EPROTO;
    return -1;
  }
  *uid = credentials.uid;
  return 0;
}

#endif
