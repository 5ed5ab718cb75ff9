#!/bin/bash
test "$(kubectl get configmap app -n settings -o jsonpath='{.metadata.labels.team}')" = blue
