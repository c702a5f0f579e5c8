#!/bin/sh
# Replace every secret in an env file (default .env) that is still the `change-me` placeholder
# with a fresh random value. Values already set are left alone, so it is safe to run again.
# Usage: deploy/new-secrets.sh [.env]
set -eu
file=${1:-.env}
[ -f "$file" ] || { echo "no $file: cp .env.example $file first" >&2; exit 1; }

hex() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
fernet() { head -c 32 /dev/urandom | base64 | tr '+/' '-_'; }

for name in POSTGRES_PASSWORD CTDATA_STATE_DB_PASSWORD AIRFLOW__API_AUTH__JWT_SECRET \
    AIRFLOW__API__SECRET_KEY AIRFLOW_ADMIN_PASSWORD CTDATA_PSEUDONYM_KEY AIRFLOW__CORE__FERNET_KEY; do
  if grep -q "^$name=change-me\$" "$file"; then
    if [ "$name" = AIRFLOW__CORE__FERNET_KEY ]; then value=$(fernet); else value=$(hex); fi
    sed -i "s|^$name=change-me\$|$name=$value|" "$file"
    echo "$name: new secret"
  fi
done
if grep -q "change-me" "$file"; then
  echo "still to set by hand in $file:" >&2
  grep -n "^[A-Z].*change-me" "$file" | cut -d= -f1 >&2
fi
