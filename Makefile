# ACNet for Swift — C library packaging and developer entry points.
#
#   make install PREFIX=/usr/local   include/acnet.h, lib/libacnet.so, lib/libacnet.a,
#                                    lib/pkgconfig/acnet.pc, lib/cmake/acnet/
#   make cli                         the `acnet` tool (release) in .build/release/acnet
#   make examples PREFIX=...         build examples/c, examples/cpp, examples/classify
#                                    against an installed PREFIX
SHELL := /bin/bash
PREFIX ?= /usr/local
MAJOR := $(shell sed -n 's/^\#define ACNET_VERSION_MAJOR \([0-9]*\)/\1/p' include/acnet.h)
MINOR := $(shell sed -n 's/^\#define ACNET_VERSION_MINOR \([0-9]*\)/\1/p' include/acnet.h)
PATCH := $(shell sed -n 's/^\#define ACNET_VERSION_PATCH \([0-9]*\)/\1/p' include/acnet.h)
VERSION := $(MAJOR).$(MINOR).$(PATCH)
# The C library is built in its own scratch path: -static-stdlib changes every object.
CLIB_SCRATCH := .build-clib
CLIB_DIR := $(CLIB_SCRATCH)/release

.PHONY: all cli lib install cross examples clean

all: cli lib

cli:
	swift build -c release --product acnet

# The C library is built with Embedded Swift (scripts/build_embedded_lib.sh): ACRuntime,
# CInterface and the kernels once per ISA (AVX-512, AVX2+FMA, baseline; picked at model load by
# cpuid), plus the CACNet C helpers, partially linked into one relocatable object whose only
# global definitions are the functions of include/acnet.h (scripts/acnet.map). libacnet.a
# archives it; libacnet.so links it. Neither needs a Swift runtime; Embedded Swift carries only
# the standard-library code the runtime uses (stripped libacnet.so: see docs/PERFORMANCE.md,
# "Footprint"; the SwiftPM build with -static-stdlib it replaces was ~7 MB stripped).
LIBS_PRIVATE := -lm -lpthread

lib:
	nice -n 5 scripts/build_embedded_lib.sh x86_64-linux-gnu $(CLIB_DIR)
	rm -f $(CLIB_DIR)/libacnet.a
	ar rcs $(CLIB_DIR)/libacnet.a $(CLIB_DIR)/acnet_all.o
	cc -shared -o $(CLIB_DIR)/libacnet.so $(CLIB_DIR)/acnet_all.o -Wl,--version-script=scripts/acnet.map \
	    -Wl,-soname=libacnet.so.$(MAJOR) -Wl,-z,noexecstack -Wl,--gc-sections $(LIBS_PRIVATE)

install: lib
	install -d $(PREFIX)/include $(PREFIX)/lib/pkgconfig $(PREFIX)/lib/cmake/acnet
	install -m 644 include/acnet.h $(PREFIX)/include/acnet.h
	install -m 755 $(CLIB_DIR)/libacnet.so $(PREFIX)/lib/libacnet.so.$(VERSION)
	ln -sf libacnet.so.$(VERSION) $(PREFIX)/lib/libacnet.so.$(MAJOR)
	ln -sf libacnet.so.$(MAJOR) $(PREFIX)/lib/libacnet.so
	install -m 644 $(CLIB_DIR)/libacnet.a $(PREFIX)/lib/libacnet.a
	printf '%s\n' "prefix=$(abspath $(PREFIX))" 'libdir=$${prefix}/lib' 'includedir=$${prefix}/include' '' \
	    'Name: acnet' 'Description: ACNet inference runtime (fused Asymmetric Convolution Networks), C API' \
	    'Version: $(VERSION)' 'Libs: -L$${libdir} -lacnet' 'Libs.private: $(LIBS_PRIVATE)' \
	    'Cflags: -I$${includedir}' > $(PREFIX)/lib/pkgconfig/acnet.pc
	sed -e 's/@MAJOR@/$(MAJOR)/g' cmake/acnetConfig.cmake.in > $(PREFIX)/lib/cmake/acnet/acnetConfig.cmake
	sed -e 's/@VERSION@/$(VERSION)/g' -e 's/@MAJOR@/$(MAJOR)/g' cmake/acnetConfigVersion.cmake.in \
	    > $(PREFIX)/lib/cmake/acnet/acnetConfigVersion.cmake

# Cross build of the static C library: `make cross TARGET=aarch64-linux-gnu PREFIX=DIR` installs
# include/acnet.h, lib/libacnet.a and lib/pkgconfig/acnet.pc for 64-bit ARM Linux (Debian:
# gcc-aarch64-linux-gnu). Link with `aarch64-linux-gnu-gcc ... -lacnet -lm -lpthread`.
TARGET ?= aarch64-linux-gnu
CROSS_DIR := .build-cross/$(TARGET)

cross:
	nice -n 5 scripts/build_embedded_lib.sh $(TARGET) $(CROSS_DIR)
	rm -f $(CROSS_DIR)/libacnet.a
	$(TARGET)-ar rcs $(CROSS_DIR)/libacnet.a $(CROSS_DIR)/acnet_all.o
	install -d $(PREFIX)/include $(PREFIX)/lib/pkgconfig
	install -m 644 include/acnet.h $(PREFIX)/include/acnet.h
	install -m 644 $(CROSS_DIR)/libacnet.a $(PREFIX)/lib/libacnet.a
	printf '%s\n' "prefix=$(abspath $(PREFIX))" 'libdir=$${prefix}/lib' 'includedir=$${prefix}/include' '' \
	    'Name: acnet' 'Description: ACNet inference runtime (fused Asymmetric Convolution Networks), C API ($(TARGET))' \
	    'Version: $(VERSION)' 'Libs: -L$${libdir} -lacnet' 'Libs.private: $(LIBS_PRIVATE)' \
	    'Cflags: -I$${includedir}' > $(PREFIX)/lib/pkgconfig/acnet.pc

examples:
	$(MAKE) -C examples/c PREFIX=$(abspath $(PREFIX))
	cmake -S examples/cpp -B examples/cpp/build -DCMAKE_PREFIX_PATH=$(abspath $(PREFIX)) -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build examples/cpp/build
	$(MAKE) -C examples/classify PREFIX=$(abspath $(PREFIX))

clean:
	rm -rf $(CLIB_SCRATCH) .build-cross examples/c/build examples/cpp/build examples/classify/build
