#!/usr/bin/env bash
# Builds the Debian package from the configured build tree and checks what a user's machine
# would get: the files, the dependency list, and the desktop/AppStream validators.
# Usage: test_package.sh BUILD_DIR
set -uo pipefail
build=$1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

if ! cpack --config "$build/CPackConfig.cmake" -B "$out" > "$out/cpack.log" 2>&1; then
  cat "$out/cpack.log"; echo "0 passed, 1 failed"; exit 1
fi
deb=$(ls "$out"/emolens_*_amd64.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] && pass "built $(basename "$deb")" || { fail "no emolens_*_amd64.deb"; echo "0 passed, 1 failed"; exit 1; }

contents=$(dpkg-deb -c "$deb")
for f in ./usr/bin/emolens ./usr/bin/emolens-cli \
         ./usr/share/applications/io.github.emolens.EmoLens.desktop \
         ./usr/share/icons/hicolor/scalable/apps/io.github.emolens.EmoLens.svg \
         ./usr/share/icons/hicolor/48x48/apps/io.github.emolens.EmoLens.png \
         ./usr/share/icons/hicolor/256x256/apps/io.github.emolens.EmoLens.png \
         ./usr/share/metainfo/io.github.emolens.EmoLens.metainfo.xml \
         ./usr/share/mime/packages/io.github.emolens.EmoLens.xml \
         ./usr/share/man/man1/emolens-cli.1.gz; do
  grep -q " $f\$" <<<"$contents" && pass "contains $f" || fail "missing $f"
done

depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
for lib in libqt6core6 libqt6widgets6 libqt6multimedia6 libtorch libsndfile1 libsoxr0 gstreamer1.0-plugins-good; do
  grep -q "$lib" <<<"$depends" && pass "depends on $lib" || fail "no dependency on $lib"
done

version=$(dpkg-deb -f "$deb" Version)
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] && pass "version $version" || fail "odd version '$version'"

mkdir -p "$out/root"
dpkg-deb -x "$deb" "$out/root"
desktop-file-validate "$out/root/usr/share/applications/io.github.emolens.EmoLens.desktop" \
  && pass "desktop-file-validate" || fail "desktop-file-validate"
appstreamcli validate --no-net --pedantic "$out/root/usr/share/metainfo/io.github.emolens.EmoLens.metainfo.xml" \
  > "$out/appstream.log" 2>&1 && pass "appstreamcli validate" || { cat "$out/appstream.log"; fail "appstreamcli validate"; }
zcat "$out/root/usr/share/man/man1/emolens-cli.1.gz" | grep -q "^\.SS import" \
  && pass "man page documents import" || fail "man page lacks the import command"
zcat "$out/root/usr/share/man/man1/emolens-cli.1.gz" | grep -q "^Usage: /" \
  && fail "man page shows a build path in a usage line" || pass "usage lines name the command"
man -l "$out/root/usr/share/man/man1/emolens-cli.1.gz" > /dev/null 2>&1 \
  && pass "man page renders" || fail "man page does not render"

if apt-get install -s -q "$deb" > "$out/apt.log" 2>&1; then
  pass "apt-get can resolve every dependency"
else
  cat "$out/apt.log"; fail "apt-get cannot install the package"
fi

echo "$failures failure(s)"
exit $((failures > 0))
