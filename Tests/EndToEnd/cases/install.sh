# `make install` and `make uninstall` into a scratch DESTDIR: what lands where, with which
# modes, and that uninstall takes it away again (leaving the store, as documented).

install_and_uninstall() {
  local destdir=$SCRATCH/destdir installed moduledir
  make -s -C "$REPO" install DESTDIR="$destdir" >"$SCRATCH/make.log" 2>&1 || {
    fail "make install failed: $(tr '\n' '|' <"$SCRATCH/make.log")"
    return 1
  }
  installed=$(cd "$destdir" && find . -mindepth 1 \( -type f -o -type l \) | sort | tr '\n' ' ')
  note "installed: $installed"
  moduledir=$(cd "$destdir" && dirname "$(find . -name pam_lockstep.so)" | cut -c 2-)
  check "the module should go where the system's other PAM modules are ($moduledir)" [ -e "$moduledir/pam_unix.so" ]
  check "module" mode_is "$destdir$moduledir/pam_lockstep.so" 644
  check "CLI" mode_is "$destdir/usr/local/sbin/lockstep" 755
  check "agent" mode_is "$destdir/usr/local/sbin/lockstepd" 755
  check "lockstepd(8)" mode_is "$destdir/usr/local/share/man/man8/lockstepd.8" 644
  check "lockstepd.service" mode_is "$destdir/lib/systemd/system/lockstepd.service" 644
  check "lockstep-metrics.service" mode_is "$destdir/lib/systemd/system/lockstep-metrics.service" 644
  check "lockstep-metrics.timer" mode_is "$destdir/lib/systemd/system/lockstep-metrics.timer" 644
  check "store directory" mode_is "$destdir/var/lib/lockstep" 700
  check "pam_lockstep(8)" mode_is "$destdir/usr/local/share/man/man8/pam_lockstep.8" 644
  check "lockstep(8)" mode_is "$destdir/usr/local/share/man/man8/lockstep.8" 644
  local docdir=$destdir/usr/local/share/doc/lockstep example examples=0
  check "README" mode_is "$docdir/README.md" 644
  check "SECURITY.md" mode_is "$docdir/SECURITY.md" 644
  for example in "$EXAMPLES"/*; do
    check "pam.d-examples/$(basename "$example")" cmp -s "$example" "$docdir/pam.d-examples/$(basename "$example")"
    examples=$((examples + 1))
  done
  check "bash completion" mode_is "$destdir/usr/local/share/bash-completion/completions/lockstep" 644
  check "exactly those files should be installed" [ "$(wc -w <<<"$installed")" = $((12 + examples)) ]
  check "the man pages should name the installed examples" \
    grep -qF '/usr/local/share/doc/lockstep/pam.d\-examples/' "$destdir/usr/local/share/man/man8/pam_lockstep.8"
  check "lockstep <TAB> should offer the commands once the completion is loaded" \
    completes "$destdir/usr/local/share/bash-completion/completions/lockstep" "sta" "status"
  check "the installed CLI should run" quietly "$destdir/usr/local/sbin/lockstep" --version
  # systemd's own checker, on copies that start the installed programs where they are.
  local units=$SCRATCH/units unit
  mkdir -p "$units"
  for unit in lockstepd.service lockstep-metrics.service lockstep-metrics.timer; do
    sed "s|/usr/local/sbin|$destdir/usr/local/sbin|g" "$destdir/lib/systemd/system/$unit" >"$units/$unit"
  done
  check "the systemd units should pass systemd-analyze verify" \
    quietly systemd-analyze verify --man=no "$units"/lockstepd.service "$units"/lockstep-metrics.service \
    "$units"/lockstep-metrics.timer
  check "the installed module should be stripped" no_symbol_table "$destdir$moduledir/pam_lockstep.so"
  check "the installed module should export the PAM entry points only" exports_pam_entry_points_only \
    "$destdir$moduledir/pam_lockstep.so"

  make -s -C "$REPO" uninstall DESTDIR="$destdir" >"$SCRATCH/make.log" 2>&1 || fail "make uninstall failed"
  local left
  left=$(cd "$destdir" && find . -mindepth 1 \( -type f -o -type l \))
  check "make uninstall should remove every installed file" [ -z "$left" ]
  check "make uninstall should leave the store" [ -d "$destdir/var/lib/lockstep" ]
}
register any install_and_uninstall "make install DESTDIR=...: module, CLI, man pages and store with the right modes; make uninstall"

install_with_prefix() {
  local destdir=$SCRATCH/destdir-prefix
  make -s -C "$REPO" install DESTDIR="$destdir" PREFIX=/opt/lockstep >"$SCRATCH/make.log" 2>&1 || {
    fail "make install PREFIX=/opt/lockstep failed"
    return 1
  }
  check "CLI under the prefix" mode_is "$destdir/opt/lockstep/sbin/lockstep" 755
  check "lockstepd.service should start the agent under the prefix" \
    grep -qF 'ExecStart=/opt/lockstep/sbin/lockstepd ' "$destdir/lib/systemd/system/lockstepd.service"
  check "lockstep-metrics.service should run the CLI under the prefix" \
    grep -qF 'ExecStart=/opt/lockstep/sbin/lockstep metrics ' "$destdir/lib/systemd/system/lockstep-metrics.service"
  check "lockstep(8) under the prefix" mode_is "$destdir/opt/lockstep/share/man/man8/lockstep.8" 644
  check "the README under the prefix" mode_is "$destdir/opt/lockstep/share/doc/lockstep/README.md" 644
  check "lockstep(8) should name the examples under the prefix" \
    grep -qF '/opt/lockstep/share/doc/lockstep/pam.d' "$destdir/opt/lockstep/share/man/man8/lockstep.8"
  make -s -C "$REPO" uninstall DESTDIR="$destdir" PREFIX=/opt/lockstep >/dev/null 2>&1
  check "make uninstall PREFIX=... should remove them" [ ! -e "$destdir/opt/lockstep/sbin/lockstep" ]
}
register any install_with_prefix "make install PREFIX=/opt/lockstep puts the CLI and man pages under the prefix"

# make uninstall must not break a live PAM stack: it refuses while a PAM file loads the module,
# names the files, and goes on only with FORCE=1.
uninstall_refuses_while_pam_loads_the_module() {
  local destdir=$SCRATCH/destdir-in-use moduledir output status=0
  make -s -C "$REPO" install DESTDIR="$destdir" >"$SCRATCH/make.log" 2>&1 || {
    fail "make install failed: $(tr '\n' '|' <"$SCRATCH/make.log")"
    return 1
  }
  moduledir=$(cd "$destdir" && dirname "$(find . -name pam_lockstep.so)" | cut -c 2-)
  mkdir -p "$destdir/etc/pam.d"
  cp "$EXAMPLES/sudo-code-only" "$destdir/etc/pam.d/sudo"
  printf 'auth [success=1 default=ignore] /lib/security/pam_lockstep.so nullok\n' >"$destdir/etc/pam.d/other"
  printf '# auth required pam_lockstep.so, once enrolled\n@include common-auth\n' >"$destdir/etc/pam.d/login"
  output=$(make -s -C "$REPO" uninstall DESTDIR="$destdir" 2>&1) || status=$?
  note "make uninstall: $output"
  check "make uninstall should fail while a PAM file loads the module" [ "$status" -ne 0 ]
  check "it should name the sudo file, which loads it" grep -qF "$destdir/etc/pam.d/sudo" <<<"$output"
  check "it should name the other file, which loads it by its full path" grep -qF "$destdir/etc/pam.d/other" <<<"$output"
  check_not "it should not name a file that mentions the module in a comment only" \
    grep -qF "pam.d/login" <<<"$output"
  check "it should say how to override" grep -qF "make uninstall FORCE=1" <<<"$output"
  check "the module should still be installed" [ -f "$destdir$moduledir/pam_lockstep.so" ]
  check "the CLI should still be installed" [ -f "$destdir/usr/local/sbin/lockstep" ]
  make -s -C "$REPO" uninstall DESTDIR="$destdir" FORCE=1 >"$SCRATCH/make.log" 2>&1 ||
    fail "make uninstall FORCE=1 failed"
  check "make uninstall FORCE=1 should remove the module" [ ! -e "$destdir$moduledir/pam_lockstep.so" ]
  rm -f "$destdir/etc/pam.d/sudo" "$destdir/etc/pam.d/other"
}
register any uninstall_refuses_while_pam_loads_the_module "make uninstall refuses while a PAM file loads the module, naming it; FORCE=1 overrides"

# completes SCRIPT WORD EXPECTED: with the completion SCRIPT loaded, `lockstep WORD<TAB>` offers
# EXPECTED (and the installed CLI, on the PATH, is what the script asks).
completes() {
  local offered
  offered=$(PATH="$(dirname "$1")/../../../sbin:$PATH" bash -c '
    source "$1"
    COMP_WORDS=(lockstep "$2") COMP_CWORD=1 COMP_LINE="lockstep $2" COMP_POINT=${#COMP_LINE}
    _lockstep lockstep "$2" lockstep
    printf "%s\n" "${COMPREPLY[@]}"' _ "$1" "$2" 2>&1)
  grep -qx "$3" <<<"$offered" || {
    note "completions offered for '$2': $(tr '\n' ' ' <<<"$offered")"
    return 1
  }
}

no_symbol_table() {
  ! readelf -S "$1" | grep -q '\.symtab'
}

exports_pam_entry_points_only() {
  local exported
  exported=$(nm -D --defined-only "$1" | awk '{print $3}' | sort | tr '\n' ' ')
  [[ $exported == "pam_sm_authenticate pam_sm_setcred " ]] || {
    note "exported: $exported"
    return 1
  }
}
