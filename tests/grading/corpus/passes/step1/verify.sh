#!/bin/bash
echo "=== Verifying ==="
kubectl -n shop get configmap owner >/dev/null || { echo "❌ the step's setup did not run"; exit 1; }
color=$(kubectl -n shop get configmap settings -o jsonpath='{.data.color}' 2>/dev/null)
[ "$color" = blue ] && echo "✅ the colour is blue" || { echo "❌ the colour is '$color', not blue"; exit 1; }
