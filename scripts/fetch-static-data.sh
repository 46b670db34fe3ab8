#!/usr/bin/env bash
# Re-download the static data under data/static/ with the package registries' own clients, re-derive the city list
# from it, and check it against the recorded sha256 sums. The data is committed, so nothing needs this to build or
# test; it exists so that the provenance in data/static/README.md can be repeated, and CI does not run it.
#
#   scripts/fetch-static-data.sh            download, verify, and write the files into data/static/
#   scripts/fetch-static-data.sh --verify   only check the committed files (no network)
#
# Needs: npm, python3 with pip (building the regionmask sdist's metadata fetches setuptools from PyPI; the city list
# is derived with the standard library only), tar, unzip, sha256sum.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
static="$root/data/static"

# Downloaded archives.
world_atlas_tgz=032e7765f2ce00edaeafec23ff22bc3b77e42987c257da944cc585b452c05b97
regionmask_sdist=56fd11986cd2f03bd3ac3ecb19399bff3e8cb79e151f7e33e18121735123abdf
ar6_zip=c83881a18e74912385ad578282de721cc8e866b62cbbc75446e52e7041c81cff
globe_gl_tgz=914349def3da1323fc732229c715b5be92a6fbd55346e193dc05483f72359c87
# The file inside the globe.gl tarball that the city list is derived from.
places_geojson=cceda47d1b9282a8384442e74437146b0d02e8e6fc0d9c515f2dbd606be16fb9

# The files as committed, relative to data/static/.
committed="\
9b9f584709c119d63fbadf484ce425260497697b7166be7a2fe360e8c0b171a8  natural-earth/land-10m.json
8048290dfdb6e83fbed17e8985c8cfc4ce9da9b842642f3d3e497280790cfa31  natural-earth/LICENSE-world-atlas
5018b67c4c3b124edf9dbc1c78503ae05b5d4f6558c989f837937afc5f3c94ed  ar6/IPCC-WGI-reference-regions-v4.shp
a05d989a6edd46f597d59408468063ab09684a9d5b54ea7ac2fde6ea4dd3b307  ar6/IPCC-WGI-reference-regions-v4.shx
1ae12b95483c693d70f5aefb71e3964fb42ba6a43f8a4185e1d291bddf2711f3  ar6/IPCC-WGI-reference-regions-v4.dbf
98aaf3d1c0ecadf1a424a4536de261c3daf4e373697cb86c40c43b989daf52eb  ar6/IPCC-WGI-reference-regions-v4.prj
f5b745ef98087f531e719ee8ca6a96809444573ecc7173c6fa68eaad39b3cc3f  ar6/LICENSE
69b681caa32e00136908f0d7410ab7b9866defcebb03a9d7fe996827b0b5e5a1  cities/cities.csv
c633a0da18abe4208665d9faf574f38084bbe38ce5bf743e9ecc06e50b941b59  cities/LICENSE-globe.gl"

check_one() { # <sha256> <file>
    local actual
    actual="$(sha256sum "$2" | cut -d' ' -f1)"
    if [[ "$actual" != "$1" ]]; then
        echo "checksum mismatch: $2 has $actual, expected $1" >&2
        return 1
    fi
}

verify_tree() { # <directory laid out like data/static>
    (cd "$1" && sha256sum --check --strict --quiet - <<<"$committed")
}

if [[ "${1:-}" == "--verify" ]]; then
    verify_tree "$static"
    echo "data/static: all checksums match"
    exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/out/natural-earth" "$work/out/ar6" "$work/out/cities"

# Natural Earth 1:10m land (Natural Earth 4.1.0) as TopoJSON, from npm.
(cd "$work" && npm pack --silent world-atlas@2.0.2 >/dev/null)
check_one "$world_atlas_tgz" "$work/world-atlas-2.0.2.tgz"
tar -xzf "$work/world-atlas-2.0.2.tgz" -C "$work" package/land-10m.json package/LICENSE
cp "$work/package/land-10m.json" "$work/out/natural-earth/land-10m.json"
cp "$work/package/LICENSE" "$work/out/natural-earth/LICENSE-world-atlas"

# AR6 reference regions, from the regionmask source distribution on PyPI (the wheel does not contain them).
python3 -m pip download --quiet --no-deps --no-binary :all: -d "$work/pypi" regionmask==0.13.0
check_one "$regionmask_sdist" "$work/pypi/regionmask-0.13.0.tar.gz"
tar -xzf "$work/pypi/regionmask-0.13.0.tar.gz" -C "$work" \
    regionmask-0.13.0/data/IPCC-WGI-reference-regions-v4.zip regionmask-0.13.0/licences/AR6_REGIONS_LICENSE
check_one "$ar6_zip" "$work/regionmask-0.13.0/data/IPCC-WGI-reference-regions-v4.zip"
unzip -q -o "$work/regionmask-0.13.0/data/IPCC-WGI-reference-regions-v4.zip" -d "$work/out/ar6"
cp "$work/regionmask-0.13.0/licences/AR6_REGIONS_LICENSE" "$work/out/ar6/LICENSE"

# Cities: Natural Earth 1:110m populated places ("simple" attributes), from the example datasets of the globe.gl npm
# package. Kept: places with pop_max >= 500000, as name, adm0name, the point geometry's latitude and longitude
# (printed with six decimals, the most the source has; checked) and pop_max, largest population first.
(cd "$work" && npm pack --silent globe.gl@2.46.2 >/dev/null)
check_one "$globe_gl_tgz" "$work/globe.gl-2.46.2.tgz"
mkdir -p "$work/globe.gl"
tar -xzf "$work/globe.gl-2.46.2.tgz" -C "$work/globe.gl" \
    package/example/datasets/ne_110m_populated_places_simple.geojson package/LICENSE
places="$work/globe.gl/package/example/datasets/ne_110m_populated_places_simple.geojson"
check_one "$places_geojson" "$places"
python3 - "$places" "$work/out/cities/cities.csv" <<'EOF'
import csv
import json
import sys

source, target = sys.argv[1], sys.argv[2]
with open(source, encoding="utf-8") as f:
    features = json.load(f)["features"]
rows = []
for feature in features:
    props = feature["properties"]
    population = props["pop_max"]
    if not isinstance(population, int) or population < 500000:
        continue
    lon, lat = feature["geometry"]["coordinates"]
    if lon >= 180.0:
        lon -= 360.0
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon < 180.0):
        sys.exit(f"{props['name']}: coordinates out of range: {lat}, {lon}")
    for value in (lat, lon):
        if float(f"{value:.6f}") != value:
            sys.exit(f"{props['name']}: {value} has more than six decimals")
    rows.append((props["name"], props["adm0name"], lat, lon, population))
rows.sort(key=lambda row: (-row[4], row[0], row[1], row[2], row[3]))
with open(target, "w", encoding="utf-8", newline="") as f:
    writer = csv.writer(f, lineterminator="\n")
    writer.writerow(["name", "country", "lat", "lon", "population"])
    for name, country, lat, lon, population in rows:
        writer.writerow([name, country, f"{lat:.6f}", f"{lon:.6f}", population])
EOF
cp "$work/globe.gl/package/LICENSE" "$work/out/cities/LICENSE-globe.gl"

verify_tree "$work/out"
mkdir -p "$static/natural-earth" "$static/ar6" "$static/cities"
cp "$work/out/natural-earth/"* "$static/natural-earth/"
cp "$work/out/ar6/"* "$static/ar6/"
cp "$work/out/cities/"* "$static/cities/"
echo "data/static: downloaded, verified and written"
