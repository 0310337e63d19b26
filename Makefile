# tandem's build. Sources are found by folder, so adding a file needs no edit
# here: every .c under the subsystem folders goes into the emulator, every
# tests/unit/test_*.c is one cmocka program linked against the same objects.

-include config.mk
ifeq ($(DEP_LIBS),)
$(error run ./configure first)
endif

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -I. $(DEP_CFLAGS) -MMD -MP
B := build

SUBSYSTEMS := vm devices cpu jit hwaccel firmware board ui
MAIN_SRC := vm/main.c
ALL_SRCS := $(sort $(wildcard $(addsuffix /*.c,$(SUBSYSTEMS))))
ifneq ($(CONFIG_SDL),yes)
ALL_SRCS := $(filter-out ui/sdl%.c,$(ALL_SRCS))
endif
LIB_SRCS := $(filter-out $(MAIN_SRC),$(ALL_SRCS))
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/%.o)

BLOCK_SRCS := $(sort $(wildcard block/*.c))
BLOCK_LIB_SRCS := $(filter-out block/tandem_img.c,$(BLOCK_SRCS))
BLOCK_OBJS := $(BLOCK_LIB_SRCS:%.c=$(B)/%.o)

TEST_SRCS := $(sort $(wildcard tests/unit/test_*.c))
TEST_BINS := $(TEST_SRCS:tests/unit/%.c=$(B)/tests/%)

PROGRAMS := tandem $(if $(wildcard block/tandem_img.c),tandem-img)

all: $(PROGRAMS)

tandem: $(LIB_OBJS) $(BLOCK_OBJS) $(B)/$(MAIN_SRC:.c=.o)
	$(CC) $(CFLAGS) -o $@ $^ $(DEP_LIBS)

tandem-img: $(BLOCK_OBJS) $(B)/block/tandem_img.o
	$(CC) $(CFLAGS) -o $@ $^ $(DEP_LIBS)

$(B)/%.o: %.c config.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/tests/%: tests/unit/%.c $(LIB_OBJS) $(BLOCK_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CMOCKA_CFLAGS) -o $@ $< $(LIB_OBJS) $(BLOCK_OBJS) \
		$(CMOCKA_LIBS) $(DEP_LIBS)

tests: $(TEST_BINS)

# unit tests, the layering check, then the guest tests
check: all tests
	@sh scripts/check-layers.sh
	@sh tests/run-tests.sh $(TEST_BINS)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf $(B) $(PROGRAMS)

distclean: clean
	rm -f config.mk config.h

.PHONY: all tests check install clean distclean
-include $(shell find $(B) -name '*.d' 2>/dev/null)
