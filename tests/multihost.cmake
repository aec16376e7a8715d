# Multi-host (issue 9, acceptance 2): every service on a host of its own — network
# namespaces the test creates (root, CAP_NET_ADMIN, iproute2 from scripts/install-deps;
# without them it FAILS, it does not skip) — talking TCP with CURVE, staging in two shards
# on two hosts, three workers on two hosts; the seeded demonstration on the simulated
# clock gives the one-host, one-staging report while the broker, a worker host and both
# shards are SIGKILLed and restarted (tests/integration/multihost.py).
if(TARGET intake AND TARGET staging AND TARGET outreach-broker AND TARGET outreach-worker
   AND TARGET legal AND TARGET sale)
  add_test(NAME soak.multihost COMMAND ${ARREARS_PYTHON}
           ${CMAKE_CURRENT_SOURCE_DIR}/integration/multihost.py $<TARGET_FILE:arrears>
           $<TARGET_FILE:intake> $<TARGET_FILE:staging> $<TARGET_FILE:outreach-broker>
           $<TARGET_FILE:outreach-worker> $<TARGET_FILE:legal> $<TARGET_FILE:sale>
           ${ARREARS_PROTO_PYTHON_DIR} 150 25 8)
  # soak, not CI: it needs CAP_NET_ADMIN to make namespaces, which a CI container may
  # not grant (fresh-check's root does: nsenter works there). Run by hand as root.
  set_tests_properties(soak.multihost PROPERTIES LABELS "soak;crash" TIMEOUT 1200)
endif()
