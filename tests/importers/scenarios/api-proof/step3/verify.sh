#!/bin/bash
echo "🔍 Verifying the annotation..."
kubectl wait configmap/app -n settings --for=jsonpath='{.metadata.annotations.note}'=checked --timeout=10s
