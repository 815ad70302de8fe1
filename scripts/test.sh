#!/usr/bin/env bash
# The test command of the README and of CI: installs what the tests need when it is missing (Debian packages),
# builds the solution in Release and runs every test project. Prints "N passed, N failed, N skipped" at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
# python3-onnx: the independent ONNX checker the shipped-model tests run (Debian's python, not a venv's).
if ! /usr/bin/python3 -c 'import onnx' >/dev/null 2>&1; then need+=(python3-onnx); fi
# mosquitto: the real broker the live monitor's integration tests start (they never use a running service).
if [ ! -x /usr/sbin/mosquitto ]; then need+=(mosquitto); fi
# mosquitto-clients: Debian's mosquitto_sub and mosquitto_pub, which run every MQTT command the README and docs/ print, verbatim.
if [ ! -x /usr/bin/mosquitto_sub ] || [ ! -x /usr/bin/mosquitto_pub ]; then need+=(mosquitto-clients); fi
# prometheus: the real Prometheus (and its promtool) the dashboard and rule tests start on a free loopback port
# (they never use a running service, e.g. the one the package may start on 9090).
if [ ! -x /usr/bin/prometheus ] || [ ! -x /usr/bin/promtool ]; then need+=(prometheus); fi

# postgresql-15: the real PostgreSQL 15 the history tests start themselves (initdb into a temporary folder, postgres on a free
# loopback port as the package's user postgres; they never use the cluster the package may start on 5432).
if [ ! -x /usr/lib/postgresql/15/bin/postgres ]; then need+=(postgresql-15); fi

# libjemalloc2: the C allocator `run` preloads (Monitor:Health:NativeAllocator); the allocator tests run the monitor on it.
if [ ! -e /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 ]; then need+=(libjemalloc2); fi

# chromium and chromium-driver: the real headless browser the web view tests render pages in.
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then need+=(chromium chromium-driver); fi

# nodejs and npm: node runs Eclipse Tahu's JavaScript Sparkplug codec (tests/interop/sparkplug), the independent
# implementation the Sparkplug interoperability tests check the repository's codec against.
if [ ! -x /usr/bin/node ] || [ ! -x /usr/bin/npm ]; then need+=(nodejs npm); fi

if ((${#need[@]})); then
  echo "Installing missing Debian packages: ${need[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# The interoperability tests' npm packages, exactly as package-lock.json pins them, when missing or out of date
# (the tests run the same npm ci themselves when they find none).
interop=tests/interop/sparkplug
if [ ! -f "$interop/node_modules/.package-lock.json" ] || [ "$interop/package-lock.json" -nt "$interop/node_modules/.package-lock.json" ]; then
  echo "Installing the Sparkplug interop packages (npm ci in $interop)"
  (cd "$interop" && npm ci --no-audit --no-fund --loglevel=error)
fi

mkdir -p artifacts
log="artifacts/test.log"
status=0
# --blame: if a test host crashes, the run names the test that was running (and keeps the sequence under
# artifacts/test-results/), instead of only "Test host process crashed".
dotnet test TSViz.slnx -c Release --blame --results-directory artifacts/test-results "$@" 2>&1 | tee "$log" || status=$?

# One summary line per test project: "Passed!  - Failed:     0, Passed:    33, Skipped: ..."
passed=$(sed -n 's/.*Failed: *[0-9]*, Passed: *\([0-9]*\),.*/\1/p' "$log" | awk '{s += $1} END {print s + 0}')
failed=$(sed -n 's/.*Failed: *\([0-9]*\), Passed:.*/\1/p' "$log" | awk '{s += $1} END {print s + 0}')
skipped=$(sed -n 's/.*Passed: *[0-9]*, Skipped: *\([0-9]*\),.*/\1/p' "$log" | awk '{s += $1} END {print s + 0}')
echo "tests: $passed passed, $failed failed, $skipped skipped"
# A project that does not build runs no test: say so, or the counts above read as a complete run.
build_errors=$(grep -cE ': error (CS|MSB|NU)[0-9]+' "$log" || true)
if [ "$build_errors" -gt 0 ]; then echo "build failed ($build_errors error lines): the counts above miss that project's tests" >&2; fi
if [ "$status" -eq 0 ] && [ "$passed" -eq 0 ]; then echo "no test ran" >&2; exit 1; fi
exit "$status"
