# deploy/ checked offline (issue 9): the production configs started by the real services,
# the systemd units through systemd-analyze verify, the Kubernetes manifests through the
# pinned schema validator in deploy/validate (installed by scripts/install-deps).
set(deploy_tests ${CMAKE_CURRENT_SOURCE_DIR}/integration)
if(TARGET intake AND TARGET staging AND TARGET outreach-broker AND TARGET legal AND TARGET sale)
  set(deploy_binaries $<TARGET_FILE:intake> $<TARGET_FILE:staging> $<TARGET_FILE:outreach-broker>
      $<TARGET_FILE:outreach-worker> $<TARGET_FILE:legal> $<TARGET_FILE:sale>)
  add_test(NAME integration.deploy_configs COMMAND ${ARREARS_PYTHON} ${deploy_tests}/deploy_configs.py
           $<TARGET_FILE:arrears> ${deploy_binaries})
  add_test(NAME integration.deploy_systemd COMMAND ${ARREARS_PYTHON} ${deploy_tests}/deploy_systemd.py
           ${deploy_binaries})
  set_tests_properties(integration.deploy_configs integration.deploy_systemd
    PROPERTIES LABELS integration TIMEOUT 120)
endif()
add_test(NAME integration.deploy_k8s COMMAND ${ARREARS_PYTHON} ${deploy_tests}/deploy_k8s.py)
set_tests_properties(integration.deploy_k8s PROPERTIES LABELS integration TIMEOUT 120)
