#!/usr/bin/env bash
# The committed DICOM Conformance Statement is what tools/src/conformance.c writes from
# the code's tables, and its analysed-class table agrees with the SQL function the job
# queue uses (calcnode_is_analysable in sql/003_work.sql).
source "$(dirname "$0")/lib/common.bash"

build_dir=${1:?build directory}
src=$CALCNODE_SOURCE_DIR
"$build_dir/bin/conformance" "$src/doc/conformance/statement.md.in" "$TEST_TMP/statement.md"
if ! diff -u "$src/doc/conformance-statement.md" "$TEST_TMP/statement.md"; then
  echo "FAIL: doc/conformance-statement.md is out of date; regenerate it with" \
       "build/bin/conformance doc/conformance/statement.md.in doc/conformance-statement.md"
  exit 1
fi

# Every accepted abstract syntax appears once in Table 4.2-2.
grep -c '| SCP | None |' "$TEST_TMP/statement.md" > "$TEST_TMP/scp_rows"
[ "$(cat "$TEST_TMP/scp_rows")" -ge 2 ] || { echo "FAIL: no SCP rows"; exit 1; }

sql_uids=$(sed -n '/FUNCTION calcnode_is_analysable/,/\$\$;/p' "$src/sql/003_work.sql" |
           grep -o "'1\.2\.[0-9.]*'" | tr -d "'" | sort)
doc_uids=$(sed -n '/Table 4.2-4/,/Storage SCP conformance/p' "$TEST_TMP/statement.md" |
           grep -o '`1\.2\.[0-9.]*`' | tr -d '`' | sort)
if [ -z "$sql_uids" ] || [ "$sql_uids" != "$doc_uids" ]; then
  echo "FAIL: analysed classes differ between sql/003_work.sql and node/ul/sop.c"
  diff <(echo "$sql_uids") <(echo "$doc_uids") || true
  exit 1
fi
echo "PASS: conformance statement current ($(wc -l < "$TEST_TMP/statement.md") lines)"
