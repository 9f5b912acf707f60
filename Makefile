# Meerkat: the one entry point. `make` builds the library and examples into build/,
# `make test` runs every suite (plain and under ASan+UBSan), `make run` starts the
# demo server, `make dist` writes the amalgamation (dist/: meerkat.c, meerkat.h,
# mongoose.h, mg_mbedtls_config.h), `make fuzz` and `make bench` do what they say.

CC       ?= cc
BUILD    ?= build
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CSTD     := -std=c99
OPT      ?= -O2 -g
CPPFLAGS := -Icore/include -Icore
CFLAGS   ?= $(OPT)
FUZZ_SECONDS ?= 30
SOAK_SECONDS ?= 1800
CERTS    := $(BUILD)/certs/ca.pem

CORE_SRC := $(sort $(wildcard core/*/*.c))
CORE_HDR := $(wildcard core/include/*.h core/*.h core/*/*.h)
# An example with a web/ folder is a dashboard device (examples/dashboard-device): its C
# with the firmware's but its own main.c, and the dashboard with its pages (see below)
DEVICES  := $(patsubst examples/%/web/,%,$(wildcard examples/*/web/))
EXAMPLES := $(filter-out $(DEVICES),$(notdir $(wildcard examples/*)))
# The built-in stack's tests (test_tcpip_*) need its build: the tcpip flavour, below
UNIT_SRC := $(sort $(filter-out test/unit/test_tcpip_%,$(wildcard test/unit/test_*.c)))
# test_tcp once more where the engine may hand a driver several MSS at once (MG_ENABLE_TCPIP_OFFLOAD)
TCPIP_UNIT_SRC := $(sort $(wildcard test/unit/test_tcpip_*.c)) test/unit/test_tcp.c
FUZZ_SRC := $(sort $(wildcard test/fuzz/fuzz_*.c))

# Quiet by default; `make V=1` shows the commands
Q := $(if $(V),,@)

# One build flavour per directory: $(BUILD) plain, $(BUILD)/asan with sanitizers.
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

.PHONY: ota ota-arm all run test test-unit dist fuzz fuzz-build bench soak screenshots clean web arm qemu qemu-tls mbedtls certs
all: $(BUILD)/libmeerkat.a $(EXAMPLES:%=$(BUILD)/examples/%) $(DEVICES:%=$(BUILD)/examples/%) $(BUILD)/packer/packer $(BUILD)/firmware/firmware $(CERTS)

# The dashboard: npm builds web/dist, the packer turns it into C, the firmware links it
WEB_SRC      := $(shell find web/src -type f 2>/dev/null) web/build.mjs
FIRMWARE_SRC := $(sort $(wildcard firmware/*.c))
FIRMWARE_HDR := $(wildcard firmware/*.h)
FW_VERSION   ?= 0.1.0+$(shell git rev-parse --short HEAD 2>/dev/null || echo local)
BUILD_TIME   := $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
FW_FLAGS     := -DFIRMWARE_VERSION='"$(FW_VERSION)"' -DFIRMWARE_BUILD_TIME='"$(BUILD_TIME)"'

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
web/dist/index.html: node_modules/.package-lock.json $(WEB_SRC)
	npm run --silent build
web: web/dist/index.html
# web/build.mjs names every file under assets/ by its content hash: -I marks them immutable
$(BUILD)/firmware/web_fs.c: web/dist/index.html $(BUILD)/packer/packer
	@mkdir -p $(dir $@)
	$(BUILD)/packer/packer -p web -I '/assets/*' -o $@ web/dist
# A dashboard device's pages: web/src with the device's web/ files in pages/ and its
# web/pages.js appended to pages/index.js, built and packed like the firmware's
DEVICE_SRC := $(wildcard $(DEVICES:%=examples/%/*.[ch]))
DEVICE_WEB := $(wildcard $(DEVICES:%=examples/%/web/*))
DEVICE_FW  := $(filter-out firmware/main.c,$(FIRMWARE_SRC))
$(BUILD)/device/%/web_fs.c: $(DEVICE_WEB) node_modules/.package-lock.json $(WEB_SRC) $(BUILD)/packer/packer
	$(Q)rm -rf $(@D)/src && mkdir -p $(@D) && cp -r web/src $(@D)/src && cp examples/$*/web/* $(@D)/src/pages/
	$(Q)cat examples/$*/web/pages.js >>$(@D)/src/pages/index.js
	WEB_SRC_DIR=$(@D)/src WEB_DIST=$(@D)/dist npm run --silent build
	$(BUILD)/packer/packer -p web -I '/assets/*' -o $@ $(@D)/dist

# mbedTLS 3.6 LTS from Debian's source package (tools/fetch-mbedtls.sh), built once into
# $(BUILD)/mbedtls with our configuration. Its headers come before /usr/include, where
# libcriterion-dev puts Debian's 2.28, and its archives are linked by path, never -lmbedtls.
MBEDTLS_VERSION := 3.6.6
MBEDTLS_DIR     := $(BUILD)/mbedtls/mbedtls-$(MBEDTLS_VERSION)
MBEDTLS_CONFIG  := core/tls/mg_mbedtls_config.h
MBEDTLS_LIBS    := $(MBEDTLS_DIR)/library/libmbedtls.a $(MBEDTLS_DIR)/library/libmbedx509.a \
                   $(MBEDTLS_DIR)/library/libmbedcrypto.a
MBEDTLS_CFG_DEF := -DMBEDTLS_CONFIG_FILE=\"$(CURDIR)/$(MBEDTLS_CONFIG)\"
# Criterion loads libgit2, which loads Debian's libmbedtls 2.28: were the 3.6 symbols
# exported from a test program, its calls would land in them (heap corruption at start)
MBEDTLS_LINK    := $(MBEDTLS_LIBS) -Wl,--exclude-libs,libmbedtls.a:libmbedx509.a:libmbedcrypto.a
# mbedTLS's headers, and Everest's, which its ecdh.h includes once our config turns Everest on
MBEDTLS_INC     := -I$(MBEDTLS_DIR)/include -I$(MBEDTLS_DIR)/3rdparty/everest/include
TLS_FLAGS       := -DMG_ENABLE_TLS=1 $(MBEDTLS_INC) $(MBEDTLS_CFG_DEF)
$(MBEDTLS_DIR)/include/mbedtls/ssl.h: tools/fetch-mbedtls.sh
	$(Q)tools/fetch-mbedtls.sh $(BUILD)/mbedtls
	@touch $@
# Our PSA driver (core/tls/x25519): x25519 public keys through Everest, 10x faster than
# mbedTLS's generic ladder, which took 2/3 of a resumed TLS 1.3 handshake. mbedTLS's own
# generator (Debian's python3 with python3-jinja2 and python3-jsonschema) adds it to the
# PSA dispatch; every build of the library (host and arm) defines MG_X25519_DRIVER.
X25519_DRIVER       := core/tls/x25519
MBEDTLS_DRIVER_DEF  := -DMG_X25519_DRIVER -I$(CURDIR)/$(X25519_DRIVER)
MBEDTLS_DISPATCH    := $(MBEDTLS_DIR)/library/mg-dispatch.stamp
MBEDTLS_PYTHON      ?= /usr/bin/python3
$(MBEDTLS_DISPATCH): $(MBEDTLS_DIR)/include/mbedtls/ssl.h $(X25519_DRIVER)/mg_x25519_driver.json
	$(Q)rm -rf $(MBEDTLS_DIR)/mg-drivers && mkdir $(MBEDTLS_DIR)/mg-drivers
	$(Q)cp $(MBEDTLS_DIR)/scripts/data_files/driver_jsons/*.json $(X25519_DRIVER)/mg_x25519_driver.json \
	  $(MBEDTLS_DIR)/mg-drivers/
	$(Q)sed -i 's/\]\s*$$/,"mg_x25519_driver.json"]/' $(MBEDTLS_DIR)/mg-drivers/driverlist.json
	$(Q)cd $(MBEDTLS_DIR) && $(MBEDTLS_PYTHON) scripts/generate_driver_wrappers.py \
	  --json-dir mg-drivers $(CURDIR)/$(MBEDTLS_DIR)/library
	@touch $@
# Host builds at -O3: Everest's field arithmetic runs 2.4x faster than at -O2 (inlining).
# On x86-64, x86-64-v2 (SSSE3 and SSE4, every x86 CPU since 2011) plus the AES-NI and
# PCLMUL intrinsics, still chosen at run time: AES-256-GCM takes 3.9 us per 1400-byte
# record instead of 7.1 (the byte swaps of mbedTLS's GHASH become one shuffle)
MBEDTLS_OPT := -O3 $(if $(filter x86_64%,$(shell $(CC) -dumpmachine)),-march=x86-64-v2 -maes -mpclmul)
# A changed configuration rebuilds the whole library (its own makefile does not know our header)
$(MBEDTLS_LIBS) &: $(MBEDTLS_DIR)/include/mbedtls/ssl.h $(MBEDTLS_CONFIG) $(MBEDTLS_DISPATCH) \
                   $(wildcard $(X25519_DRIVER)/*.[ch])
	@echo "  MBEDTLS $(MBEDTLS_DIR)/library"
	$(Q)$(CC) $(CSTD) $(WARN) $(MBEDTLS_OPT) -g $(MBEDTLS_CFG_DEF) $(MBEDTLS_DRIVER_DEF) $(MBEDTLS_INC) \
	  -isystem $(MBEDTLS_DIR)/3rdparty/everest/include/everest -c $(X25519_DRIVER)/mg_x25519_driver.c \
	  -o $(MBEDTLS_DIR)/mg-drivers/mg_x25519_driver.o
	$(Q)$(MAKE) -s -C $(MBEDTLS_DIR)/library clean >/dev/null
	$(Q)$(MAKE) -s -C $(MBEDTLS_DIR)/library CC=$(CC) CFLAGS='$(MBEDTLS_OPT) -g $(MBEDTLS_CFG_DEF) $(MBEDTLS_DRIVER_DEF)' \
	  libmbedcrypto.a libmbedx509.a libmbedtls.a >/dev/null
	$(Q)ar rs $(MBEDTLS_DIR)/library/libmbedcrypto.a $(MBEDTLS_DIR)/mg-drivers/mg_x25519_driver.o
mbedtls: $(MBEDTLS_LIBS)
include packer/packer.mk

# OTA images: `make ota VERSION=X.Y.Z` links the firmware as version X.Y.Z into
# $(BUILD)/ota/firmware-X.Y.Z and signs it into $(BUILD)/ota/firmware-X.Y.Z.img (the
# firmware of `make` stays as it is). OTA_TEST=crash, noconfirm or hang makes an image that
# crashes at start, never confirms itself or hangs at start (...-X.Y.Z-crash.img), for the
# rollback tests.
# The development key is made on first use and never leaves build/; OTA_PUB=prod.pub.pem
# compiles a production key in instead (sign with `packer sign` where the private key
# lives; see README).
OTA_KEY   ?= $(BUILD)/keys/ota-dev.pem
OTA_PUB   ?= $(BUILD)/keys/ota-dev.pub.pem
OTA_BOARD ?= host
OTA_PUBKEY_C := $(BUILD)/keys/ota_pubkey.c
$(BUILD)/keys/ota-dev.pem:
	@mkdir -p $(dir $@)
	@echo "  KEYGEN  $@ (development key: never ship it)"
	$(Q)umask 077 && openssl ecparam -name prime256v1 -genkey -noout -out $@
$(BUILD)/keys/ota-dev.pub.pem: $(BUILD)/keys/ota-dev.pem
	$(Q)openssl ec -in $< -pubout -out $@ 2>/dev/null
$(OTA_PUBKEY_C): $(OTA_PUB) $(BUILD)/packer/packer
	$(Q)$(BUILD)/packer/packer pubkey --pub $(OTA_PUB) $@
# The stem is VERSION or VERSION-TEST
OTA_VERSION_OF = $(firstword $(subst -, ,$(1)))
OTA_TEST_FLAGS = $(if $(filter %-crash,$(1)),-DFIRMWARE_TEST_CRASH) $(if $(filter %-noconfirm,$(1)),-DFIRMWARE_TEST_NO_CONFIRM) \
                 $(if $(filter %-hang,$(1)),-DFIRMWARE_TEST_HANG)
$(BUILD)/ota/firmware-%.img: $(FIRMWARE_SRC) $(FIRMWARE_HDR) $(BUILD)/firmware/web_fs.c $(OTA_PUBKEY_C) $(OTA_KEY) \
                             $(BUILD)/libmeerkat.a $(BUILD)/packer/packer
	@mkdir -p $(dir $@)
	@echo "  OTA     $@"
	$(Q)$(CC) -std=gnu99 $(WARN) $(CPPFLAGS) $(CFLAGS) $(TLS_FLAGS) -DFIRMWARE_VERSION='"$(call OTA_VERSION_OF,$*)"' \
	  -DFIRMWARE_BUILD_TIME='"$(BUILD_TIME)"' $(call OTA_TEST_FLAGS,$*) $(FIRMWARE_SRC) $(BUILD)/firmware/web_fs.c \
	  $(OTA_PUBKEY_C) $(BUILD)/libmeerkat.a $(MBEDTLS_LINK) -o $(BUILD)/ota/firmware-$*
	$(Q)$(BUILD)/packer/packer sign --key $(OTA_KEY) --version $(call OTA_VERSION_OF,$*) --board $(OTA_BOARD) \
	  $(BUILD)/ota/firmware-$* $@
# What test/integration/ota.test.mjs uploads: a newer version, and two that fail their trial
OTA_TEST_IMAGES := $(BUILD)/ota/firmware-0.2.0.img $(BUILD)/ota/firmware-0.3.0-crash.img \
                   $(BUILD)/ota/firmware-0.3.0-noconfirm.img $(BUILD)/ota/firmware-0.3.0-hang.img
ota:
	@test -n "$(VERSION)" || { echo "make ota: give the version, e.g. make ota VERSION=1.2.3" >&2; exit 2; }
	$(Q)$(MAKE) -s $(BUILD)/ota/firmware-$(VERSION)$(if $(OTA_TEST),-$(OTA_TEST)).img
	@echo "$(BUILD)/ota/firmware-$(VERSION)$(if $(OTA_TEST),-$(OTA_TEST)).img"

# Development certificates (tools/make-certs.sh): a local CA, a server certificate for
# localhost and 127.0.0.1, and the ones the TLS tests need
$(CERTS): tools/make-certs.sh
	$(Q)tools/make-certs.sh $(BUILD)/certs >/dev/null
certs: $(CERTS)

define flavour
# $(1) = output dir, $(2) = extra flags, $(3) = compiler, $(4) = libraries to link (mbedTLS)
# The TLS sources and the OTA signature check include mbedTLS's headers: fetched and built before they compile
$(if $(4),$(patsubst %.c,$(1)/obj/%.o,$(wildcard core/tls/*.c) core/ota/ota_verify.c): $(4))
$(1)/obj/%.o: %.c $(CORE_HDR)
	@mkdir -p $$(dir $$@)
	@echo "  CC      $$@"
	$$(Q)$(3) $$(CSTD) $$(WARN) $$(CPPFLAGS) $$(CFLAGS) $(2) -c $$< -o $$@
$(1)/libmeerkat.a: $(CORE_SRC:%.c=$(1)/obj/%.o)
	@rm -f $$@
	@echo "  AR      $$@"
	$$(Q)$(if $(filter %gcc,$(3)),$(3)-ar,ar) rcs $$@ $$^
$(1)/examples/%: examples/%/main.c $(1)/libmeerkat.a
	@mkdir -p $$(dir $$@)
	@echo "  LINK    $$@"
	$$(Q)$(3) $$(CSTD) $$(WARN) $$(CPPFLAGS) $$(CFLAGS) $(2) $$< $(1)/libmeerkat.a $(if $(4),$(MBEDTLS_LINK)) -o $$@
$(1)/firmware/firmware: $(FIRMWARE_SRC) $(FIRMWARE_HDR) $(BUILD)/firmware/web_fs.c $(OTA_PUBKEY_C) $(1)/libmeerkat.a
	@mkdir -p $$(dir $$@)
	@echo "  LINK    $$@"
	$$(Q)$(3) -std=gnu99 $$(WARN) $$(CPPFLAGS) $$(CFLAGS) $(2) $$(FW_FLAGS) $$(FIRMWARE_SRC) $(BUILD)/firmware/web_fs.c $(OTA_PUBKEY_C) $(1)/libmeerkat.a $(if $(4),$(MBEDTLS_LINK)) -o $$@
$(DEVICES:%=$(1)/examples/%): $(1)/examples/%: $(DEVICE_SRC) $(DEVICE_FW) $(FIRMWARE_HDR) $(BUILD)/device/%/web_fs.c $(OTA_PUBKEY_C) $(1)/libmeerkat.a
	@mkdir -p $$(dir $$@)
	@echo "  LINK    $$@"
	$$(Q)$(3) -std=gnu99 $$(WARN) $$(CPPFLAGS) -Ifirmware $$(CFLAGS) $(2) $$(FW_FLAGS) $$(filter examples/$$*/%.c,$(DEVICE_SRC)) \
	  $(DEVICE_FW) $(BUILD)/device/$$*/web_fs.c $(OTA_PUBKEY_C) $(1)/libmeerkat.a $(if $(4),$(MBEDTLS_LINK)) -o $$@
$(1)/test/unit/%: test/unit/%.c $(1)/libmeerkat.a $(CERTS)
	@mkdir -p $$(dir $$@)
	@echo "  TEST    $$@"
	$$(Q)$(3) -std=gnu99 $$(WARN) -Wno-missing-prototypes $$(CPPFLAGS) $$(CFLAGS) $(2) $$< $(1)/libmeerkat.a $(if $(4),$(MBEDTLS_LINK)) -lcriterion -lpthread -o $$@
$(1)/test/alloc/%: test/alloc/%.c test/alloc/alloc_runner.c test/alloc/alloc_runner.h $(1)/libmeerkat.a
	@mkdir -p $$(dir $$@)
	@echo "  TEST    $$@"
	$$(Q)$(3) -std=gnu99 $$(WARN) $$(CPPFLAGS) $$(CFLAGS) $(2) $$< test/alloc/alloc_runner.c $(1)/libmeerkat.a $(if $(4),$(MBEDTLS_LINK)) -o $$@
endef
# The host flavours have TLS (mbedTLS); the ARM one has it in $(BUILD)/arm/tls, below
$(eval $(call flavour,$(BUILD),$(TLS_FLAGS),$(CC),$(MBEDTLS_LIBS)))
$(eval $(call flavour,$(BUILD)/asan,$(SAN_FLAGS) $(TLS_FLAGS),$(CC),$(MBEDTLS_LIBS)))
$(eval $(call flavour,$(BUILD)/poll,-DMG_ENABLE_EPOLL=0 $(TLS_FLAGS),$(CC),$(MBEDTLS_LIBS)))
$(eval $(call flavour,$(BUILD)/clang,$(TLS_FLAGS),clang,$(MBEDTLS_LIBS)))
# The in-memory mock backend with a fake clock: protocol tests without sockets
$(eval $(call flavour,$(BUILD)/mock,-DMG_ENABLE_MOCK=1 -DMG_PORT_BAREMETAL=1 $(TLS_FLAGS),$(CC),$(MBEDTLS_LIBS)))
$(BUILD)/mock/libmeerkat.a: $(BUILD)/mock/obj/test/mock/board.o
# The built-in TCP/IP stack (core/tcpip) over the mock Ethernet driver, whose fake clock
# and seeded random bytes the bare-metal port reads (test/tcpip/mock_eth.c): the stack's tests
TCPIP_FLAGS := -DMG_ENABLE_TCPIP=1 -DMG_PORT_BAREMETAL=1 -DMG_ENABLE_ALLOC_FAULTS=1 -DMG_ENABLE_TCPIP_OFFLOAD=1
$(eval $(call flavour,$(BUILD)/tcpip,$(TCPIP_FLAGS),$(CC)))
$(BUILD)/tcpip/libmeerkat.a: $(BUILD)/tcpip/obj/test/tcpip/mock_eth.o
$(eval $(call flavour,$(BUILD)/tcpip/asan,$(TCPIP_FLAGS) $(SAN_FLAGS),$(CC)))
$(BUILD)/tcpip/asan/libmeerkat.a: $(BUILD)/tcpip/asan/obj/test/tcpip/mock_eth.o
$(eval $(call flavour,$(BUILD)/tcpip/clang,$(TCPIP_FLAGS),clang))
$(BUILD)/tcpip/clang/libmeerkat.a: $(BUILD)/tcpip/clang/obj/test/tcpip/mock_eth.o
# The firmware's `net` field set, tested with the stack on the mock driver
$(foreach d,tcpip tcpip/asan tcpip/clang,$(BUILD)/$(d)/test/unit/test_tcpip_netset): firmware/netif.c firmware/netif.h
# The built-in stack on a host over a Linux TAP (core/drivers/tap.c), with TLS: the firmware
# as build/firmware/firmware-tap (firmware/netif.c), and examples whose mg_mgr_init attaches
# the TAP named in the environment (test/tcpip/tap_env.c); test/integration/tcpip.test.mjs
# A host can afford 64 KiB of send buffer per connection (the most a peer without window
# scaling lets fly) and 64 frames a pass: 100 MiB over the TAP took 0.31-0.44 s of the
# server's CPU instead of 0.46-0.62 s with 8 KiB and 16, and with 1% loss 1.8-2.6 s per 20 MiB
# instead of 6.5-7.9 s (test/bench/tcpip.sh). Frames of up to 64 KiB each way: the TAP leaves TCP
# segmentation and checksums to the kernel (IFF_VNET_HDR), one write per 64 KiB instead of per 1514 bytes
TAP_FLAGS := -DMG_ENABLE_TCPIP=1 -DMG_TCPIP_TCP_MAX=64 -DMG_TCPIP_TCP_BACKLOG=16 -DMG_TCPIP_TCP_TX=65536 \
             -DMG_TCPIP_RX_BURST=64 -DMG_TCPIP_FRAME_MAX=65549 $(TLS_FLAGS)
$(eval $(call flavour,$(BUILD)/tap,$(TAP_FLAGS),$(CC),$(MBEDTLS_LIBS)))
$(BUILD)/firmware/firmware-tap: $(BUILD)/tap/firmware/firmware
	$(Q)cp $< $@
TAP_EXAMPLES := $(BUILD)/tap/examples/http-server $(BUILD)/tap/examples/http-client
$(TAP_EXAMPLES): $(BUILD)/tap/examples/%: examples/%/main.c test/tcpip/tap_env.c firmware/netif.c firmware/netif.h $(BUILD)/tap/libmeerkat.a
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	$(Q)$(CC) -std=gnu99 $(WARN) $(CPPFLAGS) -Ifirmware $(CFLAGS) $(TAP_FLAGS) $< test/tcpip/tap_env.c firmware/netif.c \
	  $(BUILD)/tap/libmeerkat.a $(MBEDTLS_LINK) -Wl,--wrap=mg_mgr_init -o $@
TAP_TESTS := $(BUILD)/firmware/firmware-tap $(TAP_EXAMPLES)
# The same under ASan+UBSan, by hand: TCPIP_FIRMWARE=$(BUILD)/tap/asan/firmware/firmware
# TCPIP_EXAMPLES=$(BUILD)/tap/asan/examples node --test test/integration/tcpip.test.mjs
$(eval $(call flavour,$(BUILD)/tap/asan,$(TAP_FLAGS) $(SAN_FLAGS),$(CC),$(MBEDTLS_LIBS)))
TAP_ASAN_EXAMPLES := $(BUILD)/tap/asan/examples/http-server $(BUILD)/tap/asan/examples/http-client
$(TAP_ASAN_EXAMPLES): $(BUILD)/tap/asan/examples/%: examples/%/main.c test/tcpip/tap_env.c firmware/netif.c firmware/netif.h $(BUILD)/tap/asan/libmeerkat.a
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	$(Q)$(CC) -std=gnu99 $(WARN) $(CPPFLAGS) -Ifirmware $(CFLAGS) $(TAP_FLAGS) $(SAN_FLAGS) $< test/tcpip/tap_env.c firmware/netif.c \
	  $(BUILD)/tap/asan/libmeerkat.a $(MBEDTLS_LINK) -Wl,--wrap=mg_mgr_init -o $@
# Buffers smaller than a datagram: UDP and mg_wakeup must still deliver whole messages
$(eval $(call flavour,$(BUILD)/io512,-DMG_IO_SIZE=512 $(TLS_FLAGS),$(CC),$(MBEDTLS_LIBS)))
# Every TCP connection through a filter that splits and delays bytes at random:
# the filter slot at work, under the integration suite
$(eval $(call flavour,$(BUILD)/chaos,-DMG_DEFAULT_FILTER=mg_chaos_filter $(TLS_FLAGS),$(CC),$(MBEDTLS_LIBS)))
$(BUILD)/chaos/libmeerkat.a: $(BUILD)/chaos/obj/test/filter/chaos.o
# Out-of-memory runs: any chosen allocation can be made to fail (test/alloc)
$(eval $(call flavour,$(BUILD)/alloc,-DMG_ENABLE_ALLOC_FAULTS=1 $(SAN_FLAGS) $(TLS_FLAGS),$(CC),$(MBEDTLS_LIBS)))
ALLOC_TESTS    := $(BUILD)/alloc/test/alloc/alloc_faults $(BUILD)/alloc/test/alloc/alloc_faults_ws \
                  $(BUILD)/alloc/test/alloc/alloc_faults_tls $(BUILD)/alloc/test/alloc/alloc_faults_ota \
                  $(BUILD)/tcpip/asan/test/alloc/alloc_faults_tcpip
# Cortex-M3: the core on the bare-metal port with the mock backend, linked into a
# small program (firmware/arm/selftest.c) that serves a packed page over HTTP to itself
ARM_FLAGS := -mcpu=cortex-m3 -mthumb -Os -ffunction-sections -fdata-sections \
             -DMG_ENABLE_MOCK=1 -DMG_ENABLE_POSIX_FS=0 -DMG_PORT_BAREMETAL=1
$(eval $(call flavour,$(BUILD)/arm,$(ARM_FLAGS),arm-none-eabi-gcc))
ARM_BOARD_SRC := firmware/arm/startup.c firmware/arm/board_mps2.c firmware/arm/board_entropy.c firmware/arm/syscalls.c
ARM_BOARD_DEPS := $(ARM_BOARD_SRC) firmware/arm/board.h firmware/arm/mps2-an385.ld
ARM_LD := -nostartfiles --specs=nano.specs -T firmware/arm/mps2-an385.ld -Wl,--gc-sections -Wl,--no-warn-rwx-segments
$(BUILD)/arm/www_fs.c: $(wildcard firmware/arm/www/*) $(BUILD)/packer/packer
	@mkdir -p $(dir $@)
	$(Q)$(BUILD)/packer/packer -q -p arm -o $@ firmware/arm/www
ARM_SELFTEST_DEPS := firmware/arm/selftest.c $(ARM_BOARD_DEPS) $(BUILD)/arm/www_fs.c
# $(1) = extra flags, $(2) = extra sources and archives
ARM_LINK = arm-none-eabi-gcc $(CSTD) $(WARN) $(CPPFLAGS) $(ARM_FLAGS) $(1) $(ARM_LD) \
	  firmware/arm/selftest.c $(ARM_BOARD_SRC) $(BUILD)/arm/www_fs.c $(2) -o $@
$(BUILD)/arm/selftest.elf: $(ARM_SELFTEST_DEPS) $(BUILD)/arm/libmeerkat.a
	@echo "  LINK    $@"
	$(Q)$(call ARM_LINK,,$(BUILD)/arm/libmeerkat.a)
# With TLS: mbedTLS from the same source and configuration, cross-compiled into its own
# folder (the host's archives stay as they are). The board has no wall clock
# (MG_TLS_UPTIME_CLOCK); the program fetches its page over HTTPS with the development
# certificates packed in
ARM_TLS_FLAGS   := -DMG_ENABLE_TLS=1 -DMG_TLS_UPTIME_CLOCK=1 $(MBEDTLS_INC) $(MBEDTLS_CFG_DEF)
ARM_MBEDTLS_LIB := $(BUILD)/arm/mbedtls/libmbedtls.a
# Everest's x25519 (mbedTLS's own makefile adds these three to libmbedcrypto)
MBEDTLS_EVEREST_SRC := $(addprefix $(MBEDTLS_DIR)/3rdparty/everest/library/,everest.c x25519.c Hacl_Curve25519_joined.c)
define arm_mbedtls  # $(1) = the archive, $(2) = its TLS flags, $(3) = more prerequisites
$(1): $(MBEDTLS_DIR)/include/mbedtls/ssl.h $(MBEDTLS_CONFIG) $(MBEDTLS_DISPATCH) $(wildcard $(X25519_DRIVER)/*.[ch]) $(3)
	@mkdir -p $$(dir $$@)obj
	@echo "  MBEDTLS $$(dir $$@) (arm-none-eabi-gcc)"
	$$(Q)for f in $(MBEDTLS_DIR)/library/*.c $(MBEDTLS_EVEREST_SRC) $(X25519_DRIVER)/mg_x25519_driver.c; do \
	  arm-none-eabi-gcc $(filter-out -DMG_%,$(ARM_FLAGS)) $(2) $(MBEDTLS_DRIVER_DEF) -I$(MBEDTLS_DIR)/library \
	    -I$(MBEDTLS_DIR)/3rdparty/everest/include/everest -I$(MBEDTLS_DIR)/3rdparty/everest/include/everest/kremlib \
	    -c $$$$f -o $$(dir $$@)obj/$$$$(basename $$$$f .c).o || exit 1; done
	@rm -f $$@
	$$(Q)arm-none-eabi-ar rcs $$@ $$(dir $$@)obj/*.o
endef
$(eval $(call arm_mbedtls,$(ARM_MBEDTLS_LIB),$(ARM_TLS_FLAGS)))
$(eval $(call flavour,$(BUILD)/arm/tls,$(ARM_FLAGS) $(ARM_TLS_FLAGS),arm-none-eabi-gcc,$(ARM_MBEDTLS_LIB)))
$(BUILD)/arm/certs_fs.c: $(CERTS) $(BUILD)/packer/packer
	@mkdir -p $(BUILD)/arm/certs
	$(Q)cp $(BUILD)/certs/ca.pem $(BUILD)/certs/server.pem $(BUILD)/certs/server.key $(BUILD)/arm/certs/
	$(Q)$(BUILD)/packer/packer -q -p arm_certs -o $@ $(BUILD)/arm/certs
$(BUILD)/arm/tls/selftest.elf: $(ARM_SELFTEST_DEPS) $(BUILD)/arm/certs_fs.c $(BUILD)/arm/tls/libmeerkat.a $(ARM_MBEDTLS_LIB)
	@echo "  LINK    $@"
	$(Q)$(call ARM_LINK,$(ARM_TLS_FLAGS),$(BUILD)/arm/certs_fs.c $(BUILD)/arm/tls/libmeerkat.a $(ARM_MBEDTLS_LIB))

# The TAP driver alone, the kernel as its peer (test/integration/tap.test.mjs): the driver
# built for the stack (MG_ENABLE_TCPIP) with its test knobs' lanes, the rest (logging, clock) from the host library
define tap_probe  # dir, flags
$(1)/drivers/tap_probe: test/integration/tap_probe.c core/drivers/tap.c core/drivers/tap_lane.c $(CORE_HDR) $(1)/libmeerkat.a
	@mkdir -p $$(dir $$@)
	@echo "  LINK    $$@"
	$$(Q)$$(CC) -std=gnu99 $$(WARN) $$(CPPFLAGS) $$(CFLAGS) $(2) -DMG_ENABLE_TCPIP=1 test/integration/tap_probe.c \
	  core/drivers/tap.c core/drivers/tap_lane.c $(1)/libmeerkat.a -o $$@
endef
$(eval $(call tap_probe,$(BUILD),))
$(eval $(call tap_probe,$(BUILD)/asan,$(SAN_FLAGS)))
TAP_PROBES := $(BUILD)/drivers/tap_probe $(BUILD)/asan/drivers/tap_probe

UNIT_BINS      := $(UNIT_SRC:test/unit/%.c=$(BUILD)/test/unit/%)
UNIT_BINS_ASAN := $(UNIT_SRC:test/unit/%.c=$(BUILD)/asan/test/unit/%)
EXAMPLES_ASAN  := $(EXAMPLES:%=$(BUILD)/asan/examples/%) $(DEVICES:%=$(BUILD)/asan/examples/%) $(BUILD)/asan/firmware/firmware $(BUILD)/asan/packer/packer
# The poll() backend runs the event-loop tests and the examples' integration tests;
# clang builds everything once more so both compilers keep -Werror clean.
POLL_TESTS     := $(BUILD)/poll/test/unit/test_net $(BUILD)/poll/test/unit/test_http_conn $(BUILD)/poll/test/unit/test_event $(EXAMPLES:%=$(BUILD)/poll/examples/%) $(BUILD)/poll/firmware/firmware
CLANG_BUILD    := $(UNIT_SRC:test/unit/%.c=$(BUILD)/clang/test/unit/%) $(EXAMPLES:%=$(BUILD)/clang/examples/%) \
                  $(DEVICES:%=$(BUILD)/clang/examples/%)
# The second backend (mock) runs the HTTP, WebSocket and TLS connection tests and mg_wakeup's; the io512
# build UDP and mg_wakeup with small buffers; the chaos filter build runs the examples and firmware
# under the integration suite
MOCK_TESTS     := $(BUILD)/mock/test/unit/test_http_conn $(BUILD)/mock/test/unit/test_timer $(BUILD)/mock/test/unit/test_ws \
                  $(BUILD)/mock/test/unit/test_wakeup $(BUILD)/mock/test/unit/test_tls \
                  $(BUILD)/mock/test/unit/test_mqtt
TCPIP_TESTS    := $(foreach d,tcpip tcpip/asan tcpip/clang,$(TCPIP_UNIT_SRC:test/unit/%.c=$(BUILD)/$(d)/test/unit/%))
IO512_TESTS    := $(BUILD)/io512/test/unit/test_net $(BUILD)/io512/test/unit/test_wakeup
CHAOS_TESTS    := $(EXAMPLES:%=$(BUILD)/chaos/examples/%) $(BUILD)/chaos/firmware/firmware

# Mongoose compatibility: test/compat/*.c built against the amalgamated distribution only
COMPAT_SRC  := $(sort $(wildcard test/compat/test_*.c))
COMPAT_BINS := $(COMPAT_SRC:test/compat/%.c=$(BUILD)/compat/%)
$(BUILD)/compat/%: test/compat/%.c dist/meerkat.c dist/meerkat.h dist/mongoose.h
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	$(Q)$(CC) -std=gnu99 $(WARN) -Wno-missing-prototypes -Idist $(CFLAGS) $(COMPAT_FLAGS) $< dist/meerkat.c \
	  $(COMPAT_LIBS) -lcriterion -lpthread -o $@
# TLS the way a Mongoose program asks for it, with mbedTLS built from the shipped config
$(BUILD)/compat/test_compat_tls: $(MBEDTLS_LIBS) dist/mg_mbedtls_config.h
$(BUILD)/compat/test_compat_tls: COMPAT_FLAGS := -DMG_TLS=MG_TLS_MBED $(MBEDTLS_INC)
$(BUILD)/compat/test_compat_tls: COMPAT_LIBS := $(MBEDTLS_LINK)

# The Mongoose tutorials a new user tries first, written from their documented behaviour
# (test/compat/tutorials) and built from dist/ alone, as that user would: plain, with
# sanitizers and on the poll() backend, for test/integration/tutorials.test.mjs
TUTORIALS := $(notdir $(basename $(wildcard test/compat/tutorials/*.c)))
define tutorial_flavour  # dir, flags
$(1)/tutorials/%: test/compat/tutorials/%.c dist/meerkat.c dist/meerkat.h dist/mongoose.h
	@mkdir -p $$(dir $$@)
	@echo "  CC      $$@"
	$$(Q)$$(CC) $$(CSTD) $$(WARN) -O1 -g $(2) -Idist $$< dist/meerkat.c -o $$@
endef
$(eval $(call tutorial_flavour,$(BUILD),))
$(eval $(call tutorial_flavour,$(BUILD)/asan,$(SAN_FLAGS)))
$(eval $(call tutorial_flavour,$(BUILD)/poll,-DMG_ENABLE_EPOLL=0))
TUTORIAL_BINS := $(foreach d,$(BUILD) $(BUILD)/asan $(BUILD)/poll,$(TUTORIALS:%=$(d)/tutorials/%))

# Amalgamation: public headers in meerkat.h's order, then internal headers and sources.
dist: dist/meerkat.c dist/meerkat.h dist/mongoose.h dist/mg_mbedtls_config.h
dist/meerkat.h dist/meerkat.c dist/mongoose.h dist/mg_mbedtls_config.h &: $(CORE_SRC) $(CORE_HDR) $(wildcard core/*/*.h) tools/amalgamate.sh
	tools/amalgamate.sh dist

# The core is compiled once with coverage and sanitizers (fuzzer-no-link: no main),
# and each harness links that archive instead of recompiling core/ for itself.
FUZZ_FLAGS := -g -O1 -fno-sanitize-recover=all
$(BUILD)/fuzz/obj/%.o: %.c $(CORE_HDR)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)clang $(CSTD) $(WARN) $(CPPFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link,address,undefined -c $< -o $@
$(BUILD)/fuzz/libmeerkat-fuzz.a: $(CORE_SRC:%.c=$(BUILD)/fuzz/obj/%.o)
	@rm -f $@
	@echo "  AR      $@"
	$(Q)ar rcs $@ $^
$(BUILD)/fuzz/fuzz_%: test/fuzz/fuzz_%.c $(BUILD)/fuzz/libmeerkat-fuzz.a $(CORE_HDR)
	@echo "  FUZZ    $@"
	$(Q)clang $(CPPFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer,address,undefined $< $(BUILD)/fuzz/libmeerkat-fuzz.a -o $@
# The stack's harnesses (fuzz_tcpip_*) link the core built as the tcpip flavour
$(BUILD)/fuzz/tcpip/obj/%.o: %.c $(CORE_HDR)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)clang $(CSTD) $(WARN) $(CPPFLAGS) $(FUZZ_FLAGS) $(TCPIP_FLAGS) -fsanitize=fuzzer-no-link,address,undefined -c $< -o $@
$(BUILD)/fuzz/tcpip/libmeerkat-fuzz.a: $(CORE_SRC:%.c=$(BUILD)/fuzz/tcpip/obj/%.o) $(BUILD)/fuzz/tcpip/obj/test/tcpip/mock_eth.o
	@rm -f $@
	@echo "  AR      $@"
	$(Q)ar rcs $@ $^
$(BUILD)/fuzz/fuzz_tcpip_%: test/fuzz/fuzz_tcpip_%.c $(BUILD)/fuzz/tcpip/libmeerkat-fuzz.a $(CORE_HDR)
	@echo "  FUZZ    $@"
	$(Q)clang $(CPPFLAGS) $(FUZZ_FLAGS) $(TCPIP_FLAGS) -fsanitize=fuzzer,address,undefined $< $(BUILD)/fuzz/tcpip/libmeerkat-fuzz.a -o $@
fuzz-build: $(FUZZ_SRC:test/fuzz/%.c=$(BUILD)/fuzz/%)
fuzz: fuzz-build
	test/fuzz/run.sh $(BUILD)/fuzz $(FUZZ_SECONDS)

test-unit: $(UNIT_BINS)
	@for t in $(UNIT_BINS); do $$t || exit 1; done

# The STM32H7 flash backend (in both libraries above) once more for the core it drives
ARM_M7_FLAGS := -mcpu=cortex-m7 -mthumb -mfpu=fpv5-d16 -mfloat-abi=hard -Os $(filter -D%,$(ARM_FLAGS))
$(BUILD)/arm/m7/ota_flash_stm32h7.o: core/ota/ota_flash_stm32h7.c $(CORE_HDR)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)arm-none-eabi-gcc $(CSTD) $(WARN) $(CPPFLAGS) $(ARM_M7_FLAGS) -c $< -o $@
# The LAN9118 driver for the built-in stack (MG_ENABLE_TCPIP), alone until the stack has its
# ARM build; and a probe of it for QEMU (test/integration/lan9118.test.mjs): the driver,
# the board's start-up, and logging and the clock from the library
# PBKDF2 at 3000 iterations: 10,000 took 75 M instructions under QEMU (-icount), about 3.9 s
# on a 25 MHz Cortex-M3; 3000 make a login about 1.2 s there (tens of ms in QEMU)
ARM_TCPIP_FLAGS := $(filter-out -DMG_ENABLE_MOCK=1,$(ARM_FLAGS)) -DMG_ENABLE_TCPIP=1 -DMG_AUTH_PBKDF2_ITERATIONS=3000
$(BUILD)/arm/drivers/lan9118.o: core/drivers/lan9118.c $(CORE_HDR)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)arm-none-eabi-gcc $(CSTD) $(WARN) $(CPPFLAGS) $(ARM_TCPIP_FLAGS) -c $< -o $@
$(BUILD)/arm/drivers/lan9118_probe.elf: test/integration/lan9118_probe.c $(BUILD)/arm/drivers/lan9118.o \
                                       firmware/arm/startup.c firmware/arm/board_mps2.c firmware/arm/board_entropy.c firmware/arm/board.h \
                                       firmware/arm/mps2-an385.ld $(BUILD)/arm/libmeerkat.a
	@echo "  LINK    $@"
	$(Q)arm-none-eabi-gcc $(CSTD) $(WARN) $(CPPFLAGS) -Ifirmware/arm $(ARM_TCPIP_FLAGS) -nostartfiles --specs=nano.specs \
	  -T firmware/arm/mps2-an385.ld -Wl,--gc-sections -Wl,--no-warn-rwx-segments test/integration/lan9118_probe.c \
	  firmware/arm/startup.c firmware/arm/board_mps2.c firmware/arm/board_entropy.c $(BUILD)/arm/drivers/lan9118.o \
	  $(BUILD)/arm/libmeerkat.a -o $@
