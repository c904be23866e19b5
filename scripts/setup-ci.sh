#!/usr/bin/env bash
# Makes sure the browser and PDF tests of the reports have what they need: Debian's
# chromium and a CJK font (fonts-noto-cjk), so that screenshots and `govmon report --pdf`
# show the Chinese text, and poppler-utils (pdfinfo, pdftotext), with which the PDF test
# reads the PDF back.
# Installs what is missing with apt when run as root (CI runs on a fresh Debian
# machine as root); otherwise says what is missing and carries on, and the
# browser and PDF tests skip (under CI=true they fail instead).
set -euo pipefail

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

need=()
if ! command -v chromium >/dev/null 2>&1 && ! installed chromium; then need+=(chromium); fi
if ! installed fonts-noto-cjk; then need+=(fonts-noto-cjk); fi
if ! command -v pdftotext >/dev/null 2>&1 && ! installed poppler-utils; then need+=(poppler-utils); fi

if [ ${#need[@]} -eq 0 ]; then
    echo "setup-ci: chromium, fonts-noto-cjk and poppler-utils present" >&2
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup-ci: missing ${need[*]} (apt-get install ${need[*]}); the browser and PDF tests will not run" >&2
    exit 0
fi
echo "setup-ci: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }; then
    echo "setup-ci: could not install ${need[*]}" >&2
    [ -z "${CI:-}" ] || exit 1
fi
