#!/bin/sh
# Runs once, when the PostgreSQL data volume is empty (docker-entrypoint-initdb.d):
# one database and one owning role per service instance, so that no service can
# read another's tables (DESIGN.md section 1).
set -eu
for name in $BROBYGGER_DATABASES; do
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE "$name" LOGIN PASSWORD '$BROBYGGER_DB_PASSWORD';
CREATE DATABASE "$name" OWNER "$name";
REVOKE ALL ON DATABASE "$name" FROM PUBLIC;
SQL
done