# The smallest HTTP program on the stack for Cortex-M at -Os (test/bench/tcpip_min_arm.c):
# the core built with the stack in place of the mock backend and the options the program's
# header names; `make bench` prints its text, RAM and these options (min_http.flags).
# Link-time optimisation (the archive through gcc-ar, whose plugin indexes LTO objects)
# inlines across files: 4.8 KB less. libc's _sbrk_r joins after LTO has dropped what
# nothing referenced, hence the --undefined
ARM_MIN_FLAGS := $(ARM_TCPIP_FLAGS) -flto -DMG_ENABLE_TCPIP_DHCP=0 -DMG_CRC32_SLICES=0 -DMG_ENABLE_PRINTF_FLOAT=0 -DMG_ENABLE_IPV6=0
$(eval $(call flavour,$(BUILD)/arm/tcpip,$(ARM_MIN_FLAGS),arm-none-eabi-gcc))
$(BUILD)/arm/tcpip/min_http.elf: test/bench/tcpip_min_arm.c firmware/arm/startup.c firmware/arm/board_mps2.c \
                                 firmware/arm/board.h firmware/arm/mps2-an385.ld $(BUILD)/arm/tcpip/libmeerkat.a
	@echo "  LINK    $@"
	$(Q)arm-none-eabi-gcc $(CSTD) $(WARN) $(CPPFLAGS) -Ifirmware/arm $(ARM_MIN_FLAGS) -nostartfiles --specs=nano.specs \
	  -T firmware/arm/mps2-an385.ld -Wl,--gc-sections -Wl,--no-warn-rwx-segments -Wl,--undefined=_sbrk \
	  -Wl,-Map=$(@:.elf=.map) test/bench/tcpip_min_arm.c firmware/arm/startup.c firmware/arm/board_mps2.c \
	  $(BUILD)/arm/tcpip/libmeerkat.a -o $@
	@echo "$(ARM_MIN_FLAGS) --specs=nano.specs -Wl,--gc-sections" >$(@:.elf=.flags)
