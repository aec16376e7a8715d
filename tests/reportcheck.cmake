# The whole `arrears report` against an independent computation (issue 9, acceptance 3):
# the embedded default on the simulated clock, the demonstration world for 60 days on
# 200 accounts, `arrears report --format csv`, and every row recomputed in Python from
# each stopped service's `dump` (tests/integration/report_figures.py), with a doctoring
# self-test. Included from tests/CMakeLists.txt (after `py` and `itests` are set).
if(TARGET staging AND TARGET outreach-broker AND TARGET legal AND TARGET sale AND TARGET intake)
  add_test(NAME integration.report_check COMMAND ${py} ${itests}/report_check.py
           $<TARGET_FILE:arrears> $<TARGET_FILE:staging> $<TARGET_FILE:outreach-broker>
           $<TARGET_FILE:legal> $<TARGET_FILE:sale> ${ARREARS_PROTO_PYTHON_DIR})
  set_tests_properties(integration.report_check PROPERTIES LABELS integration TIMEOUT 900)
endif()
