# Lockstep: build, test, demo and install.
#
#   make          build/pam_lockstep.so, build/lockstep (the CLI) and the test driver
#   make test     every test: swift test, the end-to-end suite (real sshd and sudo), the
#                 module's tests under AddressSanitizer and a short run of every fuzz target;
#                 installs missing Debian packages first when run as root
#   make e2e      the end-to-end suite alone (Tests/EndToEnd/run; most cases need root)
#   make demo     a real PAM login against the built module in a throwaway directory
#   make install  the module into the system's PAM directory, the CLI into $(PREFIX)/sbin,
#                 the man pages, and the store directory (honours DESTDIR); make uninstall
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
DRIVER      := $(BUILD)/pam-driver
BENCH_DRIVER := $(BUILD)/bench-driver
POWERCUT_FS := $(BUILD)/powercut-fs
MULTIARCH   := $(shell $(CC) -print-multiarch 2>/dev/null)
PAMDIR      ?= $(if $(MULTIARCH),/lib/$(MULTIARCH)/security,/lib/security)
STOREDIR    ?= /var/lib/lockstep
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/sbin
MANDIR      ?= $(PREFIX)/share/man
MANPAGES    := pam_lockstep.8 lockstep.8

# Debian packages the build and the tests need.
BUILD_PACKAGES := libpam0g-dev libssl-dev libqrencode-dev pkg-config
TEST_PACKAGES  := pamtester oathtool libfaketime zbar-tools valgrind libpam-google-authenticator strace \
                  openssh-server openssh-client sudo expect jq groff-base libfuse3-dev fuse3
DEMO_PACKAGES  := pamtester oathtool
BENCH_PACKAGES := libpam-google-authenticator libpam-oath pamtester oathtool libfaketime gnuplot-nox eatmydata \
                  python3 binutils

# Power cuts in `make power-loss` (PowerLossTests); `make test` runs its default of 200.
POWER_CUTS ?= 2000

# Seconds each fuzz target runs for in `make fuzz`, and in the smoke run of `make test`.
FUZZ_SECONDS       ?= 60
FUZZ_SMOKE_SECONDS ?= 5

.PHONY: all deps test-deps test e2e fuzz sanitize power-loss demo bench install uninstall clean format lint

all: $(MODULE) $(CLI) $(DRIVER) $(BENCH_DRIVER)

# Installs what is missing, when we are root on a Debian machine; otherwise says what to install.
deps:
	@scripts/install-packages $(BUILD_PACKAGES)

test-deps: deps
	@scripts/install-packages $(TEST_PACKAGES)

$(MODULE): Package.swift $(shell find Sources -type f) | deps
	$(SWIFT) build -c release --product pam_lockstep --disable-local-rpath
	@mkdir -p $(BUILD)
	install -m 0644 "$$($(SWIFT) build -c release --show-bin-path)/libpam_lockstep.so" $@

# --static-swift-stdlib: the Swift runtime and Foundation are linked in, so the installed tool
# runs on machines without a Swift toolchain.
$(CLI): Package.swift $(shell find Sources -type f) | deps
	$(SWIFT) build -c release --product lockstep --static-swift-stdlib
	@mkdir -p $(BUILD)
	install -m 0755 "$$($(SWIFT) build -c release --show-bin-path)/lockstep" $@

$(DRIVER): Tests/PamModuleTests/Driver/pam_driver.c | deps
	@mkdir -p $(BUILD)
	$(CC) -O2 -Wall -Wextra -o $@ $< -lpam -rdynamic

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
test: test-deps all $(POWERCUT_FS)
	$(SWIFT) test
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

install: $(MODULE) $(CLI)
	install -d -m 0755 $(DESTDIR)$(BINDIR)
	install -m 0755 -s --strip-program=strip $(CLI) $(DESTDIR)$(BINDIR)/lockstep
	install -d -m 0755 $(DESTDIR)$(PAMDIR)
	install -m 0644 -s --strip-program=strip $(MODULE) $(DESTDIR)$(PAMDIR)/pam_lockstep.so
	install -d -m 0700 $(DESTDIR)$(STOREDIR)
	install -d -m 0755 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 $(addprefix man/,$(MANPAGES)) $(DESTDIR)$(MANDIR)/man8/

uninstall:
	rm -f $(DESTDIR)$(PAMDIR)/pam_lockstep.so $(DESTDIR)$(BINDIR)/lockstep
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(MANPAGES))
	@echo "The store $(DESTDIR)$(STOREDIR) is left in place; remove it by hand if you mean to."

format:
	$(SWIFT) format -i -r Sources Tests Fuzz Package.swift

lint:
	$(SWIFT) format lint -r -s Sources Tests Fuzz Package.swift

clean:
	rm -rf $(BUILD) .build