# The device firmware on mps2-an385 (firmware/arm/main.c): the host firmware's device,
# routes, OTA and packed dashboard on the stack over the LAN9118. Its sources are
# compiled one by one so that the linker map names each, for the size table (tools/arm-size.sh);
# `make qemu` runs it. Its library is the stack's with every feature (DHCP, float printing)
# and no LTO: $(BUILD)/arm/stack. OTA's signature check (core/ota/ota_verify.c, with PSA's start-up in
# core/tls/tls_psa.c) is compiled with mbedTLS's headers and links its crypto alone:
# the library stays without TLS. ARM_FW_DIR is where it goes (`make ota-arm` builds
# another version elsewhere); FIRMWARE_BOARD names the board images must be made for.
$(eval $(call flavour,$(BUILD)/arm/stack,$(ARM_TCPIP_FLAGS),arm-none-eabi-gcc))
ARM_FW_DIR  ?= $(BUILD)/arm
ARM_OTA_BOARD := mps2-an385
ARM_FW_SRC  := firmware/arm/main.c firmware/arm/device_board.c firmware/arm/boot_ram.c firmware/arm/board_watchdog.c firmware/device.c \
               firmware/routes.c firmware/https.c firmware/ota.c firmware/boot_slots.c $(ARM_BOARD_SRC) \
               core/ota/ota_verify.c core/tls/tls_psa.c $(BUILD)/firmware/web_fs.c $(OTA_PUBKEY_C)
