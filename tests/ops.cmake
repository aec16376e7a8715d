# The arrears CLI on the embedded default (issue 9): the operator's commands, and the
# main job seeded and reduced for CI (1,000 accounts, 120 days: legal cases and sales
# happen by then; about 10 minutes under ASan for 180) or full (soak: 10,000 accounts,
# 180 days).
add_test(NAME integration.cli COMMAND ${py} ${itests}/cli_ops.py $<TARGET_FILE:arrears>
  ${ARREARS_PROTO_PYTHON_DIR})
set_tests_properties(integration.cli PROPERTIES LABELS integration TIMEOUT 600)
add_test(NAME scenario.demo COMMAND ${py} ${itests}/demo_main_job.py $<TARGET_FILE:arrears> 1000 120)
set_tests_properties(scenario.demo PROPERTIES LABELS "scenario;integration" TIMEOUT 2400)
add_test(NAME soak.demo COMMAND ${py} ${itests}/demo_main_job.py $<TARGET_FILE:arrears> 10000 180)
set_tests_properties(soak.demo PROPERTIES LABELS soak TIMEOUT 10800)
# The report as CSV and as an HTML page with charts (issue 9, acceptance 4): every chart
# element and table cell carries its CSV row's figure, and headless Chromium renders it.
add_test(NAME integration.report_html COMMAND ${py} ${itests}/report_html.py
  $<TARGET_FILE:arrears> ${ARREARS_PROTO_PYTHON_DIR})
set_tests_properties(integration.report_html PROPERTIES LABELS integration TIMEOUT 900)
