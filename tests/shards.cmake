# Staging in shards, as the arrears CLI runs and operates them (DESIGN.md section 7).
# Included from tests/CMakeLists.txt (after `py` and `itests` are set).
#
# unit.arrears.test_merge: the shards' reports merged into the one report of one staging
# (services/arrears/merge.c), rates recomputed from the merged counts.
add_executable(arrears_test_merge ${CMAKE_CURRENT_SOURCE_DIR}/unit/arrears/test_merge.c)
target_link_libraries(arrears_test_merge PRIVATE arrears_merge PkgConfig::CMOCKA)
add_test(NAME unit.arrears.test_merge COMMAND arrears_test_merge)
set_tests_properties(unit.arrears.test_merge PROPERTIES LABELS unit TIMEOUT 600)
