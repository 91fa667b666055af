#!/usr/bin/env bash
# Makes test/fixtures/ovn-northd-at/{24.03,25.03}.txt: the switch-stage rows of the expected `lflow-list` outputs
# in OVN's own test suite (tests/ovn-northd.at), at the commits Kube-OVN builds (release-1.14: ef8f5c1ac on
# branch-24.03; release-1.15: cbb88276a on branch-25.03). OVN's CI checks ovn-northd against these rows; the
# fixtures keep m4's [[ ]] quoting as in the file. test/ovn-northd-versions.test.ts reads them.
#   OVN_GIT=/path/to/ovn.git scripts/ovn-northd-at-fixtures.sh   (a clone or bare mirror of ovn-org/ovn)
set -euo pipefail
: "${OVN_GIT:?set OVN_GIT to a git directory of ovn-org/ovn}"
out=test/fixtures/ovn-northd-at
mkdir -p "$out"
rows() {
  git --git-dir="$OVN_GIT" show "$1:tests/ovn-northd.at" \
    | grep -E '\((ls_(in|out)_[a-z0-9_]+) *\), priority=[0-9]+ *, match=\(.*\), action=\(.*\)\s*$' \
    | sed -E 's/^[^(]*\(/(/' | LC_ALL=C sort -u
}
write() { # version commit description
  {
    echo "# Switch-stage rows of the expected lflow-list outputs in ovn-org/ovn tests/ovn-northd.at at $2 ($3)."
    echo "# OVN's CI checks ovn-northd against these; m4 quoting ([[ ]]) as in the file. Regenerate:"
    echo "#   git show $2:tests/ovn-northd.at | grep -E '\((ls_(in|out)_[a-z0-9_]+) *\), priority=[0-9]+ *, match=\(.*\), action=\(.*\)\s*\$' | sed -E 's/^[^(]*\(/(/' | sort -u"
    rows "$2"
  } > "$out/$1.txt"
}
write 24.03 ef8f5c1ac 'branch-24.03 v24.03.7-43, the commit Kube-OVN release-1.14 builds'
write 25.03 cbb88276a 'branch-25.03 v25.03.3-42, the head Kube-OVN release-1.15 cloned'
