#!/bin/bash
kubectl create namespace shop --dry-run=client -o yaml | kubectl apply -f -
kubectl create deployment api -n shop --image=nginx:does-not-exist --dry-run=client -o yaml | kubectl apply -f -
