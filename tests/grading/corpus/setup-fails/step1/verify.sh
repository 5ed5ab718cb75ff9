#!/bin/bash
test "$(kubectl get deployment app -o jsonpath={.spec.replicas})" = 2
