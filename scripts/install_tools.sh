#!/usr/bin/env bash
# Debian tools the template's tests call on rendered projects: promtool (checks and unit-tests the
# alert rules and the dashboard's PromQL) and amtool (checks the Alertmanager config). Installed
# with apt-get when missing; the rendered service never needs them.
set -euo pipefail

missing=()
command -v promtool >/dev/null || missing+=(prometheus)
command -v amtool >/dev/null || missing+=(prometheus-alertmanager)
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    echo "missing: ${missing[*]} (promtool, amtool); install them, e.g. sudo apt-get install --no-install-recommends ${missing[*]}" >&2
    exit 1
fi
echo "installing ${missing[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
# Wait for another apt process (unattended upgrades) instead of failing on its lock.
apt-get -o DPkg::Lock::Timeout=300 update -qq
apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}"
