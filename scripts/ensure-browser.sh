#!/usr/bin/env bash
# Runs before `npm test`: the browser tests need Debian's Chromium and a Korean font. Installs them with
# apt-get when missing and we are root (CI, fresh dev machines); otherwise fails with what to install.
# Never lets the browser tests be skipped.
set -euo pipefail
need=()
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || need+=(chromium)
[ -d /usr/share/fonts/truetype/nanum ] || need+=(fonts-nanum)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing ${need[*]} for the browser tests" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
else
  echo "error: the browser tests need: ${need[*]} (e.g. sudo apt-get install -y ${need[*]})" >&2
  exit 1
fi
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || { echo "error: Chromium is still missing at ${CHROMIUM_PATH:-/usr/bin/chromium}" >&2; exit 1; }