ARM_FW_OBJ  := $(patsubst %.c,$(ARM_FW_DIR)/fw/obj/%.o,$(ARM_FW_SRC:$(BUILD)/%=%))
ARM_FW_FLAGS = $(ARM_TCPIP_FLAGS) -Ifirmware -Ifirmware/arm $(FW_FLAGS) -DFIRMWARE_BOOT_RAM=1 \
               -DFIRMWARE_BOARD='"$(ARM_OTA_BOARD)"' $(ARM_FW_TEST)
# Both firmware images take mbedTLS from the board's archive: the same 3.6 source without
# what a device with an ECDSA key does not use (firmware/arm/mbedtls_board.h: no client,
# RSA, P-384 or SHA-512), built below
ARM_FW_TLS_FLAGS   := $(ARM_TLS_FLAGS) -DMBEDTLS_USER_CONFIG_FILE=\"$(CURDIR)/firmware/arm/mbedtls_board.h\"
ARM_FW_MBEDTLS_LIB := $(BUILD)/arm/tls/mbedtls/libmbedtls.a
ARM_FW_CRYPTO := $(ARM_FW_DIR)/fw/obj/core/ota/ota_verify.o $(ARM_FW_DIR)/fw/obj/core/tls/tls_psa.o
$(ARM_FW_CRYPTO): ARM_FW_EXTRA := $(ARM_FW_TLS_FLAGS)
$(ARM_FW_CRYPTO): $(ARM_FW_MBEDTLS_LIB)
# The objects that stamp the version are compiled again when it changes, together: the
# boot loader and /api/info must not tell two versions (each object is compiled on its own)
ARM_FW_VERSION := $(ARM_FW_DIR)/fw/version
$(ARM_FW_VERSION): FORCE
	@mkdir -p $(dir $@)
	@echo '$(FW_VERSION)' | cmp -s - $@ || echo '$(FW_VERSION)' >$@
