# Restore of one service and realignment (issue 9, acceptance 5): staging restored from a
# backup in the middle of a seeded demonstration catches up on what it lost and ends with
# the same book and report as a run without the restore (tests/integration/restore_staging.py).
add_test(NAME integration.restore_staging COMMAND ${py} ${itests}/restore_staging.py
  $<TARGET_FILE:arrears> ${ARREARS_PROTO_PYTHON_DIR})
set_tests_properties(integration.restore_staging PROPERTIES LABELS "crash;integration" TIMEOUT 900)
