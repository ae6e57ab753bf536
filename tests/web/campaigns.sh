#!/usr/bin/env bash
# The campaigns page in a real browser: web.sh's gateway and chromium, with
# campaigns.test.js (a campaign created on the page, to a list imported on
# the page, watched until its progress reaches 100 %).
exec bash "$(dirname "${BASH_SOURCE[0]}")/web.sh" "$1" campaigns.test.js
