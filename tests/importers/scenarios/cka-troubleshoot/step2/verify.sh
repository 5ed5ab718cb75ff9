#!/bin/bash
test "$(kubectl get node node01 -o jsonpath='{.spec.unschedulable}')" = true
