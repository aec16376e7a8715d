# Metrics, health and readiness endpoints, and SIGHUP config reload (issue 9). The unit
# test, tests/unit/test_metrics.c, is registered with every unit test (unit.test_metrics);
# here: real intake, staging, broker and worker processes scraped over HTTP and parsed
# with prometheus_client (Debian python3-prometheus-client).
if(TARGET outreach-worker)
  add_test(NAME integration.metrics_scrape
           COMMAND ${ARREARS_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/integration/metrics_scrape.py
                   $<TARGET_FILE:arrears> $<TARGET_FILE:intake> $<TARGET_FILE:staging>
                   $<TARGET_FILE:outreach-broker> $<TARGET_FILE:outreach-worker>
                   ${ARREARS_PROTO_PYTHON_DIR})
  set_tests_properties(integration.metrics_scrape PROPERTIES LABELS integration TIMEOUT 180)
endif()
set_tests_properties(unit.test_metrics PROPERTIES LABELS unit TIMEOUT 60)
