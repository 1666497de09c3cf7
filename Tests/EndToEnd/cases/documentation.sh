# The shipped documentation against the real thing: man pages that render cleanly and name
# every command and option the CLI has, and READMEs that name only example files that exist.

man_pages_render_cleanly() {
  local page warnings
  for page in "$REPO"/man/*.8; do
    warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
    check "$(basename "$page") should render without warnings: $warnings" [ -z "$warnings" ]
  done
}
register any man_pages_render_cleanly "man pages render with groff -ww without a warning"

# rendered_man PAGE: the page as plain text, without hyphenation, one paragraph per line.
rendered_man() {
  groff -man -Tutf8 -rHY=0 -rLL=1000n -P-cbou "$REPO/man/$1" 2>/dev/null
}

# cli_subcommands [COMMAND...]: the subcommands `lockstep [COMMAND] --help` lists.
cli_subcommands() {
  "$CLI" "$@" --help | sed -n '/^SUBCOMMANDS:/,/^$/p' | grep -oE '^  [a-z-]+' | tr -d ' '
}

# cli_options COMMAND...: the long options `lockstep help COMMAND...` lists.
cli_options() {
  "$CLI" help "$@" | sed -n '/^OPTIONS:/,$p' | grep -oE '^  (-[a-z], )?--[a-z-]+' | grep -oE -- '--[a-z-]+'
}

lockstep_man_page_covers_the_cli() {
  local page command subcommand option commands=()
  page=$(rendered_man lockstep.8)
  for command in $(cli_subcommands); do
    if [[ $command == import ]]; then
      for subcommand in $(cli_subcommands import); do commands+=("import $subcommand"); done
    else
      commands+=("$command")
    fi
  done
  check "the CLI should list its commands" [ ${#commands[@]} -ge 10 ]
  for command in "${commands[@]}"; do
    # A subsection titled with the command (and its operands).
    check "lockstep(8) should have a section for '$command'" grep -qE "^   $command( |\$)" <<<"$page"
    # shellcheck disable=SC2086 # "import pam-oath" is two words
    for option in $(cli_options $command); do
      check "lockstep(8) should mention $option (of '$command')" grep -qF -- "$option" <<<"$page"
    done
  done
  for status in 0 1 2 3 4 5 6 8 9; do
    check "lockstep(8) should explain exit status $status" grep -qE "^       $status +[A-Za-z]" <<<"$page"
  done
}
register any lockstep_man_page_covers_the_cli "lockstep(8) has a section for every command and names every option"

readmes_name_real_example_files() {
  local name readme
  for readme in "$REPO/README.md" "$EXAMPLES/README.md"; do
    for name in $(grep -oE 'pam\.d-examples/[A-Za-z0-9_.-]*[A-Za-z0-9_-]' "$readme" | sort -u); do
      check "$(basename "$(dirname "$readme")")/README.md names $name, which should exist" [ -f "$REPO/$name" ]
    done
  done
  for name in "$EXAMPLES"/*; do
    name=$(basename "$name")
    [[ $name == README.md ]] && continue
    check "pam.d-examples/README.md should describe $name" grep -qF "pam.d-examples/$name" "$EXAMPLES/README.md"
  done
}
register any readmes_name_real_example_files "the READMEs name only example files that exist, and every one of them"
