# The Debian package from `make deb`, in a clean Debian 12 root (never on this machine): what
# it installs, that installing changes no PAM stack, `pam-auth-update --enable lockstep` and
# logins through the installed module with pamtester and with the root's own sshd, an upgrade
# from an earlier version, removal and purge. The cases run in this order and share the root;
# each says when an earlier one left nothing to go on.
#
# The earlier version is this build relabelled `VERSION~previous` (there is no earlier
# release yet): it runs the upgrade's maintainer scripts and file replacement, not old code.

PACKAGE_ROOT=""     # the Debian root, once the package is installed in it
PACKAGE_DEB=""      # build/lockstep_VERSION_ARCH.deb
PACKAGE_VERSION=""
PACKAGE_USER=carol  # an account of the root, enrolled there
PACKAGE_PASSWORD=""
PACKAGE_SECRET=""
PACKAGE_SERVICE=lockstep-e2e  # a PAM service of the root: common-auth, as sudo and login use it
ROOT_SSH=""         # the root's sshd: its scratch directory (pid file, log, known_hosts)
ROOT_SSHD_PORT=""

# package_ready: an earlier case installed the package in the root.
package_ready() {
  [[ -n $PACKAGE_ROOT ]] || {
    fail "the package was never installed in a Debian root (see the first package case)"
    return 1
  }
}

# root_has_mode PATH MODE: the root's file exists with that mode, owned by root.
root_has_mode() {
  mode_is "$PACKAGE_ROOT$1" "$2"
}

# stack_loads_lockstep: the root's common-auth has a line that loads the module.
stack_loads_lockstep() {
  contains "$PACKAGE_ROOT/etc/pam.d/common-auth" '^[^#]*pam_lockstep\.so'
}

# root_login USER ANSWER...: pamtester authenticates USER through the root's test service,
# answering its prompts in order; its prompts and messages are kept in $SCRATCH/transcript
# (for prompts_were).
root_login() {
  local user=$1 status=0
  shift
  printf '%s\n' "$@" | in_root "$PACKAGE_ROOT" pamtester -v "$PACKAGE_SERVICE" "$user" authenticate \
    >"$SCRATCH/transcript" 2>&1 || status=$?
  note "pamtester $user (exit $status): $(tr '\n' '|' <"$SCRATCH/transcript")"
  return $status
}

# totp_code [STEPS_AHEAD]: carol's TOTP code now, or that many 30-second steps ahead.
totp_code() {
  oathtool --totp -b -N "@$(($(date +%s) + 30 * ${1:-0}))" "$PACKAGE_SECRET"
}

# units_enabled: the root has a link that enables one of the package's units.
units_enabled() {
  find "$PACKAGE_ROOT/etc/systemd" -name 'lockstep*' 2>/dev/null | grep -q .
}

# enrolled_in_root: lockstep status, inside the root, says carol is enrolled.
enrolled_in_root() {
  in_root "$PACKAGE_ROOT" lockstep status "$PACKAGE_USER" >/dev/null 2>&1
}

# start_root_sshd: the root's own sshd, with Debian's /etc/pam.d/sshd (which includes
# common-auth), on a loopback port, asking by keyboard-interactive alone, until cleanup.
start_root_sshd() {
  local root=$PACKAGE_ROOT starter
  ROOT_SSH=$SCRATCH/root-ssh
  ROOT_SSHD_PORT=$((20000 + RANDOM % 40000))
  mkdir -p "$ROOT_SSH" "$root/run/sshd"
  cat >"$root/etc/ssh/sshd_config.e2e" <<CONFIG
ListenAddress 127.0.0.1:$ROOT_SSHD_PORT
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile /run/sshd.e2e.pid
UsePAM yes
KbdInteractiveAuthentication yes
PasswordAuthentication no
PubkeyAuthentication no
PrintMotd no
CONFIG
  # Its output goes to its log, so that no pipe of ours stays open in it.
  in_root "$root" /usr/sbin/sshd -D -f /etc/ssh/sshd_config.e2e -E /var/log/sshd.e2e.log </dev/null >/dev/null 2>&1 &
  starter=$!
  on_exit "stop_root_sshd '$root/run/sshd.e2e.pid'"
  # sshd writes its pid file once it listens; it exits if it cannot.
  eventually 30 root_sshd_ready_or_gone "$starter" && [[ -s $root/run/sshd.e2e.pid ]] || {
    fail "the root's sshd did not start: $(tr '\n' '|' <"$root/var/log/sshd.e2e.log")"
    return 1
  }
  echo "[127.0.0.1]:$ROOT_SSHD_PORT $(cut -d' ' -f1-2 "$root/etc/ssh/ssh_host_ed25519_key.pub")" >"$ROOT_SSH/known_hosts"
}

