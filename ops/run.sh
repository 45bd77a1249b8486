#!/usr/bin/env bash
# Run Signoff from a built checkout. Without DATABASE_URL it starts a private PostgreSQL
# cluster under SIGNOFF_DATA_DIR (default .signoff). Any arguments go to `signoff serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product signoff
exec .build/release/signoff serve "$@"
