#!/bin/sh
# no-cunit.sh - stands in for the unit tests when configure found no CUnit.
# Exit 77 is automake's "skipped": `make check` says what is missing
# instead of failing.
echo "SKIP: the unit tests need CUnit: install the Debian package" \
	"libcunit1-dev, then re-run ./configure"
exit 77