root_sshd_ready_or_gone() {
  [[ -s $PACKAGE_ROOT/run/sshd.e2e.pid ]] || ! kill -0 "$1" 2>/dev/null
}

# stop_root_sshd PIDFILE: stops the sshd whose pid the file holds (the background job was only
# the shell that started it), and waits until it has gone.
stop_root_sshd() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null
  eventually 10 sshd_gone "$pid"
}

sshd_gone() {
  ! kill -0 "$1" 2>/dev/null
}

# root_ssh ANSWER...: ssh_login (lib/sshd.sh) as carol, against the root's sshd; its
# transcript is $ROOT_SSH/transcript.
root_ssh() {
  SCRATCH=$ROOT_SSH SSHD_PORT=$ROOT_SSHD_PORT SSHD_LOG=$PACKAGE_ROOT/var/log/sshd.e2e.log TEST_USER=$PACKAGE_USER \
    ssh_login "$@"
}

# root_ssh_asked PROMPT...: prompts_were for the last root_ssh.
root_ssh_asked() {
  SCRATCH=$ROOT_SSH prompts_were "$@"
}

package_installs_in_a_clean_root() {
  make -s -C "$REPO" deb >"$SCRATCH/deb.log" 2>&1 || {
    fail "make deb failed: $(tail -20 "$SCRATCH/deb.log" | tr '\n' '|')"
    return 1
  }
  PACKAGE_VERSION=$(cd "$REPO" && dpkg-parsechangelog -S Version)
  PACKAGE_DEB=$REPO/build/lockstep_${PACKAGE_VERSION}_$(dpkg-architecture -q DEB_HOST_ARCH).deb
  check "make deb should leave $PACKAGE_DEB" [ -f "$PACKAGE_DEB" ] || return 1
  note "Depends: $(dpkg-deb -f "$PACKAGE_DEB" Depends)"
  check_not "the package should not depend on the Swift toolchain's libraries" \
    grep -qi swift <<<"$(dpkg-deb -f "$PACKAGE_DEB" Depends)"

  # The earlier version is installed first, so that the upgrade case has one to upgrade from.
  local previous=$SCRATCH/previous root=$SCRATCH/debian-root
  dpkg-deb -R "$PACKAGE_DEB" "$previous" &&
    sed -i "s/^Version: .*/Version: ${PACKAGE_VERSION}~previous/" "$previous/DEBIAN/control" &&
    dpkg-deb --root-owner-group -b "$previous" "$SCRATCH/lockstep_previous.deb" >/dev/null || {
    fail "could not make the earlier version's package"
    return 1
  }
  # shellcheck disable=SC2046
  debian_root "$root" pamtester oathtool libpam-runtime openssh-server $(package_dependencies "$PACKAGE_DEB") || {
    fail "could not make a Debian root"
    return 1
  }
  check_not "control: the root should have no Swift toolchain" [ -e "$root/opt/swift" ]
  cp "$SCRATCH/lockstep_previous.deb" "$root/tmp/" &&
    in_root "$root" dpkg -i /tmp/lockstep_previous.deb >"$SCRATCH/dpkg.log" 2>&1 </dev/null || {
    fail "dpkg -i failed in the clean root: $(tr '\n' '|' <"$SCRATCH/dpkg.log")"
    return 1
  }
  PACKAGE_ROOT=$root

  local multiarch
  multiarch=$(dpkg-architecture -q DEB_HOST_MULTIARCH)
  check "the module should be in the PAM directory" root_has_mode "/lib/$multiarch/security/pam_lockstep.so" 644
  check "control: pam_unix.so should be beside it" [ -e "$root/lib/$multiarch/security/pam_unix.so" ]
  check "lockstep in /usr/sbin" root_has_mode /usr/sbin/lockstep 755
  check "lockstepd in /usr/sbin" root_has_mode /usr/sbin/lockstepd 755
  check "lockstepd.service" root_has_mode /lib/systemd/system/lockstepd.service 644
  check "lockstepd.service should start /usr/sbin/lockstepd" \
    contains "$root/lib/systemd/system/lockstepd.service" '^ExecStart=/usr/sbin/lockstepd '
  check_not "no unit should be enabled" units_enabled
  local page
  for page in lockstep.8 lockstepd.8 pam_lockstep.8; do
    check "$page" root_has_mode "/usr/share/man/man8/$page.gz" 644
  done
  check "the store should be root's, 0700" root_has_mode /var/lib/lockstep 700
  check "the pam-auth-update profile" root_has_mode /usr/share/pam-configs/lockstep 644
  check_not "installing should not change common-auth" stack_loads_lockstep
  check "lockstep should run without a toolchain and print the package's version" \
    [ "$(in_root "$root" lockstep --version 2>&1)" = "lockstep $PACKAGE_VERSION" ]
  check "lockstepd should run without a toolchain" quietly in_root "$root" lockstepd --help
}
register root package_installs_in_a_clean_root "package: make deb, then dpkg -i in a clean Debian root installs the files with their modes and changes no PAM stack"

