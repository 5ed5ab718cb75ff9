#!/bin/bash
test "$(kubectl get pod web -n team-a -o jsonpath='{.metadata.labels.tier}')" = frontend
