#!/usr/bin/env bash
# Back up the Signoff database with pg_dump (custom format), then check the audit trail of
# the live database, so a backup is never taken of a history that was already altered.
#
#   DATABASE_URL=postgres://… ops/backup.sh [backup-folder]
#
# Without DATABASE_URL the private cluster's connection is read from .signoff/cluster.json.
set -euo pipefail
cd "$(dirname "$0")/.."
folder="${1:-backups}"
mkdir -p "$folder"
if [ -z "${DATABASE_URL:-}" ]; then
    state="${SIGNOFF_DATA_DIR:-.signoff}/cluster.json"
    [ -f "$state" ] || { echo "No DATABASE_URL and no private cluster at $state" >&2; exit 1; }
    port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$state")
    password=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["password"])' "$state")
    DATABASE_URL="postgres://signoff:${password}@127.0.0.1:${port}/signoff"
fi
file="$folder/signoff-$(date -u +%Y%m%dT%H%M%SZ).dump"
pg_dump --format=custom --no-owner --file="$file" "$DATABASE_URL"
DATABASE_URL="$DATABASE_URL" swift run -c release signoff audit verify
echo "Backup written to $file"
echo "Restore into an empty database with: pg_restore --no-owner --dbname=postgres://…/signoff_restored $file"