FORCE:
$(ARM_FW_DIR)/fw/obj/firmware/device.o $(ARM_FW_DIR)/fw/obj/firmware/arm/main.o: $(ARM_FW_VERSION)
$(ARM_FW_DIR)/fw/obj/%.o: %.c $(CORE_HDR) $(FIRMWARE_HDR) firmware/arm/board.h
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)arm-none-eabi-gcc $(CSTD) $(WARN) $(CPPFLAGS) $(ARM_FW_FLAGS) $(ARM_FW_EXTRA) -c $< -o $@
$(ARM_FW_DIR)/fw/obj/firmware/web_fs.o: $(BUILD)/firmware/web_fs.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)arm-none-eabi-gcc $(CSTD) $(ARM_TCPIP_FLAGS) -Icore/include -c $< -o $@
$(ARM_FW_DIR)/fw/obj/keys/ota_pubkey.o: $(OTA_PUBKEY_C)
	@mkdir -p $(dir $@)
	$(Q)arm-none-eabi-gcc $(CSTD) $(ARM_TCPIP_FLAGS) -c $< -o $@
$(ARM_FW_DIR)/firmware.elf: $(ARM_FW_OBJ) firmware/arm/mps2-an385.ld $(BUILD)/arm/stack/libmeerkat.a $(ARM_FW_MBEDTLS_LIB)
	@echo "  LINK    $@"
	$(Q)arm-none-eabi-gcc $(ARM_TCPIP_FLAGS) $(ARM_LD) -Wl,-Map,$(ARM_FW_DIR)/firmware.map $(ARM_FW_OBJ) \
	  $(BUILD)/arm/stack/libmeerkat.a $(ARM_FW_MBEDTLS_LIB) -o $@
	$(Q)arm-none-eabi-objcopy -O binary $@ $(ARM_FW_DIR)/firmware.bin
