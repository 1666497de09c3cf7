# Lockstep: build, test, demo and install.
#
#   make          build/pam_lockstep.so, build/lockstep (the CLI), build/lockstepd (the agent)
#                 and the test driver
#   make test     every test: swift test, the end-to-end suite (real sshd and sudo), the
#                 module's tests under AddressSanitizer and a short run of every fuzz target;
#                 installs missing Debian packages first when run as root
#   make e2e      the end-to-end suite alone (Tests/EndToEnd/run; most cases need root)
#   make demo     a real PAM login against the built module in a throwaway directory
#   make deb      build/lockstep_VERSION_amd64.deb with dpkg-buildpackage (debian/, which calls
#                 make install with Debian's directories; VERSION is debian/changelog's, and
#                 must be the one `lockstep --version` prints), then lintian, which must report
#                 no error; installs the Debian packaging tools first when run as root
#   make install  the module into the system's PAM directory, the CLI and the agent into
#                 $(PREFIX)/sbin, lockstepd.service and lockstep-metrics.{service,timer}
#                 into $(SYSTEMDDIR) (not enabled),
#                 the man pages, the README and pam.d-examples, the bash completion, and the
#                 store directory (honours DESTDIR); make uninstall,
#                 which refuses while a file in /etc/pam.d loads the module (FORCE=1 overrides)
#   make fuzz     every fuzz target for FUZZ_SECONDS seconds; new inputs join Fuzz/corpus/
#   make sanitize every Swift test target under AddressSanitizer (see scripts/sanitize)
#   make bench    Lockstep against pam_google_authenticator and pam_oath (see BENCHMARKS.md)
#   make power-loss  POWER_CUTS power cuts (default 2,000) under logins and CLI commands on a
#                 store mounted through powercut-fs; prints the counts (make test runs 200)

