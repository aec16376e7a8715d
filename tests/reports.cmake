# Report queries through real processes (issue 9, DESIGN.md section 7): each service's
# report answered from its own store and checked against an independent computation
# from that service's dump. Included from tests/CMakeLists.txt.
if(TARGET outreach-broker)
  # The broker's OutreachReportQuery against `outreach-broker dump`: channels, outcomes,
  # conduct refusals by rule and profile, one platform, a stranger refused.
  add_test(NAME integration.outreach_report COMMAND ${py} ${itests}/report_outreach.py
           $<TARGET_FILE:outreach-broker> $<TARGET_FILE:outreach-worker> $<TARGET_FILE:arrears>
           ${ARREARS_PROTO_PYTHON_DIR} ${CMAKE_SOURCE_DIR}/services/outreach/templates.conf)
  set_tests_properties(integration.outreach_report PROPERTIES LABELS integration TIMEOUT 300)
endif()

if(TARGET staging)
  # staging's Report (roll rates, curves, channels, stages, cures, remittance) against
  # an independent computation from `staging dump`, on scenario_staging's book.
  add_test(NAME integration.staging_report COMMAND ${py} ${itests}/report_staging.py
           $<TARGET_FILE:arrears> $<TARGET_FILE:intake> $<TARGET_FILE:staging>
           ${ARREARS_PROTO_PYTHON_DIR})
  set_tests_properties(integration.staging_report PROPERTIES LABELS integration TIMEOUT 900)
endif()