# The same firmware with HTTPS on 443 besides HTTP on 80 (build/arm/tls/firmware.elf):
# the stack and the core with TLS, the cross-compiled mbedTLS archive (the linker takes
# only the modules the firmware calls) and the packed development certificate
# mbedTLS for it goes without what a server with an ECDSA certificate does not use
# (firmware/arm/mbedtls_board.h): its own archive, from the same source
$(eval $(call arm_mbedtls,$(ARM_FW_MBEDTLS_LIB),$(ARM_FW_TLS_FLAGS),firmware/arm/mbedtls_board.h))
$(eval $(call flavour,$(BUILD)/arm/tls/tcpip,$(ARM_TCPIP_FLAGS) $(ARM_FW_TLS_FLAGS),arm-none-eabi-gcc,$(ARM_FW_MBEDTLS_LIB)))
ARM_FW_SHARED  := $(filter %/web_fs.o %/ota_pubkey.o,$(ARM_FW_OBJ))
ARM_TLS_FW_OBJ := $(patsubst $(ARM_FW_DIR)/fw/%,$(BUILD)/arm/tls/fw/%,$(filter-out $(ARM_FW_SHARED),$(ARM_FW_OBJ))) \
                  $(ARM_FW_SHARED) $(BUILD)/arm/tls/fw/obj/certs_fs.o