SWIFT       ?= swift
CC          ?= cc
BUILD       := build
MODULE      := $(BUILD)/pam_lockstep.so
CLI         := $(BUILD)/lockstep
AGENT       := $(BUILD)/lockstepd
DRIVER      := $(BUILD)/pam-driver
BENCH_DRIVER := $(BUILD)/bench-driver
NSS_CASE    := $(BUILD)/libnss_lockstepcase.so.2
POWERCUT_FS := $(BUILD)/powercut-fs
MULTIARCH   := $(shell $(CC) -print-multiarch 2>/dev/null)
PAMDIR      ?= $(if $(MULTIARCH),/lib/$(MULTIARCH)/security,/lib/security)
STOREDIR    ?= /var/lib/lockstep
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/sbin
MANDIR      ?= $(PREFIX)/share/man
PAMCONFDIR  ?= /etc/pam.d
DOCDIR      ?= $(PREFIX)/share/doc/lockstep
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
MANPAGES    := pam_lockstep.8 lockstep.8 lockstepd.8
SYSTEMDDIR  ?= /lib/systemd/system
COMPLETION  := $(BUILD)/lockstep.bash
EXAMPLES    := $(filter-out pam.d-examples/README.md,$(wildcard pam.d-examples/*))

# Debian packages the build and the tests need.
BUILD_PACKAGES := libpam0g-dev nettle-dev libssl-dev libqrencode-dev pkg-config libcurl4-openssl-dev
TEST_PACKAGES  := pamtester oathtool libfaketime zbar-tools valgrind libpam-google-authenticator strace \
                  openssh-server openssh-client sudo expect jq groff-base libfuse3-dev fuse3 \
                  postgresql openssl datefudge python3-aiosmtpd msmtp systemd rsyslog python3-prometheus-client \
                  $(DEB_PACKAGES) debootstrap
DEB_PACKAGES   := debhelper dpkg-dev fakeroot lintian
DEMO_PACKAGES  := pamtester oathtool
BENCH_PACKAGES := libpam-google-authenticator libpam-oath pamtester oathtool libfaketime gnuplot-nox eatmydata \
                  python3 binutils openssh-server openssh-client sudo postgresql openssl

# Power cuts in `make power-loss` (PowerLossTests); `make test` runs its default of 200.
POWER_CUTS ?= 2000

# Seconds each fuzz target runs for in `make fuzz`, and in the smoke run of `make test`.
FUZZ_SECONDS       ?= 60
FUZZ_SMOKE_SECONDS ?= 5

.PHONY: all deps test-deps test e2e fuzz sanitize power-loss demo bench install uninstall deb deb-deps clean format lint

all: $(MODULE) $(CLI) $(AGENT) $(DRIVER) $(BENCH_DRIVER) $(NSS_CASE)

# Installs what is missing, when we are root on a Debian machine; otherwise says what to install.
deps:
	@scripts/install-packages $(BUILD_PACKAGES)

test-deps: deps
	@scripts/install-packages $(TEST_PACKAGES)

# The module is Embedded Swift, built by scripts/build-module from the module's targets (see
# ARCHITECTURE.md); Package.swift builds the same targets as ordinary Swift for the CLI and tests.
$(MODULE): scripts/build-module $(shell find Sources -type f) | deps
	scripts/build-module $@

# --static-swift-stdlib: the Swift runtime is linked in, so the installed tool runs on machines
# without a Swift toolchain. The CLI does not use Foundation; swift-argument-parser brings in
# FoundationEssentials, whose temporary-file code is what the linker's "the use of `mktemp'
# is dangerous" warning is about (lockstep never calls it).
$(CLI): Package.swift $(shell find Sources -type f) | deps
	$(SWIFT) build -c release --product lockstep --static-swift-stdlib
	@mkdir -p $(BUILD)
	install -m 0755 "$$($(SWIFT) build -c release --show-bin-path)/lockstep" $@

# The agent: swift-nio, postgres-nio and swift-nio-ssl (BoringSSL) make its first build the
# longest of the project's, a few minutes on two cores; the module's build has none of them.
$(AGENT): Package.swift $(shell find Sources -type f) | deps
	$(SWIFT) build -c release --product lockstepd --static-swift-stdlib
	@mkdir -p $(BUILD)
	install -m 0755 "$$($(SWIFT) build -c release --show-bin-path)/lockstepd" $@

$(DRIVER): Tests/PamModuleTests/Driver/pam_driver.c | deps
	@mkdir -p $(BUILD)
	$(CC) -O2 -Wall -Wextra -o $@ $< -lpam -rdynamic

# A user database that answers like a case-insensitive directory, for the module's tests.
$(NSS_CASE): Tests/PamModuleTests/NSS/nss_lockstepcase.c
	@mkdir -p $(BUILD)
	$(CC) -O2 -Wall -Wextra -shared -fPIC -o $@ $<

# The FUSE file system that the power-loss tests cut the power of (see its README.md).
$(POWERCUT_FS): Tests/PamModuleTests/PowerCut/powercut_fs.c | test-deps
	@mkdir -p $(BUILD)
	$(CC) -O2 -Wall -Wextra $$(pkg-config --cflags fuse3) -o $@ $< $$(pkg-config --libs fuse3)

$(BENCH_DRIVER): bench/bench_driver.c | deps
	@mkdir -p $(BUILD)
	$(CC) -O2 -Wall -Wextra -o $@ $< -lpam -lcrypto -rdynamic

# After the Swift tests and the end-to-end suite: a smoke run of the benchmark driver, the
# module's tests again with the module and driver under AddressSanitizer, and a short run of
# every fuzz target over its corpus.
# The suites whose checks rest on timing (refusal delays, the power-cut file system's deadlines)
# or on the exact sequence of a login's system calls (kills aimed by strace) run on their own,
# after the others, which run in parallel and load both cores, and one at a time (--no-parallel):
# the power-loss experiment's killed drivers leave libfaketime files under pids that a traced
# driver of CrashSafetyTests may get, which changes its start-up calls; the power-cut file system's own
# tests (its self-unmount deadline) run apart from the power-loss experiment's many processes.
ALONE_SUITES := RefusalTimingTests|CrashSafetyTests|PowerLossTests|CrashThenPowerLossTests

test: test-deps all $(POWERCUT_FS)
	$(SWIFT) test --skip "$(ALONE_SUITES)|PowerCutDiskTests"
	$(SWIFT) test --skip-build --no-parallel --filter "$(ALONE_SUITES)"
	$(SWIFT) test --skip-build --filter PowerCutDiskTests
	Tests/EndToEnd/run
	scripts/bench --smoke
	scripts/sanitize module
	scripts/fuzz smoke $(FUZZ_SMOKE_SECONDS)

e2e: test-deps all
	Tests/EndToEnd/run

power-loss: test-deps all $(POWERCUT_FS)
	LOCKSTEP_POWER_CUTS=$(POWER_CUTS) $(SWIFT) test --filter PowerLossTests

fuzz: deps
	scripts/fuzz run $(FUZZ_SECONDS)

sanitize: test-deps all
	scripts/sanitize all

bench: deps all
	@scripts/install-packages $(BENCH_PACKAGES)
	scripts/bench

demo: deps all
	@scripts/install-packages $(DEMO_PACKAGES)
	@scripts/demo

# The bash completion script, from the CLI itself, without its "#!/bin/bash": bash sources it.
$(COMPLETION): $(CLI)
	$(CLI) --generate-completion-script bash | sed '1{/^#!/d}' >$@.tmp && mv $@.tmp $@

install: $(MODULE) $(CLI) $(AGENT) $(COMPLETION)
	install -d -m 0755 $(DESTDIR)$(BINDIR)
	install -m 0755 -s --strip-program=strip $(CLI) $(DESTDIR)$(BINDIR)/lockstep
	install -m 0755 -s --strip-program=strip $(AGENT) $(DESTDIR)$(BINDIR)/lockstepd
	install -d -m 0755 $(DESTDIR)$(SYSTEMDDIR)
	for unit in lockstepd.service lockstep-metrics.service lockstep-metrics.timer; do \
	  sed 's|/usr/local/sbin|$(BINDIR)|g' systemd/$$unit >$(DESTDIR)$(SYSTEMDDIR)/$$unit && \
	  chmod 0644 $(DESTDIR)$(SYSTEMDDIR)/$$unit || exit 1; \
	done
	install -d -m 0755 $(DESTDIR)$(PAMDIR)
	install -m 0644 -s --strip-program=strip $(MODULE) $(DESTDIR)$(PAMDIR)/pam_lockstep.so
	install -d -m 0700 $(DESTDIR)$(STOREDIR)
	install -d -m 0755 $(DESTDIR)$(MANDIR)/man8
	for page in $(MANPAGES); do \
	  sed 's|/usr/local/share/doc/lockstep|$(DOCDIR)|g' man/$$page >$(DESTDIR)$(MANDIR)/man8/$$page && \
	  chmod 0644 $(DESTDIR)$(MANDIR)/man8/$$page || exit 1; \
	done
	install -d -m 0755 $(DESTDIR)$(DOCDIR)/pam.d-examples
	install -m 0644 README.md SECURITY.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 $(EXAMPLES) pam.d-examples/README.md $(DESTDIR)$(DOCDIR)/pam.d-examples/
	install -d -m 0755 $(DESTDIR)$(COMPLETIONDIR)
	install -m 0644 $(COMPLETION) $(DESTDIR)$(COMPLETIONDIR)/lockstep

# The Debian package, in build/ (with its .buildinfo and .changes): debian/rules builds and
# installs through the targets above. Its version is debian/changelog's, checked against the
# CLI's own, which the package's users see. The names are evaluated only when make deb runs.
DEB_VERSION = $(shell dpkg-parsechangelog -S Version)
DEB_NAME    = $(BUILD)/lockstep_$(DEB_VERSION)_$(shell dpkg-architecture -q DEB_HOST_ARCH)

deb-deps: deps
	@scripts/install-packages $(DEB_PACKAGES)

deb: deb-deps $(CLI)
	@[ "$$($(CLI) --version)" = "lockstep $(DEB_VERSION)" ] || { \
	  echo "make deb: debian/changelog says $(DEB_VERSION), but $(CLI) --version says $$($(CLI) --version)" >&2; exit 1; }
	dpkg-buildpackage -us -uc -b --buildinfo-option=-u$(BUILD) --changes-option=-u$(BUILD) \
	  --buildinfo-file=$(DEB_NAME).buildinfo --changes-file=$(DEB_NAME).changes
	lintian --fail-on error $(DEB_NAME).changes

# Refuses while a file in $(PAMCONFDIR) still loads the module (FORCE=1 overrides).
uninstall:
	@scripts/check-pam-unused "$(DESTDIR)$(PAMCONFDIR)" "$(FORCE)"
	rm -f $(DESTDIR)$(PAMDIR)/pam_lockstep.so $(DESTDIR)$(BINDIR)/lockstep $(DESTDIR)$(BINDIR)/lockstepd
	rm -f $(addprefix $(DESTDIR)$(SYSTEMDDIR)/,lockstepd.service lockstep-metrics.service lockstep-metrics.timer)
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(MANPAGES)) $(DESTDIR)$(COMPLETIONDIR)/lockstep
	rm -rf $(DESTDIR)$(DOCDIR)
	@echo "The store $(DESTDIR)$(STOREDIR) is left in place; remove it by hand if you mean to."

format:
	$(SWIFT) format -i -r Sources Tests Fuzz Package.swift

lint:
	$(SWIFT) format lint -r -s Sources Tests Fuzz Package.swift

clean:
	rm -rf $(BUILD) .build
