#!/usr/bin/env bash
# Packaging check: build the bundle, `npm pack`, install the tarball globally into a temporary
# prefix (what `npm install -g fcflash-tui` does on a pilot's laptop or a Pi with only Node 20),
# then run the installed binary from outside the repository: --version, list --simulate, and
# doctor --json (which loads the native usb module). With --arm, --version and list --simulate
# again on arm64 and armv7l Node 20 under qemu (scripts/arm-node.sh), as on a Raspberry Pi.
# Usage: scripts/check-pack.sh [--no-build] [--arm]    Needs the npm registry (usb and serialport).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

build=1
arm=0
for arg in "$@"; do
	case "$arg" in
	--no-build) build=0 ;;
	--arm) arm=1 ;;
	*) echo "usage: scripts/check-pack.sh [--no-build] [--arm]" >&2; exit 2 ;;
	esac
done

if [ "$build" -eq 1 ]; then
	# dist/ comes from esbuild on source/ alone; tsc output (build/) is not packed.
	node scripts/bundle.mjs
fi
[ -x dist/cli.js ] || { echo "check-pack: dist/cli.js is missing or not executable; run npm run build" >&2; exit 1; }
head -1 dist/cli.js | grep -qx '#!/usr/bin/env node' || { echo "check-pack: dist/cli.js has no '#!/usr/bin/env node' shebang" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/fcflash-pack.XXXXXX")
trap 'rm -rf "$work"' EXIT

tarball=$(npm pack --pack-destination "$work" --silent | tail -1)
echo "check-pack: packed $tarball ($(du -k "$work/$tarball" | cut -f1) KiB)"
# Nothing but the bundle, the manifest and the docs goes in the tarball.
unexpected=$(tar -tzf "$work/$tarball" | grep -Ev '^package/(package\.json|README\.md|LICENSE|dist/.*)$' || true)
[ -z "$unexpected" ] || { echo "check-pack: unexpected files in the tarball:" >&2; echo "$unexpected" >&2; exit 1; }

npm install -g --prefix "$work/prefix" "$work/$tarball" --no-audit --no-fund --loglevel=error
bin="$work/prefix/bin/fcflash-tui"
[ -x "$bin" ] || { echo "check-pack: $bin was not installed" >&2; exit 1; }

cd "$work"
expected=$(node -p "require('$repo/package.json').version")
version=$("$bin" --version)
[ "$version" = "$expected" ] || { echo "check-pack: --version printed '$version', expected '$expected'" >&2; exit 1; }
echo "check-pack: fcflash-tui --version -> $version"

listing=$(FCFLASH_SIM_TIME_SCALE=0 "$bin" list --simulate)
echo "$listing" | grep -q '^DFU .*0483:df11' || { echo "check-pack: list --simulate printed:" >&2; echo "$listing" >&2; exit 1; }
echo "check-pack: fcflash-tui list --simulate ->"
echo "$listing" | sed 's/^/    /'

# doctor lists real USB devices: the native usb module must load from the installed package.
set +e
doctor=$("$bin" doctor --json)
status=$?
set -e
[ "$status" -le 1 ] || { echo "check-pack: doctor exited $status: $doctor" >&2; exit 1; }
echo "$doctor" | node -e '
	const r = JSON.parse(require("fs").readFileSync(0, "utf8"));
	const usb = r.findings.find((f) => f.id === "usb");
	if (usb) { console.error("check-pack: the installed package cannot load libusb: " + usb.message); process.exit(1); }
'
if [ "$arm" -eq 1 ]; then
	for a in arm64 armv7l; do
		if ! why=$("$repo/scripts/arm-node.sh" check "$a"); then
			[ "${FCFLASH_REQUIRE_ARM:-}" != 1 ] || { echo "check-pack: $a: $why" >&2; exit 1; }
			echo "check-pack: $a skipped: $why"
			continue
		fi
		armbin=$("$repo/scripts/arm-node.sh" fetch "$a")
		# The installed bin's `#!/usr/bin/env node` finds the ARM Node first on PATH.
		arch=$(PATH="$armbin:$PATH" node -p process.arch)
		version=$(PATH="$armbin:$PATH" "$bin" --version)
		[ "$version" = "$expected" ] || { echo "check-pack: $a: --version printed '$version', expected '$expected'" >&2; exit 1; }
		listing=$(PATH="$armbin:$PATH" FCFLASH_SIM_TIME_SCALE=0 "$bin" list --simulate)
		echo "$listing" | grep -q '^DFU .*0483:df11' || { echo "check-pack: $a: list --simulate printed:" >&2; echo "$listing" >&2; exit 1; }
		echo "check-pack: on $a Node (process.arch $arch): --version -> $version, list --simulate ok"
	done
fi
echo "check-pack: ok (installed size $(du -sk "$work/prefix" | cut -f1) KiB)"
