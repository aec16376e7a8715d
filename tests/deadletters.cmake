# Dead letters operated from the CLI (issue 9): `arrears dead-letters` lists, inspects,
# replays and discards real dead letters on the embedded default, and refuses a wrong
# seq, a missing reason and a platform's key. Needs the intake binary: the test restarts
# intake with a keys file that makes it refuse staging's messages.
if(TARGET intake)
  add_test(NAME integration.dead_letters COMMAND ${py} ${itests}/dead_letters.py
    $<TARGET_FILE:arrears> $<TARGET_FILE:intake> ${ARREARS_PROTO_PYTHON_DIR})
  set_tests_properties(integration.dead_letters PROPERTIES LABELS "integration;badinput"
    TIMEOUT 600)
endif()
