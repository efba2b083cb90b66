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
SWIFT_STATIC := $(shell dirname $$(dirname $$(readlink -f $$(which swift))))/lib/swift_static/linux

.PHONY: all cli lib install examples clean

all: cli lib

cli:
	swift build -c release --product acnet

# The CInterface, ACRuntime and CACNet objects (built with -static-stdlib) and the parts of the
# Swift runtime they need are partially linked into one relocatable object whose only global
# definitions are the functions of include/acnet.h (scripts/acnet.map). libacnet.a archives
# it; libacnet.so links it, so neither needs a Swift runtime on the consumer's machine.
# The Swift modules in the library (the ISA kernel modules exist on x86_64; aarch64 has only the
# baseline one). Objects are taken from each module's source list, not *.o, so objects of
# removed sources left in the build folder are never linked.
SWIFT_MODULES = CInterface ACRuntime ACKernelTypes ACKernelsAVX512 ACKernelsAVX2 ACKernelsBaseline

lib:
	rm -f $(CLIB_DIR)/libacnetc.so  # the link flags are not tracked by SwiftPM
	swift build -c release --product acnetc --scratch-path $(CLIB_SCRATCH) \
	    -Xswiftc -static-stdlib \
	    -Xlinker --version-script=$(CURDIR)/scripts/acnet.map \
	    -Xlinker -soname=libacnet.so.$(MAJOR)
	rm -f $(CLIB_DIR)/acnet_all.o $(CLIB_DIR)/libacnet.a
	ld -r -o $(CLIB_DIR)/acnet_all.o \
	    $$(for m in $(SWIFT_MODULES); do [ ! -f $(CLIB_DIR)/$$m.build/sources ] || \
	        sed 's|.*/||; s|$$|.o|; s|^|$(CLIB_DIR)/'$$m'.build/|' $(CLIB_DIR)/$$m.build/sources; done) \
	    $(CLIB_DIR)/CACNet.build/*.o \
	    $(SWIFT_STATIC)/x86_64/swiftrt.o $(SWIFT_STATIC)/libswiftGlibc.a $(SWIFT_STATIC)/libswiftCore.a
	sed -n 's/^ *\(acnet_[a-z_]*\);$$/\1/p' scripts/acnet.map > $(CLIB_DIR)/acnet.syms
	objcopy --keep-global-symbols=$(CLIB_DIR)/acnet.syms $(CLIB_DIR)/acnet_all.o
	ar rcs $(CLIB_DIR)/libacnet.a $(CLIB_DIR)/acnet_all.o
	cc -shared -o $(CLIB_DIR)/libacnet.so $(CLIB_DIR)/acnet_all.o -Wl,--version-script=scripts/acnet.map \
	    -Wl,-soname=libacnet.so.$(MAJOR) -Wl,-z,noexecstack -lstdc++ -lm -lpthread -ldl

install: lib
	install -d $(PREFIX)/include $(PREFIX)/lib/pkgconfig $(PREFIX)/lib/cmake/acnet
	install -m 644 include/acnet.h $(PREFIX)/include/acnet.h
	install -m 755 $(CLIB_DIR)/libacnet.so $(PREFIX)/lib/libacnet.so.$(VERSION)
	ln -sf libacnet.so.$(VERSION) $(PREFIX)/lib/libacnet.so.$(MAJOR)
	ln -sf libacnet.so.$(MAJOR) $(PREFIX)/lib/libacnet.so
	install -m 644 $(CLIB_DIR)/libacnet.a $(PREFIX)/lib/libacnet.a
	printf '%s\n' "prefix=$(abspath $(PREFIX))" 'libdir=$${prefix}/lib' 'includedir=$${prefix}/include' '' \
	    'Name: acnet' 'Description: ACNet inference runtime (fused Asymmetric Convolution Networks), C API' \
	    'Version: $(VERSION)' 'Libs: -L$${libdir} -lacnet' 'Libs.private: -lstdc++ -lm -lpthread -ldl' \
	    'Cflags: -I$${includedir}' > $(PREFIX)/lib/pkgconfig/acnet.pc
	sed -e 's/@MAJOR@/$(MAJOR)/g' cmake/acnetConfig.cmake.in > $(PREFIX)/lib/cmake/acnet/acnetConfig.cmake
	sed -e 's/@VERSION@/$(VERSION)/g' -e 's/@MAJOR@/$(MAJOR)/g' cmake/acnetConfigVersion.cmake.in \
	    > $(PREFIX)/lib/cmake/acnet/acnetConfigVersion.cmake

examples:
	$(MAKE) -C examples/c PREFIX=$(abspath $(PREFIX))
	cmake -S examples/cpp -B examples/cpp/build -DCMAKE_PREFIX_PATH=$(abspath $(PREFIX)) -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build examples/cpp/build
	$(MAKE) -C examples/classify PREFIX=$(abspath $(PREFIX))

clean:
	rm -rf $(CLIB_SCRATCH) examples/c/build examples/cpp/build examples/classify/build
