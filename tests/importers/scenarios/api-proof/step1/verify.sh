#!/bin/bash
test "$(kubectl get configmap app -n settings -o jsonpath='{.data.mode}')" = dev