$(BUILD)/arm/tls/fw/obj/firmware/device.o $(BUILD)/arm/tls/fw/obj/firmware/arm/main.o: $(ARM_FW_VERSION)
$(BUILD)/arm/tls/fw/obj/%.o: %.c $(CORE_HDR) $(FIRMWARE_HDR) firmware/arm/board.h $(ARM_FW_MBEDTLS_LIB)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)arm-none-eabi-gcc $(CSTD) $(WARN) $(CPPFLAGS) $(ARM_FW_FLAGS) $(ARM_FW_TLS_FLAGS) -c $< -o $@
$(BUILD)/arm/tls/fw/obj/certs_fs.o: $(BUILD)/arm/certs_fs.c
	@mkdir -p $(dir $@)
	$(Q)arm-none-eabi-gcc $(CSTD) $(ARM_TCPIP_FLAGS) -Icore/include -c $< -o $@
$(BUILD)/arm/tls/firmware.elf: $(ARM_TLS_FW_OBJ) firmware/arm/mps2-an385.ld $(BUILD)/arm/tls/tcpip/libmeerkat.a $(ARM_FW_MBEDTLS_LIB)
	@echo "  LINK    $@"
	$(Q)arm-none-eabi-gcc $(ARM_TCPIP_FLAGS) $(ARM_LD) -Wl,-Map,$(BUILD)/arm/tls/firmware.map $(ARM_TLS_FW_OBJ) \
	  $(BUILD)/arm/tls/tcpip/libmeerkat.a $(ARM_FW_MBEDTLS_LIB) -o $@
	$(Q)arm-none-eabi-objcopy -O binary $@ $(BUILD)/arm/tls/firmware.bin
# A signed OTA image of the board firmware: `make ota-arm VERSION=X.Y.Z` builds it as
# version X.Y.Z in $(BUILD)/ota/arm-X.Y.Z and signs its .bin (linked to run where the
# board's image runs) into $(BUILD)/ota/firmware-arm-X.Y.Z.img, as `make ota` the host's;
# OTA_TEST=hang makes one that hangs at start, for the watchdog's test (...-X.Y.Z-hang.img)
ARM_OTA_DEPS := $(ARM_FW_SRC) $(FIRMWARE_HDR) $(wildcard firmware/arm/*.h) firmware/arm/mps2-an385.ld \
                $(BUILD)/arm/stack/libmeerkat.a $(ARM_FW_MBEDTLS_LIB)
$(BUILD)/ota/firmware-arm-%.img: $(ARM_OTA_DEPS) $(OTA_KEY) $(BUILD)/packer/packer
	$(Q)$(MAKE) -s ARM_FW_DIR=$(BUILD)/ota/arm-$* FW_VERSION=$(call OTA_VERSION_OF,$*) \
	  ARM_FW_TEST='$(call OTA_TEST_FLAGS,$*)' $(BUILD)/ota/arm-$*/firmware.elf
	@echo "  OTA     $@"
	$(Q)$(BUILD)/packer/packer sign --key $(OTA_KEY) --version $(call OTA_VERSION_OF,$*) --board $(ARM_OTA_BOARD) \
	  $(BUILD)/ota/arm-$*/firmware.bin $@
ota-arm:
	@test -n "$(VERSION)" || { echo "make ota-arm: give the version, e.g. make ota-arm VERSION=1.2.3" >&2; exit 2; }
	$(Q)$(MAKE) -s $(BUILD)/ota/firmware-arm-$(VERSION)$(if $(OTA_TEST),-$(OTA_TEST)).img
	@echo "$(BUILD)/ota/firmware-arm-$(VERSION)$(if $(OTA_TEST),-$(OTA_TEST)).img"
# What test/e2e/board-ota.test.mjs uploads to the board in QEMU
ARM_OTA_TEST_IMAGES := $(BUILD)/ota/firmware-arm-0.2.0.img $(BUILD)/ota/firmware-arm-0.3.0-hang.img
# Its RAM per TCP connection and its interface's: sizes read with nm -S (test/bench/tcpip_conn_size.c;
# no LTO, whose objects hold no symbols), for the host with the tap flavour's flags too
$(BUILD)/arm/tcpip/tcpip_conn_size.o: test/bench/tcpip_conn_size.c $(CORE_HDR)
	$(Q)arm-none-eabi-gcc $(CSTD) $(WARN) $(CPPFLAGS) $(filter-out -flto,$(ARM_MIN_FLAGS)) -c $< -o $@
# What of the minimal HTTP program's heap is buffers, for the board's budget (test/bench/board.sh)
$(BUILD)/arm/tcpip/board_sizes.o: test/bench/board_sizes.c $(CORE_HDR)
	$(Q)arm-none-eabi-gcc $(CSTD) $(WARN) $(CPPFLAGS) $(filter-out -flto,$(ARM_MIN_FLAGS)) -c $< -o $@
$(BUILD)/bench/tcpip_conn_size.o: test/bench/tcpip_conn_size.c $(CORE_HDR) $(MBEDTLS_LIBS)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CSTD) $(WARN) $(CPPFLAGS) $(CFLAGS) $(TAP_FLAGS) -c $< -o $@
arm: $(BUILD)/arm/firmware.elf $(BUILD)/arm/tls/firmware.elf $(BUILD)/arm/selftest.elf $(BUILD)/arm/tls/selftest.elf $(BUILD)/arm/m7/ota_flash_stm32h7.o $(BUILD)/arm/drivers/lan9118.o $(BUILD)/arm/drivers/lan9118_probe.elf \
     $(BUILD)/arm/tcpip/min_http.elf
	@for f in $^; do arm-none-eabi-size $$f | awk -v f=$$f 'NR == 2 {print "arm: " f ": " $$1 " bytes text, " $$2 " data, " $$3 " bss"}'; done
	@echo "arm: $(BUILD)/arm/firmware.elf by component:" && tools/arm-size.sh $(BUILD)/arm/firmware.map
	@echo "arm: $(BUILD)/arm/tls/firmware.elf (HTTPS) by component:" && tools/arm-size.sh $(BUILD)/arm/tls/firmware.map

