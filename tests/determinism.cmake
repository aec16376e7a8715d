# Determinism (DESIGN.md "Time"): two runs of `arrears demo` with one seed, each in a fresh
# folder, give the same `arrears report --format csv` byte for byte — every section, the
# outreach ones included — and the same broker store apart from its wall-clock fields
# (tests/integration/determinism.py). 200 accounts, 30 days: a few minutes under ASan.
# Included from tests/CMakeLists.txt (after `py` and `itests` are set).
if(TARGET outreach-broker AND TARGET staging AND TARGET legal AND TARGET sale AND TARGET intake)
  add_test(NAME scenario.determinism COMMAND ${py} ${itests}/determinism.py
           $<TARGET_FILE:arrears> $<TARGET_FILE:outreach-broker> 200 30)
  set_tests_properties(scenario.determinism PROPERTIES LABELS scenario TIMEOUT 900)
endif()
