#!/usr/bin/env bash
# System tools the tests use: kcat (a librdkafka client, to prove non-Python
# clients can read and write our events) and promtool (Prometheus, to validate
# alert rules and scrape the embedded stack), and Debian's Chromium with its
# driver (the console's browser tests drive it headless; nothing is downloaded
# by the tests themselves). Installed from Debian's packages
# when missing; without root they must be installed by hand.
set -euo pipefail
missing=()
command -v kcat >/dev/null 2>&1 || missing+=(kcat)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "please install: ${missing[*]} (Debian packages), then run make again" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
