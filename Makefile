# payconsole: one Kore single binary plus its admin CLI.
#
#   make run     install what is missing, start PostgreSQL under var/, serve
#                https://127.0.0.1:8443 with the development policy
#   make test    the same in a throwaway directory, then every test suite
#   make         build only (build/payconsole, build/payconsole-admin)
#
# Kore is built from a copy of Debian's source (/usr/share/kore) with the
# patches in src/kore/ applied; a patch that no longer applies stops the
# build.

SHELL		:= /bin/bash
BUILD		?= build
KORE_DIST	?= /usr/share/kore
KORE_COPY	 = $(BUILD)/kore-src
KORE_OBJ	 = $(abspath $(BUILD)/kore-obj)
KORE_PATCHES	 = $(sort $(wildcard src/kore/*.patch))
KORE_FLAVOR	 = PGSQL=1 TASKS=1 KORE_SINGLE_BINARY=1

# SANITIZE=address,undefined builds everything with those sanitizers.
SANITIZE	?=
ifneq ($(SANITIZE),)
SANFLAGS	 = -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
KORE_FLAVOR	+= SANITIZE=$(SANITIZE)
endif

CC		?= cc
CFLAGS_COMMON	 = -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wshadow \
		   -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes \
		   -Wformat=2 -D_GNU_SOURCE -U_FORTIFY_SOURCE \
		   -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE \
		   -Isrc -I$(BUILD) $(SANFLAGS)
APP_CFLAGS	 = $(CFLAGS_COMMON) -I$(KORE_COPY)/include \
		   -I$(KORE_OBJ) -I$(shell pg_config --includedir) \
		   -DKORE_SINGLE_BINARY -DKORE_USE_PGSQL -DKORE_USE_TASKS
# src/pure.h is forced into every pure object: a Kore header there (Debian
# installs its unpatched ones under /usr/include) stops the build.
PURE_CFLAGS	 = $(CFLAGS_COMMON) -I$(shell pg_config --includedir) \
		   -include src/pure.h
HARDEN_LD	 = -pie -Wl,-z,relro,-z,now $(SANFLAGS)
LIBS		 = -loath -largon2 -lqrencode -lcrypto -lpq -ljansson -licuuc \
		   -lfido2 -lcbor

# Files that include Kore headers; every other src/*.c is pure policy
# code, linked alone into the unit tests and the admin CLI.
APP_SRC		 = src/payconsole.c src/handlers.c src/http_util.c \
		   src/db.c src/allowlist.c src/routes.c src/request.c src/auth.c \
		   src/factor.c src/factor_totp.c \
		   src/hashjob.c src/users.c src/selfsvc.c src/payments.c \
		   src/audit.c src/checkpoint.c src/control.c src/siem.c src/reviews.c \
		   src/approvals.c \
		   src/enrol.c src/refusals.c src/srcblock.c src/devices.c
# The admin CLI: pure modules plus libpq and the file system, no Kore.
ADMIN_SRC	 = src/admin.c src/evidence.c src/sitecheck.c
ADMIN_OBJ	 = $(ADMIN_SRC:src/%.c=$(BUILD)/admin/%.o)
# Where payconsole-admin finds migrations/ and scripts/migrate: this
# tree, or /usr/share/payconsole in the Debian package (debian/rules).
DATADIR		?= $(CURDIR)
PURE_SRC	 = $(filter-out $(APP_SRC) $(ADMIN_SRC), $(wildcard src/*.c))
PURE_OBJ	 = $(PURE_SRC:src/%.c=$(BUILD)/pure/%.o)
APP_OBJ		 = $(APP_SRC:src/%.c=$(BUILD)/app/%.o) $(BUILD)/app/assets.o
ASSET_FILES	 = $(sort $(wildcard assets/*))

UNIT_SRC	 = $(wildcard tests/unit/test_*.c)
UNIT_BIN	 = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

PY		 = /usr/bin/python3

# Debian packages the build, the run and the tests use.
DEB_PACKAGES	 = kore dpkg-dev make gcc libssl-dev liboath-dev libpq-dev \
		   libjansson-dev libicu-dev \
		   libargon2-dev libqrencode-dev postgresql postgresql-contrib \
		   openssl oathtool argon2 libcmocka-dev python3 python3-pytest \
		   python3-requests python3-psycopg2 python3-pyotp curl \
		   ca-certificates passwd util-linux procps patch tzdata \
		   coreutils librsvg2-bin zbar-tools cppcheck clang-tidy clang \
		   libclang-rt-14-dev wrk chromium fonts-ipafont-gothic iproute2 \
		   haproxy libarchive-dev xxd build-essential debhelper lintian \
		   logrotate systemd msmtp python3-aiosmtpd \
		   rsyslog rsyslog-openssl libfido2-dev libcbor-dev \
		   python3-cryptography python3-cbor2
SUDO		:= $(shell [ "$$(id -u)" = 0 ] || echo sudo)

FUZZ_SECONDS	?= 10

.PHONY: all deps run test unit js-unit integration clean distclean seed check \
	sanitize fuzz bench browser-deps integration-asan test-lane-plain \
	test-lane-checked schema deb

all: $(BUILD)/payconsole $(BUILD)/payconsole-admin

# Installs only what is missing; apt-get update runs only then.
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install \
		    -y -q --no-install-recommends $$missing; \
	fi
	@# Node.js and npm drive the browser tests; use the machine's if it
	@# has them (Debian's npm conflicts with other Node.js packages).
	@command -v npm >/dev/null 2>&1 || \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install \
		    -y -q --no-install-recommends nodejs npm

# playwright-core from the npm registry (package-lock.json), driving
# Debian's /usr/bin/chromium; it never downloads a browser.
browser-deps: deps
	cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
	    npm ci --no-audit --no-fund

# --- Kore from Debian's source, patched --------------------------------

$(KORE_COPY)/.patched: $(KORE_PATCHES)
	@test -f $(KORE_DIST)/RELEASE || \
	    { echo "$(KORE_DIST) missing: install Debian's kore"; exit 1; }
	@test "$$(cat $(KORE_DIST)/RELEASE)" = 4.1.0 || \
	    { echo "kore $$(cat $(KORE_DIST)/RELEASE) found, patches are for 4.1.0"; exit 1; }
	rm -rf $(KORE_COPY) $(KORE_OBJ)
	mkdir -p $(BUILD)
	cp -a $(KORE_DIST) $(KORE_COPY)
	@for p in $(KORE_PATCHES); do \
		echo "applying $$p"; \
		patch -d $(KORE_COPY) -p1 --batch --forward --quiet < $$p || \
		    { echo "FATAL: $$p no longer applies to $(KORE_DIST)"; exit 1; }; \
	done
	touch $@

# Patches 08, 09 and 13 call pure modules; their headers sit next to
# Kore's objects (Kore compiles with -I$(OBJDIR)), their code comes from
# libpcpure.a when the server is linked.
KORE_APP_H	 = src/httpscan.h src/httperr.h src/cardguard.h src/proxyv2.h

$(KORE_OBJ)/ldflags: $(KORE_COPY)/.patched $(KORE_APP_H)
	mkdir -p $(KORE_OBJ)
	cp $(KORE_APP_H) $(KORE_OBJ)/
	$(MAKE) -s -C $(KORE_COPY) objects OBJDIR=$(KORE_OBJ) $(KORE_FLAVOR)

# --- the application ---------------------------------------------------

$(BUILD)/assets.c: kore.conf $(ASSET_FILES) scripts/gen-assets
	@mkdir -p $(BUILD)
	scripts/gen-assets $@ kore.conf $(ASSET_FILES)

$(BUILD)/app/assets.o: $(BUILD)/assets.c $(KORE_OBJ)/ldflags
	@mkdir -p $(dir $@)
	$(CC) $(APP_CFLAGS) -Wno-missing-prototypes -c $< -o $@

$(BUILD)/app/%.o: src/%.c $(wildcard src/*.h) $(KORE_OBJ)/ldflags
	@mkdir -p $(dir $@)
	$(CC) $(APP_CFLAGS) -c $< -o $@

$(BUILD)/pure/%.o: src/%.c $(wildcard src/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(PURE_CFLAGS) -c $< -o $@

$(BUILD)/libpcpure.a: $(PURE_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/payconsole: $(APP_OBJ) $(BUILD)/libpcpure.a $(KORE_OBJ)/ldflags
	$(CC) $(KORE_OBJ)/*.o $(APP_OBJ) $(BUILD)/libpcpure.a \
	    $$(cat $(KORE_OBJ)/ldflags) $(LIBS) $(HARDEN_LD) -o $@

$(BUILD)/payconsole-admin: $(ADMIN_OBJ) $(BUILD)/libpcpure.a
	$(CC) $^ $(LIBS) -larchive $(HARDEN_LD) -o $@

$(BUILD)/admin/%.o: src/%.c $(wildcard src/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(PURE_CFLAGS) -DPC_DATADIR='"$(DATADIR)"' -c $< -o $@

# --- tests ---------------------------------------------------------------

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libpcpure.a
	@mkdir -p $(dir $@)
	$(CC) $(PURE_CFLAGS) -Wno-missing-prototypes $< $(BUILD)/libpcpure.a \
	    -lcmocka $(LIBS) $(HARDEN_LD) -o $@

unit: $(UNIT_BIN)
	@rc=0; for t in $(UNIT_BIN); do \
		echo "== $$t"; \
		(cd tests/unit && $(abspath $$t)) || rc=1; \
	done; exit $$rc

# The UI's pure modules (assets/*.mjs) with Node's own test runner.
js-unit:
	node --test tests/js/

integration: all
	scripts/test-integration

# Static analysis, sanitizers and fuzzing run on every test run.
# migrations/schema.sql must be what the migrations make (a throwaway
# cluster); `make schema` rewrites it after a new migration.
check: all
	scripts/schema-dump --check
	scripts/static-check

schema:
	scripts/schema-dump migrations/schema.sql

sanitize:
	scripts/sanitize-check

integration-asan:
	scripts/test-integration-asan

fuzz:
	scripts/fuzz $(FUZZ_SECONDS)

# Two lanes at once, each with its own stack, ports and artefacts: the
# integration suites, and the static, sanitizer and fuzz checks followed
# by the integration suites again against the ASan+UBSan binaries (any
# report fails them). The suites mostly wait (TOTP steps, the browser),
# so the machine's two cores carry both; a failure in either fails the
# run.
test: deps browser-deps
	$(MAKE) all unit js-unit
	$(MAKE) --no-print-directory -j2 --output-sync=line test-lane-plain \
	    test-lane-checked

test-lane-plain:
	scripts/test-integration

test-lane-checked:
	scripts/schema-dump --check
	scripts/static-check
	scripts/sanitize-check
	scripts/fuzz 5
	PC_ARTEFACTS=$(CURDIR)/build-asan/artefacts/browser \
	    scripts/test-integration-asan

# A benchmark, never a test: figures against ceilings measured in the
# same run, written to bench/results/<date>.md (bench/run).
bench: deps
	$(MAKE) all
	$(PY) bench/run

run: deps
	$(MAKE) all
	scripts/devstack run var

seed: all
	scripts/devstack seed var $(N)

# The Debian package (debian/), built by dpkg-buildpackage in a copy of
# the committed and working files under build/deb/, so that neither the
# tree nor its parent gets build products: build/deb/*.deb.
DEB_DIR		 = $(BUILD)/deb
deb:
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_DIR)/src
	git ls-files -z --cached --others --exclude-standard | \
	    xargs -0 cp --parents -t $(DEB_DIR)/src
	cd $(DEB_DIR)/src && dpkg-buildpackage -us -uc -b --no-sign \
	    -j$$(nproc) >../build.log 2>&1 || \
	    { tail -n 40 ../build.log; exit 1; }
	@ls $(DEB_DIR)/*.deb

clean:
	rm -rf $(BUILD) build-asan build-fuzz

distclean: clean
	scripts/devstack stop var 2>/dev/null || true
	rm -rf var
