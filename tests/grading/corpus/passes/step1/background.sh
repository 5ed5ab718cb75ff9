#!/bin/bash
# Needs the course setup (the intro's background) to have run first.
kubectl -n shop create configmap owner --from-literal=name=alice
