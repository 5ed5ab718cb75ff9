#!/bin/bash
kubectl delete namespace team-a --ignore-not-found
