#!/bin/bash
kubectl rollout status deployment/web -n shop --timeout=60s
test "$(kubectl get deployment web -n shop -o jsonpath='{.spec.replicas}')" = 3
