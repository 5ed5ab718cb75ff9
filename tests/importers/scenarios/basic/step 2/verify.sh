#!/bin/bash
kubectl get pod web -n team-a
