#!/bin/bash
# Builds coracle's release binary and installs it at target/release/coracle.
#
# The binary is static either way; with musl (when rustup has or can add the
# x86_64-unknown-linux-musl target) it is about 1.3 MiB, with glibc about
# 2 MiB, because static glibc brings 0.6 MiB of its own code.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${CARGO_TARGET_DIR:-target}
target=x86_64-unknown-linux-musl
if ! rustup target list --installed 2>/dev/null | grep -qx "$target" &&
	! rustup target add "$target" >/dev/null 2>&1; then
	echo "build-release: the $target target is not available; building with static glibc" >&2
	target=x86_64-unknown-linux-gnu
fi
cargo build --release --locked --target "$target" -p coracle
mkdir -p "$out/release"
install -m 0755 "$out/$target/release/coracle" "$out/release/coracle"
echo "$out/release/coracle"
