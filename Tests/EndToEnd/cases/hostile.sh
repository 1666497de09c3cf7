# sudo is setuid root and loads the module into a process whose environment the invoking user
# chose. Each case sets one kind of hostile variable for sudo and shows that the right code
# still works, a wrong one still fails, and nothing the variable names was run. Each hostile
# input is first shown to have an effect on an ordinary (not setuid) process, so the absence
# of an effect under sudo means something.

HOSTILE=""   # a directory the test user may write to, where the probes leave their markers

# same_outcomes NAME=VALUE...: sudo with these variables behaves as without them: the right
# code runs the command, a wrong one does not.
same_outcomes() {
  use_sudo sudo-code-only && enroll || return 1
  sudo_id "$@" -- "$(code)"
  expect_root
  sudo_id "$@" -- "$(wrong_code)"
  expect_not_root
}

# quiet_same_outcomes NAME=VALUE...: the same outcomes, and nothing printed besides sudo's own.
quiet_same_outcomes() {
  same_outcomes "$@"
  check "nothing should have been printed but the prompt, sudo's message and id's output" printed_nothing_else
}

printed_nothing_else() {
  ! grep -Ev '^(Verification code: )?(uid=0\(root\) .*|sudo: 1 incorrect password attempt)?$' "$SCRATCH/transcript"
}

# make_hostile_directory: $HOSTILE, writable by the test user, and a shared object whose
# constructor leaves $HOSTILE/loaded-by-UID when a process loads it.
make_hostile_directory() {
  [[ -n $HOSTILE ]] && return 0
  HOSTILE=$SCRATCH/hostile
  install -d -m 0755 -o "$TEST_USER" "$HOSTILE"
  cat >"$HOSTILE/probe.c" <<'C'
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
__attribute__((constructor)) static void probe(void) {
  char path[4096];
  snprintf(path, sizeof path, "%s/loaded-by-%u", MARKER_DIRECTORY, (unsigned)geteuid());
  int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) close(fd);
}
C
  cc -shared -fPIC -DMARKER_DIRECTORY="\"$HOSTILE\"" -o "$HOSTILE/probe.so" "$HOSTILE/probe.c" || {
    fail "cannot compile the probe library"
    return 1
  }
}

# no_markers: no probe left a marker.
no_markers() {
  [[ -z $(find "$HOSTILE" -name 'loaded-by-*' -o -name 'backtracer-ran') ]]
}

hostile_swift_backtrace() {
  make_hostile_directory || return 1
  printf '#!/bin/sh\ntouch %s/backtracer-ran\n' "$HOSTILE" >"$HOSTILE/backtracer"
  chmod 0755 "$HOSTILE/backtracer"
  # "unknown-setting" makes the runtime complain when it reads the variable at all.
  local value="enable=yes,swift-backtrace=$HOSTILE/backtracer,unknown-setting=1"
  SWIFT_BACKTRACE=$value "$REPO/build/lockstep" --version >"$SCRATCH/control" 2>&1
  check "control: a Swift program with its own runtime reads SWIFT_BACKTRACE" \
    contains "$SCRATCH/control" "swift runtime: unknown backtracing setting"
  # The module's image sees an empty environment, so its runtime says nothing.
  quiet_same_outcomes "SWIFT_BACKTRACE=$value"
  check "the backtracer should never have run" no_markers
}
register root hostile_swift_backtrace "sudo, hostile SWIFT_BACKTRACE: the backtracer never runs, nothing printed, same outcomes"

hostile_ld_preload() {
  make_hostile_directory || return 1
  runuser -u "$TEST_USER" -- env LD_PRELOAD="$HOSTILE/probe.so" /bin/true
  check "control: LD_PRELOAD loads the probe into an ordinary process" [ -e "$HOSTILE/loaded-by-$(id -u "$TEST_USER")" ]
  rm -f "$HOSTILE"/loaded-by-*
  quiet_same_outcomes LD_PRELOAD="$HOSTILE/probe.so" LD_AUDIT="$HOSTILE/probe.so"
  check "the probe should never have been loaded" no_markers
}
register root hostile_ld_preload "sudo, hostile LD_PRELOAD and LD_AUDIT: nothing is loaded"

hostile_ld_library_path() {
  make_hostile_directory || return 1
  # The probe, under the names of libraries that sudo and the module load.
  local library
  for library in libnettle.so.8 libpam.so.0; do cp "$HOSTILE/probe.so" "$HOSTILE/$library"; done
  local resolved
  resolved=$(LD_LIBRARY_PATH=$HOSTILE /usr/bin/ldd "$MODULE" 2>/dev/null)
  check "control: in an ordinary process, LD_LIBRARY_PATH would replace the module's libnettle" \
    grep -q "libnettle.so.8 => $HOSTILE/" <<<"$resolved"
  quiet_same_outcomes LD_LIBRARY_PATH="$HOSTILE"
  check "no library from LD_LIBRARY_PATH should have been loaded" no_markers
}
register root hostile_ld_library_path "sudo, hostile LD_LIBRARY_PATH: the system's libraries are used"

hostile_tz() {
  local zone
  for zone in ':/etc/shadow' 'UTC+12' 'UTC-14' '../../../../etc/shadow' 'XXX-99:59:59YYY,M13.9.9'; do
    note "TZ=$zone"
    quiet_same_outcomes "TZ=$zone"
  done
}
register root hostile_tz "sudo, hostile TZ values: codes are still checked against UTC"

hostile_stdin_closed() {
  use_sudo sudo-code-only && enroll || return 1
  sudo_id --stdin-closed -- "$(code)"
  expect_root
  sudo_id --stdin-closed -- "$(wrong_code)"
  expect_not_root
}
register root hostile_stdin_closed "sudo with standard input closed: the code is read from the terminal, same outcomes"
