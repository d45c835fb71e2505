#!/usr/bin/env bash
# Checks that the object files of each module use symbols only of the modules
# below it (the link-level twin of check_layers.cmake), and prints who uses
# whom.   tests/layers/check_links.sh <build dir> lib: objstore:lib tasks:objstore ...
set -euo pipefail
build=$1
shift
declare -A direct
modules=()
for entry in "$@"; do
  modules+=("${entry%%:*}")
  direct[${entry%%:*}]=${entry#*:}
done
allowed_of() { # the module and everything below it
  local todo=("$1") seen=" " m d
  while ((${#todo[@]})); do
    m=${todo[0]}
    todo=("${todo[@]:1}")
    [[ $seen == *" $m "* ]] && continue
    seen+="$m "
    for d in ${direct[$m]//,/ }; do todo+=("$d"); done
  done
  echo "$seen"
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for m in "${modules[@]}"; do
  objects=$(find "$build/$m/CMakeFiles/rustyray_$m.dir" -name '*.o')
  # Strong definitions only: inline functions and template instances (W, V)
  # are defined wherever they are used.
  nm --defined-only $objects | awk '$2 ~ /^[TDBR]$/ {print $3}' | sort -u >"$tmp/def_$m"
  nm --undefined-only $objects | awk '{print $2}' | sort -u >"$tmp/und_$m"
done
status=0
echo "module links (symbols one module's objects take from another's):"
for m in "${modules[@]}"; do
  allowed=$(allowed_of "$m")
  uses=()
  for o in "${modules[@]}"; do
    [[ $o == "$m" ]] && continue
    n=$(comm -12 "$tmp/und_$m" "$tmp/def_$o" | wc -l)
    ((n == 0)) && continue
    uses+=("$o ($n)")
    if [[ $allowed != *" $o "* ]]; then
      echo "violation: $m uses symbols of $o, a module above it:" >&2
      comm -12 "$tmp/und_$m" "$tmp/def_$o" | c++filt | head -5 | sed 's/^/  /' >&2
      status=1
    fi
  done
  echo "  $m -> ${uses[*]:-nothing}"
done
exit $status
