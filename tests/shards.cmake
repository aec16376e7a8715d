# Staging in shards, as the arrears CLI runs and operates them (DESIGN.md section 7).
# Included from tests/CMakeLists.txt (after `py` and `itests` are set).
#
# unit.arrears.test_merge: the shards' reports merged into the one report of one staging
# (services/arrears/merge.c), rates recomputed from the merged counts.
add_executable(arrears_test_merge ${CMAKE_CURRENT_SOURCE_DIR}/unit/arrears/test_merge.c)
target_link_libraries(arrears_test_merge PRIVATE arrears_merge PkgConfig::CMOCKA)
add_test(NAME unit.arrears.test_merge COMMAND arrears_test_merge)
set_tests_properties(unit.arrears.test_merge PROPERTIES LABELS unit TIMEOUT 600)

# integration.cli_shards: `arrears up --shards 2` on the embedded default — both shards up
# in `status`, `account` and an operator hold on an account of each shard (found on its
# person's shard), the report the merge of the shards' own, `down` leaving no process.
add_test(NAME integration.cli_shards COMMAND ${py} ${itests}/cli_shards.py $<TARGET_FILE:arrears>
  ${ARREARS_PROTO_PYTHON_DIR})
set_tests_properties(integration.cli_shards PROPERTIES LABELS integration TIMEOUT 600)
