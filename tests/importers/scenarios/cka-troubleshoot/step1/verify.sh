#!/bin/bash
echo "🔍 Verifying the Deployment..."
kubectl wait deployment/api -n shop --for=condition=Available --timeout=60s