# The board firmware in QEMU, its port 80 forwarded to 127.0.0.1:QEMU_PORT (restrict=on:
# nothing leaves QEMU but the forwarded connections); Ctrl-A X quits
QEMU_PORT ?= 8080
qemu: $(BUILD)/arm/firmware.elf
	@echo "Dashboard on http://127.0.0.1:$(QEMU_PORT)/ once the board says ready (Ctrl-A X quits QEMU)"
	qemu-system-arm -M mps2-an385 -nographic -kernel $< -nic user,restrict=on,hostfwd=tcp:127.0.0.1:$(QEMU_PORT)-:80
# The HTTPS image the same way, its port 443 on 127.0.0.1:QEMU_TLS_PORT (8443) besides 80
QEMU_TLS_PORT ?= 8443
qemu-tls: $(BUILD)/arm/tls/firmware.elf
	@echo "Dashboard on https://localhost:$(QEMU_TLS_PORT)/ (trust $(BUILD)/certs/ca.pem) and http://127.0.0.1:$(QEMU_PORT)/ once the board says ready (Ctrl-A X quits QEMU)"
	qemu-system-arm -M mps2-an385 -nographic -kernel $< \
	  -nic user,restrict=on,hostfwd=tcp:127.0.0.1:$(QEMU_TLS_PORT)-:443,hostfwd=tcp:127.0.0.1:$(QEMU_PORT)-:80

test: all arm $(TAP_PROBES) $(OTA_TEST_IMAGES) $(ARM_OTA_TEST_IMAGES) $(UNIT_BINS) $(UNIT_BINS_ASAN) $(EXAMPLES_ASAN) $(POLL_TESTS) $(MOCK_TESTS) $(TCPIP_TESTS) $(TAP_TESTS) $(IO512_TESTS) $(CHAOS_TESTS) $(CLANG_BUILD) $(ALLOC_TESTS) $(COMPAT_BINS) $(TUTORIAL_BINS) dist fuzz-build
	BUILD=$(BUILD) test/run.sh

# HTTPS with the development certificate (tools/make-certs.sh) unless $(BUILD)/data/tls has one
run: all
	@echo "Dashboard on http://localhost:8000 and https://localhost:8443 (HTTPS: trust $(BUILD)/certs/ca.pem; Ctrl-C stops)"
	$(BUILD)/firmware/firmware -l http://0.0.0.0:8000 -l https://0.0.0.0:8443 -T $(BUILD)/certs -d $(BUILD)/data

# The inflater beside zlib on a real bundle: BENCH_JS, else the dashboard's
# largest built JS, else one from node_modules (`npm ci` installs it)
BENCH_JS ?= $(firstword $(shell ls -S web/dist/*.js web/dist/*/*.js 2>/dev/null) \
                        $(wildcard node_modules/playwright-core/lib/coreBundle.js node_modules/preact/dist/preact.js))
$(BUILD)/bench/inflate_bench: test/bench/inflate_bench.c $(BUILD)/libmeerkat.a $(CORE_HDR)
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	$(Q)$(CC) $(CSTD) -D_POSIX_C_SOURCE=200809L $(WARN) $(CPPFLAGS) $(CFLAGS) $< $(BUILD)/libmeerkat.a -lz -o $@

$(BUILD)/bench/sha256_bench: test/bench/sha256_bench.c $(BUILD)/libmeerkat.a $(CORE_HDR)
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	$(Q)$(CC) $(CSTD) -D_POSIX_C_SOURCE=200809L $(WARN) $(CPPFLAGS) $(CFLAGS) $< $(BUILD)/libmeerkat.a -o $@

# TLS handshakes per second with OpenSSL as the client (libssl-dev)
$(BUILD)/bench/tls_handshakes: test/bench/tls_handshakes.c
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	$(Q)$(CC) -std=gnu99 $(WARN) $(CFLAGS) $< -lssl -lcrypto -o $@

# The WebSocket fan-out's measuring end (test/bench/dash-ws.mjs drives it)
$(BUILD)/bench/ws_fanout: test/bench/ws_fanout.c
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	$(Q)$(CC) -std=gnu99 $(WARN) $(CFLAGS) $< -o $@

# The WebSocket echo's load generator (test/bench/ws-echo.sh)
$(BUILD)/bench/ws_echo_load: test/bench/ws_echo_load.c
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	$(Q)$(CC) -std=gnu99 $(WARN) $(CFLAGS) $< -o $@

# The OTA upload's 32 MiB image (test/bench/ota.sh): the firmware padded with zeros, which
# ELF ignores, to 32 MiB with its 128-byte header and 64-byte signature, as a newer version
$(BUILD)/bench/ota-32m.img: $(BUILD)/firmware/firmware $(BUILD)/packer/packer $(OTA_KEY)
	@mkdir -p $(dir $@)
	@echo "  OTA     $@"
	$(Q)cp $< $@.bin && truncate -s $$((32 * 1024 * 1024 - 192)) $@.bin
	$(Q)$(BUILD)/packer/packer sign --key $(OTA_KEY) --version 9.0.0 --board $(OTA_BOARD) $@.bin $@ >/dev/null
	$(Q)rm -f $@.bin

bench: all $(BUILD)/bench/inflate_bench $(BUILD)/bench/sha256_bench $(BUILD)/bench/tls_handshakes $(BUILD)/bench/ws_fanout $(BUILD)/bench/ws_echo_load \
       $(BUILD)/bench/ota-32m.img $(BUILD)/tap/examples/http-server $(BUILD)/bench/tcpip_conn_size.o \
       $(BUILD)/arm/tcpip/tcpip_conn_size.o $(BUILD)/arm/tcpip/min_http.elf $(BUILD)/arm/tcpip/board_sizes.o $(BUILD)/arm/firmware.elf
	$(if $(BENCH_JS),$(BUILD)/bench/inflate_bench $(BENCH_JS),@echo "bench: no JS bundle for inflate_bench (npm run build, or BENCH_JS=FILE)")
	$(BUILD)/bench/sha256_bench
	BUILD=$(BUILD) test/bench/run.sh

# The README's pictures (docs/*.png): an admin on the Overview, 1280x800 and a 390x844 phone,
# after SCREENSHOT_POINTS seconds of live values (default 60); not part of `make test`
screenshots: $(BUILD)/firmware/firmware node_modules/.package-lock.json
	FIRMWARE=$(BUILD)/firmware/firmware node test/e2e/screenshots.mjs docs

# The firmware, then its ASan build, under mixed load for SOAK_SECONDS each (test/soak);
# not part of `make test`: `make soak SOAK_SECONDS=60` for a short run
soak: $(BUILD)/firmware/firmware $(BUILD)/asan/firmware/firmware node_modules/.package-lock.json
	BUILD=$(BUILD) SOAK_SECONDS=$(SOAK_SECONDS) test/soak/run.sh

clean:
	rm -rf $(BUILD) dist web/dist
