# tests/fuzz/fuzz.mk - libFuzzer harnesses for every parser of outside input
#
#   make fuzz                       build every harness, fuzz each for FUZZ_SECONDS
#   make fuzz FUZZ_SECONDS=5        a quick pass (about a minute in all)
#   make fuzz FUZZ_ONLY=codec       one harness (tests/fuzz/fuzz_codec.c)
#   make fuzz FUZZ_RUNS=10000000    stop each at that many runs (or the time)
#   make fuzz-build                 build only
#
# Harnesses are tests/fuzz/fuzz_<name>.c and link the real modules: common/
# and the service a harness tests are compiled again with clang-15 and the
# sanitizers into build/fuzz/obj (never mixed with the gcc objects in
# build/obj) and archived per service, so a harness pulls in only what it
# uses. The runner (tests/fuzz/run.sh) fuzzes a copy of the seed corpus
# tests/fuzz/corpus/<name> in build/fuzz/corpus/<name>.

FUZZ_CC      := clang-15
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_OBJ     := $(FUZZ_DIR)/obj
FUZZ_SAN     := address,undefined
FUZZ_CFLAGS  := -g -O1 -std=gnu11 -Wall -Wextra -Wno-unused-function -D_GNU_SOURCE \
                -fno-sanitize-recover=all -fno-omit-frame-pointer \
                -Icommon -I$(BUILD)/gen -I/usr/include/postgresql -Itests/fuzz
FUZZ_SECONDS ?= 60
FUZZ_RUNS    ?=
FUZZ_ONLY    ?=

# The service whose modules each harness links (none: common/ only).
fuzz_service_csv         := producer
fuzz_service_ruleset     := scorer
fuzz_service_model       := scorer
fuzz_service_gbdt        := scorer
fuzz_service_iforest     := scorer
fuzz_service_merchants   := scorer
fuzz_service_params      := query
fuzz_service_api         := query
fuzz_service_gateway     := gateway
fuzz_service_validator   := validator
fuzz_service_retry_after := notifier
fuzz_service_channels    := notifier
fuzz_service_formats     := notifier
fuzz_service_ingest      := ingest

FUZZ_ALL     := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES   := $(if $(FUZZ_ONLY),$(FUZZ_ONLY),$(FUZZ_ALL))
FUZZ_BINS    := $(patsubst %,$(FUZZ_DIR)/bin/fuzz_%,$(FUZZ_NAMES))
FUZZ_STAMP   := $(FUZZ_DIR)/.toolchain

FUZZ_COMMON_OBJ := $(patsubst %.c,$(FUZZ_OBJ)/%.o,$(COMMON_SRC)) \
                   $(patsubst %,$(FUZZ_OBJ)/gen/%.o,migrations openapi default_rules)

.PHONY: fuzz fuzz-build
fuzz: fuzz-build
	@FUZZ_SECONDS='$(FUZZ_SECONDS)' FUZZ_RUNS='$(FUZZ_RUNS)' bash tests/fuzz/run.sh $(FUZZ_BINS)

fuzz-build: $(FUZZ_BINS)

# A fresh machine gets the compiler and the libFuzzer runtime first.
$(FUZZ_STAMP):
	@sh tools/deps.sh clang-15 libfuzzer-15-dev
	@mkdir -p $(dir $@)
	@touch $@

# Modules: coverage and sanitizers, but no libFuzzer main.
$(FUZZ_OBJ)/%.o: %.c | $(FUZZ_STAMP)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) -MMD -MP -c $< -o $@

$(FUZZ_OBJ)/gen/%.o: $(BUILD)/gen/%.c | $(FUZZ_STAMP)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) -c $< -o $@

$(FUZZ_DIR)/libtxw.a: $(FUZZ_COMMON_OBJ)
	@rm -f $@
	ar rcs $@ $^

# A service's modules see the headers of the services it uses (<name>_USES).
define fuzz_service_rule
$$(patsubst %.c,$$(FUZZ_OBJ)/%.o,$$(wildcard services/$(1)/*.c)): \
    FUZZ_CFLAGS += $$(foreach u,$$($(1)_USES),-Iservices/$$(u))
$(FUZZ_DIR)/lib$(1).a: $$(patsubst %.c,$$(FUZZ_OBJ)/%.o,$$(filter-out %/main.c,$$(wildcard services/$(1)/*.c)))
	@rm -f $$@
	ar rcs $$@ $$^
endef
$(foreach s,$(SERVICES),$(eval $(call fuzz_service_rule,$(s))))

# fuzz_<name> links its service's archive (if any) before common's.
fuzz_lib = $(if $(fuzz_service_$(1)),$(FUZZ_DIR)/lib$(fuzz_service_$(1)).a)
fuzz_inc = $(if $(fuzz_service_$(1)),-Iservices/$(fuzz_service_$(1)))
$(FUZZ_DIR)/bin/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $$(call fuzz_lib,$$*) $(FUZZ_DIR)/libtxw.a | $(FUZZ_STAMP)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,$(FUZZ_SAN) $(call fuzz_inc,$*) -o $@ $< \
	    $(call fuzz_lib,$*) $(FUZZ_DIR)/libtxw.a $(LDLIBS)

-include $(shell find $(FUZZ_OBJ) -name '*.d' 2>/dev/null)
