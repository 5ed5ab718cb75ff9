#!/bin/bash
echo "Waiting for the cluster..."
kubectl get nodes
