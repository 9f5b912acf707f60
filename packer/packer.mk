# The packer: a host tool (gnu99, zlib, mbedTLS) that turns a directory into a packed
# filesystem C source and signs OTA images. It borrows MIME types, SHA-1/256 and the
# image format from the core library. Include this after the `all:` rule and mbedTLS's variables.
# mbedTLS's PSA core takes its randomness from the library (mg_port_random), hence the group
PACKER_SRC := $(sort $(wildcard packer/*.c))
PACKER_HDR := $(wildcard packer/*.h)

$(BUILD)/packer/packer: $(PACKER_SRC) $(PACKER_HDR) $(BUILD)/libmeerkat.a $(MBEDTLS_LIBS)
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	$(Q)$(CC) -std=gnu99 $(WARN) $(CPPFLAGS) $(CFLAGS) $(MBEDTLS_INC) $(MBEDTLS_CFG_DEF) $(PACKER_SRC) -Wl,--start-group $(BUILD)/libmeerkat.a $(MBEDTLS_LIBS) -Wl,--end-group -lz -o $@

# Sanitizer build for tests: PACKER=build/asan/packer/packer
$(BUILD)/asan/packer/packer: $(PACKER_SRC) $(PACKER_HDR) $(BUILD)/asan/libmeerkat.a $(MBEDTLS_LIBS)
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	$(Q)$(CC) -std=gnu99 $(WARN) $(CPPFLAGS) $(CFLAGS) $(SAN_FLAGS) $(MBEDTLS_INC) $(MBEDTLS_CFG_DEF) $(PACKER_SRC) -Wl,--start-group $(BUILD)/asan/libmeerkat.a $(MBEDTLS_LIBS) -Wl,--end-group -lz -o $@
