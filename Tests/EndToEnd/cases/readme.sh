# The README's "Protect SSH in five minutes", step 4 and step 5's check, run as written in a
# private mount namespace whose /etc/ssh (Debian's shipped sshd_config, with its
# sshd_config.d) and /etc/pam.d are scratch copies: the machine's own files and its running
# sshd are never touched. Step 1 is what make did, step 2 the fixture's enroll, and step 3's
# trial daemon (listening on every address) is what the ssh cases do on loopback.

# readme_block STEP: the commands of the first sh block after the README's line "STEP. ...".
readme_block() {
  awk -v step="$1. " '
    index($0, step) == 1 && !started { started = 1; next }
    started && /^ *```sh/ { inside = 1; next }
    inside && /^ *```/ { exit }
    inside { sub(/^ +/, ""); print }' "$REPO/README.md"
}

# in_readme_root [--without-sshd] SCRIPT: runs SCRIPT with bash -e, in the README's directory,
# in a mount namespace where /etc/ssh, /etc/pam.d and /root are the scratch copies (and, with
# --without-sshd, /usr/sbin/sshd cannot run, so check reads the files itself). `sudo` is a
# no-op (we are root), `systemctl` only records what it was asked, and `lockstep` is the built
# CLI with the test store.
in_readme_root() {
  local mask=""
  if [[ $1 == --without-sshd ]]; then
    mask=1
    shift
  fi
  README_ROOT=$SCRATCH/readme LOCKSTEP_STORE=$STORE E2E_CLI=$CLI MASK_SSHD=$mask \
    unshare --mount --propagation private bash -c '
      mount --bind "$README_ROOT/etc-ssh" /etc/ssh && mount --bind "$README_ROOT/pam.d" /etc/pam.d &&
        mount --bind "$README_ROOT/root" /root || exit 97
      if [[ -n $MASK_SSHD ]]; then mount --bind /dev/null /usr/sbin/sshd || exit 97; fi
      sudo() { "$@"; }
      systemctl() { echo "systemctl $*" >>"$README_ROOT/systemctl.log"; }
      lockstep() { "$E2E_CLI" "$@"; }
      export -f sudo systemctl lockstep
      export LOCKSTEP_STORE README_ROOT E2E_CLI
      cd "$1" && exec bash -e' _ "$REPO" <<<"$1"
}

readme_ssh_section_ends_with_a_clean_check() {
  local root=$SCRATCH/readme step4 step5 status findings name
  enroll || return 1
  rm -rf "$root" && mkdir -p "$root/pam.d" "$root/root" || return 1
  # Debian's sshd_config as the package ships it, with the host keys this machine has.
  cp -a /etc/ssh "$root/etc-ssh" && rm -rf "$root/etc-ssh/sshd_config.d" && mkdir "$root/etc-ssh/sshd_config.d" &&
    cp /usr/share/openssh/sshd_config "$root/etc-ssh/sshd_config" || return 1
  # The system's PAM files, but none that loads the module already (such as the services this
  # run and concurrent ones make), except sshd, which step 4 replaces.
  for name in /etc/pam.d/*; do
    if [[ $name == /etc/pam.d/sshd ]] || ! grep -q pam_lockstep "$name" 2>/dev/null; then
      cp -a "$name" "$root/pam.d/"
    fi
  done
  step4=$(readme_block 4)
  step5=$(readme_block 5)
  note "step 4: $(tr '\n' '|' <<<"$step4")"
  check "step 4 should copy the key-then-code files into place" grep -qF "sshd_config.d/lockstep.conf" <<<"$step4"
  check "step 5 should end with 'sudo lockstep check'" [ "$(tail -n 1 <<<"$step5")" = "sudo lockstep check" ]
  in_readme_root "$step4" >"$SCRATCH/step4.log" 2>&1 || fail "step 4 failed: $(tr '\n' '|' <"$SCRATCH/step4.log")"
  check "step 4 should reload ssh" grep -qx "systemctl reload ssh" "$root/systemctl.log"
  check "step 4 should keep the original PAM file" cmp -s "$root/root/pam.d-sshd.orig" /etc/pam.d/sshd
  check "step 4 should put the PAM file in place" cmp -s "$root/pam.d/sshd" "$EXAMPLES/sshd-key-then-code"
  for masked in "" --without-sshd; do
    status=0
    in_readme_root $masked "$(tail -n 1 <<<"$step5")" >"$SCRATCH/check.txt" 2>&1 || status=$?
    note "lockstep check $masked (exit $status): $(tr '\n' '|' <"$SCRATCH/check.txt")"
    in_readme_root $masked "lockstep check --json" >"$SCRATCH/check.json" 2>/dev/null
    findings=$(jq -r '.findings[] | select(.severity != "info") | .rule' "$SCRATCH/check.json")
    # Two warnings may come from this machine and this test rather than from the README: an
    # unsynchronised clock, and the test's store below /tmp (the README's is /var/lib/lockstep).
    others=$(grep -vxE 'clock\.unsynchronised|store\.below-writable' <<<"$findings" || true)
    if [[ -n $findings ]]; then
      check "lockstep check should exit 8 for those warnings alone" [ "$status" = 8 ]
      check "lockstep check should find nothing else worse than information: $others" [ -z "$others" ]
    else
      check "lockstep check $masked should exit 0" [ "$status" = 0 ]
    fi
    check "the check should have read the store" grep -q '"rule" : "store.users"' "$SCRATCH/check.json"
    check_not "the check should have found the sshd configuration" grep -q '"rule" : "sshd.absent"' "$SCRATCH/check.json"
    check_not "the check should not report the Debian file's KbdInteractiveAuthentication" \
      grep -q '"rule" : "sshd.kbdinteractive"' "$SCRATCH/check.json"
  done
  # Control: the same lines appended to the end of sshd_config, as the README warns against.
  in_readme_root "rm /etc/ssh/sshd_config.d/lockstep.conf
    cat pam.d-examples/sshd_config-key-then-code >>/etc/ssh/sshd_config
    lockstep check --json >$SCRATCH/control.json || true"
  check "control: lines at the end of sshd_config should lose to Debian's 'KbdInteractiveAuthentication no'" \
    grep -q '"rule" : "sshd.kbdinteractive"' "$SCRATCH/control.json"
}
register root readme_ssh_section_ends_with_a_clean_check "the README's SSH steps, followed as written, end with a clean lockstep check"
