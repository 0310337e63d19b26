#!/bin/sh
# Everything the test suite needs on a fresh Debian machine, then the tests:
# installs the build dependencies, fetches the test guests into the cache,
# configures, builds and runs `make check`.
set -e
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
sh scripts/fetch-guests.sh
[ -f config.mk ] || ./configure
make -j"$(nproc)" all tests
make check
