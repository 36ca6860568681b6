# txwatch - build, run, test and benchmark the suite
#
#   make          build every service into build/bin/
#   make deps     install the Debian packages the build, tests and run need
#   make run      install what is missing, build, start PostgreSQL and the suite
#   make test     unit tests, then the end-to-end and garbage tests
#   make test-clock  the unit and end-to-end suites under a faked clock: 03:00
#                 UTC on a Monday and 14:00 UTC on a Saturday (libfaketime)
#   make sanitize the unit and end-to-end suites built with AddressSanitizer
#                 and UndefinedBehaviorSanitizer in build/sanitize; passes only
#                 with zero reports
#   make fuzz     libFuzzer harnesses for every parser of outside input
#                 (FUZZ_SECONDS each, default 60)
#   make images   every container image (deploy/Dockerfile), with a Docker
#                 engine and the base image made here when missing
#   make test-containers  builds the images, then runs the compose stack for
#                 real (tests/e2e/compose-run.sh): totals, scaling, a killed
#                 aggregator, the dashboard in Chromium
#   make bench    throughput and latency of the pipeline
#   make eval     fraud detection quality (AUC, precision, recall) on labelled data,
#                 recommendation hit rate@10 on held-out baskets
#   make clean

CC       ?= gcc
CFLAGS   ?= -O2 -g
BUILD    ?= build
override CFLAGS += -std=gnu11 -Wall -Wextra -D_GNU_SOURCE -Icommon -I$(BUILD)/gen -I/usr/include/postgresql

# Hardened like a distribution's packages: stack canaries, a position
# independent executable with full RELRO (no lazy binding, so the GOT is
# read-only) and glibc's checked string and stdio calls (the __*_chk
# functions). Added after the user's CFLAGS and LDFLAGS, so they hold for
# every build of services, tools and unit tests; tests/e2e/hardening.sh
# checks the binaries. _FORTIFY_SOURCE needs the optimiser (glibc warns
# without it), so a build without -O (or with -O0) goes without; and the
# sanitizers do not support it (their runtimes do not intercept most
# __*_chk functions, so ASan would miss what they check), so a sanitizer
# build (make sanitize) undefines it, even where the compiler defines it.
HARDEN_OPT     := $(lastword $(filter -O%,$(CFLAGS)))
HARDEN_FORTIFY := $(if $(findstring -fsanitize=,$(CFLAGS)),-U_FORTIFY_SOURCE,$(if \
                  $(filter-out -O0,$(HARDEN_OPT)),-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2))
# The stack protector is left out of sanitizer builds too: AddressSanitizer
# checks the stack itself, and with both, its use-after-return frames lose
# the 64-byte alignment of AVX-512 locals (the forest's scoring faulted).
HARDEN_CANARY  := $(if $(findstring -fsanitize=,$(CFLAGS)),,-fstack-protector-strong)
HARDEN_CFLAGS  := $(HARDEN_CANARY) -fPIE $(HARDEN_FORTIFY)
HARDEN_LDFLAGS := -pie -Wl,-z,relro,-z,now
override CFLAGS  += $(HARDEN_CFLAGS)
override LDFLAGS += $(HARDEN_LDFLAGS)
LDLIBS   := -lczmq -lzmq -lmsgpackc -lpq -lcivetweb -lcurl -ljansson -lsodium -lpthread -lm

BIN      := $(BUILD)/bin
OBJ      := $(BUILD)/obj

