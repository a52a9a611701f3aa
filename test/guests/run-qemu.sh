#!/usr/bin/env bash
# Runs the test guests of test/guests/manifest.ini under plain QEMU (TCG)
# and checks each one's exit status against qemu_expect (or expect), and
# that it printed a SUMMARY line (except the guests that never do).
#
#   test/guests/run-qemu.sh [--no-build] [-g GROUP] [TEST...]
#
# Run from the repository root (or anywhere: it cds there). Prints one line
# per test and "N passed, M failed"; exits 1 if anything failed. Logs go to
# build/guests/logs/<test>.log. QEMU=... picks the binary.
set -u

cd "$(dirname "$0")/../.." || exit 2
QEMU=${QEMU:-qemu-system-x86_64}
MANIFEST=${MANIFEST:-test/guests/manifest.ini}
OUT=build/guests
# Guests that end without a SUMMARY line (besides expected VM stops).
NO_SUMMARY_FILES=" exitcode.elf "

build=1 group= only=()
while [ $# -gt 0 ]; do
	case $1 in
	--no-build) build=0 ;;
	-g) group=$2; shift ;;
	-h | --help) sed -n '2,11p' "$0"; exit 0 ;;
	*) only+=("$1") ;;
	esac
	shift
done

if [ $build = 1 ]; then
	make --no-print-directory -f test/guests/guests.mk guests >/dev/null || { echo "build failed"; exit 2; }
fi
mkdir -p "$OUT/logs"

# One line per section: name|file|smp|mem|extra|timeout|expect|qemu_expect|groups|monitor_params
parse() {
	awk -F '=' '
	function trim(s) { gsub(/^[ \t]+|[ \t\r]+$/, "", s); return s }
	function flush() {
		if (name != "")
			print name "|" v["file"] "|" v["smp"] "|" v["mem"] "|" v["extra_params"] "|" \
				v["timeout"] "|" v["expect"] "|" v["qemu_expect"] "|" v["groups"] "|" v["monitor_params"]
		delete v
	}
	/^[ \t]*(;|$)/ { next }
	/^\[/ { flush(); name = $0; gsub(/^\[|\][ \t\r]*$/, "", name); next }
	{ key = trim($1); val = $0; sub(/^[^=]*=/, "", val); v[key] = trim(val) }
	END { flush() }' "$MANIFEST"
}

passed=0 failed=0
while IFS='|' read -r name file smp mem extra timeout expect qexpect groups monitor; do
	if [ ${#only[@]} -gt 0 ] && [[ " ${only[*]} " != *" $name "* ]]; then continue; fi
	if [ -n "$group" ] && [[ " $groups " != *" $group "* ]]; then continue; fi
	# The net group's roles need each other and crossguard's switch: guests.test.ts only.
	if [[ " $groups " == *" net "* ]]; then continue; fi
	# Options of the monitor (e.g. the _apicv twins' cg.apicv=1): no monitor here.
	if [ -n "$monitor" ]; then continue; fi
	want=${qexpect:-$expect}
	log=$OUT/logs/$name.log
	if ! [[ $want =~ ^[0-9]+$ ]]; then
		echo "FAIL $name: expects '$want' and has no numeric qemu_expect"
		failed=$((failed + 1))
		continue
	fi
	timeout "${timeout:-60}" "$QEMU" -kernel "$OUT/$file" -append "$extra" -smp "${smp:-1}" -m "${mem:-64}" \
		-device isa-debug-exit,iobase=0xf4,iosize=4 -serial stdio -display none -no-reboot \
		</dev/null >"$log" 2>&1
	status=$?
	why=
	if [ "$status" != "$want" ]; then
		why="status $status, expected $want"
	elif [[ $expect != stop:* && $NO_SUMMARY_FILES != *" $file "* ]] && ! grep -q '^SUMMARY: ' "$log"; then
		why="no SUMMARY line"
	fi
	if [ -z "$why" ]; then
		echo "PASS $name (status $status) $(grep -m1 '^SUMMARY: ' "$log")"
		passed=$((passed + 1))
	else
		echo "FAIL $name: $why (log: $log)"
		grep -E '^(FAIL|SUMMARY):' "$log" | sed 's/^/    /'
		failed=$((failed + 1))
	fi
done < <(parse)

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