package_enabled_asks_enrolled_users_for_a_code() {
  package_ready || return 1
  local root=$PACKAGE_ROOT
  PACKAGE_PASSWORD=pw-$(tr -dc 'a-zA-Z0-9' </dev/urandom | head -c 16)
  PACKAGE_SECRET=$(head -c 20 /dev/urandom | base32)
  printf 'auth include common-auth\naccount include common-account\n' >"$root/etc/pam.d/$PACKAGE_SERVICE"
  in_root "$root" useradd --create-home "$PACKAGE_USER" && in_root "$root" useradd --create-home dave &&
    printf '%s:%s\n' "$PACKAGE_USER" "$PACKAGE_PASSWORD" dave "$PACKAGE_PASSWORD" | in_root "$root" chpasswd || {
    fail "could not add the root's users"
    return 1
  }
  check "control: before enabling, carol should get in with her password alone" root_login "$PACKAGE_USER" "$PACKAGE_PASSWORD"

  quietly in_root "$root" pam-auth-update --enable lockstep </dev/null || fail "pam-auth-update --enable lockstep failed"
  check "pam-auth-update --enable should put the module in common-auth" stack_loads_lockstep
  note "common-auth: $(grep -v '^#' "$root/etc/pam.d/common-auth" | tr '\n' '|')"

  printf '%s\n' "$PACKAGE_SECRET" | in_root "$root" lockstep enroll "$PACKAGE_USER" --secret-file - --no-confirm --json \
    >"$SCRATCH/package-enrollment.json" 2>&1 || fail "lockstep enroll in the root failed"
  quietly in_root "$root" lockstep seal </dev/null || fail "lockstep seal in the root failed"
  check "lockstep seal should make the host key" root_has_mode /etc/lockstep/host.key 400

  check_not "a wrong code should be refused" root_login "$PACKAGE_USER" "$PACKAGE_PASSWORD" \
    "$(SECRET=$PACKAGE_SECRET wrong_code)"
  check "the password, then the right code, should log carol in" root_login "$PACKAGE_USER" "$PACKAGE_PASSWORD" "$(totp_code)"
  check "the password should be asked for first, then the code" prompts_were Password "Verification code"
  check_not "a wrong password should be refused" root_login "$PACKAGE_USER" wrong-password "$(totp_code 1)"
  check "a wrong password should end it before the code" prompts_were Password
  check "dave, not enrolled, should get in with his password alone (nullok)" root_login dave "$PACKAGE_PASSWORD"
  check "dave should not be asked for a code" prompts_were Password

  start_root_sshd || return 1
  check_not "ssh: a wrong code should be refused" root_ssh "$PACKAGE_PASSWORD" "$(SECRET=$PACKAGE_SECRET wrong_code)"
  check "ssh: the password, then the next code, should log carol in" root_ssh "$PACKAGE_PASSWORD" "$(totp_code 1)"
  check "ssh: the login should run carol's command" contains "$ROOT_SSH/transcript" '^OK-carol$'
  check "ssh: the password should be asked for first, then the code" root_ssh_asked Password "Verification code"
}
register root package_enabled_asks_enrolled_users_for_a_code "package: pam-auth-update --enable lockstep; the password then a code for enrolled users (pamtester, and ssh to the root's sshd), the password alone for others"