# Every folder under services/ is one binary, txw-<folder> (the operator CLI
# in services/txwctl is plain txwctl); its main.c is the entry point and its
# other .c files are modules the unit tests link too.
SERVICES := $(notdir $(wildcard services/*))
COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(patsubst %.c,$(OBJ)/%.o,$(COMMON_SRC)) $(OBJ)/gen/migrations.o $(OBJ)/gen/openapi.o \
              $(OBJ)/gen/default_rules.o
COMMON_LIB := $(BUILD)/libtxw.a
SQL      := $(sort $(wildcard proto/sql/*.sql))

bin_name = $(if $(filter txwctl,$(1)),txwctl,txw-$(1))
BINARIES := $(foreach s,$(SERVICES),$(BIN)/$(call bin_name,$(s)))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
# Test tools (hostile senders, benchmarks) are built into build/tools; the
# build's own scripts live in tools/, operator tools under services/.
TOOLS    := $(patsubst tests/tools/%.c,$(BUILD)/tools/txw-%,$(wildcard tests/tools/*.c))

DEBIAN_PACKAGES := build-essential pkg-config libzmq3-dev libczmq-dev libmsgpack-dev \
    libpq-dev libcivetweb-dev libcurl4-openssl-dev libjansson-dev libcmocka-dev \
    libsodium-dev libxgboost-dev postgresql postgresql-client python3 procps iproute2 curl chromium wrk fonts-dejavu-core \
    docker-compose shellcheck yamllint prometheus tzdata

.PHONY: all deps run test test-clock test-containers images unit e2e bench eval clean dashboard sanitize programs
all: programs dashboard k8s/base/files/scorer-rules.json
programs: $(BINARIES)

# kustomize reads files only below k8s/base: the scorer's default rules are
# copied there, and the k8s suite checks the copy is current.
k8s/base/files/scorer-rules.json: services/scorer/default-rules.json
	cp $< $@

# The dashboard is bundled from dashboard/src with the packages its lockfile
# pins (npm ci): build/dashboard/ is what the gateway serves.
DASH_SRC := $(wildcard dashboard/src/* dashboard/*.json dashboard/*.mjs)
dashboard: $(BUILD)/dashboard/index.html
$(BUILD)/dashboard/index.html: $(DASH_SRC)
	@sh dashboard/build.sh $(BUILD)/dashboard

# Objects depend on the flags they were built with: a change of CFLAGS
# (hardening, a sanitizer, -O0) rebuilds them instead of linking stale ones.
FLAGS_STAMP := $(BUILD)/flags
$(FLAGS_STAMP): FORCE
	@mkdir -p $(dir $@)
	@echo '$(CC) $(CFLAGS) $(LDFLAGS)' | cmp -s - $@ || echo '$(CC) $(CFLAGS) $(LDFLAGS)' > $@
.PHONY: FORCE
FORCE:

$(OBJ)/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# The SQL migrations are compiled into the binaries, so a container or a
# binary copied to another host carries its schema with it.
$(BUILD)/gen/migrations.c: $(SQL) tools/embed_sql.sh
	@mkdir -p $(dir $@)
	sh tools/embed_sql.sh $(SQL) > $@

# The OpenAPI description the query API serves and the scorer's default
# rule set are compiled in the same way (txw_openapi_yaml, common/openapi.h;
# txw_default_rules_json, services/scorer/ruleset.c).
$(BUILD)/gen/openapi.c: proto/openapi.yaml tools/embed_file.sh
	@mkdir -p $(dir $@)
	sh tools/embed_file.sh txw_openapi_yaml $< > $@

$(BUILD)/gen/default_rules.c: services/scorer/default-rules.json tools/embed_file.sh
	@mkdir -p $(dir $@)
	sh tools/embed_file.sh txw_default_rules_json $< > $@

$(OBJ)/gen/%.o: $(BUILD)/gen/%.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(COMMON_LIB): $(COMMON_OBJ)
	@rm -f $@
	ar rcs $@ $^

# txw-<name> links services/<name>/*.o and the common library, and the
# modules of the service named in <name>_USES (the trainer replays
# transactions through the scorer's own modules; the rescoring job through
# those and the trainer's replay).
train_USES := scorer
rescore_USES := scorer train
# txw-ingest judges rows with the validator's own checks.
ingest_USES := validator
# Every service's objects are named first: a rule's prerequisites are
# expanded when it is read, and a service may use one listed after it.
define service_objects
$(1)_OBJ := $$(patsubst %.c,$$(OBJ)/%.o,$$(wildcard services/$(1)/*.c))
$(1)_MOD := $$(filter-out %/main.o,$$($(1)_OBJ))
endef
$(foreach s,$(SERVICES),$(eval $(call service_objects,$(s))))
# The supervised model's training (XGBoost) is txw-train's, and the
# rescoring loop's, which retrains it (--supervised; <name>_LINK: objects
# linked besides the modules of <name>_USES). The scorer evaluates the
# exported trees itself (services/scorer/gbdt.h) and links no XGBoost, nor
# do the tests that take the trainer's modules.
train_MOD := $(filter-out %/supervised.o,$(train_MOD))
$(BIN)/txw-train: LDLIBS += -lxgboost
rescore_LINK := $(OBJ)/services/train/supervised.o
$(BIN)/txw-rescore: LDLIBS += -lxgboost
define service_rule
$$($(1)_OBJ): CFLAGS += $$(foreach u,$$($(1)_USES),-Iservices/$$(u))
$$(BIN)/$(call bin_name,$(1)): $$($(1)_OBJ) $$(foreach u,$$($(1)_USES),$$($$(u)_MOD)) $$($(1)_LINK) \
        $$(COMMON_LIB)
	@mkdir -p $$(BIN)
	$$(CC) $$(CFLAGS) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach s,$(SERVICES),$(eval $(call service_rule,$(s))))

# tests/unit/test_<name>.c and test_<name>_<topic>.c link the modules of
# service <name> if there is one, so rules are tested as they run in the
# service. A test that compares two services names the second one in
# test_<name>_<topic>_ALSO.
test_query_summary_ALSO := gateway
test_train_replay_ALSO := scorer
# The supervised model's test checks the scorer's evaluator against
# XGBoost itself, so it links the trainer's XGBoost module and libxgboost.
test_train_supervised_ALSO := scorer
$(BUILD)/tests/test_train_supervised: $(OBJ)/services/train/supervised.o
$(BUILD)/tests/test_train_supervised: LDFLAGS += $(OBJ)/services/train/supervised.o
$(BUILD)/tests/test_train_supervised: LDLIBS += -lxgboost
test_ingest_ALSO := validator
test_service = $(firstword $(subst _, ,$(1)))
test_services = $(call test_service,$(1)) $(test_$(1)_ALSO)
.SECONDEXPANSION:
$(BUILD)/tests/test_%: tests/unit/test_%.c $(COMMON_LIB) $(FLAGS_STAMP) \
        $$(foreach s,$$(call test_services,$$*),$$($$(s)_MOD))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) $(foreach s,$(call test_services,$*),-Iservices/$(s)) -o $@ $< \
	    $(foreach s,$(call test_services,$*),$($(s)_MOD)) $(COMMON_LIB) $(LDLIBS) -lcmocka

# The forest benchmark compiles the scorer's module in (see its header).
$(BUILD)/tools/txw-iforest_bench: $(wildcard services/scorer/iforest*.[ch])

$(BUILD)/tools/txw-%: tests/tools/%.c $(COMMON_LIB) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(COMMON_LIB) $(LDLIBS)

deps:
	@sh tools/deps.sh $(DEBIAN_PACKAGES)
	@sh tools/npm_deps.sh dashboard tests/js

run: deps all
	@BUILD=$(BUILD) sh deploy/local/run.sh

test: deps all $(UNIT_BIN) $(TOOLS)
	@bash tests/run.sh $(UNIT_BIN)

unit: all $(UNIT_BIN)
	@TXW_SKIP_E2E=1 bash tests/run.sh $(UNIT_BIN)

# The whole suite again under faked clocks (tests/clock.sh).
test-clock: deps all $(UNIT_BIN) $(TOOLS)
	@sh tools/deps.sh faketime
	@bash tests/clock.sh $(UNIT_BIN)

# Everything again with ASan and UBSan, in a build folder of its own. A
# sanitizer report aborts the process (-fno-sanitize-recover) and is also
# written under build/sanitize/reports, which must stay empty.
SANITIZE_BUILD := $(BUILD)/sanitize
SANITIZE_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
                  -fno-sanitize-recover=all
sanitize: deps all $(TOOLS)
	@$(MAKE) --no-print-directory BUILD=$(SANITIZE_BUILD) CFLAGS="$(SANITIZE_FLAGS)" programs \
	    $(patsubst $(BUILD)/%,$(SANITIZE_BUILD)/%,$(UNIT_BIN))
	@bash tests/sanitize.sh $(SANITIZE_BUILD) \
	    $(patsubst $(BUILD)/%,$(SANITIZE_BUILD)/%,$(UNIT_BIN))

images:
	@bash tools/images.sh

# The compose stack in containers; not in `make test` (it needs root, a
# Docker engine and several minutes of image builds), run by .ci/run.
test-containers: deps all
	@TXW_SUITES=compose-run TXW_SUITE_TIMEOUT=$${TXW_SUITE_TIMEOUT:-1800} bash tests/run.sh

bench: deps all
	@bash tests/bench/bench.sh

# Detection quality against labelled data, with scikit-learn's
# IsolationForest as the reference line (Debian's python3-sklearn); then
# recommendation quality against a popularity baseline.
eval: deps all
	@sh tools/deps.sh python3-sklearn
	@TXW_BIN=$(abspath $(BIN)) bash tests/eval/eval.sh
	@TXW_BIN=$(abspath $(BIN)) bash tests/eval/recs.sh

clean:
	rm -rf $(BUILD)

include tests/fuzz/fuzz.mk

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)
