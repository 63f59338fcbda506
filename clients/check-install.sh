#!/usr/bin/env bash
# The Python package as a user installs it: offline, into a fresh venv, with the setuptools
# that Python ships (pip install --no-build-isolation, no package index). Then the package's
# tests and the README's Python example run with that venv's Python against a real proxy.
# Run from .ci/run after `npm ci` (it needs dist/ and clients/c built).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(mktemp -d)/venv
trap 'rm -rf "$(dirname "$venv")"' EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install --no-build-isolation --no-index ./clients/python
# The installed package loads the libslotlink it was built with, not one from this checkout.
(cd "$(dirname "$venv")" && "$venv/bin/python" -c '
import os, slotlink, slotlink._lib as l
assert os.path.dirname(l.lib._name) == os.path.dirname(l.__file__), l.lib._name
print("slotlink", slotlink.__version__, "installed with", os.path.basename(l.lib._name))')
SLOTLINK_TEST_PYTHON="$venv/bin/python" node --test \
  --test-name-pattern='Python worker example|unittest suite' \
  dist/test/conformance/readme-clients.test.js dist/test/conformance/python-package.test.js
