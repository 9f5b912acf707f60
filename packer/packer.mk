# The packer: a host tool (gnu99, zlib) that turns a directory into a packed
# filesystem C source. It borrows MIME types and SHA-1 from the core library.
# Include this after the `all:` rule of the Makefile.
PACKER_SRC := $(sort $(wildcard packer/*.c))
PACKER_HDR := $(wildcard packer/*.h)

$(BUILD)/packer/packer: $(PACKER_SRC) $(PACKER_HDR) $(BUILD)/libmeerkat.a
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	$(Q)$(CC) -std=gnu99 $(WARN) $(CPPFLAGS) $(CFLAGS) $(PACKER_SRC) $(BUILD)/libmeerkat.a -lz -o $@

# Sanitizer build for tests: PACKER=build/asan/packer/packer
$(BUILD)/asan/packer/packer: $(PACKER_SRC) $(PACKER_HDR) $(BUILD)/asan/libmeerkat.a
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	$(Q)$(CC) -std=gnu99 $(WARN) $(CPPFLAGS) $(CFLAGS) $(SAN_FLAGS) $(PACKER_SRC) $(BUILD)/asan/libmeerkat.a -lz -o $@
