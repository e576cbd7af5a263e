#!/usr/bin/env bash
# The project's test command: lint, then the whole default suite (it includes the app tests
# against a real server on a local port and a real headless Chromium). Run after
# `bash scripts/setup.sh --dev`.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m ruff check .
python3 -m pytest