package_upgrade_keeps_the_store_and_the_profile() {
  package_ready || return 1
  local root=$PACKAGE_ROOT
  printf 'store = /var/lib/lockstep\n' >"$root/etc/lockstep/lockstepd.conf" && chmod 0600 "$root/etc/lockstep/lockstepd.conf"
  cp "$PACKAGE_DEB" "$root/tmp/lockstep.deb" &&
    in_root "$root" dpkg -i /tmp/lockstep.deb >"$SCRATCH/dpkg.log" 2>&1 </dev/null || {
    fail "dpkg -i of the new version failed: $(tr '\n' '|' <"$SCRATCH/dpkg.log")"
    return 1
  }
  check "the new version should be installed" \
    [ "$(in_root "$root" dpkg-query -W -f '${Version}' lockstep)" = "$PACKAGE_VERSION" ]
  check "the profile should stay enabled" stack_loads_lockstep
  check "carol should still be enrolled" enrolled_in_root
  check "the host key should stay" root_has_mode /etc/lockstep/host.key 400
  check "the agent's configuration should stay" root_has_mode /etc/lockstep/lockstepd.conf 600
  check "the agent should accept it" quietly in_root "$root" lockstepd --config /etc/lockstep/lockstepd.conf --check-config
  # A backup code: the TOTP codes of this step and the next may be used up by now.
  local backup
  backup=$(jq -r '.backupCodes[0]' "$SCRATCH/package-enrollment.json")
  check "carol should log in with a backup code" root_login "$PACKAGE_USER" "$PACKAGE_PASSWORD" "$backup"
  check_not "the same backup code again should be refused" root_login "$PACKAGE_USER" "$PACKAGE_PASSWORD" "$backup"
}
register root package_upgrade_keeps_the_store_and_the_profile "package: upgrading from an earlier version keeps the store, the host key, the configuration and the enabled profile"

package_remove_then_purge() {
  package_ready || return 1
  local root=$PACKAGE_ROOT
  in_root "$root" dpkg -r lockstep >"$SCRATCH/dpkg.log" 2>&1 </dev/null || fail "dpkg -r failed: $(tr '\n' '|' <"$SCRATCH/dpkg.log")"
  check_not "removing should take the module out of common-auth" stack_loads_lockstep
  check_not "the module should be gone" [ -e "$root/lib/$(dpkg-architecture -q DEB_HOST_MULTIARCH)/security/pam_lockstep.so" ]
  check "the stack should still work: carol's password alone logs her in" root_login "$PACKAGE_USER" "$PACKAGE_PASSWORD"
  check_not "control: a wrong password should still be refused" root_login "$PACKAGE_USER" wrong-password
  check "removing should keep carol's record" root_has_mode "/var/lib/lockstep/$PACKAGE_USER" 600

  in_root "$root" dpkg -P lockstep >"$SCRATCH/dpkg.log" 2>&1 </dev/null || fail "dpkg -P failed: $(tr '\n' '|' <"$SCRATCH/dpkg.log")"
  note "dpkg -P: $(tr '\n' '|' <"$SCRATCH/dpkg.log")"
  check "the package should be gone" [ -z "$(in_root "$root" dpkg-query -W -f '${Status}' lockstep 2>/dev/null)" ]
  check "purging should keep the store" root_has_mode /var/lib/lockstep 700
  check "purging should keep carol's record" root_has_mode "/var/lib/lockstep/$PACKAGE_USER" 600
  check "purging should keep the host key" root_has_mode /etc/lockstep/host.key 400
  check_not "purging should remove the agent's configuration" [ -e "$root/etc/lockstep/lockstepd.conf" ]
  check "purging should say what it kept" contains "$SCRATCH/dpkg.log" 'store /var/lib/lockstep .* kept'
  check "the stack should still work after the purge" root_login "$PACKAGE_USER" "$PACKAGE_PASSWORD"
}
register root package_remove_then_purge "package: dpkg -r takes the module out of common-auth first and logins still work; dpkg -P keeps the store and the host key"
