#!/usr/bin/env bash
# The history writer thread (test_history) and the HTTP server's threads (libmicrohttpd connections, the engine thread answering
# queued requests and publishing documents) under ThreadSanitizer: builds the TSan
# variant of test_http_api and runs it; any data race fails the run.
set -u
cd "$(dirname "$0")/../.."
if ! make -s tsan >/tmp/http_tsan_build.$$ 2>&1; then
  cat /tmp/http_tsan_build.$$; rm -f /tmp/http_tsan_build.$$
  echo "FAIL: tsan build of test_http_api, test_snapshot and test_history"; exit 1
fi
rm -f /tmp/http_tsan_build.$$
fails=0
for t in test_http_api test_snapshot test_history; do
  out=$(TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" timeout 120 build/tsan/$t 2>&1); rc=$?
  if [ $rc -eq 0 ] && ! grep -q "ThreadSanitizer" <<<"$out" && grep -q "PASSED  \]" <<<"$out" &&
     ! grep -q "FAILED  \]" <<<"$out"; then
    echo "PASS: $t under ThreadSanitizer: no data races"
  else
    printf '%s\n' "$out" | grep -v '^\[ ' | head -60
    echo "FAIL: $t under ThreadSanitizer (rc=$rc)"; fails=$((fails + 1))
  fi
done
[ $fails -eq 0 ]
