#!/bin/sh
# web.widget_embed: the one-tag embed on another origin (CORS, Shadow DOM
# isolation, keyboard, German, network failure), in headless Chromium
# against the real `parley serve --demo` (see widget_embed.mjs, lib/run.sh).
set -eu
. "$(dirname "$0")/lib/run.sh"
run_web_test widget_embed.mjs
