#!/bin/bash
echo "preparing the app"
kubectl apply -f /nowhere/app.yaml
