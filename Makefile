# ipctools: one hand-written Makefile, no configure step.
#   make                 build every tool into bin/
#   make check           unit tests of lib/ and the bats suite
#   make check SANITIZE=1  the same against an ASan+UBSan build in build-san/
#   make fuzz [FUZZ_SECONDS=N]  libFuzzer targets of the untrusted-input parsers
#   make lint | bench | install | uninstall | clean

CC       ?= cc
PREFIX   ?= /usr/local
DESTDIR  ?=
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(shell pkg-config --variable=completionsdir bash-completion 2>/dev/null | \
		grep -x '$(PREFIX)/.*' || echo '$(PREFIX)/share/bash-completion/completions')

WARN     = -Wall -Wextra -Werror
CFLAGS  ?= -O2 -g
HARDEN   = -D_FORTIFY_SOURCE=3 -fstack-protector-strong
CPPFLAGS_ALL = -std=c11 -D_GNU_SOURCE -Ilib $(CPPFLAGS)
LDLIBS  += -lrt

ifeq ($(SANITIZE),1)
B        = build-san
BIN      = build-san/bin
# The sanitizers replace fortification and want frame pointers.
SANFLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	   -fno-sanitize-recover=all
ALLCFLAGS = $(CPPFLAGS_ALL) $(WARN) $(SANFLAGS)
ALLLDFLAGS = $(SANFLAGS) $(LDFLAGS)
else
B        = build
BIN      = bin
ALLCFLAGS = $(CPPFLAGS_ALL) $(CFLAGS) $(WARN) $(HARDEN)
ALLLDFLAGS = $(LDFLAGS)
endif

# A small tool is one file, cmd/TOOL.c; a large one a folder, cmd/TOOL/,
# of files that share a private header there.
SMALL    = $(basename $(notdir $(wildcard cmd/*.c)))
FOLDERS  = $(patsubst cmd/%/,%,$(dir $(wildcard cmd/*/main.c)))
TOOLS    = $(SMALL) $(FOLDERS)
LIBSRC   = $(wildcard lib/*.c)
LIBOBJ   = $(LIBSRC:lib/%.c=$(B)/lib/%.o)
LIBA     = $(B)/libipctools.a
PROGS    = $(TOOLS:%=$(BIN)/%)
HDR      = lib/ipctools.h

all: $(PROGS)

$(B)/lib/%.o: lib/%.c $(HDR)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -c -o $@ $<

$(LIBA): $(LIBOBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(BIN)/%: cmd/%.c $(LIBA) $(HDR)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) $(ALLLDFLAGS) -o $@ $< $(LIBA) $(LDLIBS)

$(B)/cmd/%.o: cmd/%.c $(HDR) $(wildcard cmd/*/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -c -o $@ $<

define folder_tool
$(BIN)/$(1): $(patsubst cmd/%.c,$(B)/cmd/%.o,$(wildcard cmd/$(1)/*.c)) $(LIBA)
	@mkdir -p $$(@D)
	$$(CC) $$(ALLLDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach t,$(FOLDERS),$(eval $(call folder_tool,$(t))))

# Test drivers: unit tests of lib/, and libprobe for tests/lib.bats.
$(B)/unit $(B)/libprobe $(B)/packprobe: $(B)/%: tests/%.c $(LIBA) $(HDR)
	$(CC) $(ALLCFLAGS) $(ALLLDFLAGS) -o $@ $< $(LIBA) $(LDLIBS)

# The suite runs against $(BIN); tests/run finds or fetches bats, counts the
# results, and fails on leaked IPC objects or sanitizer reports.
check: all $(B)/unit $(B)/libprobe $(B)/packprobe
	IT_BIN=$(CURDIR)/$(BIN) IT_UNIT=$(CURDIR)/$(B)/unit \
		IT_PROBE=$(CURDIR)/$(B)/libprobe IT_PACKPROBE=$(CURDIR)/$(B)/packprobe IT_SANITIZE=$(SANITIZE) \
		bash tests/run $(TESTS)

lint:
	mandoc -Tlint -Wwarning man/*.[0-9]
	shellcheck -S warning -s bash tests/*.bash tests/run completions/* \
		bench/*.sh bench/cases/*.sh .ci/run
	shellcheck -S warning -s bash -e SC2030,SC2031,SC2034,SC2154 tests/*.bats
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		--std=c11 -D_GNU_SOURCE --suppress=missingIncludeSystem \
		-Ilib lib cmd tests/unit.c tests/libprobe.c tests/packprobe.c

# libFuzzer targets (tests/fuzz/) for the parsers that read untrusted
# input: record formats and lines, framing, numbers and names, the ring
# header, the call/reply envelope. Each runs FUZZ_SECONDS from its seed
# corpus; a crash, a leak or a timeout fails the run and leaves its input
# in build-fuzz/.
FUZZ_SECONDS ?= 10
FUZZERS  = pack frame parse ring rpc
FUZZCC   ?= clang
FUZZFLAGS = $(CPPFLAGS_ALL) -Wall -Wextra -Werror -g -O1 \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

.SECONDEXPANSION:
# The ring is shmcat's own (cmd/shmcat/ring.c); its fuzzer takes it from there.
FUZZ_ring = cmd/shmcat/ring.c
build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIBSRC) $(HDR) $$(FUZZ_$$*)
	@mkdir -p $(@D)
	$(FUZZCC) $(FUZZFLAGS) -Icmd/shmcat -o $@ $< $(FUZZ_$*) $(LIBSRC) \
		$(LDLIBS) -lpthread

fuzz: $(FUZZERS:%=build-fuzz/fuzz_%)
	for f in $(FUZZERS); do \
		mkdir -p build-fuzz/corpus-$$f && \
		build-fuzz/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
			-rss_limit_mb=2048 -max_len=16384 -print_final_stats=0 \
			-artifact_prefix=build-fuzz/$$f- \
			build-fuzz/corpus-$$f tests/fuzz/corpus/$$f 2>build-fuzz/$$f.log || \
			{ tail -40 build-fuzz/$$f.log; exit 1; }; \
		echo "fuzz $$f: $$(grep -o "^Done [0-9]* runs" build-fuzz/$$f.log), no crash in $(FUZZ_SECONDS)s"; \
	done

bench: all
	bash bench/run.sh $(BENCH)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(BASHCOMPDIR)
	for t in $(TOOLS); do \
		install -m 755 $(BIN)/$$t $(DESTDIR)$(BINDIR)/$$t && \
		install -m 644 man/$$t.1 $(DESTDIR)$(MANDIR)/man1/$$t.1 && \
		install -m 644 completions/$$t $(DESTDIR)$(BASHCOMPDIR)/$$t || exit 1; \
	done
	install -m 644 man/ipctools.7 $(DESTDIR)$(MANDIR)/man7/ipctools.7

uninstall:
	for t in $(TOOLS); do \
		rm -f $(DESTDIR)$(BINDIR)/$$t $(DESTDIR)$(MANDIR)/man1/$$t.1 \
			$(DESTDIR)$(BASHCOMPDIR)/$$t; \
	done
	rm -f $(DESTDIR)$(MANDIR)/man7/ipctools.7

clean:
	rm -rf bin build build-san build-fuzz

.PHONY: all check lint fuzz bench install uninstall clean
.SUFFIXES:
