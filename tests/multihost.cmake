# Multi-host (issue 9, acceptance 2): every service on a host of its own — network
# namespaces the test creates (root, CAP_NET_ADMIN, iproute2 from scripts/install-deps;
# without them it FAILS, it does not skip) — talking TCP with CURVE, three workers on two
# hosts; the seeded demonstration on the simulated clock gives the one host's report while
# the broker, a worker host and staging are SIGKILLed and restarted. One staging host for
# now: staging shards do not exist yet (tests/integration/multihost.py, HOSTS).
if(TARGET intake AND TARGET staging AND TARGET outreach-broker AND TARGET outreach-worker
   AND TARGET legal AND TARGET sale)
  add_test(NAME soak.multihost COMMAND ${ARREARS_PYTHON}
           ${CMAKE_CURRENT_SOURCE_DIR}/integration/multihost.py $<TARGET_FILE:arrears>
           $<TARGET_FILE:intake> $<TARGET_FILE:staging> $<TARGET_FILE:outreach-broker>
           $<TARGET_FILE:outreach-worker> $<TARGET_FILE:legal> $<TARGET_FILE:sale>
           ${ARREARS_PROTO_PYTHON_DIR} 150 25 8)
  # soak, not CI: the comparison is exact, and the demonstration is not yet the same from
  # run to run — the broker's task fates (a call delivered in one run, failed in the other)
  # differed between the hosts and one host in one run of three, as they can between two
  # one-host runs (workers pull on the wall clock). Run by hand until that is deterministic.
  set_tests_properties(soak.multihost PROPERTIES LABELS "soak;crash" TIMEOUT 1200)
endif()
